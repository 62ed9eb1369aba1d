"""Compile typed expressions into functions over whole levels: ``f(level) -> V``.

The columnar twin of scalar/compile.py, from the same typed IR. Each node mirrors the
scalar closure's semantics exactly, including which operands the scalar evaluator
would evaluate at all (so that an error in an operand it skips is no error here
either): ``and``/``or`` stop at the first deciding item, a chained comparison at the
first false link, ``if`` evaluates only the branch taken unless the condition is
unknown. What each operator, function and ``in`` means comes from engine/core
(operators.py, cells.py): integers, fen, enum codes and dates go through the numpy
ufunc declared beside each operator's Python meaning there; decimals and other objects
through the Python meaning itself, element by element (exact, slower).
"""
from __future__ import annotations

import numpy as np

from ...dsl import typed as t
from ..core import cells
from ..core.operators import (ARITHMETIC, COMPARISONS, FUNCTIONS, LIMIT, LIMIT_FEN, UNARY, beyond, fen_quotient,
                              product_beyond)
from ..core.values import EvalError, Unknown
from . import why as wy
from .vector import (KIND_OF_REP, REP_OF_KIND, V, andnot, as_objects, choose, column, decode_cell, encode_cell,
                     encode_literal, full, magnitude, numeric_pair, orm, squeeze, take, unify)


