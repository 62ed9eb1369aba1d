"""Lazy traces (issue 17): an evaluation with ``trace=True`` records events as tuples, and
the pydantic ``Trace`` is built only when read; the ``fupin.trace/1`` JSON is unchanged.

- goldens: the JSON text of generated households' traces, program level and through the
  API (deciding facts, enum labels, quotes; the decision record left out, it names the
  version), as sha256 digests, written by the eager builder before the change
  (``FUPIN_REGOLD=1`` rewrites them: read why first);
- hypothesis, random households of three rulesets (tests/factsgen.py): the traced
  evaluation gives the untraced one's values, unknowns and errors; a trace built late
  (after other evaluations) serialises as one built at once, and its data is what
  validating and dumping it gives; ``FUPIN_EXAMPLES`` raises the number of examples;
- the result's trace: a real ``Trace``, built once, pickled as one, its deciding facts
  those of the facts evaluated.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import pickle
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from factsgen import facts
from fupin import load_policy
from fupin.engine.reports.jsonout import dumps
from fupin.engine.reports.trace import Trace
from fupin.engine.tools.generate import generate_households, records

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "traces.json"
ON = dt.date(2020, 6, 30)
EXAMPLES = int(os.environ.get("FUPIN_EXAMPLES", "30"))
RULESETS = {"small": (ROOT / "benchmarks" / "small_policy", "contract"),
            "columnar": (ROOT / "tests" / "fixtures" / "columnar", None),
            "pack": (ROOT / "policy", "pack")}
_POLICIES: dict = {}


def policy(name: str):
    if name not in _POLICIES:
        _POLICIES[name] = load_policy(RULESETS[name][0])
    return _POLICIES[name]


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def api_text(trace) -> str:
    """An API trace's JSON without its decision record (which names the fupin version) and
    without the cited lines' quotes (there only where the installation has the documents,
    ../shared beside the repository: the same digests in a clone without them)."""
    data = trace.model_dump(mode="python", by_alias=True)
    data["record"] = None
    data["quotes"] = {}
    return dumps(data)


def small_households(n: int = 24) -> list:
    raws = records(generate_households(n, 11, fields="contract", unknown_rate=0.05))
    return [{**r, "id": f"g{i}"} for i, r in enumerate(raws)]


def golden_texts() -> dict:
    """case -> the JSON text (``program``: ``Program.evaluate(trace=True)``; ``api``:
    ``Policy.evaluate(trace=True)``, every output and one alone). Written against the
    public API only, so that the eager builder before the change wrote the goldens."""
    pol = policy("small")
    program, checker = pol.program(), pol.facts_checker()
    out = {}
    for i, raw in enumerate(small_households()):
        typed, _ = checker.validate(raw, "household")
        out[f"small/{i}/program"] = dumps(program.evaluate(typed, ON, "household", trace=True).trace)
        if i % 3 == 0:
            out[f"small/{i}/api"] = api_text(pol.evaluate(raw, on=ON, trace=True).trace)
            out[f"small/{i}/api_tier"] = api_text(pol.evaluate(raw, on=ON, trace=True, only=["monitoring_tier"]).trace)
    return out


def test_traces_are_the_eager_builders_byte_for_byte():
    got = {case: digest(text) for case, text in golden_texts().items()}
    if os.environ.get("FUPIN_REGOLD"):
        GOLDEN.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    assert got == json.loads(GOLDEN.read_text(encoding="utf-8"))


def _outcome(ev) -> tuple:
    return ev.values, ev.unknown, {k: d.code for k, d in ev.errors.items()}


def _check_lazy(name: str, raw: dict) -> None:
    pol = policy(name)
    entity = pol.entity()
    program, checker = pol.program(), pol.facts_checker()
    typed, _ = checker.validate(raw, entity)
    if typed is None:
        return
    on = pol.as_of(None)
    late = program.evaluate(typed, on, entity, trace=True)
    now = program.evaluate(typed, on, entity, trace=True)
    text_now = dumps(now.trace)  # built at once
    assert _outcome(late) == _outcome(now) == _outcome(program.evaluate(typed, on, entity, generated=False)) \
        == _outcome(program.evaluate(typed, on, entity, generated=True))
    program.evaluate(typed, on, entity, trace=True)  # other evaluations in between
    data = late.trace.data()
    assert Trace.model_validate(data).model_dump(mode="python", by_alias=True) == data
    assert dumps(late.trace) == text_now
    result = pol.evaluate(raw, on=on, trace=True)
    again = pol.evaluate(raw, on=on, trace=True)
    assert api_text(result.trace) == api_text(again.trace)


@pytest.mark.parametrize("name", sorted(RULESETS))
def test_a_trace_built_late_is_the_trace_built_at_once(name):
    checked = policy(name).program().checked

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(facts(checked, checked.default_entity or "household"))
    def check(raw):
        _check_lazy(name, raw)

    check()


def test_the_result_trace_is_a_trace_built_once_and_pickled_as_one():
    pol = policy("small")
    raw = small_households(1)[0]
    result = pol.evaluate(raw, on=ON, trace=True)
    trace = result.trace
    assert type(trace) is Trace and result.trace is trace
    assert trace.record["decision_id"] == result.record.decision_id
    back = pickle.loads(pickle.dumps(pol.program().evaluate(
        pol.facts_checker().validate(raw, "household")[0], ON, "household", trace=True).trace))
    assert type(back) is Trace and back.roots[0].rule == trace.roots[0].rule


def test_deciding_facts_are_those_of_the_facts_evaluated_whatever_happens_later():
    pol = policy("small")
    raw = small_households(1)[0]
    result = pol.evaluate(raw, on=ON, trace=True, only=["monitoring_tier"])
    want = api_text(pol.evaluate(raw, on=ON, trace=True, only=["monitoring_tier"]).trace)
    raw.clear()
    result.values["monitoring_tier"] = "something else"  # the result is the caller's
    assert api_text(result.trace) == want


def test_the_tree_of_a_trace_is_the_trace_without_what_explaining_adds():
    from fupin.engine.tools.cases import covered_items

    pol = policy("small")
    for raw in small_households(6):
        result = pol.evaluate(raw, on=ON, trace=True)
        tree = result.trace_tree()
        assert all(node.reasons is None for node in tree.roots) and tree.record is None
        full = pol.evaluate(raw, on=ON, trace=True).trace
        strip = {"reasons": True}
        assert [n.model_dump(exclude={"reasons"}) for n in tree.roots] == \
            [n.model_dump(exclude=strip) for n in full.roots]
        assert covered_items(tree) == covered_items(full)
        assert result.trace_tree() is not result.trace and result.trace_tree() is result.trace  # once read
