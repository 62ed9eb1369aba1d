"""The deciding facts (engine/reports/reasons.py): the reasons alone keep an output's
value, and none of them can go. Checked here through the public API on generated
households (FUPIN_FUZZ_EXAMPLES for a longer run)."""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from fupin.dsl.errors import FupinError
from fupin.engine.reports.reasons import fact_paths, fields_read, without
from fupin.engine.tools.generate import generate_households, records

OUTPUTS = ["monitoring_tier", "exit_eligible", "guarantees_met", "education_aid_once"]


def _value(pack, facts, output):
    r = pack.evaluate(facts, only=[output])
    return None if output in r.unknown or output in r.errors else ("value", r.values[output])


@settings(max_examples=int(os.environ.get("FUPIN_FUZZ_EXAMPLES", 10)), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), index=st.integers(0, 29), output=st.sampled_from(OUTPUTS))
def test_the_reasons_alone_decide_and_none_can_go(pack, seed, index, output):
    facts = records(generate_households(30, seed=seed))[index]
    try:
        result = pack.evaluate(facts, only=[output], trace=True)
    except FupinError:
        return  # facts the generator made invalid on purpose
    node = result.trace.roots[0]
    if node.reasons is None:
        return  # unknown or an error: no reasons
    checked = pack.program().checked
    read = [p for p, _ in fact_paths(checked, "household", facts, fields_read(checked, output))]
    kept = {r.path for r in node.reasons}
    assert kept <= set(read)
    want = _value(pack, facts, output)
    alone = without(facts, [p for p in read if p not in kept])
    assert _value(pack, alone, output) == want  # sufficient
    for path in kept:  # and minimal: each one is needed
        assert _value(pack, without(alone, [path]), output) != want, path


@pytest.mark.parametrize("facts, output, reasons", [
    ({"id": "A", "status": "poor", "members": []}, "monitoring_tier", ["status"]),
    ({"id": "B", "status": "exited", "income_per_capita": 4000, "members": []}, "monitoring_tier",
     ["status", "income_per_capita"]),
])
def test_reasons_by_hand(pack, facts, output, reasons):
    node = pack.evaluate(facts, only=[output], trace=True).trace.roots[0]
    assert [r.path for r in node.reasons] == reasons