class ColumnarCompiler:
    """Compiles typed nodes of one checked policy into level functions."""

    def __init__(self, checked):
        self.checked = checked

    def enum_of(self, typ) -> tuple:
        return tuple(self.checked.enums[typ.name].values) if typ.kind == "enum" else ()

    def compile(self, node: t.T):
        return getattr(self, "c_" + type(node).__name__)(node)

    # --- leaves

    def c_TLit(self, node):
        data, rep = encode_literal(node.value, node.type.kind, self.enum_of(node.type))
        value = V(data, rep, enum=self.enum_of(node.type))
        return lambda level: value

    def c_TField(self, node):
        name, kind = node.name, node.type.kind
        rep, enum = REP_OF_KIND.get(kind, "obj"), self.enum_of(node.type)
        default = encode_literal(node.when_absent, kind, enum)[0] if node.has_absent else None
        # a fact read in several places is made once per level (its default filled in, the
        # facts of its missing rows, and why.of's ids, which the V keeps): what a field
        # means is its entity's declaration, the same wherever it is read
        key = ("field", name)

        def field(level):
            found = level.cache.get(key)
            if found is None:
                found = level.cache[key] = read(level)
            return found

        def read(level):
            col = level.frame.columns.get(name)
            if col is None:
                if node.has_absent:
                    return V(default, rep, enum=enum)
                every = np.ones(level.n, dtype=bool)
                return _absent(V(filler_array(rep, level.n), rep, every, enum=enum), level, name)
            if col.missing is None:
                return V(col.data, rep, enum=enum)
            if node.has_absent:
                return V(choose(col.missing, default, col.data) if rep not in ("dec", "str", "obj")
                         else _fill(col.data, col.missing, node.when_absent), rep, enum=enum)
            return _absent(V(col.data, rep, col.missing, enum=enum), level, name)

        return field

    def c_TRule(self, node):
        name = node.name
        return lambda level: level.rule(name)

    def c_TParam(self, node):
        name = node.name
        return lambda level: level.run.param(name, level.n)

    def c_TUp(self, node):
        levels, inner = node.levels, self.compile(node.target)
        # A parent's fact read in several places (household.registered) is gathered to
        # the children once per level, not once per place.
        key = ("up", levels, node.target.name) if isinstance(node.target, t.TField) else None

        def up(level):
            found = level.cache.get(key) if key is not None else None
            if found is None:
                ancestor, index = level.up(levels)
                found = take(inner(ancestor), index)
                if key is not None:
                    level.cache[key] = found
            return found

        return up

    # --- operators

    def c_TNeg(self, node):
        inner, negative = self.compile(node.operand), UNARY["-"].ufunc

        def neg(level):
            v = inner(level)
            data = column(v.data, level.n) if v.rep == "dec" else v.data  # object arrays: operator.neg per row
            return V(negative(data), v.rep, v.unk, v.err, why=v.why)

        return neg

    def c_TNot(self, node):
        inner, invert = self.compile(node.operand), UNARY["not"].ufunc

        def not_(level):
            v = inner(level)
            return V(invert(np.asarray(v.data, dtype=bool)), "bool", v.unk, v.err, why=v.why)

        return not_

    def c_TAnd(self, node):
        return self._logic([self.compile(i) for i in node.items], stop_on=False)

    def c_TOr(self, node):
        return self._logic([self.compile(i) for i in node.items], stop_on=True)

    def _logic(self, fns, stop_on: bool):
        """``and`` (stop on a false item) and ``or`` (stop on a true one), three-valued."""

        def logic(level):
            n = level.n
            alive = np.ones(n, dtype=bool)  # not yet decided by a stopping item
            err = unk = why = None
            for fn in fns:
                v = fn(level)
                if v.err is not None:
                    err = orm(err, alive & v.err)
                    alive = alive & ~v.err
                data = np.broadcast_to(np.asarray(v.data, dtype=bool), (n,))
                stop = data if stop_on else ~data
                if v.unk is not None:
                    stop = stop & ~v.unk
                    unk = orm(unk, alive & v.unk)
                    why = wy.unite(why, wy.of(v, n))  # rows left unknown were alive throughout
                alive = alive & ~stop
                if not alive.any():
                    break
            unk = squeeze(None if unk is None else unk & alive)
            # and: stopped rows are False, the rest True unless unknown;
            # or: stopped rows are True, the rest False unless unknown.
            value = ~alive if stop_on else alive & ~full(unk, n)
            return V(value, "bool", unk, squeeze(err), why=why)

        return logic

    def c_TArith(self, node):
        fns = [self.compile(o) for o in node.operands]
        steps = list(zip(node.ops, fns[1:], node.steps))
        first = fns[0]

        def arith(level):
            n = level.n
            acc = first(level)
            for op, fn, step in steps:
                right = fn(level)
                acc = _arith(op, acc, right, step, node, n)
            return acc

        return arith

    def c_TCompare(self, node):
        fns = [self.compile(o) for o in node.operands]
        ops = node.ops

        def chain(level):
            n = level.n
            left = fns[0](level)
            err = left.err
            alive = np.ones(n, dtype=bool) if err is None else ~err
            unk = why = None
            for op, fn in zip(ops, fns[1:]):
                right = fn(level)
                if right.err is not None:
                    err = orm(err, alive & right.err)
                    alive = alive & ~right.err
                unknown = orm(left.unk, right.unk)
                result = compare(op, left, right, n)
                false = ~result if unknown is None else ~result & ~unknown
                if unknown is not None:
                    unk = orm(unk, alive & unknown)
                    why = wy.unite_all((why, wy.of(left, n), wy.of(right, n)))  # unknown rows stayed alive
                alive = alive & ~false
                left = right
            unk = squeeze(None if unk is None else unk & alive)
            return V(alive & ~full(unk, n), "bool", unk, squeeze(err), why=why)

        return chain

    def c_TIn(self, node):
        subject = self.compile(node.subject)
        test = self.cell(cells.of_in(node))  # the cell ``in C`` / ``not in C``
        return lambda level: test(level, subject(level))

    # --- table cells and containers (core/cells.py), over whole columns

    def cell(self, cell):
        """A function ``(level, V) -> V`` (bool) for a cell construct: the meaning of
        core/cells.py (``compile_cell``) over whole columns."""
        if isinstance(cell, cells.Always):
            return lambda level, v: V(np.True_, "bool")
        if isinstance(cell, cells.Negated):
            inner, invert = self.cell(cell.inner), UNARY["not"].ufunc

            def negate(level, v):
                r = inner(level, v)
                return V(invert(np.asarray(r.data, dtype=bool)), "bool", r.unk, r.err, why=r.why)

            return negate
        if isinstance(cell, cells.Compare):
            op, other = cell.op, self.compile(cell.operand)

            def compare_cell(level, v):
                b = other(level)
                return gated(v, V(compare(op, v, b, level.n), "bool", b.unk, b.err, why=b.why), level.n)

            return compare_cell
        contains = self.contains(cell)
        return lambda level, v: gated(v, contains(level, v), level.n)

    def contains(self, cell):
        """A function ``(level, V) -> V`` (bool) for a known value in a set or an
        interval (``Member`` or ``Between``; core/cells.py's ``compile_container``)."""
        if isinstance(cell, cells.Member):
            if cells.literal_members(cell) is not None:
                return self._literal_set(cell)
            items = [self.compile(i) for i in cell.items]

            def member(level, v):
                n = level.n
                alive, err, unk, why = np.ones(n, dtype=bool), None, None, None
                for fn in items:
                    item = fn(level)
                    if item.err is not None:
                        err = orm(err, alive & item.err)
                        alive = alive & ~item.err
                    hit = compare("==", v, item, n)
                    if item.unk is not None:
                        unk = orm(unk, alive & item.unk)
                        why = wy.unite(why, wy.of(item, n))  # unknown rows stayed alive
                        hit = hit & ~item.unk
                    alive = alive & ~hit
                unk = squeeze(None if unk is None else unk & alive)
                return V(~alive & ~full(err, n), "bool", unk, squeeze(err), why=why)

            return member
        lo, hi, lo_op, hi_op = self.compile(cell.lo), self.compile(cell.hi), cell.lo_op, cell.hi_op

        def within(level, v):
            a, b = lo(level), hi(level)
            data = compare(lo_op, v, a, level.n) & compare(hi_op, v, b, level.n)
            err = orm(a.err, b.err)
            unk = andnot(orm(a.unk, b.unk), err)
            return V(data, "bool", unk, err, why=wy.unite(wy.of(a, level.n), wy.of(b, level.n)))

        return within

    def _literal_set(self, cell):
        encoded = [encode_literal(i.value, i.type.kind, self.enum_of(i.type)) for i in cell.items]
        reps = {rep for _, rep in encoded}
        values = [d for d, _ in encoded]
        py_values = cells.literal_members(cell)

        def member(level, v):
            n = level.n
            if reps == {v.rep} and v.rep == "enum" and v.enum:
                lookup = np.zeros(len(v.enum), dtype=bool)
                lookup[np.array(values, dtype=np.int64)] = True
                data = np.take(lookup, v.data)  # np.take reads int16 codes without casting them
            elif reps == {v.rep} and v.rep in ("int", "fen", "enum", "date", "bool") and len(values) <= 4:
                data = np.zeros(n, dtype=bool)
                for x in values:
                    data |= v.data == x
            elif reps == {v.rep} and v.rep in ("int", "fen", "enum", "date", "bool"):
                data = np.isin(column(v.data, n), np.array(values))
            elif {v.rep} | reps <= {"int", "fen"}:
                fen = [x * 100 if rep == "int" else x for x, rep in encoded]
                data = np.isin(column(v.data if v.rep == "fen" else v.data * 100, n), np.array(fen))
            else:
                objs = as_objects(v, n)
                data = np.fromiter((x in py_values for x in objs.tolist()), dtype=bool, count=n)
            return V(data, "bool")

        return member

    def c_TIf(self, node):
        cond, then, else_ = self.compile(node.cond), self.compile(node.then), self.compile(node.else_)

        def if_(level):
            n = level.n
            c = cond(level)
            a, b = unify([then(level), else_(level)], n)
            data_c = np.broadcast_to(np.asarray(c.data, dtype=bool), (n,))
            unknown = andnot(c.unk, c.err)
            yes = data_c if unknown is None else data_c & ~unknown
            if c.err is not None:
                yes = yes & ~c.err
            no = ~data_c if unknown is None else ~data_c & ~unknown
            if c.err is not None:
                no = no & ~c.err
            data = _where(yes, a.data, b.data, n, a.rep)
            err = orm(c.err, orm(_sel(a.err, yes), _sel(b.err, no)))
            unk = orm(_sel(a.unk, yes), _sel(b.unk, no))
            wa, wb = wy.of(a, n), wy.of(b, n)
            why = wy.unite(wy.sel(wa, yes), wy.sel(wb, no))
            if unknown is not None:
                err = orm(err, unknown & full(orm(a.err, b.err), n))
                same = _equal(a, b, n) & ~full(orm(a.bad(), b.bad()), n)
                data = _where(unknown & same, a.data, data, n, a.rep)
                unk = orm(unk, unknown & ~same)
                why = wy.unite(why, wy.sel(wy.unite_all((wy.of(c, n), wa, wb)), unknown & ~same))
            err = squeeze(err)
            ma, mb = magnitude(a), magnitude(b)
            mag = max(ma, mb) if ma is not None and mb is not None else None  # every row is a's or b's
            return V(data, a.rep, squeeze(andnot(unk, err)), err, a.enum or b.enum, why, mag)

        return if_

    # --- calls and aggregations

    def c_TCall(self, node):
        fns = [self.compile(a) for a in node.args]
        function = FUNCTIONS[node.fn]
        out_kind = node.type.kind
        enum = self.enum_of(node.type)

        def call(level):
            n = level.n
            args = [f(level) for f in fns]
            err = None
            for a in args:
                err = orm(err, a.err)
            if function.reads_unknown:  # is_known: the unknown mask is the answer
                return V(~full(args[0].unk, n), "bool", None, err)
            unk = None
            for a in args:
                unk = orm(unk, a.unk)
            unk = andnot(unk, err)
            fast = _fast_call(function, args, n)
            if fast is not None:
                return V(fast[0], fast[1], squeeze(unk), squeeze(err), why=_why_of(args, n))
            return objects_apply(function.py, args, n, out_kind, enum, orm(unk, err))

        return call

    def c_TAgg(self, node):
        from .aggregate import compile_aggregate

        return compile_aggregate(self, node)


