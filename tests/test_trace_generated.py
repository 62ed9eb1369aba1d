"""The traced generated code (engine/scalar/tracegen.py) records the traced closures' events.

For every record: ``Program.evaluate(trace=True, generated=True)`` and the reference,
``generated=False`` (the traced closures), give equal ``recorder.log`` lists (event for
event, item for item), the same ``fupin.trace/1`` JSON text, and the same values,
unknowns, possible values and errors (code, place, text). On generated households of the
benchmark's small ruleset and of the whole pack (its variants, three dates: parameter
changes, a date before some parameters start), facts missing at several rates, every
output and one output alone; on the fixtures that raise errors (bounds: E720; tables
with no row, several rows); and on random facts (hypothesis, tests/factsgen.py). The
tests also check that the generated code did record (not only handed everything to
the closures), and a planted bug in the generator must be caught. FUPIN_EXAMPLES raises
the number of random examples.
"""
from __future__ import annotations

import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factsgen import facts
from genagree import CONTRACT, outcome, policy, typed
from fupin.engine.api import as_date
from fupin.engine.reports.jsonout import dumps
from fupin.engine.scalar import tracegen
from fupin.engine.scalar.program import Program
from fupin.engine.tools.generate import generate_households, records

EXAMPLES = int(os.environ.get("FUPIN_EXAMPLES", "25"))
DAYS = [as_date(d) for d in ("2020-06-30", "2016-06-30", "2015-01-01")]
BIG = 10 ** 15
HOSTILE = {  # facts at the bounds (as tests/test_columnar.py's): E720 in sums and products
    "tests/fixtures/bounds": [
        {"income": BIG, "bonus": 1, "size": 2, "count": BIG, "share": "0.00000000000000000001", "area": BIG,
         "members": [{"pay": BIG}, {"pay": BIG}]},
        {"income": -BIG, "bonus": -BIG, "size": -BIG, "count": -BIG, "share": "-1e-20", "area": "-1e-20",
         "members": [{"pay": -BIG}]},
        {"income": "999999999999999.99", "bonus": "0.01", "size": 1, "count": 1, "share": 1, "area": "1e15"},
        {"income": 1, "size": 10 ** 13, "count": 100, "share": "1e-20", "area": "1e-10",
         "members": [{"pay": BIG}] * 3},
    ],
}


def codegen_records() -> list:
    """Households of tests/fixtures/codegen with every fact (bonus_level absent in some):
    the generated code records them all, its tables' rows and cells, the absent value."""
    statuses, stages = ("poor", "exited", "ordinary"), ("none", "high", "college")
    out = []
    for n in range(36):
        members = [{"stage": stages[(n + k) % 3], "enrolled": (n + k) % 2 == 0, "pay": str(900 * ((n + k) % 5))}
                   for k in range(n % 4)]
        item = {"status": statuses[n % 3], "registered": n % 2 == 0, "risk": n % 5 == 0,
                "income": str(1500 * (n % 7)), "members": members}
        if n % 3:
            item["bonus_level"] = n % 4
        out.append(item)
    return out


def assert_traces_agree(program, entity: str, on, items, outputs=None, exact: bool = True) -> None:
    """The traced generated code records what the traced closures record, for each record."""
    for i, item in enumerate(items):
        want = program.evaluate(item, on, entity, outputs=outputs, trace=True, generated=False, exact=exact)
        got = program.evaluate(item, on, entity, outputs=outputs, trace=True, generated=True, exact=exact)
        if want.trace.log != got.trace.log:
            at = next((n for n, (a, b) in enumerate(zip(want.trace.log, got.trace.log)) if a != b),
                      min(len(want.trace.log), len(got.trace.log)))
            raise AssertionError(f"traced generated code differs on {on}, record {i}, at log item {at}: "
                                 f"{want.trace.log[max(0, at - 3):at + 3]} != {got.trace.log[max(0, at - 3):at + 3]}")
        assert outcome(want) == outcome(got), f"traced generated code differs on {on}, record {i}"
        if i % 4 == 0:  # built and written (equal logs build equal traces: a sample is enough)
            assert dumps(want.trace) == dumps(got.trace), f"traced generated code differs on {on}, record {i}"


def recorded(program, on) -> int:
    """How many traced evaluations on ``on`` the generated code recorded itself."""
    return program.traced_counts.get(on, [0, 0, 0])[0]


@pytest.mark.parametrize("rate", [0.0, 0.05, 0.3])
def test_small_ruleset_households(rate):
    p = policy("benchmarks/small_policy")
    program = Program(p.program().checked)
    items = typed(p, records(generate_households(120, seed=21, fields="contract", unknown_rate=rate)))
    for on in DAYS:
        assert_traces_agree(program, "household", on, items)
        assert_traces_agree(program, "household", on, items[:20], outputs=["monitoring_measure"])
        assert_traces_agree(program, "household", on, items[:20], exact=False)  # unknown outputs left unsettled
    # every household recorded by the generated code (unknowns included: none of this
    # ruleset's tables tests a rule's unknown value in a cell)
    assert recorded(program, DAYS[0]) == len(items) + 20 + 20
    assert program.traced_counts[DAYS[0]][1] == 0


@pytest.mark.parametrize("variant", [None, "anhui-2020", "yunnan-2016"])
def test_the_pack_households(variant):
    p = policy("policy")
    program = Program(p.program(variant).checked)
    for rate in (0.0, 0.1):
        items = typed(p, records(generate_households(40, seed=22, fields="pack", unknown_rate=rate)),
                      variant=variant)
        for on in DAYS[:2]:
            assert_traces_agree(program, "household", on, items)
            assert_traces_agree(program, "household", on, items, outputs=CONTRACT)
    assert recorded(program, DAYS[0]) > 0


