"""Aggregations over children (count, sum, any, all, min, max), per parent row.

The twin of scalar/aggregate.py. Children of all parents are evaluated at once; the
results are reduced per parent with segment operations over the (sorted) parent index.
The scalar reducers stop early (``any`` at the first true child, ``all`` at the first
false one) and raise at the first child whose filter or value is an error; the masks
below reproduce exactly that: an error counts only if it comes before the deciding child.
"""
from __future__ import annotations

from decimal import Decimal

import numpy as np

from ...dsl.coerce import within_bounds
from ..core.operators import FUNCTIONS, LIMIT, LIMIT_FEN
from . import why as wy
from .vector import V, choose, full, magnitude, orm, squeeze

NONE = np.iinfo(np.int64).max


def compile_aggregate(compiler, node):
    """A function ``level -> V`` for one typed aggregation node."""
    field = node.field
    where = compiler.compile(node.where) if node.where is not None else None
    of = compiler.compile(node.of) if node.of is not None else None
    reduce = _REDUCERS[node.fn]
    meta = (node.fn, node.type.kind)

    def aggregate(level):
        child, parent, missing = level.children(field)
        parts = _Parts(child, where, of)
        out = reduce(parts, parent, level.n, meta)
        if missing is not None:
            # A parent whose list is absent: unknown, and none of its (absent) children counted.
            err = _without(out.err, missing)
            unk = squeeze(orm(out.unk, missing) & ~full(err, level.n))
            why = wy.unite(wy.of(out, level.n), level.missing_why(field, missing))
            out = V(out.data, out.rep, unk, err, out.enum, why)
        return out

    return aggregate


def _without(mask, rows):
    if mask is None or rows is None:
        return mask
    return squeeze(mask & ~rows)


class _Parts:
    """Per child: the filter's verdict (true / unknown / error) and the value."""

    __slots__ = ("n", "keep_true", "keep_unk", "where_err", "value", "value_err", "value_unk", "value_known",
                 "plain", "bounds", "keep_why", "value_why", "keep_all")

    def __init__(self, child, where, of):
        n = self.n = child.n
        self.bounds = child.bounds
        w = where(child) if where is not None else None
        v = of(child) if of is not None else None
        # plain: no filter or value is unknown or an error anywhere (the common case)
        self.plain = all(x is None or (x.unk is None and x.err is None) for x in (w, v))
        self.keep_why = self.value_why = None
        self.keep_all = where is None  # every child counts (no filter)
        if self.plain:
            self.keep_true = (np.broadcast_to(np.asarray(w.data, dtype=bool), (n,)) if w is not None
                              else np.ones(n, dtype=bool))
            self.value = v
            self.keep_unk, self.where_err = np.zeros(n, dtype=bool), None
            if v is not None:
                self.value_err = self.value_unk = self.keep_unk
                self.value_known = np.ones(n, dtype=bool)
            return
        if where is None:
            self.keep_true, self.keep_unk, self.where_err = np.ones(n, dtype=bool), np.zeros(n, dtype=bool), None
        else:
            err = full(w.err, n)
            unk = full(w.unk, n) & ~err
            data = np.broadcast_to(np.asarray(w.data, dtype=bool), (n,))
            self.keep_true, self.keep_unk, self.where_err = data & ~unk & ~err, unk, squeeze(err)
            self.keep_why = wy.sel(wy.of(w, n), unk)
        self.value = None
        if of is not None:
            self.value = v
            self.value_err = full(v.err, n)
            self.value_unk = full(v.unk, n) & ~self.value_err
            self.value_known = ~(self.value_err | self.value_unk)
            self.value_why = wy.sel(wy.of(v, n), self.value_unk)

    def waiting(self, rows):
        """Per parent, the facts its children in ``rows`` wait on (filter and value)."""
        return wy.unite(wy.sel(self.keep_why, rows), wy.sel(self.value_why, rows))

    def not_false(self):
        """Children the scalar reducer goes on to look at (filter true or unknown)."""
        return self.keep_true | self.keep_unk

    def child_err(self):
        """Children whose filter, or value (when looked at), raises."""
        err = full(self.where_err, self.n)
        if self.value is not None:
            err = err | (self.not_false() & self.value_err)
        return err


def _seg_any(mask, parent, n):
    """Per parent: is ``mask`` set for one of its children?"""
    out = np.zeros(n, dtype=bool)
    # Scattering the few set children beats counting them all (bincount) at any density.
    out[parent[np.flatnonzero(mask)]] = True
    return out


