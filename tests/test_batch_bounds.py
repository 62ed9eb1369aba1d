"""The range check of the batch's fast column paths (columns.py ``_check_bounds``) decides
exactly what one mask per bound decides, whether or not it takes its shortcut (every value
of the column within the bounds and the magnitude limit, found by one min and one max)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings, strategies as st

from fupin.engine.batch import columns as C

LIMIT = C.MAGNITUDE["integer"]
values = st.lists(st.one_of(st.integers(-5, 200), st.sampled_from([LIMIT, LIMIT + 1, -LIMIT, -LIMIT - 1])), max_size=40)
bound = st.one_of(st.none(), st.integers(-3, 150))


def _masks(data, ok, spec, limit):
    """The reference: one mask per bound, only on the cells a fast path decided."""
    outside = np.zeros(len(data), dtype=bool)
    if limit is not None:
        outside |= (data > limit) | (data < -limit)
    if spec.lo is not None:
        outside |= data < spec.lo
    if spec.hi is not None:
        outside |= data > spec.hi
    outside &= ok
    return ok & ~outside, outside


@settings(max_examples=300, deadline=None)
@given(values, bound, bound, st.sampled_from(["integer", "money", "date"]), st.randoms())
def test_bounds_decide_as_one_mask_per_bound(vals, lo, hi, kind, rnd):
    data = np.array(vals, dtype=np.int64)
    ok = np.array([rnd.random() < 0.8 for _ in vals], dtype=bool)
    bad = np.array([not o and rnd.random() < 0.3 for o in ok], dtype=bool)
    spec = SimpleNamespace(kind=kind, lo=lo, hi=hi, vector_bounds=True)
    want_ok, outside = _masks(data, ok.copy(), spec, C.MAGNITUDE.get(kind))
    want_bad = bad | outside
    C._check_bounds(data, ok, bad, spec)
    assert ok.tolist() == want_ok.tolist() and bad.tolist() == want_bad.tolist()
