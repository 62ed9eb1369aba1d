"""Decision tables and exceptions over whole levels: the twin of scalar/tables.py.

Each hit policy walks the table's rows once, keeping per-row state arrays (still open,
pending because a row may match, the candidate output of the rows that may match) so
that every row ends exactly where the scalar evaluator's loop would: with a value, as
unknown, or with an error (no row, several rows under ``unique``, min of nothing).
"""
from __future__ import annotations

from decimal import Decimal

import numpy as np

from ..core import cells
from ..core.operators import FUNCTIONS
from . import lookup
from . import why as wy
from .compile import ColumnarCompiler, filler_array
from .vector import V, as_objects, choose, column, full, gather, orm, squeeze, unify


def compile_rule(cc, rule):
    """The function ``level -> V`` of one checked rule, exceptions included."""
    base = compile_table(cc, rule) if rule.table is not None else cc.compile(rule.expr)
    if not rule.exceptions:
        return base
    excs = [(cc.compile(e.when), cc.compile(e.value)) for e in rule.exceptions]
    return _with_exceptions(base, excs)


class _Out:
    """The growing result of one table or exception set: data, unknown, error."""

    def __init__(self, n: int, rep: str, enum: tuple):
        self.n, self.rep, self.enum = n, rep, enum
        self.data = filler_array(rep, n)
        self.unk = np.zeros(n, dtype=bool)
        self.err = np.zeros(n, dtype=bool)
        # facts of unknown rows, only when this evaluation tracks them
        self.why = np.zeros(n, dtype=np.int32) if wy.current() is not None else None

    def wait(self, rows, why) -> None:
        """Rows that are unknown for want of ``why``'s facts."""
        self.unk |= rows
        if self.why is not None:
            _put(self.why, wy.UNTRACKED if why is None else why, rows)

    def take(self, rows, v: V) -> None:
        """Rows whose outcome is ``v`` (value, unknown or error as v has it)."""
        if not rows.any():
            return
        data = v.data
        if isinstance(data, np.ndarray) and data.ndim == 1:
            _put(self.data, data, rows)
        else:
            self.data[rows] = data
        if v.err is not None:
            self.err |= rows & v.err
        if v.unk is not None:
            self.wait(rows & v.unk if v.err is None else rows & v.unk & ~v.err, wy.of(v, self.n))

    def result(self) -> V:
        err = self.err
        return V(self.data, self.rep, squeeze(self.unk & ~err), squeeze(err), self.enum, self.why)


def _put(target: np.ndarray, values, rows: np.ndarray) -> None:
    """``target[rows] = values[rows]`` (or the scalar ``values``) in place, as a masked
    copy: boolean indexing gathers the rows first, and costs ~1.6x this where the rows
    are scattered, as unknown and matched rows are."""
    np.copyto(target, values, casting="unsafe", where=rows)


def _equal(a, b, n) -> np.ndarray:
    if a.dtype != object and b.dtype != object:
        return np.asarray(a == b, dtype=bool)
    return np.fromiter((x == y for x, y in zip(a.tolist(), b.tolist())), dtype=bool, count=n)


class _Candidates:
    """Rows that may match, per open row: do their outputs agree (and are they known)?"""

    def __init__(self, n: int, out: _Out):
        self.n = n
        self.value = filler_array(out.rep, n)
        self.seen = np.zeros(n, dtype=bool)
        self.same = np.zeros(n, dtype=bool)
        self.err = np.zeros(n, dtype=bool)
        self.first_why = np.zeros(n, dtype=np.int32)  # the first value's facts, if unknown
        self.same_key = np.zeros(n, dtype=bool)  # equal as the scalar _key() (unknowns by facts)

    def add(self, rows, v: V) -> None:
        if not rows.any():
            return
        data = column(v.data, self.n)
        bad = v.bad()
        vw = wy.of(v, self.n)
        vw = np.zeros(self.n, dtype=np.int32) if vw is None else vw
        first = rows & ~self.seen
        self.value[first] = data[first]
        self.same[first] = True if bad is None else ~bad[first]
        self.first_why[first] = vw[first]
        self.same_key[first] = True
        later = rows & self.seen
        if later.any():
            agree = _equal(data[later], self.value[later], int(later.sum()))
            self.same[later] &= agree if bad is None else agree & ~bad[later]
            # unknown values agree when their facts do (tracked sets; untracked never)
            fw, lw = self.first_why[later], vw[later]
            keyed = np.where((fw == 0) & (lw == 0), agree, (fw == lw) & (fw > 0))
            self.same_key[later] &= keyed
        if v.err is not None:
            self.err |= rows & v.err
        self.seen |= rows

    def settle(self, rows, out: _Out, why) -> None:
        """Decide ``rows`` by agreement: errors raised, agreeing values, else unknown for
        want of ``why``."""
        err = rows & self.err
        out.err |= err
        ok = rows & ~err & self.same
        _put(out.data, self.value, ok)
        out.wait(rows & ~err & ~ok, why)