def _seg_first(mask, parent, n):
    """Per parent, the index of its first child in ``mask`` (NONE if none)."""
    out = np.full(n, NONE, dtype=np.int64)
    idx = np.flatnonzero(mask)
    if len(idx):
        p = parent[idx]
        starts = np.flatnonzero(np.concatenate(([True], p[1:] != p[:-1])))
        out[p[starts]] = idx[starts]
    return out


def _seg_sum(values, parent, n, bounds):
    """Exact int64 sums per parent (children sorted by parent)."""
    _, ends = bounds(n)
    if len(values) == 0:
        return np.zeros(n, dtype=np.int64)
    # A segment's sum is the difference of two prefix sums. Integer prefix sums wrap
    # modulo 2**64 exactly as a direct int64 sum does, so the differences are the same
    # sums (a third faster than np.add.reduceat). Booleans (counts) cannot exceed the
    # number of children, so they add up in int32, which is cheaper still.
    dtype = np.int32 if values.dtype == bool and len(values) < 2 ** 31 else np.int64
    prefix = np.empty(len(values) + 1, dtype=dtype)
    prefix[0] = 0
    np.cumsum(values, dtype=dtype, out=prefix[1:])
    at_ends = prefix[ends]  # segments are consecutive: each starts where the previous ends
    return np.diff(at_ends, prepend=dtype(0)).astype(np.int64, copy=False)


def _count(parts, parent, n, meta):
    if parts.plain:
        return V(_seg_sum(parts.keep_true, parent, n, parts.bounds), "int")
    err = _seg_any(parts.child_err(), parent, n)
    unk = _seg_any(parts.keep_unk, parent, n) & ~err
    data = np.bincount(parent[parts.keep_true], minlength=n).astype(np.int64) if len(parent) else np.zeros(n, np.int64)
    return V(data, "int", squeeze(unk), squeeze(err), why=wy.segment_union(parts.keep_why, parent, n))


def _sum(parts, parent, n, meta):
    v = parts.value
    if parts.plain and v.rep in ("int", "fen"):
        values = np.broadcast_to(v.data, (parts.n,)) if parts.keep_all else choose(parts.keep_true, v.data, 0)
        small = _small_sums(values, parent, n, v.rep, magnitude(v))
        if small is not None:
            return V(small, v.rep)
        return _bounded_sum(_seg_sum(values, parent, n, parts.bounds), values, n, parts.bounds, v.rep, None, None, None)
    err = _seg_any(parts.child_err(), parent, n)
    counted = parts.keep_true & parts.value_known
    unk = _seg_any(parts.keep_unk | (parts.keep_true & parts.value_unk), parent, n) & ~err
    why = wy.segment_union(parts.waiting(parts.not_false()), parent, n)
    if v.rep in ("int", "fen"):
        values = choose(counted, np.broadcast_to(v.data, (parts.n,)), 0).astype(np.int64)
        return _bounded_sum(_seg_sum(values, parent, n, parts.bounds), values, n, parts.bounds, v.rep, unk, err, why)
    # Decimals: summed in child order from the scalar reducer's own start value.
    from .vector import as_objects

    objs = as_objects(v, parts.n).tolist()
    zero = 0 if meta[1] == "integer" else Decimal(0)
    sums = [zero] * n
    for i in np.flatnonzero(counted).tolist():
        p = int(parent[i])
        sums[p] = sums[p] + objs[i]
    data = np.empty(n, dtype=object)
    data[:] = sums
    over = np.fromiter((not within_bounds(x) for x in sums), dtype=bool, count=n) & ~unk & ~err
    err = err | over  # a sum beyond |x| <= 10^15 is E720, as the scalar reducer raises
    return V(data, "dec" if meta[1] != "integer" else "obj", squeeze(unk), squeeze(err), why=why)