def test_an_entity_the_generated_code_leaves_is_recorded_again_by_the_closures(monkeypatch):
    """The way out (Missing: the whole entity to the traced closures, from a fresh
    recorder), taken here at every missing fact the code reads."""
    def missing_at_a_missing_fact(self, node, env, ind):
        out = ORIGINAL["x_TField"](self, node, env, ind)
        if not node.has_absent:
            self.known(out, ind)
        return out

    monkeypatch.setattr(tracegen.TracedWriter, "x_TField", missing_at_a_missing_fact)
    p = policy("benchmarks/small_policy")
    program = Program(p.program().checked)
    items = typed(p, records(generate_households(60, seed=24, fields="contract", unknown_rate=0.1)))
    assert_traces_agree(program, "household", DAYS[0], items)
    assert_traces_agree(program, "household", DAYS[0], items, exact=False)
    assert recorded(program, DAYS[0]) > 0 and program.traced_counts[DAYS[0]][1] > 0


def test_errors_at_the_bounds_are_recorded_as_the_closures_record_them():
    p = policy("tests/fixtures/bounds")
    program = Program(p.program().checked)
    items = typed(p, HOSTILE["tests/fixtures/bounds"])
    for on in DAYS[:2]:
        assert_traces_agree(program, "household", on, items)
    errors = [program.evaluate(i, DAYS[0], "household", trace=True, generated=True).errors for i in items]
    assert any(errors) and recorded(program, DAYS[0]) > 0


def test_complete_records_of_the_codegen_fixture():
    p = policy("tests/fixtures/codegen")
    program = Program(p.program().checked)
    items = typed(p, codegen_records())
    for on in DAYS:
        assert_traces_agree(program, "household", on, items)
    assert recorded(program, DAYS[0]) > len(items) // 2


@pytest.mark.parametrize("path", ["benchmarks/small_policy", "tests/fixtures/codegen", "tests/fixtures/columnar",
                                  "tests/fixtures/bounds", "policy"])
def test_random_facts(path):
    p = policy(path)
    program = Program(p.program().checked)
    entity = program.checked.default_entity or "household"

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.lists(facts(program.checked, entity), min_size=1, max_size=3), st.sampled_from(DAYS))
    def check(raws, on):
        assert_traces_agree(program, entity, on, typed(p, raws, entity))

    check()


def test_the_traced_code_is_made_once_per_date_and_lazily():
    p = policy("benchmarks/small_policy")
    program = Program(p.program().checked)
    item = typed(p, records(generate_households(1, seed=3, fields="contract")))[0]
    program.evaluate(item, DAYS[0], "household", trace=True)
    assert DAYS[0] not in program.traced_counts  # the first traced evaluation: the closures
    first = program.traced_generated_on(DAYS[0])
    assert program.traced_generated_on(DAYS[0]) is first
    assert "def t_monitoring_tier(e, L):" in first.source
    again = Program(p.program().checked).traced_generated_on(DAYS[0])
    assert again.source == first.source  # the same text each time


# --- a planted bug in the generator must be caught

ORIGINAL = {name: getattr(tracegen.TracedWriter, name) for name in ("x_TCompare", "x_TAgg", "table", "ret", "x_TField")}


def _compare_values_swapped(self, node, env, ind):
    out = ORIGINAL["x_TCompare"](self, node, env, ind)
    # its operands told the other way round
    self.lines[-1] = re.sub(r", (cv\d+), (OPS\d+)", r", \1[::-1], \2", self.lines[-1])
    return out


def _aggregate_read_first(self, node, env, ind):
    mark = len(self.lines)
    out = ORIGINAL["x_TAgg"](self, node, env, ind)
    read = self.lines.pop()  # the aggregate's READ told before the reads of its children
    self.lines.insert(mark, read.replace(out, "None"))
    return out


def _unique_as_first(self, rule, ind):
    table = rule.table
    hit = table.hit
    table.hit = "first" if hit == "unique" else hit
    try:
        ORIGINAL["table"](self, rule, ind)
    finally:
        table.hit = hit


def _exit_before_cache_with_no_value(self, value, ind):
    ORIGINAL["ret"](self, value, ind)
    self.lines[-3] = self.lines[-3].replace(f"(EXIT, {value}, None)", "(EXIT, None, None)")


def _absent_not_told(self, node, env, ind):
    out = ORIGINAL["x_TField"](self, node, env, ind)
    for n in range(len(self.lines) - 1, -1, -1):
        if ", True, False)" in self.lines[n] and "READ" in self.lines[n]:
            self.lines[n] = self.lines[n].replace(", True, False)", ", False, False)")
            break
    return out


PLANTED = [("x_TCompare", _compare_values_swapped), ("x_TAgg", _aggregate_read_first),
           ("table", _unique_as_first), ("ret", _exit_before_cache_with_no_value), ("x_TField", _absent_not_told)]


@pytest.mark.parametrize("method,bug", PLANTED, ids=[p[0] for p in PLANTED])
def test_a_planted_bug_in_the_generator_is_caught(monkeypatch, method, bug):
    monkeypatch.setattr(tracegen.TracedWriter, method, bug)
    with pytest.raises(AssertionError, match="traced generated code differs"):
        small = policy("benchmarks/small_policy")
        assert_traces_agree(Program(small.program().checked), "household", DAYS[0],
                            typed(small, records(generate_households(60, seed=23, fields="contract"))))
        fixture = policy("tests/fixtures/codegen")
        assert_traces_agree(Program(fixture.program().checked), "household", DAYS[0],
                            typed(fixture, codegen_records()))
