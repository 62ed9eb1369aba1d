"""What differs between two settings of a policy, found from the checked declarations alone.

A *setting* is a checked policy (a pack, or one of its variants) and an as-of date. Before
anything is read, :func:`check_compatible` refuses two packs whose entities or facts differ
(E850, E851): ``fupin diff`` reads and validates the facts once, so both sides must mean
the same by every fact. Rules and parameters may differ: that is the point.

:func:`causes` says, for each output, what moved between the two settings *among the
things it depends on*: each parameter whose value in force differs (``5000 → 5000.01``,
with the dates the values took effect) and each rule whose definition differs (an
edited expression or table, an override by a variant, a rule added). The dependencies
are the rule graph (``CRule.deps``) and the parameters its typed expressions read.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ...dsl.errors import Bilingual, FupinError, Span, error
from ...dsl.typed import TParam, walk
from ..core.exact import cone
from ..core.values import plain


@dataclass(frozen=True)
class Setting:
    """One side of a comparison: a checked policy (base or a variant) on a date."""

    checked: object
    day: dt.date
    name: str  # how the side is called in messages ("2020-06-30", "anhui-2020", a folder)


@dataclass(frozen=True)
class Cause:
    """One thing that moved between the settings: a parameter's value or a rule's definition."""

    kind: str  # "parameter" or "rule"
    name: str
    before: str | Bilingual
    after: str | Bilingual

    def text(self, lang: str = "en") -> str:
        """``parameter red_line: 5000 (from 2020-01-01) → 5000.01 (from 2020-01-01)`` /
        ``rule tier: base → anhui-2020``; in zh ``参数 red_line：5000（自 2020-01-01 起）→ …``."""
        def pick(value):
            return value[lang] if isinstance(value, dict) else value
        if lang == "zh":
            return f"{_KINDS[self.kind]} {self.name}：{pick(self.before)} → {pick(self.after)}"
        return f"{self.kind} {self.name}: {pick(self.before)} → {pick(self.after)}"


_KINDS = {"parameter": "参数", "rule": "规则"}


def check_compatible(a: Setting, b: Setting) -> list:
    """Raise E850 when the packs declare different entities, E851 when a fact differs;
    return W931 for each fact of the same type whose bounds or requiredness differ."""
    ea, eb = a.checked.entities, b.checked.entities
    only = [f"`{n}` ({a.name})" for n in ea if n not in eb] + [f"`{n}` ({b.name})" for n in eb if n not in ea]
    moved = [f"`{n}`: parent {ea[n].parent} / {eb[n].parent}" for n in ea if n in eb and ea[n].parent != eb[n].parent]
    if only or moved:
        detail = "; ".join(only + moved)
        text = Bilingual(f"只在一边声明的实体 {detail}" if only else detail, f"entities declared on one side only: {detail}"
                         if only else detail)
        raise FupinError(error("E850", Span("<arguments>", 0, 0), detail=text))
    diags = []
    for name, ent in ea.items():
        for fname, fa in ent.fields.items():
            fb = eb[name].fields.get(fname)
            first, second = _fact(a.checked, fa), _fact(b.checked, fb)
            if first != second:
                span = (fb.span if fb is not None and fb.span is not None else eb[name].span) or Span("<arguments>", 0, 0)
                diags.append(error("E851", span, path=f"{name}.{fname}", first=f"{first} ({a.name})",
                                   second=f"{second} ({b.name})"))
        for fname in eb[name].fields.keys() - ent.fields.keys():
            fb = eb[name].fields[fname]
            diags.append(error("E851", fb.span or Span("<arguments>", 0, 0), path=f"{name}.{fname}",
                               first=f"— ({a.name})", second=f"{_fact(b.checked, fb)} ({b.name})"))
    if diags:
        raise FupinError(diags)
    return _bounds_moved(a, b)


def _bounds_moved(a: Setting, b: Setting) -> list:
    """W931 for each fact whose ``min``, ``max`` or ``required`` differs."""
    out = []
    for name, ent in a.checked.entities.items():
        for fname, fa in ent.fields.items():
            fb = b.checked.entities[name].fields[fname]
            first, second = _bounds(fa), _bounds(fb)
            if first != second:
                out.append(error("W931", fb.span or Span("<arguments>", 0, 0), path=f"{name}.{fname}",
                                 first=f"{first} ({a.name})", second=f"{second} ({b.name})"))
    return out


def _bounds(fld) -> str:
    lo = "-∞" if fld.min is None else plain(fld.min)
    hi = "∞" if fld.max is None else plain(fld.max)
    return f"[{lo}, {hi}]" + (", required" if fld.required else "")


def _fact(checked, fld) -> str:
    """How a fact reads: its type, with an enum's values in order ("—" when undeclared)."""
    if fld is None:
        return "—"
    if fld.type.kind == "enum":
        return f"{fld.type.name}{{{', '.join(checked.enums[fld.type.name].values)}}}"
    return str(fld.type)