def _small_sums(values, parent, n, rep, mag=None):
    """Per parent, the sums of its children's int64 ``values`` by ``np.bincount`` when
    every child together stays within half the bound and within 2**53 (so no parent can
    reach E720, and every float64 partial sum is an exact integer); None otherwise.
    Unlike the prefix sums it needs no per-parent bounds of the level (14 ms an
    evaluation of a million households). ``mag``: a known bound on ``|values|``
    (vector.magnitude), which spares the two passes of max and min (7 ms a sum of a
    million households' members)."""
    limit = LIMIT_FEN if rep == "fen" else LIMIT
    if mag is not None:
        largest = mag
    else:
        largest = max(int(values.max()), -int(values.min())) if len(values) else 0
    if largest * len(values) > min(limit // 2, 2 ** 53):
        return None
    return np.bincount(parent, weights=values, minlength=n).astype(np.int64)


def _bounded_sum(data, values, n, bounds, rep, unk, err, why) -> V:
    """int64 segment sums with core's bound (E720 beyond it, as the scalar reducer
    raises). The int64 sums wrap past 9.2·10^18, which 93 children at the bound reach:
    float64 sums pick the candidates (their error is far below half the bound) and
    Python integers decide them exactly."""
    limit = LIMIT_FEN if rep == "fen" else LIMIT
    starts, ends = bounds(n)
    largest = max(int(values.max()), -int(values.min())) if len(values) and n else None
    if largest is not None and largest * int((ends - starts).max()) <= limit // 2:
        # no parent's children can add up past half the bound: no candidate to look at
        return V(data, rep, squeeze(unk), squeeze(err), why=why)
    prefix = np.concatenate(([0.0], np.cumsum(values, dtype=np.float64)))
    approx = prefix[ends] - prefix[starts]
    over = np.zeros(n, dtype=bool)
    for p in np.flatnonzero(np.abs(approx) > limit / 2).tolist():
        over[p] = abs(sum(int(x) for x in values[starts[p]:ends[p]].tolist())) > limit
    skip = full(orm(unk, err), n)
    over &= ~skip
    if over.any():
        err = orm(err, over)
        data = np.where(over, 0, data)
    return V(data, rep, squeeze(unk), squeeze(err), why=why)


def _any_all(want: bool):
    def reduce(parts, parent, n, meta):
        v = parts.value
        data = np.broadcast_to(np.asarray(v.data, dtype=bool), (parts.n,))
        if parts.plain:
            decisive = parts.keep_true & (data if want else ~data)
            found = _seg_any(decisive, parent, n)
            return V(found if want else ~found, "bool")
        is_want = parts.value_known & (data if want else ~data)
        decisive = parts.keep_true & is_want
        first_hit = _seg_first(decisive, parent, n)
        first_err = _seg_first(parts.child_err(), parent, n)
        err = first_err < first_hit
        hit = (first_hit != NONE) & ~err
        looked = parts.not_false() & ~parts.child_err()
        if want:
            undecided = looked & (parts.keep_unk | parts.value_unk)
        else:
            # all: a child whose value is true holds whatever its filter says
            undecided = looked & ~(parts.value_known & data) & (parts.keep_unk | parts.value_unk)
        unk = _seg_any(undecided, parent, n) & ~hit & ~err
        value = hit if want else ~hit
        return V(value, "bool", squeeze(unk), squeeze(err), why=wy.segment_union(parts.waiting(undecided), parent, n))

    return reduce


def _extreme(fn: str):
    def reduce(parts, parent, n, meta):
        v = parts.value
        err = _seg_any(parts.child_err(), parent, n)
        undecided = parts.not_false() & ~parts.child_err() & (parts.keep_unk | parts.value_unk)
        unk = _seg_any(undecided, parent, n) & ~err
        why = wy.segment_union(parts.waiting(undecided), parent, n)
        counted = parts.keep_true & parts.value_known
        seen = _seg_any(counted, parent, n)
        err = err | (~unk & ~seen)  # min or max of nothing (E806)
        unk = unk & ~err
        if v.rep in ("int", "fen", "date", "enum"):
            big = np.iinfo(np.int64).max if fn == "min" else np.iinfo(np.int64).min
            out = np.full(n, big, dtype=np.int64)
            pick = FUNCTIONS[fn].ufunc
            vals = np.broadcast_to(v.data, (parts.n,)).astype(np.int64)
            pick.at(out, parent[counted], vals[counted])
            out[~seen] = 0
            return V(out.astype(np.int16) if v.rep == "enum" else out, v.rep, squeeze(unk), squeeze(err), v.enum, why)
        from .vector import as_objects

        objs = as_objects(v, parts.n).tolist()
        best: list = [None] * n
        choose = FUNCTIONS[fn].py
        for i in np.flatnonzero(counted).tolist():
            p = int(parent[i])
            best[p] = objs[i] if best[p] is None else choose(best[p], objs[i])
        data = np.empty(n, dtype=object)
        data[:] = [Decimal(0) if b is None else b for b in best]
        return V(data, v.rep if v.rep in ("dec", "str", "obj") else "obj", squeeze(unk), squeeze(err), why=why)

    return reduce


_REDUCERS = {"count": _count, "sum": _sum, "any": _any_all(True), "all": _any_all(False),
             "min": _extreme("min"), "max": _extreme("max")}
