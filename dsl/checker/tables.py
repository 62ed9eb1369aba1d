"""Decision-table analysis: gaps (no row matches) and overlaps (two rows match under
``unique``), each shown as a concrete input combination.

The input space is finite after abstraction: booleans, enum values, and for numbers
and dates the thresholds the rows mention plus one point inside each interval between
them. Tables whose cells depend on facts (not constants) are left to run time.
"""
from __future__ import annotations

import itertools
from decimal import Decimal

from .. import typed as t
from ..errors import Bilingual, error
from .resolve import INF

MAX_CELLS = 200_000
MAX_REPORTS = 3


class _NotConstant(Exception):
    pass


def analyse_table(crule, table, enums, fields, params, diags: list) -> None:
    """Report gaps and (for ``unique``) overlaps of one checked table."""
    if table is None or not table.rows or any(i.expr is None for i in table.inputs):
        return
    if not _cells_sound(table):
        return  # a cell already reported (undefined name, wrong type): nothing sound to analyse
    for day in _dates(table, params):
        try:
            axes = [_axis(i, table.rows, enums, fields, params, day) for i in table.inputs]
        except _NotConstant:
            return
        total = 1
        for axis in axes:
            total *= max(len(axis), 1)
        if total > MAX_CELLS or not all(axes):
            return
        if _report(crule, table, axes, params, day, diags):
            return
    # A declared `domain:` is the author's word, not something facts validation
    # enforces: such a table is analysed over it, but not proven for every value.
    table.proven = not any(i.domain for i in table.inputs)


def _cells_sound(table) -> bool:
    """Whether every cell's values resolved and have its input's type: a misspelt enum
    value (``pooor``), an undefined bound or a date in a money column has been reported
    by the resolver, and testing it against the column's values would compare a string,
    a date or nothing with a number."""
    kinds = {i.name: i.expr.type for i in table.inputs}
    for row in table.rows:
        for name, test in row.tests.items():
            want = kinds.get(name)
            for node in t.walk(test):
                if isinstance(node, t.TLit) and node.value is None:
                    return False
                if isinstance(node, (t.TLit, t.TParam)) and want is not None and not _same_axis(want, node.type):
                    return False
    return True


def _same_axis(want, got) -> bool:
    if got.kind == "any" or want.kind == "any":
        return True
    if want.numeric and got.numeric:
        return True
    return want == got or (want.kind == got.kind and want.kind != "enum")


def _report(crule, table, axes, params, day, diags) -> bool:
    names = [i.name for i in table.inputs]
    try:
        found = _combinations(table, names, axes, params, day)
    except Exception:  # noqa: BLE001 - a cell that cannot be tested: let the row-by-row walk say so
        found = None
    if found is None:
        found = _combinations_by_row(table, names, axes, params, day)
    gaps, overlaps = found
    for values in gaps[:MAX_REPORTS]:
        more = len(gaps) - MAX_REPORTS
        diags.append(error("E601", table.span, name=crule.name, example=_example(values, more)))
    seen = set()
    for a, b, values in overlaps:
        if (a.index, b.index) in seen:
            continue
        seen.add((a.index, b.index))
        diags.append(error("E602", b.span, name=crule.name, a=a.index, b=b.index, example=_example(values, 0)))
    return bool(gaps or overlaps)


def _combinations_by_row(table, names, axes, params, day):
    """Gaps (input values no row matches) and overlaps (the first two rows matching),
    testing every row's cells for every combination of axis values."""
    gaps, overlaps = [], []
    for combo in itertools.product(*axes):
        values = dict(zip(names, combo))
        matching = [r for r in table.rows if _row_matches(r, values, params, day)]
        if not matching and table.hit != "collect":
            gaps.append(values)
        elif table.hit == "unique" and len(matching) > 1:
            overlaps.append((matching[0], matching[1], values))
    return gaps, overlaps


def _combinations(table, names, axes, params, day):
    """The same as `_combinations_by_row`, with each cell tested once per axis value:
    per input and value, the set of rows whose cell accepts it (as bits); a combination
    is matched by the rows in every one of its inputs' sets."""
    rows = table.rows
    masks = []
    for name, axis in zip(names, axes):
        tests = [(1 << bit, row.tests.get(name)) for bit, row in enumerate(rows)]
        per_value = []
        for value in axis:
            mask = 0
            for bit, test in tests:
                if test is None or _test(test, value, params, day):
                    mask |= bit
            per_value.append(mask)
        masks.append(list(enumerate(per_value)))
    full = (1 << len(rows)) - 1
    collect, unique = table.hit == "collect", table.hit == "unique"
    gaps, overlaps = [], []

    def values_of(combo):
        return dict(zip(names, (axis[k] for axis, (k, _) in zip(axes, combo))))

    for combo in itertools.product(*masks):
        matched = full
        for _, mask in combo:
            matched &= mask
        if not matched:
            if not collect:
                gaps.append(values_of(combo))
        elif unique and matched & (matched - 1):
            first = matched & -matched
            rest = matched ^ first
            second = rest & -rest
            overlaps.append((rows[first.bit_length() - 1], rows[second.bit_length() - 1], values_of(combo)))
    return gaps, overlaps


