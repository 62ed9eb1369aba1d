"""The policy as a literate document: each rule and parameter as written, beside its
citations and (where the installation has the document) the cited lines; parameters as
timelines; a variant's changes beside the base.

Everything comes from the checked policy's declarations (rules, params, documents); the
only files read are the pack's own YAML (to show a rule as written) and the documents
the pack declares (``documents:`` → ``file:``, as the explanation renderer finds them).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from .i18n import pick

QUOTE_CHARS = 600  # a cited passage longer than this is cut (the page is for reading, not the archive)


@dataclass
class Cite:
    """One citation: ``001:73-80``, the document's title, and the cited text (None when
    the document is not installed)."""

    ref: str
    title: str | None
    text: str | None


@dataclass
class Item:
    """A rule or a parameter, ready for the page."""

    kind: str                 # "rule" | "param"
    name: str
    label: str | None
    entity: str | None
    type: str
    unit: str | None
    file: str                 # the file, relative to the pack
    line: int
    note: str | None
    written: str              # the YAML block as written
    cites: list[Cite] = field(default_factory=list)
    periods: list = field(default_factory=list)   # parameter: [(date, text, number or None)]
    internal: bool = False
    origin: str = "base"


def rel(root: Path, file: str) -> str:
    """``file`` relative to the pack's folder (as the page names it)."""
    try:
        return Path(file).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return Path(file).as_posix()


def block(path: str, line: int, col: int) -> str:
    """The YAML block that starts at ``line`` (1-based): that line and the lines below it
    indented deeper than ``col``, trailing blank lines dropped."""
    lines = _read(path)
    if not lines or line < 1 or line > len(lines):
        return ""
    out = [lines[line - 1]]
    for text in lines[line:]:
        stripped = text.strip()
        if stripped and len(text) - len(text.lstrip()) < col:
            break
        out.append(text)
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out)


def _read(path: str) -> list[str]:
    try:
        return Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []


def cite_ref(c) -> str:
    return f"{c.doc}:{c.first}" + (f"-{c.last}" if c.last and c.last != c.first else "")


def cites(checked, citations, lang: str) -> list[Cite]:
    """Each citation with its document's title and cited lines (None if not installed)."""
    out = []
    for c in citations or ():
        doc = checked.documents.get(c.doc)
        title = pick(doc.title, lang) if doc is not None else None
        text = None
        if doc is not None and getattr(doc, "file", None) and getattr(doc, "loc", None) is not None:
            lines = _read(str(Path(doc.loc.file).parent / doc.file))
            last = c.last or c.first
            if lines and c.first <= len(lines):
                text = "\n".join(x.strip() for x in lines[c.first - 1:last] if x.strip())
                text = text if len(text) <= QUOTE_CHARS else text[:QUOTE_CHARS].rstrip() + "…"
        out.append(Cite(cite_ref(c), title, text))
    return out


def type_text(typ, checked, lang: str) -> str:
    if typ.kind == "enum" and typ.name in checked.enums:
        return pick(checked.enums[typ.name].labels, lang) or typ.name
    return typ.kind if typ.name is None else f"{typ.kind} {typ.name}"


def value_text(value, typ, checked, lang: str) -> str:
    """A parameter value as a reader writes it (percent for ratios, labels for enums)."""
    if hasattr(value, "text") and hasattr(value, "source"):  # a declared gap
        return ("缺口：" if lang == "zh" else "gap: ") + str(value.text)
    if isinstance(value, bool):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if typ.kind == "ratio" and isinstance(value, (Decimal, int, float)):
        return f"{Decimal(value) * 100:f}".rstrip("0").rstrip(".") + "%"
    if typ.kind == "enum" and typ.name in checked.enums and isinstance(value, str):
        labels = checked.enums[typ.name].values.get(value)
        return pick(labels, lang) or value
    if isinstance(value, (list, tuple)):
        return ", ".join(value_text(v, typ, checked, lang) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def _number(value):
    return float(value) if isinstance(value, (Decimal, int, float)) and not isinstance(value, bool) else None


def items(checked, root: Path, lang: str) -> list[Item]:
    """Every rule and parameter of one view (base or a variant), in file order."""
    out = []
    for name, r in checked.rules.items():
        out.append(Item("rule", name, pick(r.labels, lang), r.entity, type_text(r.type, checked, lang), r.unit,
                        rel(root, r.span.file), r.span.line, r.note, block(r.span.file, r.span.line, r.span.col),
                        cites(checked, r.sources, lang), internal=r.internal, origin=r.origin))
    for name, p in checked.params.items():
        periods = [(d.isoformat() if isinstance(d, dt.date) else str(d), value_text(v, p.type, checked, lang),
                    _number(v)) for d, v in p.periods]
        out.append(Item("param", name, pick(p.labels, lang), None, type_text(p.type, checked, lang), p.unit,
                        rel(root, p.span.file), p.span.line, p.note, block(p.span.file, p.span.line, p.span.col),
                        cites(checked, p.sources, lang), periods, origin=p.origin))
    return sorted(out, key=lambda i: (i.file, i.line))


def matches(item: Item, query: str) -> bool:
    """True when the query is in the item's name or label (case-insensitive)."""
    q = query.strip().casefold()
    return not q or q in item.name.casefold() or q in (item.label or "").casefold()


def by_file(found: list[Item]) -> dict[str, list[Item]]:
    out: dict[str, list[Item]] = {}
    for item in found:
        out.setdefault(item.file, []).append(item)
    return out


def changed(base, variant) -> tuple[list[str], list[str]]:
    """The rules and parameters a variant declares or changes (its own ``origin``)."""
    rules = [n for n, r in variant.rules.items() if r.origin == variant.variant]
    params = [n for n, p in variant.params.items() if p.origin == variant.variant]
    return rules, params


def timeline_svg(periods: list, until: dt.date | None = None, width: int = 560) -> str:
    """Values by date as a step chart (inline SVG); empty when fewer than two numbers."""
    points = [(dt.date.fromisoformat(d), n, text) for d, text, n in periods if n is not None]
    if not points:
        return ""
    end = max(until or points[-1][0], points[-1][0] + dt.timedelta(days=365))
    start = points[0][0]
    span = max((end - start).days, 1)
    top = max(n for _, n, _ in points) or 1.0
    left, right, height = 10, width - 10, (70 if len(points) > 1 else 36)

    def x(day):
        return left + (right - left) * (day - start).days / span

    def y(n):
        return height - 8 - (height - 28) * (n / top if top else 0)
    parts = [f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 16}" '
             f'role="img" aria-label="timeline">']
    for i, (day, n, text) in enumerate(points):
        stop = points[i + 1][0] if i + 1 < len(points) else end
        parts.append(f'<line x1="{x(day):.1f}" y1="{y(n):.1f}" x2="{x(stop):.1f}" y2="{y(n):.1f}" '
                     f'stroke="#2f6fb0" stroke-width="3"/>')
        if i:
            parts.append(f'<line x1="{x(day):.1f}" y1="{y(points[i - 1][1]):.1f}" x2="{x(day):.1f}" y2="{y(n):.1f}" '
                         f'stroke="#2f6fb0" stroke-dasharray="3 2"/>')
        parts.append(f'<circle cx="{x(day):.1f}" cy="{y(n):.1f}" r="3.5" fill="#2f6fb0"/>'
                     f'<text x="{x(day) + 4:.1f}" y="{y(n) - 6:.1f}">{_esc(text)}</text>'
                     f'<text x="{x(day) + 2:.1f}" y="{height + 12}" class="axis">{day.isoformat()}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _esc(text: str) -> str:
    from html import escape
    return escape(str(text), quote=True)
