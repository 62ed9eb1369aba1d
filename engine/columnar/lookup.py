"""Decision tables as lookups: the fast path of a table whose inputs are all known.

A cell compares its input with constants only (literals, parameters), so it cannot tell
apart two values that lie between the same constants: an enum has one class per code, a
bool two, a number one class per constant it is compared with and one per gap between
them. Each cell is therefore evaluated once per class, through the cell's own compiled
test (the same semantics as the general path), and the table's verdict (the row a hit
policy picks, or no row, or several) once per combination of classes. A level's rows
then only need their class per input and one gather, instead of one mask per table row
and cell.

Unknown inputs are one more class each, where every output of the table is a constant:
the outcome of each combination (a value, unknown, or an error) is then found by
running the general path of tables.py itself over one probe row per combination, each
unknown input waiting on a marker fact of its own; the markers in a combination's facts
say whose facts a level row of that combination waits on (the union of those inputs'
facts, as the general path unites them). Any other case (an error among the inputs, a
cell that reads a rule or a fact, a cell's constant in another representation than its
input, an output that is not a constant) takes the general path in tables.py.
"""
from __future__ import annotations

import numpy as np

from ...dsl import typed as t
from ..core import cells
from . import why as wy
from .vector import V, gather, squeeze

MAX_COMBINATIONS = 1 << 16  # beyond this, building the verdicts could cost more than it saves
_CLASSED = ("enum", "bool", "int", "fen", "date")


class LookupPlan:
    """What a table's lookup needs, found at compile time (see :func:`plan`)."""

    def __init__(self, consts: list, hit: str):
        self.consts = consts  # per input, compiled constants its cells compare with
        self.hit = hit
        self._verdicts: dict = {}  # (classes' key) -> (row per combination, no verdict per combination)

    def rows(self, level, values: list, rows: list, general=None):
        """``(combination, pick, fails)``: per level row, its combination of classes;
        per combination, the table row the hit policy picks and whether it picks none
        (no row, or several under ``unique``: an error). None when the lookup does not
        apply to this level.

        ``general`` (tables.py, where every output is a constant): the general path over
        a probe level, ``general(probe, values) -> V``, with ``general.key`` its outputs.
        Given it, unknown inputs are classes too; where a level has some, the answer is
        ``(combination, Outcomes)`` instead."""
        classes = []
        for v, consts in zip(values, self.consts):
            found = _classes(level, v, consts, unknown=general is not None)
            if found is None:
                return None
            classes.append(found)
        key = tuple(c.key for c in classes)
        three = any(c.unknown for c in classes)
        if three:
            key = (key, general.key)  # the outcomes hold the outputs' values
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = _outcomes(level, values, classes, general) if three else \
                _verdict(level, values, classes, rows, self.hit)
            if verdict is None:
                return None
            if len(self._verdicts) > 64:  # parameters differ by date; a few dates at a time
                self._verdicts.clear()
            self._verdicts[key] = verdict
        if three:
            return _combination(values, classes, level.n, verdict.total), verdict
        pick, fails = verdict
        return _combination(values, classes, level.n, len(pick)), pick, fails


def plan(cc, table) -> LookupPlan | None:
    """A lookup plan for ``table``, or None if some cell or input cannot be classed."""
    if table.hit not in ("unique", "first"):
        return None
    kinds = [i.expr.type.kind for i in table.inputs]
    if any(k not in ("enum", "bool", "integer", "money", "date") for k in kinds):
        return None
    positions = {i.name: n for n, i in enumerate(table.inputs)}
    consts: list = [[] for _ in table.inputs]
    for row in table.rows:
        for name, test in row.tests.items():
            nodes = _constants(test)
            if nodes is None:
                return None
            consts[positions[name]].extend(cc.compile(node) for node in nodes)
    return LookupPlan(consts, table.hit)


def _constants(test):
    """The constant nodes a cell compares with, or None if it reads anything else."""
    nodes = cells.operands(cells.of_test(test))
    return nodes if all(isinstance(n, (t.TLit, t.TParam)) for n in nodes) else None


