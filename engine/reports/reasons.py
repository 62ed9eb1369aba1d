"""The deciding facts of an output, and what a trace needs to render without the policy.

An output's *reasons* are a smallest set of the facts it read whose values alone decide it:
the facts are taken away one at a time (made unknown, the others kept) and a fact stays
a reason only when the output is no longer what it was without it. What remains is
subset-minimal: taking away any one more leaves the output unknown or different. The
evaluation is the caller's (``same(facts) -> bool``), so this module knows no evaluator;
exact unknowns (core/exact.py) make the test sharp: a red household whose income is
taken away stays red when both sides of every threshold give red.

:func:`annotate` adds to a trace what a person's explanation shows beside the values: the
reasons of each output, the enums' labels, the entity's label, the cited document lines
(when the installation has the documents, as the checker's W905 looks for them) and the
documents' titles.
"""
from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from ...dsl import typed as t
from ..core import exact
from .trace import Reason, Trace

_SEGMENT = re.compile(r"^(\w+)\[(\d+)\]$")
_CITE = re.compile(r"^\s*([^:\s]+):(\d+)(?:-(\d+))?\s*$")
QUOTE_WIDTH = 60  # characters of a cited line shown (trimmed with …)


def fields_read(checked, output: str) -> set:
    """``(entity, field)`` of every field a rule in the output's dependency cone reads."""
    found = set()
    for name in exact.cone(checked, output):
        for root in checked.rules[name].roots():
            found |= {(n.entity, n.name) for n in t.walk(root) if isinstance(n, t.TField)}
    return found


def fact_paths(checked, entity: str, facts: dict, wanted: set, prefix: str = "") -> list:
    """``(path, field)`` of each fact given in ``facts`` (children's facts too, as
    ``members[1].age``) whose field is in ``wanted``, in the facts' order."""
    out = []
    ent = checked.entities[entity]
    for name, value in facts.items():
        fld = ent.fields.get(name)
        if fld is None:
            continue
        if fld.child and isinstance(value, list):
            for i, child in enumerate(value):
                if isinstance(child, dict):
                    out += fact_paths(checked, fld.child, child, wanted, f"{prefix}{name}[{i}].")
        elif (entity, name) in wanted and value is not None:
            out.append((prefix + name, fld))
    return out


def without(facts: dict, paths) -> dict:
    """``facts`` with the facts at ``paths`` taken away (copied along each path)."""
    out = dict(facts)
    for path in paths:
        *parents, name = path.split(".")
        node = out
        for seg in parents:
            m = _SEGMENT.match(seg)
            kids = list(node[m.group(1)])
            kids[int(m.group(2))] = dict(kids[int(m.group(2))])
            node[m.group(1)] = kids
            node = kids[int(m.group(2))]
        node.pop(name, None)
    return out


def deciding(facts: dict, paths: list, same) -> list:
    """The paths of a subset-minimal set of facts that decide the output alone: each
    path is taken away in turn, and stays away when ``same(facts without it)`` holds."""
    away: list = []
    for path in reversed(paths):  # the deepest facts first: the first read stay if they can
        if same(without(facts, [*away, path])):
            away.append(path)
    return [p for p in paths if p not in away]


def value_of(facts: dict, path: str):
    """The fact at ``path`` (None when absent)."""
    node = facts
    for seg in path.split("."):
        m = _SEGMENT.match(seg)
        if m:
            node = node.get(m.group(1), [])[int(m.group(2))]
        else:
            node = node.get(seg) if isinstance(node, dict) else None
    return node


def where_of(checked, entity: str, path: str, facts: dict | None = None) -> list:
    """The children a path passes through, each with its entity's labels, number
    (1-based) and, where the entity declares a ``title`` and the child has the facts it
    names, that title: ``members[1].age`` → ``[{label: 家庭成员, number: 2, title: 12 岁}]``."""
    out, ent, node = [], checked.entities[entity], facts
    for seg in path.split(".")[:-1]:
        m = _SEGMENT.match(seg)
        child = checked.entities[ent.fields[m.group(1)].child]
        node = _child(node, m.group(1), int(m.group(2)))
        item = {"label": labels_of(child.labels) or {"zh": child.name, "en": child.name}, "number": int(m.group(2)) + 1}
        title = _title(child.title, node)
        if title:
            item["title"] = title
        out.append(item)
        ent = child
    return out


def _child(node, field: str, index: int):
    kids = node.get(field) if isinstance(node, dict) else None
    return kids[index] if isinstance(kids, list) and index < len(kids) else None


def _title(title, facts) -> dict | None:
    """A declared title filled with the child's facts (None when one it names is missing)."""
    if title is None or not isinstance(facts, dict):
        return None
    shown = {k: _plain(v) for k, v in facts.items() if v is not None}
    try:
        return {"zh": title.zh.format_map(shown), "en": (title.en or title.zh).format_map(shown)}
    except (KeyError, ValueError, IndexError):
        return None