def compile_table(cc, rule):
    table = rule.table
    inputs, rows = cells.table_parts(cc, table, ColumnarCompiler.cell)
    policy = _POLICIES[table.hit]
    rule_enum = cc.enum_of(rule.type)
    fast = lookup.plan(cc, table) if rows else None

    def decide(level):
        n = level.n
        values = [fn(level) for fn in inputs]
        thens = unify([then(level) for _, _, then in rows], n) if rows else []
        rep = thens[0].rep if thens else "int"
        enum = thens[0].enum if thens and thens[0].enum else rule_enum
        if fast is not None:
            found = fast.rows(level, values, rows, _general_of(general, thens, rep, enum))
            if found is not None:
                if len(found) == 2:  # some input unknown: each row its combination's outcome
                    return found[1].value(found[0], values, n, rep, enum)
                return _picked(_Out(n, rep, enum), thens, *found)
        return general(level, values, _Out(n, rep, enum), thens)

    def general(level, values, out, thens):
        """The general path: one mask per table row and cell (tables.py's hit policies)."""
        n = level.n
        in_err = np.zeros(n, dtype=bool)
        for v in values:
            in_err |= full(v.err, n)
        out.err |= in_err
        matches = _Matches(level, rows, values)
        policy(out, matches, thens, table, rule, ~in_err)
        return out.result()

    return decide


def _general_of(general, thens: list, rep: str, enum: tuple):
    """The general path as the lookup runs it over its probe rows (lookup.py), where
    every output of the table is a constant (None otherwise); its ``key``: the outputs."""
    if not thens or not all(_constant(then) for then in thens) or filler_array(rep, 0).dtype == object:
        return None

    def probe(level, values):
        return general(level, values, _Out(level.n, rep, enum), thens)

    probe.key = tuple((then.rep, then.data.item() if isinstance(then.data, np.generic) else then.data)
                      for then in thens)
    return probe


def _picked(out: _Out, thens: list, combination: np.ndarray, pick: np.ndarray, fails: np.ndarray) -> V:
    """The result from a table's lookup (lookup.py): per level row its combination of
    input classes; per combination, the row picked, or an error (``fails``: E808 no row,
    E809 several)."""
    err = squeeze(gather(fails, combination)) if fails.any() else None
    if all(_constant(then) for then in thens) and out.data.dtype != object:
        consts = np.array([then.data for then in thens], dtype=out.data.dtype)
        mag = int(np.abs(consts).max()) if out.rep in ("int", "fen") and len(consts) else None
        return V(gather(consts[pick], combination), out.rep, None, err, out.enum, mag=mag)
    chosen = gather(pick, combination)
    ok = ~err if err is not None else np.ones(out.n, dtype=bool)
    for i, then in enumerate(thens):
        out.take(ok & (chosen == i), then)
    if err is not None:
        out.err |= err
    return out.result()


class _Matches:
    """Row matches, computed on first use: (true, unknown, error) masks per row."""

    def __init__(self, level, rows, values):
        self.level, self.rows, self.values = level, rows, values
        self.cache: dict = {}

    def __call__(self, index: int):
        found = self.cache.get(index)
        if found is None:
            found = self.cache[index] = _match(self.level, self.rows[index][1], self.values)
        return found