def _example(values: dict, more: int):
    text = ", ".join(f"{k}={_show(v)}" for k, v in values.items())
    if more > 0:
        return Bilingual(f"{text}（另有 {more} 种情形）", f"{text} (and {more} more cases)")
    return text


def _show(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _dates(table, params) -> list:
    used = set()
    for row in table.rows:
        for test in row.tests.values():
            used |= {n.name for n in t.walk(test) if isinstance(n, t.TParam)}
    days = sorted({start for name in used if name in params for start, _ in params[name].periods})
    return days or [None]


def _const(node, params, day):
    if isinstance(node, t.TLit):
        return node.value
    if isinstance(node, t.TParam) and day is not None and node.name in params:
        found = params[node.name].value_on(day)
        if found and not isinstance(found[1], (type(None),)) and not hasattr(found[1], "text"):
            return found[1]
    if isinstance(node, t.TNeg):
        return -_const(node.operand, params, day)
    raise _NotConstant


def _axis(tinput, rows, enums, fields, params, day) -> list:
    typ = tinput.expr.type
    if typ.kind == "bool":
        return [True, False]
    if typ.kind == "enum":
        return list(enums[typ.name].values)
    points = set()
    for row in rows:
        test = row.tests.get(tinput.name)
        if test is not None:
            points |= _points(test, params, day)
    if typ.kind == "string":
        return sorted(points) + ["<other>"]
    if not typ.ordered:
        raise _NotConstant
    domain = tinput.domain or _field_domain(tinput.expr, fields)
    return _representatives(sorted(p for p in points if abs(p) != INF), domain, typ.kind)


def _points(test, params, day) -> set:
    if isinstance(test, t.TTestAny):
        return set()
    if isinstance(test, t.TTestNot):
        return _points(test.test, params, day)
    if isinstance(test, t.TTestCompare):
        return {_const(test.value, params, day)}
    container = test.container
    if isinstance(container, t.TSet):
        return {_const(i, params, day) for i in container.items}
    return {_const(container.lo, params, day), _const(container.hi, params, day)}


def _field_domain(expr, fields):
    target = expr.target if isinstance(expr, t.TUp) else expr
    if isinstance(target, t.TField):
        f = fields.get(target.entity, {}).get(target.name)
        if f is not None and (f.min is not None or f.max is not None):
            lo = f.min if f.min is not None else -INF
            hi = f.max if f.max is not None else INF
            return (lo, True, hi, True)
    return None


def _representatives(points, domain, kind) -> list:
    lo, lo_closed, hi, hi_closed = domain or (-INF, False, INF, False)
    candidates = []
    if points:
        candidates.append(points[0] - 1)
        for a, b in zip(points, points[1:]):
            candidates.append(a)
            candidates.append(_between(a, b, kind))
        candidates.append(points[-1])
        candidates.append(points[-1] + 1)
    else:
        candidates.append(Decimal(0))
    if lo != -INF:
        candidates.append(lo)
    if hi != INF:
        candidates.append(hi)
    out = []
    for c in candidates:
        if c is None or c in out:
            continue
        if c < lo or c > hi or (c == lo and not lo_closed) or (c == hi and not hi_closed):
            continue
        out.append(c)
    return out


def _between(a, b, kind):
    if kind == "date":
        return a + (b - a) / 2 if (b - a).days > 1 else None
    if kind == "integer":
        return a + 1 if b - a > 1 else None
    return (Decimal(a) + Decimal(b)) / 2


def _row_matches(row, values, params, day) -> bool:
    return all(_test(test, values[name], params, day) for name, test in row.tests.items())


def _test(test, value, params, day) -> bool:
    if isinstance(test, t.TTestAny):
        return True
    if isinstance(test, t.TTestNot):
        return not _test(test.test, value, params, day)
    if isinstance(test, t.TTestCompare):
        other = _const(test.value, params, day)
        if value == "<other>":
            return test.op == "!="
        return _compare(value, test.op, other)
    container = test.container
    if isinstance(container, t.TSet):
        return value in {_const(i, params, day) for i in container.items}
    if value == "<other>":
        return False
    lo, hi = _const(container.lo, params, day), _const(container.hi, params, day)
    above = value >= lo if container.lo_closed else value > lo
    below = value <= hi if container.hi_closed else value < hi
    return above and below


def _compare(a, op, b) -> bool:
    return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