def reason(checked, entity: str, facts: dict, path: str, fld) -> Reason:
    """The :class:`Reason` of one fact: its labels, value (an enum's with its labels)."""
    value = value_of(facts, path)
    value_label = None
    if fld.type.kind == "enum" and isinstance(value, str):
        value_label = labels_of(checked.enums[fld.type.name].values.get(value))
    return Reason(path=path, label=labels_of(fld.labels) or {"zh": fld.name, "en": fld.name}, value=_plain(value),
                  value_label=value_label, type=str(fld.type), unit=fld.unit,
                  where=where_of(checked, entity, path, facts), mutable=fld.mutable)


def reasons_of(checked, entity: str, facts: dict, output: str, same) -> list[Reason]:
    """The deciding facts of ``output`` (see :func:`deciding`) as :class:`Reason` s."""
    paths = fact_paths(checked, entity, facts, fields_read(checked, output))
    fields = dict(paths)
    kept = deciding(facts, [p for p, _ in paths], same)
    return [reason(checked, entity, facts, p, fields[p]) for p in kept]


def annotate(trace: Trace, checked, entity: str, facts: dict, same_for) -> Trace:
    """``trace`` with each decided output's reasons (``same_for(output)`` gives the test
    of :func:`deciding` for it) and the labels, quotes and titles its rendering needs."""
    roots = []
    for node in trace.roots:
        if node.path == "" and node.value is not None and not node.error:
            node = node.model_copy(update={"reasons": reasons_of(checked, entity, facts, node.rule,
                                                                 same_for(node.rule))})
        roots.append(node)
    ent = checked.entities[entity]
    return trace.model_copy(update={
        "roots": roots, "entity_label": labels_of(ent.labels) or {"zh": entity, "en": entity},
        "enums": enums_of(checked, roots), "quotes": quotes_of(checked, roots),
        "documents": {name: labels_of(getattr(d, "title", None)) or {"zh": name, "en": name}
                      for name, d in checked.documents.items()}})


def enums_of(checked, roots) -> dict:
    """The labels of every value of each enum type the trace shows."""
    names = set()
    for node in _walk(roots):
        names.add(node.type)
        for cell in (node.decided_by or {}).get("cells", []):
            names.add(cell.get("type"))
        for c in node.comparisons:
            names |= {o.get("type") for o in c.operands}
        names |= {r.type for r in node.reasons or []}
    return {n: {v: labels_of(lab) or {"zh": v, "en": v} for v, lab in checked.enums[n].values.items()}
            for n in sorted(x for x in names if x in checked.enums)}


def quotes_of(checked, roots) -> dict:
    """Each citation of the trace → the cited lines' text, trimmed (when the document's
    file is found where the pack declares it)."""
    cites = set()
    for node in _walk(roots):
        cites |= set(node.sources) | set((node.decided_by or {}).get("sources") or [])
        for p in node.params:
            cites |= set(p.sources)
    out = {}
    for cite in sorted(cites):
        for part in cite.split(","):
            text = quote(checked, part)
            if text:
                out[part.strip()] = text
    return out


def quote(checked, cite: str) -> str | None:
    """The text of a citation (``001:78-80``), trimmed to :data:`QUOTE_WIDTH`, or None."""
    m = _CITE.match(cite)
    doc = checked.documents.get(m.group(1)) if m else None
    if doc is None or not getattr(doc, "file", None):
        return None
    lines = _lines(str(Path(doc.loc.file).parent / doc.file))
    first, last = int(m.group(2)), int(m.group(3) or m.group(2))
    if lines is None or first > len(lines):
        return None
    text = " ".join(line.strip() for line in lines[first - 1:last] if line.strip())
    return text if len(text) <= QUOTE_WIDTH else text[:QUOTE_WIDTH].rstrip() + "…"


_LINES: dict = {}


def _lines(path: str) -> list | None:
    """A document's lines, read once per version of the file (None when unreadable)."""
    try:
        stat = Path(path).stat()
    except OSError:
        return None
    key = (path, stat.st_mtime_ns, stat.st_size)
    if key not in _LINES:
        try:
            _LINES[key] = Path(path).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            _LINES[key] = None
    return _LINES[key]


def _walk(roots):
    stack = list(roots)
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.children)


def labels_of(labels) -> dict | None:
    """Declared labels as the trace carries them (``{zh, en}``, en falling back to zh)."""
    return {"zh": labels.zh, "en": labels.en or labels.zh} if labels else None


def _plain(value):
    if isinstance(value, (bool, int, Decimal, str)) or value is None:
        return value
    return value.isoformat() if hasattr(value, "isoformat") else str(value)