def _match(level, tests, values):
    """(surely matches, may match, fails) for one row; masks are arrays."""
    n = level.n
    alive = err = unk = why = None  # None: every row / no row
    for index, test in tests:
        r = test(level, values[index])
        if r.err is not None:
            err = orm(err, r.err if alive is None else alive & r.err)
            alive = ~r.err if alive is None else alive & ~r.err
        data = r.data
        if not isinstance(data, np.ndarray) or data.ndim == 0:
            if bool(data) and r.unk is None:
                continue  # a cell that holds everywhere ("any")
            data = np.broadcast_to(np.asarray(data, dtype=bool), (n,))
        false = ~data if r.unk is None else ~data & ~r.unk
        if r.unk is not None:
            unk = orm(unk, r.unk if alive is None else alive & r.unk)
            why = wy.unite(why, wy.of(r, n))  # rows that end unknown were alive throughout
        alive = ~false if alive is None else alive & ~false
    if alive is None:
        alive = np.ones(n, dtype=bool)
    if unk is None:
        return alive, _NONE(n), full(err, n), None
    unk = unk & alive
    return alive & ~unk, unk, full(err, n), wy.sel(why, unk)


def _NONE(n):
    return np.zeros(n, dtype=bool)


# --- hit policies


def _first(out, matches, thens, table, rule, alive):
    n = out.n
    alive = alive.copy()
    pending = np.zeros(n, dtype=bool)
    why = None  # the facts of the rows that may match, so far
    cands = _Candidates(n, out)
    for i, then in enumerate(thens):
        if not alive.any():
            break
        mt, mu, me, mw = matches(i)
        out.err |= alive & me
        alive &= ~me
        sure = alive & mt
        out.take(sure & ~pending, then)
        both = sure & pending
        if both.any():
            cands.add(both, then)
            cands.settle(both, out, why)
        alive &= ~sure
        maybe = alive & mu
        cands.add(maybe, then)
        pending |= maybe
        why = wy.unite(why, wy.sel(mw, maybe))
    _end(out, alive, pending, cands, table, why)


def _constant(v: V) -> bool:
    return v.unk is None and v.err is None and not (isinstance(v.data, np.ndarray) and v.data.ndim == 1)


def _end(out, alive, pending, cands, table, why):
    """Rows no row surely matched: agreement if proven, else unknown (for want of
    ``why``, the facts of the rows that may match); no row: E808."""
    left = alive & pending
    if table.proven:
        cands.settle(left, out, why)
    else:
        out.wait(left, why)
    out.err |= alive & ~pending


def _unique(out, matches, thens, table, rule, alive):
    if _unique_plain(out, matches, thens, alive, table.proven):
        return
    n = out.n
    hits = np.zeros(n, dtype=np.int16)
    pending = np.zeros(n, dtype=bool)
    hit_row = np.zeros(n, dtype=np.int16)
    cands = _Candidates(n, out)
    why = None
    for i, then in enumerate(thens):
        mt, mu, me, mw = matches(i)
        out.err |= alive & me
        sure = mt & alive
        hits += sure
        hit_row += sure * np.int16(i)  # the row index where exactly one row hits
        pending |= mu & alive
        why = wy.unite(why, wy.sel(mw, alive))
    alive = alive & ~out.err
    many = alive & (hits > 1)
    out.err |= many  # E809
    alive &= ~many
    one = alive & (hits == 1)
    undecided = one & pending & (not table.proven)
    out.wait(undecided, why)
    chosen = one & ~undecided
    if all(_constant(then) for then in thens) and out.data.dtype != object:
        # Every output a constant: pick by row number in one step.
        consts = np.array([then.data for then in thens], dtype=out.data.dtype)
        _put(out.data, consts[hit_row], chosen)
    else:
        for i, then in enumerate(thens):
            out.take(chosen & (hit_row == i), then)
    none = alive & (hits == 0)
    if table.proven and (none & pending).any():
        for i, then in enumerate(thens):
            cands.add(none & pending & matches(i)[1], then)
    _end(out, none, pending, cands, table, why)


