"""Which facts an unknown value waits on, per row: interned fact sets and their unions.

The scalar evaluator's :class:`~engine.core.values.Unknown` carries a set of fact names
(``members[2].age``, ``parameter:x``); merging two unknowns unites their sets. Here each
row of an unknown value carries an int32 id of such a set (``V.why``), interned in the
evaluation's :class:`Whys`, and the columnar operations unite ids wherever the scalar
evaluator merges unknowns. Ids: ``0`` = not unknown, ``-1`` = not tracked (the row's
facts must come from the scalar evaluator), ``1`` and up = a set in ``Whys.sets``.
Interning keeps this cheap: a county has few distinct sets, and the union of two ids is
computed once per distinct pair.
"""
from __future__ import annotations

from contextvars import ContextVar

import numpy as np

UNTRACKED = -1
_CURRENT: ContextVar = ContextVar("fupin_columnar_whys", default=None)


class Whys:
    """The fact sets of one columnar evaluation, by id."""

    def __init__(self):
        self.sets: list = [frozenset(), frozenset()]  # 0: known (unused); 1: the empty set
        self._ids: dict = {frozenset(): 1}
        self._pairs: dict = {}
        self._table = None  # the pair table (see pair_table), grown as sets are interned
        self.prefixes: list = [""]
        self._prefix_ids: dict = {"": 0}

    def intern(self, facts: frozenset) -> int:
        """The id of a fact set."""
        found = self._ids.get(facts)
        if found is None:
            found = self._ids[facts] = len(self.sets)
            self.sets.append(facts)
        return found

    def union(self, a: int, b: int) -> int:
        """The id of the union of two sets (``-1`` if either is untracked)."""
        if a < 0 or b < 0:
            return UNTRACKED
        if a == 0 or a == b:
            return b
        if b == 0:
            return a
        key = (a, b) if a < b else (b, a)
        found = self._pairs.get(key)
        if found is None:
            x, y = self.sets[a], self.sets[b]
            found = a if y <= x else b if x <= y else self.intern(x | y)
            self._pairs[key] = found
        return found

    def pair_table(self, size: int):
        """A dense int32 table of unions, ``table[(a + 1) * width + (b + 1)]`` = the id of
        ``union(a, b)`` for ids ``-1 <= a, b < size``, ``NOT_MADE`` where that pair has not
        been united yet; None when ``size`` passes ``TABLE_IDS`` (the table would be too
        big). A chunk of a pack has a few hundred fact sets, so one lookup per row replaces
        finding the distinct pairs of every union."""
        if size > TABLE_IDS:
            return None
        table = self._table
        if table is None or table.shape[0] < size + 1:
            width = max(64, 1 << int(size).bit_length())  # > size: room to grow, few re-allocations
            grown = np.full((width, width), NOT_MADE, dtype=np.int32)
            start = 0 if table is None else table.shape[0]
            if table is not None:
                grown[:start, :start] = table
            # unknown (-1) with anything is untracked; known (0) leaves the other id
            grown[0, start:] = grown[start:, 0] = UNTRACKED
            grown[1, start:] = grown[start:, 1] = np.arange(start, width, dtype=np.int32) - 1
            self._table = table = grown
        return table

    def prefix(self, text: str) -> int:
        """The id of an entity path prefix (``""``, ``members[2].``)."""
        found = self._prefix_ids.get(text)
        if found is None:
            found = self._prefix_ids[text] = len(self.prefixes)
            self.prefixes.append(text)
        return found

    def facts(self, ident: int):
        """The sorted fact names of an id, or None when untracked."""
        return None if ident < 0 else sorted(self.sets[ident])


def current() -> Whys | None:
    """The fact sets of the evaluation under way (see :func:`evaluating`); None when
    this evaluation does not track facts (every function below then returns None)."""
    return _CURRENT.get()


class evaluating:
    """``with evaluating(whys):`` makes ``whys`` current for one evaluation (per thread);
    ``evaluating(None)``: an evaluation that does not track facts."""

    def __init__(self, whys: Whys | None):
        self.whys = whys

    def __enter__(self):
        self._token = _CURRENT.set(self.whys)
        return self.whys

    def __exit__(self, *exc):
        _CURRENT.reset(self._token)


# --- per-row operations; ``None`` means "no row is unknown"


def of(v, n: int | None = None):
    """A V's ids where it is unknown (0 elsewhere), or None; untracked rows are -1."""
    unk = v.unk
    if unk is None or _CURRENT.get() is None:
        return None
    found = v.why_rows
    if found is not None:
        return found
    if n is not None:
        unk = np.broadcast_to(unk, (n,))
    found = untracked(unk) if v.why is None else masked(v.why, unk)
    v.why_rows = found
    return found