# --- helpers


def filler_array(rep: str, n: int) -> np.ndarray:
    """``n`` harmless fillers of a representation (for rows whose value is unknown)."""
    from decimal import Decimal

    if rep in ("dec", "str", "obj"):
        return column(Decimal(0) if rep == "dec" else "" if rep == "str" else None, n)
    dtype = {"bool": bool, "enum": np.int16}.get(rep, np.int64)
    return np.zeros(n, dtype=dtype)


def _fill(data, missing, default):
    out = data.copy()
    out[missing] = default
    return out


def _sel(mask, rows):
    return None if mask is None else mask & rows


def _absent(v: V, level, name: str) -> V:
    """A fact column's V with the facts of its missing rows: ``{path + name}`` exactly
    where it is unknown and 0 elsewhere, so they are already what ``why.of`` gives."""
    v.why = v.why_rows = level.missing_why(name, v.unk)
    return v


def _where(cond, a, b, n, rep):
    if rep in ("dec", "str", "obj"):
        return np.where(cond, column(a, n), column(b, n))
    return choose(cond, a, b)


def gated(v: V, r: V, n: int) -> V:
    """``r`` where ``v`` is known; v's own status where it is not (a cell tested on an
    unknown value is that unknown and reads none of its operands, core/cells.py)."""
    skip = v.bad()
    r_err, r_unk = andnot(r.err, skip), andnot(r.unk, skip)
    err = squeeze(orm(v.err, r_err))
    unk = squeeze(andnot(orm(andnot(v.unk, v.err), r_unk), err))
    return V(r.data, "bool", unk, err, why=wy.gated(v, r, skip, n))


