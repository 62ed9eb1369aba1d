"""The per-row fact-set operations of the columnar evaluation (engine/columnar/why.py)
against a row-by-row reference: ``unite`` (looked up in the pair table of ``Whys``, or
beyond ``TABLE_IDS`` sets by distinct pairs, counted, or sorted beyond ``PAIRS_COUNTED``),
``segment_union`` (bit masks per parent, their distinct values counted up to
``MASKS_COUNTED`` bits and sorted beyond, or pairwise rounds beyond ``MASK_BITS``
distinct ids) and ``fact_ids`` give, on every row, the same fact set as
uniting the sets one by one with ``Whys.union`` — whichever path they take.
"""
from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fupin.engine.columnar import why as wy

EXAMPLES = int(os.environ.get("FUPIN_EXAMPLES", "60"))
FACTS = [f"f{i}" for i in range(9)]
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _whys(sets):
    whys = wy.Whys()
    ids = [whys.intern(frozenset(s)) for s in sets]
    return whys, ids


def _set(whys, ident):
    """What an id stands for: a fact set, "untracked", or None (not unknown)."""
    if ident < 0:
        return "untracked"
    return None if ident == 0 else whys.sets[ident]


fact_sets = st.lists(st.frozensets(st.sampled_from(FACTS), max_size=4), min_size=1, max_size=12)


@st.composite
def id_arrays(draw, count=2):
    """Fact sets, and ``count`` id arrays of one length over them (0, -1 included)."""
    sets = draw(fact_sets)
    n = draw(st.integers(min_value=0, max_value=40))
    choices = st.integers(min_value=-1, max_value=len(sets))  # -1 untracked, 0 known, k: sets[k-1]
    arrays = [draw(st.lists(choices, min_size=n, max_size=n)) for _ in range(count)]
    return sets, arrays


def _ids(ids, raw):
    return np.array([r if r <= 0 else ids[r - 1] for r in raw], dtype=np.int32)


@pytest.mark.parametrize("path", ["table", "counted", "sorted"])
def test_unite_is_the_union_row_by_row(path, monkeypatch):
    if path != "table":
        monkeypatch.setattr(wy, "TABLE_IDS", 0)
    if path == "sorted":
        monkeypatch.setattr(wy, "PAIRS_COUNTED", 0)

    @SETTINGS
    @given(id_arrays())
    def check(drawn):
        sets, (xs, ys) = drawn
        whys, ids = _whys(sets)
        a, b = _ids(ids, xs), _ids(ids, ys)
        with wy.evaluating(whys):
            got = wy.unite(a, b)
            want = [whys.union(int(x), int(y)) for x, y in zip(a, b)]
        assert [_set(whys, int(g)) for g in got] == [_set(whys, w) for w in want]

    check()


@SETTINGS
@given(st.lists(st.tuples(st.lists(st.integers(min_value=-1, max_value=200), min_size=0, max_size=30),
                          st.lists(st.integers(min_value=-1, max_value=200), min_size=0, max_size=30)),
                min_size=1, max_size=6),
       st.integers(min_value=0, max_value=150))
def test_unite_in_a_growing_pair_table(steps, grow):
    """Unions on one ``Whys`` whose sets keep growing (more sets interned between the
    calls, and unions that intern new ones): the pair table is re-allocated past 64 ids,
    and what it learnt before must still hold."""
    whys = wy.Whys()
    for k in range(4):
        whys.intern(frozenset({f"g{k}"}))
    made = []
    with wy.evaluating(whys):
        for xs, ys in steps:
            for k in range(grow):  # sets interned between two unions
                whys.intern(frozenset({f"h{len(whys.sets)}", f"h{k}"}))
            n = min(len(xs), len(ys))
            size = len(whys.sets)
            a = np.array([x % size if x >= 0 else -1 for x in xs[:n]], dtype=np.int32)
            b = np.array([y % size if y >= 0 else -1 for y in ys[:n]], dtype=np.int32)
            got = wy.unite(a, b)
            made.append(got)
            want = [_union_set(whys, int(x), int(y)) for x, y in zip(a, b)]
            assert [_set(whys, int(g)) for g in got] == want
        if len(made) > 1:  # ids made by the table, united again
            a, b = made[0], made[-1]
            n = min(len(a), len(b))
            got = wy.unite(a[:n], b[:n])
            assert [_set(whys, int(g)) for g in got] == [_union_set(whys, int(x), int(y)) for x, y in zip(a, b)]


