"""Whole-policy checks: dependency cycles, unused declarations, missing sources, gaps."""
from __future__ import annotations

from ..errors import Bilingual, error, unseen
from .checked import Gap


def find_cycles(rules: dict, diags: list) -> bool:
    """Report each dependency cycle once, with its path; True if any."""
    state: dict[str, int] = {}
    found = False
    reported: set[frozenset] = set()
    for start in sorted(rules):
        if state.get(start):
            continue
        stack = [(start, iter(sorted(rules[start].deps)))]
        path = [start]
        state[start] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                path.pop()
                continue
            if nxt not in rules:
                continue
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt):] + [nxt]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    first = rules[cycle[0]]
                    diags.append(error("E501", first.span, path=" → ".join(cycle)))
                    found = True
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, iter(sorted(rules[nxt].deps))))
    return found


def lint(checked, params_used: set, rules_used: set, view, diags: list, base=None) -> None:
    """Warnings: unused parameters and internal rules, missing sources, gap values.

    ``params_used`` and ``rules_used`` gather every view (base and variants): a name
    used anywhere is used. With ``base`` (the base's CheckedPolicy), ``checked`` is a
    variant's view and only what that variant supplies is linted — rules it adds or
    overrides, parameters it overrides — and only where the base's own lint would not
    already say the same (no duplicate of a base warning at a second place).
    """
    variant = checked.variant if base is not None else None
    unseen_names(checked, view, diags, variant)
    for name, param in checked.params.items():
        if variant and param.origin != variant:
            continue
        inherited = base.params.get(name) if base is not None else None
        if base is None and name not in params_used:
            diags.append(error("W901", param.span, name=name))
        if not param.sources and (inherited is None or inherited.sources):
            diags.append(error("W903", param.span, kind=Bilingual("参数", "parameter"), name=name))
        for start, value in param.periods:
            if isinstance(value, Gap) and (inherited is None or (start, value) not in inherited.periods):
                loc = _param_loc(view, name)
                span = loc.span("values", start.isoformat()) if loc else param.span
                diags.append(error("W902", span, name=name, date=start.isoformat(), detail=value.text))
    for name, rule in checked.rules.items():
        if variant and rule.origin != variant:
            continue
        inherited = base.rules.get(name) if base is not None else None
        if rule.internal and name not in rules_used and inherited is None:
            diags.append(error("W904", rule.span, name=name))
        if not rule.sources and (inherited is None or inherited.sources):
            diags.append(error("W903", rule.span, kind=Bilingual("规则", "rule"), name=name))
        if rule.table is not None and (inherited is None or inherited.table is not rule.table):
            for row in rule.table.rows:
                if not row.sources:
                    diags.append(error("W910", row.span, name=name, row=row.id or row.index))


def unseen_names(checked, view, diags: list, variant: str | None) -> None:
    """W908: a name a person reads or types with a character no one can see (a line
    break, a tab, a zero-width space). Of the base: its declarations; of a variant: its
    name and what it supplies (rules, parameters, exceptions)."""
    for kind, name, span in _names(checked, view, variant):
        chars = unseen(name)
        if chars:
            diags.append(error("W908", span, kind=kind, name=name, chars=", ".join(dict.fromkeys(chars))))


def _names(checked, view, variant):
    """(kind, name, span) of each name the base declares, or a variant supplies."""
    if variant is None:
        for name, enum in view.enums.items():
            yield _ENUM, name, enum.loc.key_span()
            for value in enum.values:
                yield _ENUM_VALUE, value, enum.loc.key_span("values", value)
        for name, entity in checked.entities.items():
            yield _ENTITY, name, entity.span
            for fname, fdef in entity.fields.items():
                yield _FIELD, fname, fdef.span or entity.span
    else:
        yield _VARIANT, variant, view.variants[variant].loc.span("variant")
    for name, param in checked.params.items():
        if param.origin == (variant or "base"):
            yield _PARAM, name, param.span
    for name, rule in checked.rules.items():
        if rule.origin == (variant or "base"):
            yield _RULE, name, rule.span
            for row in rule.table.rows if rule.table is not None else ():
                if row.id is not None:
                    yield _ROW, row.id, row.span
        for exc in rule.exceptions:
            if exc.origin == (variant or "base"):
                yield _EXCEPTION, exc.id, exc.span


_ENUM, _ENUM_VALUE = Bilingual("枚举", "enum"), Bilingual("枚举值", "enum value")
_ENTITY, _FIELD = Bilingual("实体", "entity"), Bilingual("字段", "field")
_VARIANT, _PARAM, _RULE = Bilingual("变体", "variant"), Bilingual("参数", "parameter"), Bilingual("规则", "rule")
_ROW, _EXCEPTION = Bilingual("表格行", "table row"), Bilingual("例外", "exception")


def _param_loc(view, name):
    param = view.parameters.get(name)
    return param.loc if param is not None else None