def _equal(a: V, b: V, n: int) -> np.ndarray:
    pair = numeric_pair(a, b, n)
    if pair is not None:
        return np.broadcast_to(np.equal(pair[0], pair[1]), (n,))
    x, y = as_objects(a, n), as_objects(b, n)
    return np.fromiter((p == q for p, q in zip(x.tolist(), y.tolist())), dtype=bool, count=n)


def compare(op: str, a: V, b: V, n: int) -> np.ndarray:
    """Elementwise ``a op b`` (garbage where either is unknown): the comparison's ufunc
    (core/operators.py) on codes, numbers and strings, else its Python meaning per row."""
    comparison = COMPARISONS[op]
    pair = numeric_pair(a, b, n)
    if pair is not None:
        return np.broadcast_to(comparison.ufunc(pair[0], pair[1]), (n,))
    if a.rep == b.rep == "str":
        return np.broadcast_to(comparison.ufunc(column(a.data, n), column(b.data, n)), (n,))
    if a.rep == b.rep == "dec":
        fast = _compare_decimals(comparison, a, b, n)
        if fast is not None:
            return fast
    fn = comparison.py
    x, y = as_objects(a, n), as_objects(b, n)
    bad = full(orm(a.bad(), b.bad()), n)
    return np.fromiter((False if k else bool(fn(p, q)) for p, q, k in zip(x.tolist(), y.tolist(), bad.tolist())),
                       dtype=bool, count=n)