def _unique_plain(out, matches, thens, alive, proven: bool) -> bool:
    """The common case in one pass: every cell decided, no error, constant outputs."""
    if not alive.all() or out.data.dtype == object or not all(_constant(then) for then in thens):
        return False
    if len(thens) > 120:
        return False
    hits = hit_row = None
    for i in range(len(thens)):
        mt, mu, me, _ = matches(i)
        if mu.any() or me.any():
            return False
        if not proven:
            hits = mt.astype(np.int8) if hits is None else hits + mt
        hit_row = mt * np.int8(i) if hit_row is None else hit_row + mt * np.int8(i)
    if hit_row is None:
        return False
    consts = np.array([then.data for then in thens], dtype=out.data.dtype)
    if proven:
        # The checker proved that exactly one row matches every input combination.
        out.data = consts[hit_row]
        return True
    one = hits == 1
    out.data = choose(one, consts[hit_row], out.data)
    out.err |= ~one  # no row (E808) or several (E809)
    return True


def _priority(out, matches, thens, table, rule, alive):
    n = out.n
    order = table.priority or []
    best_rank = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    has_best = np.zeros(n, dtype=bool)
    unsure = []
    err = np.zeros(n, dtype=bool)
    for i, then in enumerate(thens):
        mt, mu, me, mw = matches(i)
        err |= me
        looked = (mt | mu) & ~me
        err |= looked & full(then.err, n)
        known = ~full(then.bad(), n)
        rank = _ranks(then, order, n)
        rank = np.where(known, rank, -1)
        sure = looked & mt & known
        better = sure & (~has_best | (rank < best_rank))
        out.data[better] = column(then.data, n)[better]
        best_rank = np.where(better, rank, best_rank)
        has_best |= better
        # unsure: the match's facts, or (a sure match) the output's
        unsure.append((looked & ~(mt & known), rank, wy.unite(mw, wy.sel(wy.of(then, n), mt))))
    err &= alive
    pending = np.zeros(n, dtype=bool)
    why = None
    for rows, rank, uw in unsure:
        counts = rows & (~has_best | (rank < best_rank))
        pending |= counts
        why = wy.unite(why, wy.sel(uw, counts))
    ok = alive & ~err
    out.err |= err | (ok & ~pending & ~has_best)
    out.wait(ok & pending, why)


def _ranks(then, order, n):
    rank = {v: i for i, v in enumerate(order)}
    objs = as_objects(then, n).tolist()
    return np.fromiter((rank.get(x, len(rank)) if _hashable(x) else len(rank) for x in objs), dtype=np.int64,
                       count=n)


def _hashable(x) -> bool:
    try:
        hash(x)
    except TypeError:
        return False
    return True


def _collect(out, matches, thens, table, rule, alive):
    n = out.n
    err = np.zeros(n, dtype=bool)
    pending = np.zeros(n, dtype=bool)
    matched = []
    why = None
    for i, then in enumerate(thens):
        mt, mu, me, mw = matches(i)
        err |= me
        looked = (mt | mu) & ~me
        err |= looked & full(then.err, n)
        pending |= (mu & ~me) | (mt & full(then.unk, n))
        why = wy.unite(why, wy.unite(wy.sel(mw, mu & ~me), wy.sel(wy.of(then, n), mt)))
        matched.append((mt & ~full(then.bad(), n), then))
    err &= alive
    ok = alive & ~err
    out.err |= err
    out.wait(ok & pending & ~err, why)
    done = ok & ~pending
    _aggregate(out, done, matched, table.aggregate, rule)


def _aggregate(out, rows, matched, how, rule):
    n = out.n
    if how == "count":
        total = np.zeros(n, dtype=np.int64)
        for m, _ in matched:
            total += m
        out.data = choose(rows, total, 0)
        out.rep = "int"
        return
    if how == "sum" and out.rep in ("int", "fen"):
        total = np.zeros(n, dtype=np.int64)
        for m, then in matched:
            total += choose(m, np.broadcast_to(then.data, (n,)), 0).astype(np.int64)
        out.data[rows] = total[rows]
        return
    objs = [(m, as_objects(then, n).tolist()) for m, then in matched]
    data = np.empty(n, dtype=object)
    for i in np.flatnonzero(rows).tolist():
        vals = [o[i] for m, o in objs if m[i]]
        if how == "sum":
            data[i] = sum(vals, Decimal(0) if rule.type.kind != "integer" else 0)
        elif how == "list":
            data[i] = list(vals)
        elif not vals:
            out.err[i] = True
        else:
            data[i] = FUNCTIONS[how].py(*vals)
    if how in ("min", "max") and out.rep in ("int", "fen", "enum", "date"):
        keep = rows & ~out.err
        for i in np.flatnonzero(keep).tolist():
            out.data[i] = _encode(data[i], out)
        return
    out.data = data
    out.rep = "obj" if how == "list" else ("dec" if out.rep in ("fen", "dec") else out.rep)


