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
    if v.why is None:
        found = np.where(unk, np.int32(UNTRACKED), np.int32(0))
    else:
        found = np.where(unk, v.why, np.int32(0))
    v.why_rows = found
    return found


def sel(w, mask):
    """``w`` on the rows of ``mask`` only."""
    if w is None or mask is None:
        return None
    return np.where(mask, w, np.int32(0))


def unite(a, b):
    """Row by row, the union of two id arrays."""
    if a is None:
        return b
    if b is None:
        return a
    if a is b:
        return a
    has_a = a != 0
    out = np.where(has_a, a, b)
    clash = has_a & (a != b) & (b != 0)
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
    key = (x.astype(np.int64) << 32) | (y.astype(np.int64) & 0xFFFFFFFF)
    uniq, inverse = np.unique(key, return_inverse=True)
    whys = current()
    done = []
    for k in uniq.tolist():
        lo = k & 0xFFFFFFFF
        done.append(whys.union(k >> 32, lo - (1 << 32) if lo >= 1 << 31 else lo))
    return np.array(done, dtype=np.int32)[inverse.reshape(-1)]


def segment_union(w, parent: np.ndarray, n: int):
    """Per parent row, the union of its children's ids (children sorted by parent)."""
    if w is None:
        return None
    rows = np.flatnonzero(w)
    out = np.zeros(n, dtype=np.int32)
    if not len(rows):
        return None
    ids, par = w[rows], parent[rows]
    # Pairwise rounds: in each run of one parent, item 2k absorbs item 2k+1.
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


def fact_ids(prefix_ids: np.ndarray, name: str, mask: np.ndarray) -> np.ndarray:
    """Per row of ``mask``, the id of ``{prefix + name}`` (0 elsewhere)."""
    whys = current()
    if whys is None:
        return None
    out = np.zeros(len(mask), dtype=np.int32)
    rows = np.flatnonzero(mask)
    if not len(rows):
        return out
    uniq, inverse = np.unique(prefix_ids[rows], return_inverse=True)
    table = np.array([whys.intern(frozenset((whys.prefixes[p] + name,))) for p in uniq.tolist()], dtype=np.int32)
    out[rows] = table[inverse.reshape(-1)]
    return out


def constant(facts: frozenset, n: int) -> np.ndarray:
    """Every row waits on the same facts."""
    whys = current()
    return None if whys is None else np.full(n, whys.intern(facts), dtype=np.int32)
