"""The branch-free selects of the columnar evaluation give what numpy's ``where`` gives.

``vector.choose`` replaces ``np.where`` for booleans and integers, and ``why.masked`` /
``why.untracked`` the selects of fact-set ids: the same values, dtype and shape for
every mix of arrays and scalars the evaluation passes them.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from fupin.engine.columnar import why as wy
from fupin.engine.columnar.vector import choose

N = 17
DTYPES = [np.bool_, np.int16, np.int32, np.int64]


def _operand(dtype):
    """An array of N values or a scalar of ``dtype`` (extremes included)."""
    values = hnp.from_dtype(np.dtype(dtype))
    return st.one_of(hnp.arrays(dtype, N, elements=values), values.map(np.dtype(dtype).type))


@st.composite
def _case(draw):
    kind = draw(st.sampled_from(["bool", "int"]))
    pool = [np.bool_] if kind == "bool" else DTYPES[1:]
    a = draw(_operand(draw(st.sampled_from(pool))))
    b = draw(st.one_of(_operand(draw(st.sampled_from(pool))), st.just(0 if kind == "int" else False)))
    cond = draw(st.one_of(hnp.arrays(np.bool_, N), st.booleans().map(np.bool_)))
    return cond, a, b


@settings(max_examples=300, deadline=None)
@given(_case())
def test_choose_is_np_where(case):
    cond, a, b = case
    want, got = np.where(cond, a, b), choose(cond, a, b)
    assert got.dtype == want.dtype and np.shape(got) == np.shape(want)
    assert np.array_equal(got, want)


@settings(max_examples=100, deadline=None)
@given(hnp.arrays(np.int32, N, elements=st.integers(-1, 5000)), hnp.arrays(np.bool_, N))
def test_id_selects_are_np_where(ids, mask):
    got = wy.masked(ids, mask)
    assert got.dtype == np.int32 and np.array_equal(got, np.where(mask, ids, np.int32(0)))
    got = wy.untracked(mask)
    assert got.dtype == np.int32 and np.array_equal(got, np.where(mask, np.int32(wy.UNTRACKED), np.int32(0)))


@pytest.mark.parametrize("mask", [np.bool_(True), np.bool_(False)])
def test_id_selects_broadcast_a_constant_mask(mask):
    ids = np.arange(N, dtype=np.int32)
    assert np.array_equal(wy.masked(ids, mask), np.where(mask, ids, np.int32(0)))
