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
    holes = False
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
        gaps, overlaps = _report(crule, table, axes, params, day, diags)
        if overlaps or (gaps and table.gap is None):
            return
        holes = holes or gaps
    if table.gap is not None and not holes:
        diags.append(error("W911", table.span, name=crule.name))
    if holes:
        return  # a declared gap: some inputs match no row
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
    shown = Axes(table, axes)
    boxes = shown.boxes([shown.indices(values) for values in gaps])
    for box in boxes[:MAX_REPORTS if table.gap is None else len(boxes)]:
        more = len(boxes) - MAX_REPORTS
        if table.gap is not None:  # the pack says the text leaves it open: listed, not an error
            diags.append(error("I952", table.span, name=crule.name, example=shown.describe(box, 0),
                               reason=Bilingual(table.gap.text("zh"), table.gap.text("en")), source=table.gap.source))
            continue
        diags.append(gap_diagnostic(crule, table, shown.describe(box, more)))
    pairs: dict = {}
    for a, b, values in overlaps:
        pairs.setdefault((a.index, b.index), (a, b, []))[2].append(shown.indices(values))
    for a, b, found_here in pairs.values():
        box = shown.boxes(found_here)[0]
        diags.append(error("E602", b.span, name=crule.name, a=a.index, b=b.index, example=shown.describe(box, 0)))
    return bool(gaps), bool(overlaps)


def gap_diagnostic(crule, table, example):
    """E601 with a hint fitting the table: a money or number table's missing interval
    needs an explicit row or a declared ``gap:`` (never a catch-all row that pays)."""
    if crule.type.numeric:
        hint = Bilingual("为这个区间补一行明确的值并写明来源；若原文确未规定，在表上声明 gap: {reason: …, source: …}"
                         "（不要用兜底行：它会给缺口一个原文没有的数额）",
                         "add an explicit row for this interval with its source; if the text leaves it open, declare "
                         "gap: {reason: …, source: …} on the table (not a catch-all row: it would give the gap an amount "
                         "the text does not)")
    else:
        hint = Bilingual("补一行覆盖这种情形并写明来源；若原文确未规定，在表上声明 gap: {reason: …, source: …}",
                         "add a row for this case with its source; if the text leaves it open, declare "
                         "gap: {reason: …, source: …} on the table")
    return error("E601", table.span, name=crule.name, example=example, hint=hint)


class Axes:
    """The sample values of a table's inputs, and what each stands for: a value of a
    bool or enum input stands for itself; a number or date sample stands for a region
    between the thresholds the rows mention (``[5000, 5000]``, ``(5000, 10000)``), so
    that neighbouring samples join into the interval a person reads (``[0, 80)``)."""

    def __init__(self, table, axes):
        self.names = [i.name for i in table.inputs]
        self.kinds = [i.expr.type.kind for i in table.inputs]
        self.axes = axes
        self.ordered = [k in ("integer", "decimal", "money", "ratio", "date") for k in self.kinds]
        self.regions = [_regions(axis, getattr(axis, "domain", None)) if o else None
                        for axis, o in zip(axes, self.ordered)]

    def indices(self, values: dict) -> tuple:
        return tuple(axis.index(values[name]) for name, axis in zip(self.names, self.axes))

    def boxes(self, points: list) -> list:
        """Points (index tuples) joined into boxes: per input, a set of indices (for a
        number or date, a run of neighbouring samples), merging along each input."""
        boxes = [tuple(frozenset((i,)) for i in p) for p in points]
        for _ in range(2):
            for k in range(len(self.axes)):
                boxes = self._merge(boxes, k)
        return boxes

    def _merge(self, boxes: list, k: int) -> list:
        groups: dict = {}
        for box in boxes:
            key = box[:k] + box[k + 1:]
            groups.setdefault(key, set()).update(box[k])
        out = []
        for key, indices in groups.items():
            parts = _runs(sorted(indices)) if self.ordered[k] else [frozenset(indices)]
            for part in parts:
                out.append(key[:k] + (frozenset(part),) + key[k:])
        return sorted(out, key=lambda b: [min(c) for c in b])

    def describe(self, box: tuple, more: int):
        """``状态=exited, 收入∈[5000, 10000)``: inputs any value fits are left out."""
        parts = []
        for k, comp in enumerate(box):
            if len(comp) == len(self.axes[k]):
                continue
            if self.ordered[k]:
                parts.append(f"{self.names[k]}∈{self._interval(k, sorted(comp))}")
            elif len(comp) == 1:
                parts.append(f"{self.names[k]}={_show(self.axes[k][next(iter(comp))])}")
            else:
                values = ", ".join(_show(self.axes[k][i]) for i in sorted(comp))
                parts.append(f"{self.names[k]}∈{{{values}}}")
        text = ", ".join(parts)
        zh, en = (text, text) if text else ("任意输入", "any input")
        if more > 0:
            return Bilingual(f"{zh}（另有 {more} 处）", f"{en} (and {more} more)")
        return Bilingual(zh, en)

    def _interval(self, k: int, indices: list) -> str:
        regions = self.regions[k]
        lo, lo_closed, _, _ = regions[indices[0]]
        _, _, hi, hi_closed = regions[indices[-1]]
        if lo == hi:
            return f"{{{_show(lo)}}}"
        if self.kinds[k] == "integer" and not lo_closed and lo != -INF:
            lo, lo_closed = lo + 1, True
        left = "[" if lo_closed and lo != -INF else "("
        right = "]" if hi_closed and hi != INF else ")"
        return f"{left}{_bound(lo)}, {_bound(hi)}{right}"


def _runs(indices: list) -> list:
    runs, current = [], [indices[0]]
    for i in indices[1:]:
        if i == current[-1] + 1:
            current.append(i)
        else:
            runs.append(current)
            current = [i]
    runs.append(current)
    return runs


def _regions(axis: list, domain) -> list:
    """What each sample of a number or date axis stands for: a threshold (or a domain
    bound) stands for itself; a sample between two stands for the open interval."""
    lo, lo_closed, hi, hi_closed = domain or (-INF, False, INF, False)
    bounds = sorted({v for v in axis if _is_threshold(v, axis)} | {b for b in (lo, hi) if b not in (-INF, INF)})
    out = []
    for v in axis:
        if v in bounds:
            out.append((v, True, v, True))
            continue
        below = [b for b in bounds if b < v]
        above = [b for b in bounds if b > v]
        out.append((below[-1] if below else lo, False if below else lo_closed and lo != -INF,
                    above[0] if above else hi, False if above else hi_closed and hi != INF))
    return out


def _is_threshold(value, axis) -> bool:
    return value in getattr(axis, "points", ())


class Samples(list):
    """The sample values of a number or date input; ``points`` are the thresholds the
    rows mention (each sample that is one stands for itself)."""

    points: frozenset = frozenset()
    domain: tuple | None = None  # (lo, lo_closed, hi, hi_closed) the samples were clipped to


def _bound(value) -> str:
    if value == INF:
        return "∞"
    if value == -INF:
        return "-∞"
    return _show(value)


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
    finite = sorted(p for p in points if abs(p) != INF)
    out = Samples(sorted(_representatives(finite, domain, typ.kind)))
    out.points = frozenset(finite)
    out.domain = domain
    return out


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
