"""The facts of unknowns where known and unknown rows mix in one chunk of the pack.

The columnar evaluation unites fact-set ids through a pair table (why.py ``unite``),
counts the distinct bit masks of a segment union, gathers the facts of missing member
fields through their path prefixes, and absorbs unknown × known zero only where an
operand is unknown; each of these has a path for "no row" and one for "some rows". Here
chunks are built from whole households of a few shapes (every fact known; every
optional fact missing; one fact missing on one member among many; one missing on the
household only; an empty member list; no member list) and the columnar result —
tracking facts in the pass, or in a second pass over the unknown rows — must equal the
scalar evaluator's row by row: value, unknown, error, and the facts each unknown output
waits on. Longer runs: ``FUPIN_EXAMPLES``.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factsgen import _value, interesting
from fupin.engine.api import as_date, load_policy
from fupin.engine.columnar.frame import from_records
from fupin.engine.columnar.program import ColumnarProgram

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = int(os.environ.get("FUPIN_EXAMPLES", "8"))
ON = as_date("2020-06-30")
SHAPES = ("known", "unknown", "one_member", "household_only", "no_members", "absent_members")
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
_PACK: dict = {}


def _pack():
    if not _PACK:
        p = load_policy(ROOT / "policy")
        _PACK.update(policy=p, columnar=ColumnarProgram(p.program()), checked=p.program().checked)
    return _PACK["policy"], _PACK["columnar"], _PACK["checked"]


def _complete(checked, entity: str, cands, members=(2, 6)):
    """Every fact of an entity given; child lists of ``members`` children, each complete."""
    ent = checked.entities[entity]
    parts = {}
    for name, fld in ent.fields.items():
        if fld.child:
            parts[name] = st.lists(_complete(checked, fld.child, cands, (0, 2)), min_size=members[0],
                                   max_size=members[1])
        else:
            parts[name] = _value(checked, fld, cands)
    return st.fixed_dictionaries(parts)


def _optional(checked, entity: str) -> list:
    return [n for n, f in checked.entities[entity].fields.items() if not f.required and not f.child]


def _list_field(checked) -> str:
    return next(n for n, f in checked.entities["household"].fields.items() if f.child)


@st.composite
def household(draw, shape: str):
    """One household of the pack in a shape (see the module docstring)."""
    _, _, checked = _pack()
    cands = interesting(checked)
    raw = draw(_complete(checked, "household", cands))
    members = _list_field(checked)
    child = checked.entities["household"].fields[members].child
    if shape == "unknown":
        raw = {k: v for k, v in raw.items() if k not in _optional(checked, "household")}
        raw[members] = [{k: v for k, v in m.items() if k not in _optional(checked, child)} for m in raw[members]]
    elif shape == "one_member":
        kids = raw[members] = raw[members] + [dict(raw[members][0])] * (3 - min(len(raw[members]), 3))
        who = draw(st.integers(0, len(kids) - 1))
        gone = draw(st.sampled_from(_optional(checked, child)))
        kids[who] = {k: v for k, v in kids[who].items() if k != gone}
    elif shape == "household_only":
        gone = draw(st.sampled_from(_optional(checked, "household")))
        raw.pop(gone)
    elif shape == "no_members":
        raw[members] = []
    elif shape == "absent_members":
        raw.pop(members)
    return raw


def _frame(raws):
    p, _, checked = _pack()
    checker = p.facts_checker(None)
    records = []
    for i, raw in enumerate(raws):
        typed, _ = checker.validate(dict(raw, id=f"r{i}"), "household")
        if typed is not None:
            records.append(typed)
    return from_records(checked, "household", records)


def _agree(raws):
    """The columnar result (facts tracked in the pass, and in a second pass) equals the
    scalar evaluator's on every row and output."""
    _, cp, _ = _pack()
    frame = _frame(raws)
    assert frame.n == len(raws)  # every household built is valid
    want = cp.reference(frame, ON, exact=False)
    for why in (True, "rows"):
        got = cp.evaluate(frame, ON, why=why, exact=False)
        for name in want.outputs:
            assert got.unknown[name].tolist() == want.unknown[name].tolist(), name
            assert got.error[name].tolist() == want.error[name].tolist(), name
            assert got.decode(name) == want.decode(name), name
            assert [got.facts(name, r) for r in range(frame.n)] == [want.facts(name, r) for r in range(frame.n)], name


@pytest.mark.parametrize("shape", SHAPES)
def test_a_chunk_of_one_shape(shape):
    """Every row alike: all known, all unknown, … (the paths for "no row" and "every row")."""
    @SETTINGS
    @given(st.lists(household(shape), min_size=1, max_size=5))
    def check(raws):
        _agree(raws)

    check()


def test_a_chunk_of_mixed_shapes():
    """Known and unknown rows side by side, one unknown member among many known ones."""
    @SETTINGS
    @given(st.lists(st.sampled_from(SHAPES).flatmap(household), min_size=2, max_size=8))
    def check(raws):
        _agree(raws)

    check()


def test_many_known_households_and_one_unknown_member():
    """One member of one household lacks a fact; thirty households know everything."""
    @SETTINGS
    @given(st.lists(household("known"), min_size=30, max_size=30), household("one_member"), st.integers(0, 30))
    def check(known, odd, at):
        _agree(known[:at] + [odd] + known[at:])

    check()


def _member_facts():
    _, _, checked = _pack()
    child = checked.entities["household"].fields[_list_field(checked)].child
    return _optional(checked, child)


@pytest.mark.parametrize("gone", _member_facts())
def test_one_member_fact_missing_beside_a_household_that_misses_every_fact(gone):
    """A member fact missing on some rows and given on others (the other household lacks
    it everywhere): only the rows that miss it wait for it."""
    @settings(SETTINGS, max_examples=max(2, EXAMPLES // 4))
    @given(household("unknown"), household("known"), household("known"), st.data())
    def check(empty, known, odd, data):
        kids = odd[_list_field(_pack()[2])]
        if kids:
            who = data.draw(st.integers(0, len(kids) - 1))
            kids[who] = {k: v for k, v in kids[who].items() if k != gone}
        _agree([empty, odd, known])

    check()