class _Classes:
    """One input's classes: a representative value for each, and how to class a column;
    with ``unknown``, one more class (``len(reps)``) for the rows where it is unknown."""

    __slots__ = ("reps", "cuts", "key", "unknown")

    def __init__(self, reps: np.ndarray, cuts, key, unknown: bool = False):
        self.reps, self.cuts, self.unknown = reps, cuts, unknown
        self.key = (key, unknown)

    @property
    def size(self) -> int:
        return len(self.reps) + self.unknown

    def of_value(self, v: V, n: int, dtype) -> np.ndarray:
        """Each row's class of an input's value (the unknown class where it is unknown)."""
        k = self.of(np.broadcast_to(v.data, (n,)), dtype)
        if not self.unknown:
            return k
        # branch-free: k + (U - k) on unknown rows (wraps exactly in k's unsigned dtype)
        return k + (dtype(len(self.reps)) - k) * np.broadcast_to(v.unk, (n,))

    def of(self, data: np.ndarray, dtype=np.uint8) -> np.ndarray:
        """Each value's class (an index into ``reps``), as ``dtype``: the narrowest
        integers add up fastest, and a combination needs no more."""
        if self.cuts is None:
            # enum codes and booleans are their own classes
            return data.view(np.uint8) if data.dtype == bool else data.astype(dtype)
        out = np.zeros(len(data), dtype=dtype)
        # class 2j: between cut j-1 and cut j; 2j+1: equal to cut j
        for c in self.cuts.tolist():
            out += (data > c).view(np.uint8)
            out += (data >= c).view(np.uint8)
        return out


def _classes(level, v: V, consts: list, unknown: bool = False):
    """The classes of one input in this level, or None when the lookup does not apply
    (``unknown``: an input with unknown rows has a class for them)."""
    if (v.unk is not None and not unknown) or v.err is not None or v.rep not in _CLASSED:
        return None
    unknown = v.unk is not None
    cut_values = []
    for fn in consts:
        c = fn(level)
        if c.unk is not None or c.err is not None or isinstance(c.data, np.ndarray) and c.data.ndim:
            return None
        cut_values.append((c.rep, c.data.item() if isinstance(c.data, np.generic) else c.data))
    if v.rep == "enum":
        if not v.enum:
            return None
        return _Classes(np.arange(len(v.enum), dtype=np.int16), None, ("enum", len(v.enum), tuple(cut_values)),
                        unknown)
    if v.rep == "bool":
        return _Classes(np.array([False, True]), None, ("bool", tuple(cut_values)), unknown)
    cuts = set()
    for rep, x in cut_values:
        if type(x) is not int:
            return None  # decimals: general path
        if rep == v.rep:
            cuts.add(x)
        elif (v.rep, rep) == ("fen", "int"):
            cuts.add(x * 100)  # compared in fen (vector.numeric_pair)
        else:
            return None  # an integer compared with money: the cut may fall between integers
    cuts = sorted(cuts)
    if len(cuts) > 60:
        return None
    return _Classes(_representatives(cuts), np.array(cuts, dtype=np.int64), (v.rep, tuple(cut_values)), unknown)


def _representatives(cuts: list) -> np.ndarray:
    """A value of each numeric class: below the first cut, each cut, each gap, above.
    An empty gap (consecutive integers) gets a neighbour: no row lands in it anyway."""
    lo, hi = np.iinfo(np.int64).min, np.iinfo(np.int64).max
    out = []
    below = lo - 1
    for c in cuts:
        out.append(c - 1 if c - 1 > below else c)
        out.append(c)
        below = c
    out.append(below + 1 if below < hi else below)
    return np.array(out, dtype=np.int64)


class _Probe:
    """A stand-in level for evaluating cells on representatives: cells read constants
    only (checked by :func:`plan`), which need the row count and the run's parameters."""

    __slots__ = ("n", "run")

    def __init__(self, n: int, run):
        self.n, self.run = n, run


def _verdict(level, values, classes, rows, hit):
    """Per combination of classes (C order): the row picked and whether none is."""
    sizes = [len(c.reps) for c in classes]
    total = int(np.prod(sizes, dtype=np.int64))
    if total > MAX_COMBINATIONS or len(rows) > 32767:
        return None
    match = np.ones((len(rows), *sizes), dtype=bool)
    for r, (_, tests, _) in enumerate(rows):
        for position, test in tests:
            c = classes[position]
            sample = V(c.reps, values[position].rep, enum=values[position].enum)
            got = test(_Probe(len(c.reps), level.run), sample)
            if got.unk is not None or got.err is not None:
                return None
            holds = np.broadcast_to(np.asarray(got.data, dtype=bool), (len(c.reps),))
            shape = [1] * len(sizes)
            shape[position] = len(c.reps)
            match[r] &= holds.reshape(shape)
    match = match.reshape(len(rows), total)
    hits = match.sum(axis=0)
    pick = np.argmax(match, axis=0).astype(np.int16) if len(rows) else np.zeros(total, dtype=np.int16)
    fails = hits != 1 if hit == "unique" else hits == 0
    pick[fails] = 0
    return pick, fails


