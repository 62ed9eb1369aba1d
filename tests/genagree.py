"""The generated scalar code agrees with the closure evaluator (engine/scalar/codegen.py).

``assert_generated_agrees`` evaluates each entity both ways, with and without exact
unknowns, and compares every output: value, unknown facts, possible values, and the
error's code, location and rendered text.
"""
from __future__ import annotations

from pathlib import Path

from fupin.engine.api import load_policy


def outcome(evaluation) -> dict:
    """Everything an evaluation says about each output, comparable with ``==``."""
    errors = {name: (d.code, str(d.span.file), d.span.line, d.span.col, d.message("en"))
              for name, d in evaluation.errors.items()}
    values = {name: (type(v).__name__, repr(v)) for name, v in evaluation.values.items()}
    return {"values": values, "unknown": evaluation.unknown, "errors": errors, "possible": evaluation.possible}


def assert_generated_agrees(program, entity: str, on, records, outputs=None) -> None:
    """Generated code = closures for every record (validated facts) on ``on``."""
    for exact in (False, True):
        for i, facts in enumerate(records):
            want = outcome(program.evaluate(facts, on, entity, outputs=outputs, exact=exact, generated=False))
            got = outcome(program.evaluate(facts, on, entity, outputs=outputs, exact=exact, generated=True))
            if want != got:
                diff = {k: (want[k], got[k]) for k in want if want[k] != got[k]}
                raise AssertionError(f"generated code differs on {on} (exact={exact}), record {i}: {diff}; "
                                     f"facts {facts}")


# --- what the agreement tests of the generated code share (test_codegen.py, test_trace_generated.py)

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = ["guarantees_met", "exit_eligible", "monitoring_tier", "monitoring_measure", "education_aid_once",
            "public_welfare_job_subsidy_monthly"]
_POLICIES: dict = {}


def policy(path: str):
    """The policy at ``path`` (relative to the repository), loaded once per test run."""
    if path not in _POLICIES:
        _POLICIES[path] = load_policy(ROOT / path)
    return _POLICIES[path]


def typed(p, raws, entity="household", variant=None) -> list:
    """The valid ones of ``raws`` as typed facts (each given an id)."""
    checker = p.facts_checker(variant)
    out = []
    for i, raw in enumerate(raws):
        got, _ = checker.validate({"id": f"r{i}", **raw}, entity)
        if got is not None:
            out.append(got)
    return out
