"""The columnar evaluator agrees with the scalar one: same values, same undecided rows;
and the scalar evaluator's generated code agrees with its closures (tests/genagree.py).

Random facts (tests/factsgen.py) fall on both sides of every threshold the policy uses,
miss facts, and leave child lists empty or absent. The fixture tests/fixtures/columnar
has every construct once, including cells and children whose evaluation fails in some
rows. FUPIN_EXAMPLES raises the number of hypothesis examples for a longer local run.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factsgen import facts
from genagree import assert_generated_agrees
from fupin.engine.api import as_date, load_policy
from fupin.engine.columnar.frame import from_records
from fupin.engine.columnar.program import ColumnarProgram

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = int(os.environ.get("FUPIN_EXAMPLES", "40"))
DAYS = [as_date(d) for d in ("2020-06-30", "2016-06-30", "2019-06-30", "2021-06-30", "2015-01-01")]

_POLICIES: dict = {}


def policy(path: str):
    if path not in _POLICIES:
        _POLICIES[path] = load_policy(ROOT / path)
    return _POLICIES[path]


def frame_of(p, variant, entity, raws):
    checker = p.facts_checker(variant)
    records = []
    for i, raw in enumerate(raws):
        raw = dict(raw)
        raw.setdefault("id", f"r{i}")
        typed, _ = checker.validate(raw, entity)
        if typed is not None:
            records.append(typed)
    return from_records(p.program(variant).checked, entity, records), records


def assert_agree(cp, frame, on, records):
    """Columnar = scalar for every output: undecided rows, values, facts of unknowns;
    with facts tracked in the same pass and in a second pass over the unknown rows.
    First, the scalar evaluator's generated code = its closures on the same records."""
    assert_generated_agrees(cp.program, frame.entity, on, records)
    for exact in (False, True):
        ref = cp.reference(frame, on, exact=exact)
        for why in (True, "rows"):
            _agree(ref, cp.evaluate(frame, on, why=why, exact=exact), on, records)


def _agree(ref, got, on, records):
    for name in ref.outputs:
        want = ref.unknown[name] | ref.error[name]
        have = got.unknown[name] | got.error[name]
        if not np.array_equal(want, have):
            i = int(np.flatnonzero(want != have)[0])
            pytest.fail(f"{name} on {on}: row {i} undecided scalar={bool(want[i])} columnar={bool(have[i])}; "
                        f"facts {records[i]}")
        a, b = ref.decode(name), got.decode(name)
        if a != b:
            i = next(k for k in range(len(a)) if a[k] != b[k])
            pytest.fail(f"{name} on {on}: row {i} scalar={a[i]!r} columnar={b[i]!r}; facts {records[i]}")
        for i in np.flatnonzero(ref.unknown[name]).tolist():
            # the facts an unknown waits on: tracked by the columnar path, never left to the scalar one
            if got.facts(name, i) != ref.facts(name, i):
                pytest.fail(f"{name} on {on}: row {i} waits on scalar={ref.facts(name, i)} "
                            f"columnar={got.facts(name, i)}; facts {records[i]}")
        if ref.possible.get(name, {}) != got.possible.get(name, {}):
            pytest.fail(f"{name} on {on}: possible values scalar={ref.possible.get(name)} "
                        f"columnar={got.possible.get(name)}")


CASES = [
    ("tests/fixtures/columnar", None, "household", 2),
    ("tests/fixtures/columnar", None, "village", 1),
    ("tests/fixtures/columnar", None, "member", 1),
    ("tests/fixtures/mini", None, "household", 1),
    ("tests/fixtures/mini", "strict", "household", 1),
    ("policy", None, "household", 2),
    ("policy", None, "village", 1),
    ("policy", "yunnan-2016", "household", 1),
    ("policy", "anhui-2020", "household", 1),
]


@pytest.mark.parametrize("path,variant,entity,weight", CASES, ids=[f"{c[0]}:{c[1] or 'base'}:{c[2]}" for c in CASES])
def test_random_entities_agree(path, variant, entity, weight):
    p = policy(path)
    checked = p.program(variant).checked
    cp = ColumnarProgram(p.program(variant))

    @settings(max_examples=EXAMPLES * weight, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.lists(facts(checked, entity), min_size=1, max_size=4), st.sampled_from(DAYS))
    def check(raws, on):
        frame, records = frame_of(p, variant, entity, raws)
        if frame.n:
            assert_agree(cp, frame, on, records)

    check()