class Outcomes:
    """A table's outcome per combination of classes where some input is unknown (found
    by the general path, :func:`_outcomes`), and how to give each level row its own."""

    def __init__(self, data, unk, err, marks: list, untracked, empty):
        self.total = len(data)
        self.data, self.unk, self.err = data, unk, err
        self.marks = marks  # (input, per combination: are its facts waited on?)
        self.untracked = untracked  # per combination: facts not tracked (or None: none is)
        self.empty = empty  # per combination: unknown for want of no fact (or None)

    def value(self, combination: np.ndarray, values: list, n: int, rep: str, enum: tuple) -> V:
        """The table's V for a level: each row its combination's outcome; an unknown row
        waits on the facts of the inputs its combination marks (their union, row by row)."""
        data = gather(self.data, combination)
        err = squeeze(gather(self.err, combination)) if self.err.any() else None
        unk = squeeze(gather(self.unk, combination)) if self.unk.any() else None
        why = None
        if unk is not None and wy.current() is not None:
            for i, marked in self.marks:
                why = wy.unite(why, wy.sel(wy.of(values[i], n), gather(marked, combination)))
            if why is None:
                why = np.zeros(n, dtype=np.int32)
            if self.untracked is not None:
                why[gather(self.untracked, combination)] = wy.UNTRACKED
            if self.empty is not None:
                why[gather(self.empty, combination) & (why == 0)] = 1  # the empty set's id
        return V(data, rep, unk, err, enum, why)


def _outcomes(level, values, classes, general):
    """:class:`Outcomes` of every combination of classes, by the general path over one
    probe row per combination; None beyond ``MAX_COMBINATIONS``."""
    sizes = [c.size for c in classes]
    total = int(np.prod(sizes, dtype=np.int64))
    if total > MAX_COMBINATIONS:
        return None
    grid = np.indices(sizes).reshape(len(sizes), total)  # per input, its class in each combination
    whys = wy.Whys()
    with wy.evaluating(whys):
        probe = []
        for i, (v, c) in enumerate(zip(values, classes)):
            cls = grid[i]
            data = c.reps[np.minimum(cls, len(c.reps) - 1)]  # an unknown row's value means nothing
            unk = squeeze(cls == len(c.reps)) if c.unknown else None
            mark = None if unk is None else np.full(total, whys.intern(frozenset([i])), dtype=np.int32)
            probe.append(V(data, v.rep, unk, enum=v.enum, why=mark))
        got = general(_Probe(total, level.run), probe)
        ids = wy.of(got, total)
    data = np.array(np.broadcast_to(got.data, (total,)))
    unk = np.array(np.broadcast_to(got.unk if got.unk is not None else False, (total,)))
    err = np.array(np.broadcast_to(got.err if got.err is not None else False, (total,)))
    ids = np.zeros(total, dtype=np.int32) if ids is None else ids
    sets = [None if k < 0 else whys.sets[k] for k in ids.tolist()]
    marks = [(i, np.array([s is not None and k > 0 and i in s for s, k in zip(sets, ids.tolist())]))
             for i in range(len(values))]
    marks = [(i, m) for i, m in marks if m.any()]
    untracked = ids < 0
    empty = (ids > 0) & np.array([s is not None and not s for s in sets])
    return Outcomes(data, unk, err, marks, untracked if untracked.any() else None, empty if empty.any() else None)


def _combination(values, classes, n: int, total: int) -> np.ndarray:
    """Each level row's combination of classes, as a flat C-order index (uint8 or
    uint16: gathers read narrow indices faster than they cast wide ones; vector.gather)."""
    dtype = np.uint8 if total <= 256 else np.uint16
    index = None
    for v, c in zip(values, classes):
        size = c.size
        if size == 1:
            continue
        k = c.of_value(v, n, dtype)
        if index is None:
            index = k.astype(dtype)  # a copy: k may be a view of the input
        else:
            index *= dtype(size)
            index += k
    return np.zeros(n, dtype=dtype) if index is None else index