def _compare_decimals(comparison, a: V, b: V, n: int):
    """``a op b`` on Decimal objects through numpy's object loop: the same rich
    comparison as the Python meaning, row by row in C (4x the generator). None if
    some row cannot be compared that way (the caller then goes row by row)."""
    try:
        out = np.asarray(comparison.ufunc(a.data, b.data), dtype=bool)
    except (TypeError, ArithmeticError):
        return None
    bad = orm(a.bad(), b.bad())
    if bad is not None:
        out = out & ~bad  # as the row-by-row path: False where either side is not known
    return np.broadcast_to(out, (n,))


def _arith(op, a: V, b: V, step, node, n) -> V:
    out = _arith_known(op, a, b, step, node, n)
    if ARITHMETIC[op].absorbs and out.unk is not None:
        out = _absorb(op, a, b, out, step, node, n)
    return out


def _absorb(op, a: V, b: V, out: V, step, node, n) -> V:
    """Rows where one operand is unknown and the other a known zero are zero, not
    unknown (operators.Operator.absorbs: x × 0 = 0 whatever x is)."""
    either = orm(_unknown_times_zero(a, b, n), _unknown_times_zero(b, a, n))
    if either is None:
        return out
    absorbed = full(out.unk, n) & either
    if not absorbed.any():
        return out
    data = np.array(np.broadcast_to(out.data, (n,)))
    data[absorbed] = ARITHMETIC[op].py(0, 0, step.kind, node) if data.dtype == object else 0
    return V(data, out.rep, squeeze(andnot(out.unk, absorbed)), out.err, why=out.why)


def _unknown_times_zero(u: V, v: V, n: int):
    """Rows where ``u`` is unknown and ``v`` a known zero (None: no row); the other
    operand is looked at only where there are unknown rows to absorb."""
    if u.unk is None:
        return None
    data = v.data
    if isinstance(data, np.ndarray) and data.ndim == 1:
        rows = full(u.unk, n) & (data == 0)
    elif bool(np.asarray(data == 0)):  # a constant zero
        rows = full(u.unk, n)
    else:
        return None
    bad = v.bad()
    return rows if bad is None else rows & ~full(bad, n)


def _arith_known(op, a: V, b: V, step, node, n) -> V:
    """``a op b`` in the rows where both are known; unknown where either is."""
    err = orm(a.err, b.err)
    unk = andnot(orm(a.unk, b.unk), err)
    kind = step.kind
    bad = orm(unk, err)
    why = _why_of((a, b), n)
    arithmetic = ARITHMETIC[op]
    pair = numeric_pair(a, b, n)
    if pair is not None and op in "+-" and pair[2] in ("int", "fen"):
        x, y, rep = pair  # bounded operands (|fen| <= 10^17): the sum cannot wrap
        return _bounded(arithmetic.ufunc(x, y), rep, unk, err, n, why)
    if pair is not None and op == "-" and pair[2] == "date":
        # days since the epoch: their difference is core's date − date in days
        return V(arithmetic.ufunc(pair[0], pair[1]), "int", squeeze(unk), squeeze(err), why=why)
    if op == "*" and {a.rep, b.rep} <= {"int", "fen"} and (a.rep, b.rep) != ("fen", "fen"):
        return _int_product(a, b, unk, err, n, why)
    if op == "/" and kind == "money" and a.rep == "fen" and b.rep == "int":
        return _fen_div(a, b, unk, err, n, why)
    if op == "*" and kind == "money" and {a.rep, b.rep} == {"fen", "dec"}:
        fen, factor = (a, b) if a.rep == "fen" else (b, a)
        scaled = _fen_times_constant(fen, factor, n)
        if scaled is None:
            scaled = _fen_times_decimals(fen, factor, n, bad)
        if scaled is not None:
            return _bounded(scaled, "fen", unk, err, n, why)
    meaning = arithmetic.py
    return objects_apply(lambda x, y: meaning(x, y, kind, node), [a, b], n, kind, (), bad)


