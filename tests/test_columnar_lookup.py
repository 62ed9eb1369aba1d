"""Decision tables looked up by classes of input values (engine/columnar/lookup.py) give
exactly what the general columnar path gives: values, undecided rows, facts waited on.

The general path (one mask per table row and cell) is itself held to the scalar
evaluator by tests/test_columnar.py; here the lookup is held to the general path on
larger random levels, where it is taken whenever a table's inputs are all known.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factsgen import facts
from fupin.engine.api import as_date, load_policy
from fupin.engine.batch import Job
from fupin.engine.batch.readers import table_chunk
from fupin.engine.columnar import lookup, tables
from fupin.engine.columnar.frame import from_records
from fupin.engine.columnar.program import ColumnarProgram
from fupin.engine.tools.generate import generate_households

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = int(os.environ.get("FUPIN_EXAMPLES", "40"))
DAYS = [as_date(d) for d in ("2020-06-30", "2016-06-30", "2015-01-01")]
CASES = [
    ("tests/fixtures/columnar", None, "household"),
    ("tests/fixtures/columnar", None, "member"),
    ("tests/fixtures/mini", None, "household"),
    ("policy", None, "household"),
    ("policy", "anhui-2020", "household"),
    ("benchmarks/small_policy", None, "household"),
]
_POLICIES: dict = {}


def _policy(path):
    if path not in _POLICIES:
        _POLICIES[path] = load_policy(ROOT / path)
    return _POLICIES[path]


def _pair(program, monkeypatch):
    """The program compiled with lookups, and without them (the general path)."""
    fast = ColumnarProgram(program)
    with monkeypatch.context() as m:
        m.setattr(lookup, "plan", lambda cc, table: None)
        general = ColumnarProgram(program)
    return fast, general


def _same(a, b):
    """Equal masks, values where decided, and facts. A row that is unknown or an error has
    no value (every output and ``decode`` mask it): a lookup may leave another number there
    than the general path. Fact-set ids are numbered in the order an evaluation interns
    sets (a lookup unites its inputs' facts in another order than the general path), so
    what is compared is what they stand for: known (0), untracked (negative), and each
    unknown row's facts."""
    for name in a.outputs:
        assert np.array_equal(a.unknown[name], b.unknown[name]), name
        assert np.array_equal(a.error[name], b.error[name]), name
        decided = ~(a.unknown[name] | a.error[name])
        assert np.array_equal(a.values[name][decided], b.values[name][decided]), name
        assert np.array_equal(np.sign(a.why[name]), np.sign(b.why[name])), name
        for i in np.flatnonzero(a.unknown[name]).tolist():
            assert a.facts(name, i) == b.facts(name, i), (name, i)


@pytest.mark.parametrize("path,variant,entity", CASES, ids=[f"{c[0]}:{c[1] or 'base'}:{c[2]}" for c in CASES])
def test_lookup_agrees_with_the_general_path(path, variant, entity, monkeypatch):
    p = _policy(path)
    program = p.program(variant)
    fast, general = _pair(program, monkeypatch)
    checker = p.facts_checker(variant)

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.lists(facts(program.checked, entity), min_size=1, max_size=12), st.sampled_from(DAYS))
    def check(raws, on):
        records = [r for r in (checker.validate({**raw, "id": f"r{i}"}, entity)[0] for i, raw in enumerate(raws))
                   if r is not None]
        frame = from_records(program.checked, entity, records)
        if frame.n:
            for why in (True, False):
                _same(fast.evaluate(frame, on, why=why), general.evaluate(frame, on, why=why))

    check()


def test_clean_households_take_the_lookup_for_every_table(monkeypatch):
    """On data with no unknown, the benchmark ruleset's three tables are all looked up,
    and agree with the general path."""
    p = _policy("benchmarks/small_policy")
    program = p.program()
    job = Job(p)
    checked = job.validator.validate(table_chunk(job.layout, generate_households(3000, 5, fields="contract"), 0).level)
    assert not checked.bad.any()
    frame = checked.frame
    fast, general = _pair(program, monkeypatch)
    taken = []
    real = tables._picked
    monkeypatch.setattr(tables, "_picked", lambda *a: taken.append(1) or real(*a))
    on = as_date("2020-06-30")
    _same(fast.evaluate(frame, on, why=False), general.evaluate(frame, on, why=False))
    assert len(taken) == 3


def test_numeric_classes_split_at_every_constant():
    cuts = [-5, 0, 1, 10]
    reps = lookup._representatives(cuts)
    # below, -5, gap, 0, (empty gap: 0 and 1 are consecutive), 1, gap, 10, above
    assert reps.tolist() == [-6, -5, -1, 0, 1, 1, 9, 10, 11]
    classes = lookup._Classes(reps, np.array(cuts, dtype=np.int64), None)
    values = np.array([-100, -6, -5, -4, -1, 0, 1, 2, 9, 10, 11, 10 ** 15], dtype=np.int64)
    got = classes.of(values).tolist()
    assert got == [0, 0, 1, 2, 2, 3, 5, 6, 6, 7, 8, 8]
    assert classes.of(reps).tolist() == [0, 1, 2, 3, 5, 5, 6, 7, 8]  # the empty class has no value
    edge = lookup._representatives([np.iinfo(np.int64).min, np.iinfo(np.int64).max])
    assert edge.dtype == np.int64 and len(edge) == 5


def test_tables_with_unknown_inputs_take_the_lookup(monkeypatch):
    """Where facts are missing, the pack's tables with constant outputs are looked up
    with an unknown class per input (lookup.Outcomes), and agree with the general path,
    facts of unknowns included."""
    p = _policy("policy")
    program = p.program()
    job = Job(p)
    households = generate_households(2000, 7, unknown_rate=0.3)
    frame = job.validator.validate(table_chunk(job.layout, households, 0).level).frame
    fast, general = _pair(program, monkeypatch)
    taken = []
    real = lookup.Outcomes.value
    monkeypatch.setattr(lookup.Outcomes, "value", lambda self, *a: taken.append(1) or real(self, *a))
    on = as_date("2020-06-30")
    for why in (True, False):
        _same(fast.evaluate(frame, on, why=why, exact=False), general.evaluate(frame, on, why=why, exact=False))
    assert taken