def sel(w, mask):
    """``w`` on the rows of ``mask`` only."""
    if w is None or mask is None:
        return None
    return masked(w, mask)


def masked(w, mask):
    """``np.where(mask, w, 0)`` for integer ids, as a product: numpy's ``where`` branches
    per row and costs up to 15x a multiplication where the mask is irregular (unknown
    rows scattered through a chunk, as they are)."""
    return np.multiply(w, mask, dtype=np.result_type(w, np.int32))


def untracked(mask):
    """``UNTRACKED`` on the rows of ``mask``, 0 elsewhere (int32)."""
    out = np.asarray(mask).astype(np.int32)
    np.negative(out, out=out)  # UNTRACKED is -1
    return out


def unite(a, b):
    """Row by row, the union of two id arrays: a lookup in the pair table of the
    evaluation's ``Whys`` (the pairs met for the first time are made then), or by the
    distinct pairs where there are too many sets for a table."""
    if a is None:
        return b
    if b is None:
        return a
    if a is b:
        return a
    whys = current()
    table = whys.pair_table(len(whys.sets))
    if table is None:
        return _unite_sorted(a, b)
    width = table.shape[1]
    index = a * np.int32(width)  # int32: width ≤ 2 * TABLE_IDS, so no index passes 2^31
    index += b
    index += width + 1
    flat = table.reshape(-1)
    out = flat.take(index)
    if out.min(initial=0) == NOT_MADE:
        new = np.flatnonzero(out == NOT_MADE)
        missing = index[new]
        # usually one or a few pairs are new: take them one by one, and sort only many
        for _ in range(4):
            _make(whys, flat, int(missing[0]), width)
            left = flat.take(missing) == NOT_MADE
            if not left.any():
                break
            missing = missing[left]
        else:
            for key in np.unique(missing).tolist():  # (a union may intern a set: the table
                _make(whys, flat, key, width)  # still covers every id of a and b)
        out[new] = flat.take(index[new])
    return out


def _make(whys, flat, key: int, width: int) -> None:
    """Fill the pair table's entry ``key`` (``(a + 1) * width + (b + 1)``)."""
    a, b = divmod(key, width)
    flat[key] = whys.union(a - 1, b - 1)


def _unite_sorted(a, b):
    """:func:`unite` by the distinct pairs of the rows where both are set and differ."""
    out = np.where(a != 0, a, b)
    # both set and different: where a is set, out is a; elsewhere out is b
    clash = out != b
    clash &= b != 0
    if clash.any():
        out[clash] = _unite_pairs(a[clash], b[clash])
    return out


def gated(v, r, skip, n: int):
    """Facts of ``v`` where it is unknown; of ``r`` where ``v`` is known (``skip``: the
    rows where it is not). ``x in …`` and a table cell read their operands (``r``) only
    for a known value."""
    looked = of(r, n) if skip is None else sel(of(r, n), ~skip)
    return unite(of(v, n), looked)


def unite_all(ws):
    out = None
    for w in ws:
        out = unite(out, w)
    return out