def _bounded(data, rep: str, unk, err, n, why) -> V:
    """int64 results with core's bound: rows beyond it are the error E720 there (as
    ``operators.bounded`` raises), unless they are already unknown or an error."""
    wide = np.broadcast_to(data, (n,))
    if _largest(wide) <= (LIMIT_FEN if rep == "fen" else LIMIT):
        return V(data, rep, squeeze(andnot(unk, err)), squeeze(err), why=why)  # no row beyond: nothing to mask
    over = beyond(wide, rep) & ~full(orm(unk, err), n)
    if over.any():
        err = orm(err, over)
        data = np.where(over, 0, data)
    return V(data, rep, squeeze(andnot(unk, err)), squeeze(err), why=why)


def _int_product(a: V, b: V, unk, err, n, why) -> V:
    """integer × integer, or money in fen × integer, on int64: rows whose product would
    pass the bound are E720 and are not multiplied (an int64 product could wrap)."""
    rep = "fen" if "fen" in (a.rep, b.rep) else "int"
    x, y = np.broadcast_to(a.data, (n,)), np.broadcast_to(b.data, (n,))
    limit = LIMIT_FEN if rep == "fen" else LIMIT
    if _largest(x) * _largest(y) <= limit:  # no product can pass the bound: no row to look at
        return V(ARITHMETIC["*"].ufunc(a.data, b.data), rep, squeeze(unk), squeeze(err), why=why)
    over = product_beyond(x, y, limit) & ~full(orm(unk, err), n)
    if not over.any():
        return V(ARITHMETIC["*"].ufunc(a.data, b.data), rep, squeeze(unk), squeeze(err), why=why)
    product = ARITHMETIC["*"].ufunc(np.where(over, 0, x), np.where(over, 0, y))
    err = orm(err, over)
    return V(product, rep, squeeze(andnot(unk, err)), squeeze(err), why=why)


def _largest(x: np.ndarray) -> int:
    """The largest magnitude in an int64 array, as a Python int (exact: ``np.abs`` of the
    least int64 would wrap); 0 for no rows. Two reductions, cheaper than a mask per row
    where, as almost always, every row is far inside the bound."""
    if not x.size:
        return 0
    return max(int(x.max()), -int(x.min()))


def _fen_div(a: V, b: V, unk, err, n, why) -> V:
    """money / integer, rounded half-up to the fen, in integer arithmetic (division by
    zero: the error E807 in those rows, as core's ``divide`` raises)."""
    x, y = np.broadcast_to(a.data, (n,)), np.broadcast_to(b.data, (n,))
    zero = (y == 0) & ~full(orm(unk, err), n)
    err = squeeze(orm(err, zero))
    return V(fen_quotient(x, np.where(y == 0, 1, y)), "fen", squeeze(andnot(unk, err)), err, why=why)


def _fen_times_constant(fen: V, factor: V, n: int):
    """money × a constant decimal, half-up to the fen, in exact integer arithmetic."""
    from decimal import Decimal

    d = factor.data
    if not isinstance(d, Decimal) or factor.unk is not None or not d.is_finite():
        return None
    places = max(0, -d.as_tuple().exponent)
    num, den = int(d.scaleb(places)), 10 ** places
    x = np.asarray(fen.data, dtype=np.int64)
    if x.size and int(np.abs(x).max()) * abs(num) >= 2 ** 62 or den >= 2 ** 40:
        return None
    return fen_quotient(x * num, den)