def _encode(value, out):
    from .vector import encode_cell

    return encode_cell(value, out.rep, out.enum)


_POLICIES = {"first": _first, "unique": _unique, "priority": _priority, "collect": _collect}


# --- exceptions


def _with_exceptions(base, excs):
    def with_exceptions(level):
        n = level.n
        conds = [when(level) for when, _ in excs]
        vals_raw = [value(level) for _, value in excs]
        base_v = base(level)
        vals = unify([*vals_raw, base_v], n)
        base_v, vals = vals[-1], vals[:-1]
        out = _Out(n, base_v.rep, base_v.enum or next((v.enum for v in vals if v.enum), ()))
        err = np.zeros(n, dtype=bool)
        holding, pending = [], []
        for c in conds:
            err |= full(c.err, n)
        for c, v in zip(conds, vals):
            cerr = full(c.err, n)
            true = np.broadcast_to(np.asarray(c.data, dtype=bool), (n,)) & ~full(c.unk, n) & ~cerr
            holding.append(true)
            pending.append(full(c.unk, n) & ~cerr)
            err |= true & full(v.err, n)
        any_hold = np.logical_or.reduce(holding) if holding else np.zeros(n, dtype=bool)
        any_pend = np.logical_or.reduce(pending) if pending else np.zeros(n, dtype=bool)
        out.err |= err
        alive = ~err
        sure = alive & ~any_pend
        out.take(sure & ~any_hold, base_v)
        _holding(out, sure & any_hold, holding, vals, n)
        waits = wy.unite_all(wy.sel(wy.of(c, n), p) for c, p in zip(conds, pending))
        _agree(out, alive & any_pend, holding, pending, vals, base_v, any_hold, n, waits)
        return out.result()

    return with_exceptions


def _holding(out, rows, holding, vals, n):
    """Rows where some exceptions surely hold: one value, or E805 if they differ."""
    if not rows.any():
        return
    cands = _Candidates(n, out)
    for h, v in zip(holding, vals):
        cands.add(rows & h, v)
    count = np.zeros(n, dtype=np.int64)
    for h in holding:
        count += rows & h
    first = np.full(n, -1, dtype=np.int64)
    for i in range(len(holding) - 1, -1, -1):
        first[rows & holding[i]] = i
    single = rows & (count == 1)
    for i, v in enumerate(vals):
        out.take(single & (first == i), v)
    several = rows & (count > 1)
    if wy.current() is None:
        # Without facts, unknown values cannot be compared: such rows are left unknown
        # (untracked), for an evaluation that tracks facts to settle.
        unsure = np.zeros(n, dtype=bool)
        for h, v in zip(holding, vals):
            unsure |= several & h & full(v.unk, n)
        out.wait(unsure, None)
        several &= ~unsure
    # Several hold: one outcome if their values are equal, or all unknown for want of
    # the same facts (as the scalar evaluator compares them); else E805.
    agree = several & cands.same_key
    for i, v in enumerate(vals):
        out.take(agree & (first == i), v)
    out.err |= several & ~cands.same_key


def _agree(out, rows, holding, pending, vals, base_v, any_hold, n, waits):
    """Some exception's condition is unknown: decided only if every outcome agrees;
    else unknown for want of the pending conditions' facts and the unknown outcomes'."""
    if not rows.any():
        return
    cands = _Candidates(n, out)
    why = waits
    for h, v in zip(holding, vals):
        cands.add(rows & h, v)
        why = wy.unite(why, wy.sel(wy.of(v, n), rows & h))
    for p, v in zip(pending, vals):
        cands.add(rows & p, v)
        why = wy.unite(why, wy.sel(wy.of(v, n), rows & p))
    cands.add(rows & ~any_hold, base_v)
    why = wy.unite(why, wy.sel(wy.of(base_v, n), rows & ~any_hold))
    cands.settle(rows, out, why)

