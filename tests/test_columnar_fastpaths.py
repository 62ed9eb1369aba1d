"""Session 16's shortcuts in the columnar evaluation decide what the long way decides.

- an integer product, and an int64 result checked against the bound, skip the per-row
  mask when the largest magnitudes cannot pass the bound (compile.py ``_largest``): the
  values and the E720 rows are those of the per-row check, at and around the bound;
- a table's outcome is written by masked copies (tables.py ``_put``), as boolean indexing
  wrote it, for every dtype a table's output takes (object decimals included);
- ``ColumnarResult.rows_to_explain`` skips outputs without errors or untracked rows and
  finds the rows the mask over every output finds.

The agreement of whole evaluations with the scalar reference (facts of unknowns included)
is tests/test_columnar*.py's; these check each shortcut on the values it sees.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fupin.engine.columnar import compile as cc
from fupin.engine.columnar import env, tables, vector
from fupin.engine.columnar.program import ColumnarResult
from fupin.engine.columnar.vector import V
from fupin.engine.core.operators import LIMIT, LIMIT_FEN

N = 9
ROOT = Path(__file__).resolve().parents[1]


def _near(limit: int):
    """int64 operands whose products fall below, at and beyond ``limit``."""
    roots = [0, 1, 2, 3, 7, 10 ** 7, 31622776, 10 ** 8, 10 ** 9, limit // 3, limit // 2, limit, limit + 1, 2 ** 62]
    return st.one_of(st.sampled_from(roots + [-r for r in roots]), st.integers(-10 ** 6, 10 ** 6))


@st.composite
def _operands(draw, limit: int):
    x = np.array(draw(st.lists(_near(limit), min_size=N, max_size=N)), dtype=np.int64)
    y = draw(st.one_of(st.lists(_near(limit), min_size=N, max_size=N).map(lambda v: np.array(v, dtype=np.int64)),
                       _near(limit).map(np.int64)))  # a column or a constant (a parameter)
    unk = draw(st.one_of(st.none(), st.lists(st.booleans(), min_size=N, max_size=N).map(np.array)))
    return x, y, unk


def _masks(v: V):
    return (np.zeros(N, bool) if v.unk is None else np.broadcast_to(v.unk, (N,)),
            np.zeros(N, bool) if v.err is None else np.broadcast_to(v.err, (N,)))


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(["int", "fen"]).flatmap(lambda rep: st.tuples(st.just(rep), _operands(LIMIT_FEN if rep == "fen" else LIMIT))))
def test_a_product_is_E720_exactly_where_the_exact_product_passes_the_bound(case):
    rep, (x, y, unk) = case
    limit = LIMIT_FEN if rep == "fen" else LIMIT
    got = cc._int_product(V(x, rep), V(y, "int"), unk, None, N, None)
    got_unk, got_err = _masks(got)
    skip = np.zeros(N, bool) if unk is None else unk
    for i, (a, b) in enumerate(zip(x.tolist(), np.broadcast_to(y, (N,)).tolist())):
        over = abs(a * b) > limit and not skip[i]
        assert got_err[i] == over
        assert got_unk[i] == (skip[i] and not over)
        if not over and not skip[i]:
            assert int(np.broadcast_to(got.data, (N,))[i]) == a * b


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["int", "fen"]), st.lists(_near(LIMIT_FEN), min_size=N, max_size=N),
       st.lists(st.booleans(), min_size=N, max_size=N))
def test_a_bounded_result_is_E720_exactly_beyond_the_bound(rep, values, unknown):
    limit = LIMIT_FEN if rep == "fen" else LIMIT
    data, unk = np.array(values, dtype=np.int64), np.array(unknown)
    got = cc._bounded(data, rep, unk, None, N, None)
    got_unk, got_err = _masks(got)
    over = (np.abs(data.astype(object)) > limit).astype(bool) & ~unk
    assert np.array_equal(got_err, over) and np.array_equal(got_unk, unk)
    assert np.array_equal(np.broadcast_to(got.data, (N,))[~over], data[~over])


def test_a_constant_within_the_bound_stays_a_constant():
    got = cc._bounded(np.int64(5), "int", None, None, N, None)
    assert np.ndim(got.data) == 0 and got.err is None and got.unk is None


_CELLS = {
    "int64": st.integers(-2 ** 63, 2 ** 63 - 1),
    "int16": st.integers(-2 ** 15, 2 ** 15 - 1),
    "int32": st.integers(-2 ** 31, 2 ** 31 - 1),
    "bool": st.booleans(),
    "object": st.decimals(allow_nan=False, allow_infinity=False, places=2),
}


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(_CELLS)).flatmap(lambda d: st.tuples(
    st.just(d), st.lists(_CELLS[d], min_size=N, max_size=N), st.lists(_CELLS[d], min_size=N, max_size=N),
    st.one_of(st.lists(_CELLS[d], min_size=1, max_size=1), st.just(None)))),
    st.lists(st.booleans(), min_size=N, max_size=N))
def test_a_masked_copy_writes_what_boolean_indexing_writes(case, rows):
    dtype, before, values, scalar = case
    rows = np.array(rows)
    source = np.array(values, dtype=dtype) if scalar is None else np.array(scalar[0], dtype=dtype)[()]
    want, got = np.array(before, dtype=dtype), np.array(before, dtype=dtype)
    want[rows] = source[rows] if scalar is None else source
    tables._put(got, source, rows)
    assert got.dtype == want.dtype and list(got) == list(want)
    if dtype == "object":
        assert all(type(x) is Decimal for x in got)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.lists(st.sampled_from([0, 0, 0, -1, 1, 2, 5]), min_size=N, max_size=N),
                          st.lists(st.booleans(), min_size=N, max_size=N)), min_size=1, max_size=5))
def test_the_rows_to_explain_are_those_of_the_mask_over_every_output(outputs):
    names = [f"o{i}" for i in range(len(outputs))]
    why = {n: np.array(w, dtype=np.int32) for n, (w, _) in zip(names, outputs)}
    unknown = {n: why[n] != 0 for n in names}  # ids are 0 exactly where an output is not unknown
    error = {n: np.array(e) & ~unknown[n] for n, (_, e) in zip(names, outputs)}
    result = SimpleNamespace(n=N, outputs=names, why=why, unknown=unknown, error=error)
    want = np.zeros(N, dtype=bool)
    for n in names:
        want |= error[n] | (unknown[n] & (why[n] < 0))
    assert np.array_equal(ColumnarResult.rows_to_explain(result), np.flatnonzero(want))


# --- session 17: a plain member sum by bincount when no parent can near the bound


@st.composite
def _sums(draw):
    rep = draw(st.sampled_from(["int", "fen"]))
    limit = LIMIT_FEN if rep == "fen" else LIMIT
    n = draw(st.integers(1, 6))
    counts = draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))
    parent = np.repeat(np.arange(n), counts).astype(np.int64)
    big = [limit // 2, limit // 3, limit, 2 ** 52, 2 ** 53 // 3, 2 ** 61]
    pool = st.one_of(st.integers(-10 ** 6, 10 ** 6), st.sampled_from(big + [-b for b in big]))
    values = np.array(draw(st.lists(pool, min_size=len(parent), max_size=len(parent))), dtype=np.int64)
    return rep, limit, n, parent, values


@given(_sums())
@settings(max_examples=300, deadline=None)
def test_a_plain_sum_is_the_exact_sum_or_E720_on_either_path(case):
    """Small magnitudes go through ``np.bincount`` (no level bounds); large ones through
    the prefix sums and the bound check: each parent's value is its children's exact
    sum, or E720 exactly where that sum passes the bound."""
    from fupin.engine.columnar import aggregate

    rep, limit, n, parent, values = case
    counts = np.bincount(parent, minlength=n)
    ends = np.cumsum(counts)
    parts = SimpleNamespace(plain=True, keep_all=True, n=len(values), value=V(values, rep),
                            keep_true=np.ones(len(values), dtype=bool), bounds=lambda _n: (ends - counts, ends))
    out = aggregate._sum(parts, parent, n, ("sum", "money" if rep == "fen" else "integer"))
    exact = [sum(int(x) for x in values[parent == p]) for p in range(n)]
    err = out.err if out.err is not None else np.zeros(n, dtype=bool)
    err = np.broadcast_to(err, (n,))
    for p in range(n):
        assert bool(err[p]) == (abs(exact[p]) > limit), (p, exact[p])
        if not err[p]:
            assert int(np.broadcast_to(out.data, (n,))[p]) == exact[p]


# --- session 18: gathers of narrow indices, and magnitudes known without a pass


@pytest.mark.parametrize("index_dtype", [np.uint8, np.uint16, np.int16, np.intp])
@pytest.mark.parametrize("table_dtype", [np.int64, np.int16, np.uint8, bool, np.float64])
def test_a_gather_is_a_take(index_dtype, table_dtype):
    rng = np.random.default_rng(3)
    table = rng.integers(-50, 50, 200).astype(table_dtype)
    index = rng.integers(0, 200, 5000).astype(index_dtype)
    got = vector.gather(table, index)
    assert got.dtype == table.dtype and np.array_equal(got, np.take(table, index))


@given(_sums())
@settings(max_examples=200, deadline=None)
def test_a_known_magnitude_sums_as_a_scan_would(case):
    """A sum given its values' bound (a table's or an if's constants: V.mag) takes the
    bincount exactly when the scan of max and min would, with the same sums."""
    from fupin.engine.columnar import aggregate

    rep, limit, n, parent, values = case
    mag = max(int(np.abs(values).max()), 0) if len(values) else 0
    with_mag = aggregate._small_sums(values, parent, n, rep, mag)
    scanned = aggregate._small_sums(values, parent, n, rep)
    assert (with_mag is None) == (scanned is None)
    if scanned is not None:
        assert np.array_equal(with_mag, scanned)


def _every_rule_value(monkeypatch) -> list:
    seen = []
    original = env.Level.rule

    def rule(self, name):
        v = original(self, name)
        seen.append(v)
        return v

    monkeypatch.setattr(env.Level, "rule", rule)
    return seen


@pytest.mark.parametrize("unknown_rate", [0.0, 0.02])
@pytest.mark.parametrize("path, fields", [("benchmarks/small_policy", "contract"), ("policy", "pack")])
def test_every_recorded_magnitude_bounds_its_values(monkeypatch, path, fields, unknown_rate):
    """V.mag, where a table or an if records it, bounds every usable row (the sums trust
    it instead of reading the rows), over 2,000 generated households with no fact unknown
    (tables take the lookup's constant outcomes) and with 2% unknown."""
    from fupin import load_policy
    from fupin.engine.columnar.frame import from_records
    from fupin.engine.columnar.program import ColumnarProgram
    from fupin.engine.tools.generate import generate_households, records

    p = load_policy(ROOT / path)
    checker = p.facts_checker(None)
    typed = [checker.validate(dict(r), "household")[0] for r in
             records(generate_households(2000, seed=11, fields=fields, unknown_rate=unknown_rate))]
    frame = from_records(p.program().checked, "household", [t for t in typed if t is not None])
    seen = _every_rule_value(monkeypatch)
    ColumnarProgram(p.program()).evaluate(frame, dt.date(2020, 6, 30), exact=False)
    recorded = [v for v in seen if v.mag is not None]
    assert recorded  # the benchmark's tables and ifs do record one
    for v in recorded:
        data = np.broadcast_to(v.data, np.shape(v.unk) if v.unk is not None else np.shape(v.data))
        usable = ~vector.full(v.bad(), data.shape[0]) if data.ndim else np.ones(1, bool)
        assert np.abs(np.atleast_1d(data)[usable]).max(initial=0) <= v.mag