def _fen_times_decimals(fen: V, factor: V, n: int, bad):
    """money × a column of decimals (a ratio fact: few distinct values), half-up to the
    fen, in exact integer arithmetic: each distinct decimal ``p/10**k`` once, then
    ``fen_quotient(fen * p, 10**k)`` per row. None (go row by row) for more than n/4
    distinct values, more than 12 decimals, a product that could pass 2^62, or a row
    to compute that holds no Decimal."""
    from decimal import Decimal

    d = factor.data
    if not isinstance(d, np.ndarray) or d.dtype != object or d.ndim != 1 or not n:
        return None
    cells = d.tolist()
    index = {x: i for i, x in enumerate(dict.fromkeys(cells))}  # hashing in C, not a Python loop
    if len(index) > max(64, n // 4):
        return None
    codes = np.fromiter(map(index.__getitem__, cells), dtype=np.int64, count=len(cells))
    nums, dens, usable = [], [], []
    for x in index:  # in code order
        ok = type(x) is Decimal and x.is_finite() and -x.as_tuple().exponent <= 12
        places = max(0, -x.as_tuple().exponent) if ok else 0
        nums.append(int(x.scaleb(places)) if ok else 0)
        dens.append(10 ** places)
        usable.append(ok)
    if not all(usable) and (~np.array(usable)[codes] & ~full(bad, n)).any():
        return None  # a filler (None) only where the row is unknown or an error
    num, den = np.array(nums, dtype=np.int64)[codes], np.array(dens, dtype=np.int64)[codes]
    x = np.broadcast_to(np.asarray(fen.data, dtype=np.int64), (n,))
    if int(np.abs(x).max()) * int(np.abs(num).max()) >= 2 ** 62:
        return None
    return fen_quotient(x * num, den)


def _fast_call(function, args, n):
    """A function's ufunc (core/operators.py) on int64 arrays, where it declares one for
    the arguments' kinds; None: go row by row."""
    kinds = {KIND_OF_REP.get(a.rep) for a in args}
    if function.ufunc is None or not kinds <= function.array_kinds:
        return None
    if kinds == {"date"}:
        days = np.broadcast_to(args[0].data, (n,)).astype("datetime64[D]")
        return function.ufunc(days), "int"
    fen = "money" in kinds
    vals = [a.data * 100 if fen and a.rep == "int" else a.data for a in args]
    if function.ufunc.nin == 1:
        return function.ufunc(vals[0]), args[0].rep
    out = vals[0]
    for v in vals[1:]:
        out = function.ufunc(out, v)
    return out, ("fen" if fen else "int")


def objects_apply(fn, args: list, n: int, out_kind: str, enum: tuple, skip) -> V:
    """Apply a Python function over runtime values (core/operators.py) row by row;
    rows in ``skip`` get a filler."""
    rep = REP_OF_KIND.get(out_kind, "obj")
    if all(_constant(a) for a in args):
        # Constants (parameters, literals): computed once, not once per row.
        try:
            value = fn(*(decode_cell(a.data, a.rep, a.enum) for a in args))
        except EvalError:
            return V(_FILLER.get(rep) or 0, rep, None, np.ones(n, dtype=bool), enum)
        if type(value) is not Unknown:
            data, out = encode_literal(value, out_kind, enum)
            return V(data, out, enum=enum)
    found = _apply_distinct(fn, args, n, rep, enum, skip)
    if found is not None:
        return found
    cols = [as_objects(a, n).tolist() for a in args]
    skip_list = full(skip, n).tolist()
    out, errs = [], np.zeros(n, dtype=bool)
    filler = _FILLER.get(rep)
    for i in range(n):
        if skip_list[i]:
            out.append(filler)
            continue
        try:
            value = fn(*(c[i] for c in cols))
        except EvalError:
            errs[i] = True
            out.append(filler)
            continue
        if type(value) is Unknown:
            out.append(filler)
            continue
        out.append(value)
    err = orm(_err_of(args), squeeze(errs))
    unk = None
    for a in args:
        unk = orm(unk, a.unk)
    unk = andnot(unk, err)
    data = _encode_list(out, rep, enum)
    return V(data, data_rep(data, rep), squeeze(unk), squeeze(err), enum, _why_of(args, n))


def _apply_distinct(fn, args, n: int, rep: str, enum: tuple, skip):
    """:func:`objects_apply` computed once per distinct combination of the arguments'
    values, where every column is a numpy array of ints, bools, enum codes, fen or days
    (equal cells decode to equal values, and the meaning is a function of them) and the
    rows to compute have at most a quarter as many combinations (``decimal × household
    size``); None otherwise. Rows in ``skip`` get the filler and are not computed."""
    arrays = [a.data for a in args if isinstance(a.data, np.ndarray) and a.data.ndim == 1]
    if rep == "obj" or not arrays or any(x.dtype == object for x in arrays):  # lists: one object per row
        return None
    rows = np.flatnonzero(~full(skip, n))
    if len(rows) < 256:
        return None
    key, size = np.zeros(len(rows), dtype=np.int64), 1
    for x in arrays:  # one int64 key per row: the combination of each column's dense rank
        values, rank = np.unique(x[rows], return_inverse=True)
        size *= len(values)
        if size > len(rows):
            return None
        key = key * len(values) + rank.reshape(-1)
    uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    if 4 * len(uniq) > len(rows):
        return None
    picked = rows[first]
    cols = [as_objects(V(a.data[picked], a.rep, enum=a.enum) if a.data is not None and np.ndim(a.data) == 1
                       else a, len(picked)).tolist() for a in args]
    filler = _FILLER.get(rep)
    values, errs = [], np.zeros(len(picked) + 1, dtype=bool)
    for j in range(len(picked)):
        try:
            value = fn(*(c[j] for c in cols))
        except EvalError:
            errs[j] = True
            value = filler
        values.append(filler if type(value) is Unknown else value)
    which = np.full(n, len(picked), dtype=np.int64)  # the last entry: the filler of skipped rows
    which[rows] = inverse.reshape(-1)
    encoded = _encode_list(values + [filler], rep, enum)
    data = encoded[which]
    err = orm(_err_of(args), squeeze(errs[which]))
    unk = None
    for a in args:
        unk = orm(unk, a.unk)
    return V(data, data_rep(data, rep), squeeze(andnot(unk, err)), squeeze(err), enum, _why_of(args, n))


def _why_of(args, n):
    """The union of the arguments' facts (an operation unknown because one is)."""
    return wy.unite_all(wy.of(a, n) for a in args)


def _constant(v: V) -> bool:
    return v.unk is None and v.err is None and not (isinstance(v.data, np.ndarray) and v.data.ndim >= 1)


_FILLER = {"bool": False, "int": 0, "fen": None, "enum": None, "date": None, "dec": None, "str": "", "obj": None}


def _err_of(args):
    err = None
    for a in args:
        err = orm(err, a.err)
    return err


def _encode_list(values, rep, enum):
    from decimal import Decimal

    if rep == "fen":
        out = np.zeros(len(values), dtype=np.int64)
        for i, x in enumerate(values):
            if x is None:
                continue
            f = Decimal(x).scaleb(2)
            if f != f.to_integral_value():
                arr = np.empty(len(values), dtype=object)
                arr[:] = [Decimal(0) if v is None else Decimal(v) for v in values]
                return arr
            out[i] = int(f)
        return out
    if rep in ("int", "enum", "date", "bool"):
        dtype = {"int": np.int64, "enum": np.int16, "date": np.int64, "bool": bool}[rep]
        return np.array([0 if x is None else encode_cell(x, rep, enum) for x in values], dtype=dtype)
    arr = np.empty(len(values), dtype=object)
    if rep == "dec":
        from decimal import Decimal

        arr[:] = [Decimal(0) if x is None else x for x in values]
    else:
        arr[:] = values
    return arr


def data_rep(data, rep):
    """``fen`` data that had to stay Decimal (below the fen) is ``dec``."""
    if rep == "fen" and data.dtype == object:
        return "dec"
    return rep