def causes(a: Setting, b: Setting, outputs) -> dict:
    """Output → the :class:`Cause` list of what it depends on that differs between the settings."""
    params = _moved_params(a, b)
    rules = _moved_rules(a, b)
    out = {}
    for name in outputs:
        rules_used, params_used = cone(a.checked, name) | cone(b.checked, name), set()
        for side in (a.checked, b.checked):
            params_used |= {p for r in rules_used if r in side.rules for p in _params_of(side.rules[r])}
        out[name] = [params[p] for p in sorted(params_used) if p in params] + \
                    [rules[r] for r in sorted(rules_used) if r in rules]
    return out


def _moved_params(a: Setting, b: Setting) -> dict:
    """Parameter → Cause, for each whose value in force differs between the settings."""
    out = {}
    for name in sorted(a.checked.params.keys() | b.checked.params.keys()):
        va, vb = _param_value(a, name), _param_value(b, name)
        if va[0] != vb[0]:
            out[name] = Cause("parameter", name, _shown(va), _shown(vb))
    return out


def _param_value(side: Setting, name: str) -> tuple:
    """``(value, start)`` of a parameter on the side's date (value None: none in force)."""
    p = side.checked.params.get(name)
    picked = p.value_on(side.day) if p is not None else None
    if picked is None:
        return (Bilingual("未声明", "absent") if p is None else None, None)
    start, value = picked
    return (value if not hasattr(value, "text") else Bilingual(f"缺口：{value.text}", f"gap: {value.text}"), start)


def _shown(pair: tuple) -> Bilingual:
    """A parameter's value in force and since when, in both languages (— : none in force)."""
    value, start = pair
    if isinstance(value, dict):
        zh, en = value["zh"], value["en"]
    else:
        zh = en = "—" if value is None else str(plain(value)) if not isinstance(value, str) else value
    if start is None:
        return Bilingual(zh, en)
    return Bilingual(f"{zh}（自 {start.isoformat()} 起）", f"{en} (from {start.isoformat()})")


def _moved_rules(a: Setting, b: Setting) -> dict:
    """Rule → Cause, for each whose definition differs (or that one side lacks)."""
    out = {}
    for name in sorted(a.checked.rules.keys() | b.checked.rules.keys()):
        ra, rb = a.checked.rules.get(name), b.checked.rules.get(name)
        fa, fb = _fingerprint(ra), _fingerprint(rb)
        if fa != fb:
            out[name] = Cause("rule", name, *_origins(ra, rb, a, b))
    return out


def _origins(ra, rb, a: Setting, b: Setting) -> tuple:
    """Where each side's definition comes from: ``base → anhui-2020``, ``— → base`` (added),
    or, for one origin edited between two packs, ``base (policy/) → base (edited/)``."""
    before, after = (ra.origin if ra is not None else "—"), (rb.origin if rb is not None else "—")
    if before == after:
        return f"{before} ({a.name})", f"{after} ({b.name})"
    return before, after


def _fingerprint(rule):
    """A rule's definition as comparable text: type, expressions, rows, exceptions."""
    if rule is None:
        return None
    table = rule.table
    shape = (table.hit, table.aggregate, tuple(table.priority or ())) if table is not None else None
    return (str(rule.type), shape, tuple(_text(t) for t in rule.roots()), tuple(e.id for e in rule.exceptions))


def _text(node) -> str:
    return node.text if node is not None else ""


def _params_of(rule) -> set:
    return {n.name for root in rule.roots() if root is not None for n in walk(root) if isinstance(n, TParam)}