def _union_set(whys, x: int, y: int):
    """The set of the union of two ids, by their sets (not through the table's cache)."""
    if x < 0 or y < 0:
        return "untracked"
    if x == 0 and y == 0:
        return None
    return whys.sets[x] | whys.sets[y]


@st.composite
def segments(draw):
    sets, (raw,) = draw(id_arrays(count=1))
    n = draw(st.integers(min_value=1, max_value=8))
    parent = sorted(draw(st.lists(st.integers(min_value=0, max_value=n - 1), min_size=len(raw), max_size=len(raw))))
    return sets, raw, np.array(parent, dtype=np.int64), n


@pytest.mark.parametrize("bits,counted", [(64, 16), (64, 0), (2, 16)], ids=["masks counted", "masks sorted", "rounds"])
def test_segment_union_is_the_union_of_each_parents_children(bits, counted, monkeypatch):
    monkeypatch.setattr(wy, "MASK_BITS", bits)
    monkeypatch.setattr(wy, "MASKS_COUNTED", counted)

    @SETTINGS
    @given(segments())
    def check(drawn):
        sets, raw, parent, n = drawn
        whys, ids = _whys(sets)
        w = _ids(ids, raw)
        with wy.evaluating(whys):
            got = wy.segment_union(w, parent, n)
            want = [0] * n
            for child, p in zip(w.tolist(), parent.tolist()):
                want[p] = whys.union(want[p], child)
        if got is None:
            assert not w.any()
            return
        assert [_set(whys, int(g)) for g in got] == [_set(whys, x) for x in want]

    check()


def test_segment_union_with_more_distinct_ids_than_bits():
    """70 distinct sets under one parent, 70 more spread: the rounds, same answer."""
    whys = wy.Whys()
    ids = [whys.intern(frozenset({f"f{i}", "shared"})) for i in range(140)]
    w = np.array(ids, dtype=np.int32)
    parent = np.array([0] * 70 + list(range(1, 71)), dtype=np.int64)
    with wy.evaluating(whys):
        got = wy.segment_union(w, parent, 72)
    assert whys.sets[got[0]] == frozenset({"shared", *(f"f{i}" for i in range(70))})
    assert [whys.sets[g] for g in got[1:71]] == [frozenset({f"f{i}", "shared"}) for i in range(70, 140)]
    assert got[71] == 0


def test_fact_ids_name_each_rows_prefix():
    whys = wy.Whys()
    prefixes = np.array([whys.prefix(p) for p in ["members[0].", "members[1].", "members[0].", "members[2]."]],
                        dtype=np.int32)
    mask = np.array([True, True, False, True])
    with wy.evaluating(whys):
        classes = wy.classes(prefixes, len(whys.prefixes))
        assert np.array_equal(classes[0][classes[1]], prefixes)
        got = wy.fact_ids(classes, "age", mask)
        none = wy.fact_ids(classes, "age", np.zeros(4, dtype=bool))
    assert [_set(whys, int(g)) for g in got] == [{"members[0].age"}, {"members[1].age"}, None, {"members[2].age"}]
    assert not none.any()
    assert wy.fact_ids(classes, "age", mask) is None  # not tracking: nothing


def test_classes_are_what_np_unique_gives():
    ids = np.array([5, -1, 3, 3, 0, 5, 7, -1], dtype=np.int32)
    distinct, inverse = wy.classes(ids, 8)
    want, want_inverse = np.unique(ids, return_inverse=True)
    assert np.array_equal(distinct, want) and np.array_equal(inverse, want_inverse)