BIG = 10 ** 15  # the bound of every number (dsl/coerce.py); arithmetic beyond it is E720
HOSTILE_ROWS = {
    "tests/fixtures/columnar": [
        {"income": BIG, "line": BIG, "share": 1, "area": BIG, "risk": True, "status": "poor",
         "assessed_on": "2020-06-30", "registered_on": "1900-01-01",
         "members": [{"age": 120, "pay": BIG, "enrolled": True, "grade": 4, "labor": "full"},
                     {"age": 0, "pay": BIG, "enrolled": True, "labor": "none"}]},
        {"income": "999999999999999.99", "line": "0.01", "share": "0.00000000000000000001", "area": "1e-20",
         "members": [{"age": 1, "pay": "999999999999999.99", "enrolled": True}]},
        {"income": 0, "line": BIG, "share": "0.5", "area": 0, "risk": False},
    ],
    "tests/fixtures/bounds": [
        {"income": BIG, "bonus": 1, "size": 2, "count": BIG, "share": "0.00000000000000000001", "area": BIG,
         "members": [{"pay": BIG}, {"pay": BIG}]},
        {"income": -BIG, "bonus": -BIG, "size": -BIG, "count": -BIG, "share": "-1e-20", "area": "-1e-20",
         "members": [{"pay": -BIG}]},
        {"income": "999999999999999.99", "bonus": "0.01", "size": 1, "count": 1, "share": 1, "area": "1e15"},
        {"income": "0.01", "size": 10 ** 13, "count": 100, "share": "1e-20", "area": "1e-10"},
        {"income": 1, "members": [{"pay": BIG}] * 100},  # 10^19 fen: an int64 sum would wrap
        {"income": 1, "members": [{"pay": BIG}, {"pay": -BIG}] * 100},
    ],
}


@pytest.mark.parametrize("path", sorted(HOSTILE_ROWS))
def test_hostile_magnitudes_agree(path):
    """Facts at the bounds: both evaluators give the same values and the same errors
    (E720 where a sum or product passes the bound, computed on int64 fen without wrapping)."""
    p = policy(path)
    cp = ColumnarProgram(p.program(None))
    frame, records = frame_of(p, None, "household", HOSTILE_ROWS[path])
    assert frame.n == len(HOSTILE_ROWS[path])
    for on in DAYS[:2]:
        assert_agree(cp, frame, on, records)


def test_examples_agree_on_every_date():
    p = policy("policy")
    raws = yaml.safe_load((ROOT / "examples/households.yaml").read_text(encoding="utf-8"))
    frame, records = frame_of(p, None, "household", raws)
    cp = ColumnarProgram(p.program())
    for on in DAYS:
        assert_agree(cp, frame, on, records)


def test_details_name_the_facts_the_scalar_evaluator_names():
    p = policy("policy")
    raws = yaml.safe_load((ROOT / "examples/households.yaml").read_text(encoding="utf-8"))
    frame, records = frame_of(p, None, "household", raws)
    result = ColumnarProgram(p.program()).evaluate(frame, DAYS[0], ["monitoring_tier", "exit_eligible"])
    rows = result.undecided_rows()
    assert len(rows) > 0
    for i, ev in result.details(rows).items():
        direct = p.evaluate(raws[i], on=DAYS[0], only=["monitoring_tier", "exit_eligible"])
        assert ev.unknown == direct.unknown


def test_a_missing_fact_column_is_unknown_not_a_default():
    p = policy("tests/fixtures/columnar")
    frame, _ = frame_of(p, None, "household", [{"id": "a", "status": "exited", "risk": False}])
    del frame.columns["income"]
    got = ColumnarProgram(p.program()).evaluate(frame, DAYS[0], ["tier_first", "known_income"])
    assert got.unknown["tier_first"].tolist() == [True]
    assert got.decode("known_income") == [False]


def test_an_evaluation_leaves_no_reference_cycles():
    """A batch evaluates chunk after chunk: cached arrays held by a cycle of levels would
    stay alive until Python's cycle collector ran (1.3-2.0 GiB at 1M households)."""
    import gc

    p = policy("policy")
    raws = yaml.safe_load((ROOT / "examples/households.yaml").read_text(encoding="utf-8"))
    frame, _ = frame_of(p, None, "household", raws)
    cp = ColumnarProgram(p.program())
    for why in (True, "rows", False):
        cp.evaluate(frame, DAYS[0], why=why)  # first use fills the program's own caches
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        for why in (True, "rows", False):
            cp.evaluate(frame, DAYS[0], why=why)
        assert gc.collect() == 0
    finally:
        if enabled:
            gc.enable()