def _unite_pairs(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Row by row, the id of the union of ``x`` and ``y``: once per distinct pair."""
    whys = current()
    ux, uy, inverse = pair_classes(x, y)
    done = [whys.union(a, b) for a, b in zip(ux.tolist(), uy.tolist())]
    return np.array(done, dtype=np.int32)[inverse]


def classes(ids: np.ndarray, size: int):
    """``(distinct, inverse)`` of small ids (``-1 <= id < size``), as ``np.unique``
    would give them, by counting rather than sorting: the ids of fact sets are small."""
    seen = np.bincount(ids + 1, minlength=size + 1) > 0
    distinct = np.flatnonzero(seen)
    local = np.cumsum(seen, dtype=np.int64) - 1
    return (distinct - 1).astype(np.int32), local[ids + 1]


def pair_classes(x: np.ndarray, y: np.ndarray):
    """``(xs, ys, inverse)``: the distinct pairs of ``(x[i], y[i])`` in sorted order and,
    per row, its pair's index. Counting, not sorting, while the pairs of the two
    ids' distinct values are few; ``np.unique`` beyond."""
    size = len(current().sets)
    dx, ix = classes(x, size)
    dy, iy = classes(y, size)
    if len(dx) * len(dy) > PAIRS_COUNTED:
        key = (x.astype(np.int64) << 32) | (y.astype(np.int64) & 0xFFFFFFFF)
        uniq, inverse = np.unique(key, return_inverse=True)
        lo = uniq & 0xFFFFFFFF
        return (uniq >> 32).astype(np.int32), np.where(lo >= 1 << 31, lo - (1 << 32), lo).astype(np.int32), \
            inverse.reshape(-1)
    key = ix * len(dy) + iy
    seen = np.bincount(key, minlength=len(dx) * len(dy)) > 0
    pairs = np.flatnonzero(seen)
    local = np.cumsum(seen, dtype=np.int64) - 1
    return dx[pairs // len(dy)], dy[pairs % len(dy)], local[key]


NOT_MADE = -2  # a pair table's entry for a pair not united yet
TABLE_IDS = (1 << 11) - 1  # fact sets up to which unions are looked up in a table (≤ 16 MiB)
PAIRS_COUNTED = 1 << 20  # distinct x values × distinct y values up to which pairs are counted


def segment_union(w, parent: np.ndarray, n: int):
    """Per parent row, the union of its children's ids (children sorted by parent).

    Each parent's distinct child ids become bits of a mask (``bitwise_or.reduceat`` over
    its run of children), and the union is made once per distinct mask."""
    if w is None:
        return None
    rows = np.flatnonzero(w)
    if not len(rows):
        return None
    whys = current()
    distinct, local = classes(w[rows], len(whys.sets))
    if len(distinct) > MASK_BITS:
        return _segment_rounds(w[rows], parent[rows], n)
    par = parent[rows]
    starts = np.flatnonzero(np.concatenate(([True], par[1:] != par[:-1])))
    masks = np.bitwise_or.reduceat(np.left_shift(np.uint64(1), local.astype(np.uint64)), starts)
    if len(distinct) <= MASKS_COUNTED:  # few bits: the distinct masks by counting, not sorting
        uniq, inverse = classes(masks.astype(np.int64), 1 << len(distinct))
    else:
        uniq, inverse = np.unique(masks, return_inverse=True)
    ids = distinct.tolist()
    table = np.array([_union_of([ids[b] for b in range(len(ids)) if m >> b & 1]) for m in uniq.tolist()],
                     dtype=np.int32)
    out = np.zeros(n, dtype=np.int32)
    out[par[starts]] = table[inverse.reshape(-1)]
    return out


MASK_BITS = 64  # distinct child ids up to which a segment union works on bit masks
MASKS_COUNTED = 16  # distinct child ids up to which the distinct masks are counted


def _union_of(ids: list) -> int:
    """The id of the union of some sets (``-1`` if one is untracked)."""
    if len(ids) == 1:
        return ids[0]
    if ids[0] < 0:  # ids are sorted: -1 comes first
        return UNTRACKED
    whys = current()
    return whys.intern(frozenset().union(*(whys.sets[i] for i in ids)))


def _segment_rounds(ids: np.ndarray, par: np.ndarray, n: int) -> np.ndarray:
    """:func:`segment_union` by pairwise rounds (many distinct ids): in each run of one
    parent, item 2k absorbs item 2k+1."""
    out = np.zeros(n, dtype=np.int32)
    while len(ids):
        start = np.concatenate(([True], par[1:] != par[:-1]))
        if start.all():
            break
        run_start = np.maximum.accumulate(np.where(start, np.arange(len(par)), 0))
        offset = np.arange(len(par)) - run_start
        even = offset % 2 == 0
        has_partner = np.zeros(len(par), dtype=bool)
        has_partner[:-1] = even[:-1] & (par[1:] == par[:-1])
        partner_ids = np.zeros(len(ids), dtype=np.int32)
        partner_ids[:-1] = np.where(has_partner[:-1], ids[1:], 0)
        ids = unite(ids, partner_ids)[even]
        par = par[even]
    out[par] = ids
    return out


def fact_ids(prefixes, name: str, mask: np.ndarray) -> np.ndarray:
    """Per row of ``mask``, the id of ``{prefix + name}`` (0 elsewhere). ``prefixes``:
    ``(distinct prefix ids, per row the index of its prefix among them)``."""
    whys = current()
    if whys is None:
        return None
    if not mask.any():
        return np.zeros(len(mask), dtype=np.int32)
    distinct, inverse = prefixes
    table = np.array([whys.intern(frozenset((whys.prefixes[p] + name,))) for p in distinct.tolist()] or [0],
                     dtype=np.int32)
    if len(table) == 1:
        return masked(table[0], mask)
    out = table.take(inverse)  # a gather and a product: cheaper than np.where over a gather
    out *= mask
    return out


def constant(facts: frozenset, n: int) -> np.ndarray:
    """Every row waits on the same facts."""
    whys = current()
    return None if whys is None else np.full(n, whys.intern(facts), dtype=np.int32)
