"""The generated scalar code (engine/scalar/codegen.py) = the closure evaluator.

tests/test_columnar.py runs tests/genagree.py on every random, hostile and example
record it checks; here: generated households of the pack, a planted bug in the
generator that those checks must catch, the fallback to the closures at an unknown,
and ``fupin compile --emit-python``. FUPIN_EXAMPLES raises the number of examples.
"""
from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factsgen import facts
from genagree import CONTRACT, assert_generated_agrees, policy, typed
from fupin.cli.main import main
from fupin.engine.api import as_date
from fupin.engine.scalar import codegen, program as scalar_program
from fupin.engine.scalar.program import Program
from fupin.engine.tools.generate import generate_households, records

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = int(os.environ.get("FUPIN_EXAMPLES", "40"))
DAYS = [as_date(d) for d in ("2020-06-30", "2016-06-30", "2015-01-01")]
@pytest.mark.parametrize("path,fields", [("benchmarks/small_policy", "contract"), ("policy", "pack")])
def test_generated_households_agree(path, fields):
    """Realistic households, 2% of facts missing: the fallback and the fast path both run."""
    p = policy(path)
    raws = records(generate_households(300, seed=5, fields=fields, unknown_rate=0.02))
    for on in DAYS[:2]:
        assert_generated_agrees(p.program(), "household", on, typed(p, raws))


def test_the_pack_contract_outputs_agree_on_3000_households():
    p = policy("policy")
    facts_ = typed(p, records(generate_households(3000, seed=7, unknown_rate=0.02)))
    assert_generated_agrees(p.program(), "household", DAYS[0], facts_, outputs=CONTRACT)


# --- a planted bug must be caught by the agreement checks

ORIGINAL = {name: getattr(codegen.Writer, name) for name in ("compare", "grouped")}


def _compare_off_by_one(self, op, left, right):
    return ORIGINAL["compare"](self, "<=" if op == "<" else op, left, right)


def _sum_without_bound(self, node, out, body):
    pass  # forgets the E720 bound of the total


def _or_as_and(self, node, env, ind):
    return self.logic(node.items, env, ind, "if {}:")


def _unique_as_first(self, rule, table, values):
    self.hit_first(rule, table, values)  # never looks for a second matching row (E809)


def _groups_without_other_rows(self, table, values, n, accepted):
    # each value's group forgets the rows whose cell on the split input is not a literal
    ORIGINAL["grouped"](self, table, values, n, [a or () for a in accepted])


PLANTED = [
    ("compare", _compare_off_by_one),
    ("_sum_bound", _sum_without_bound),
    ("x_TOr", _or_as_and),
    ("hit_unique", _unique_as_first),
    ("grouped", _groups_without_other_rows),
]


@pytest.mark.parametrize("method,bug", PLANTED, ids=[p[0] for p in PLANTED])
def test_a_planted_bug_in_the_generator_is_caught(monkeypatch, method, bug):
    monkeypatch.setattr(codegen.Writer, method, bug)
    if method == "grouped":  # the tables it writes are decision trees unless those are off
        monkeypatch.setattr(codegen.Writer, "lookup", lambda *a, **k: None)
    with pytest.raises(AssertionError, match="generated code differs"):
        for path in ("tests/fixtures/columnar", "tests/fixtures/bounds"):
            p = policy(path)
            fresh = Program(p.program().checked)  # generates its code anew, with the bug
            _random_agreement(fresh, p, "household")
            from test_columnar import HOSTILE_ROWS

            for on in DAYS[:2]:
                assert_generated_agrees(fresh, "household", on, typed(p, HOSTILE_ROWS[path]))


def _random_agreement(program, p, entity):
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.lists(facts(program.checked, entity), min_size=1, max_size=4), st.sampled_from(DAYS))
    def check(raws, on):
        assert_generated_agrees(program, entity, on, typed(p, raws, entity))

    check()


# --- the fast path, the fallback, the default

def test_an_unknown_fact_falls_back_to_the_closures_with_the_same_unknown():
    p = policy("benchmarks/small_policy")
    full = typed(p, records(generate_households(1, seed=1, fields="contract")))[0]
    partial = {k: v for k, v in full.items() if k != "income_per_capita"}
    got = p.program().evaluate(partial, DAYS[0], "household", outputs=["exit_eligible", "guarantees_met"])
    assert got.values["guarantees_met"] == p.program().evaluate(full, DAYS[0], "household").values["guarantees_met"]
    if full["status"] == "poor" and got.values["exit_eligible"] is None:
        assert got.unknown["exit_eligible"] == ["income_per_capita"]


def test_generated_code_is_the_default_from_the_nth_untraced_evaluation_of_a_date(monkeypatch):
    p = policy("benchmarks/small_policy")
    household = typed(p, records(generate_households(1, seed=2, fields="contract")))[0]
    made = []
    plain = codegen.generate  # scalar/program.py imports it when a date is first generated
    monkeypatch.setattr(codegen, "generate", lambda *a: made.append(a[1]) or plain(*a))
    program = Program(p.program().checked)
    first = program.evaluate(household, DAYS[0], "household")
    for _ in range(scalar_program.GENERATE_AFTER + 1):
        program.evaluate(household, DAYS[0], "household")  # generated once, at the n-th
        program.evaluate(household, DAYS[1], "household", trace=True)  # traced: the closures alone
        program.evaluate(household, DAYS[2], "household", generated=False)
    assert made == [DAYS[0]]
    assert program.evaluate(household, DAYS[0], "household").values == first.values
    program.evaluate(household, DAYS[1], "household", generated=True)  # asked for: at once
    assert made == [DAYS[0], DAYS[1]]


# --- fupin compile --emit-python

def test_compile_emits_one_function_per_rule_with_its_citation():
    result = CliRunner().invoke(main, ["compile", str(ROOT / "benchmarks/small_policy"), "--emit-python",
                                       "--on", "2020-06-30"], catch_exceptions=False)
    assert result.exit_code == 0
    source = result.output
    tree = ast.parse(source)
    functions = {f.name for f in tree.body if isinstance(f, ast.FunctionDef)}
    checked = policy("benchmarks/small_policy").program().checked
    assert {f"rule_{name}" for name in checked.rules} <= functions
    assert "# exit_eligible — 未脱贫户达到退出标准" in source
    assert "# source: 002:189-191 (" in source
    assert "P_exit_income_line = Decimal('4000')" in source


def test_emitted_python_is_the_same_text_in_every_process():
    """Sets of values print sorted: a set's repr follows string hashing, which each
    process seeds differently, and a dump read for review should not change by itself."""
    import subprocess
    import sys

    texts = set()
    for seed in ("1", "2", "3"):
        out = subprocess.run([sys.executable, "-m", "fupin.cli", "compile", str(ROOT / "policy"), "--emit-python"],
                             capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": seed})
        texts.add(out.stdout)
    assert len(texts) == 1 and "frozenset({'edge', 'exited', 'monitored'})" in texts.pop()


def test_compile_reports_a_bad_variant():
    result = CliRunner().invoke(main, ["compile", str(ROOT / "benchmarks/small_policy"), "--emit-python",
                                       "--variant", "nope"])
    assert result.exit_code == 1
