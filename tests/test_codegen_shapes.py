"""The code shapes the generator (engine/scalar/codegen.py) writes only under conditions,
each held equal to the closure evaluator on tests/fixtures/codegen:

- a parent's fact read once before a loop over the members' facts (``household.x`` in
  a member rule inlined in a sum, ``any`` or ``all``): with no member it is never
  needed, with a member that does not read it it is never unknown;
- a sum of money that skips adding the zero it starts from (exact digits kept);
- a table whose cells compare with constants as a dict lookup (one bool or enum input)
  or a decision tree (enum and bool values, numbers cut at their points), with
  combinations no row matches (E808) and, for an unproven ``unique`` table, several rows
  that match (E809), with the closures' location and text;
- facts read by subscript (``f['x']``): an absent fact raises KeyError, taken for an
  unknown; a fact present as None (facts not through the validator) is unknown too;
- consecutive outputs that sum over the same members in one loop, each sum's own code
  deciding all of them when that loop meets an unknown or an error;
- an output another output reads, written out in the outputs function and cached;
- a sum's term ``如果 c 则 x 否则 0`` whose zero is the total's start written
  ``if c: total += x`` (a zero with other digits, ``0.00元``, still added).

Planted bugs in the tree, the sum, the reads and the shared loop must be caught by the
same checks.

FUPIN_EXAMPLES raises the number of random examples.
"""
from __future__ import annotations

import ast
import datetime as dt
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factsgen import facts
from genagree import assert_generated_agrees, outcome
from fupin.engine.api import load_policy
from fupin.engine.core import cells
from fupin.engine.scalar import codegen
from fupin.engine.scalar.program import Evaluation, Program

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests/fixtures/codegen"
EXAMPLES = int(os.environ.get("FUPIN_EXAMPLES", "60"))
ON = dt.date(2020, 6, 30)
_LOADED: list = []


def policy():
    if not _LOADED:
        _LOADED.append(load_policy(FIXTURE))
    return _LOADED[0]


def validated(raw: dict) -> dict:
    got, diags = policy().facts_checker().validate({"id": "h", **raw}, "household")
    assert got is not None, diags
    return got


def student(stage="high", enrolled=True, pay="0"):
    return {"stage": stage, "enrolled": enrolled, "pay": pay}


# (label, household facts, expected: output -> value, or ("unknown", facts), or ("error", code))
CASES = [
    ("no member, parent fact missing: never read",
     {"members": []},
     {"aid_total": Decimal(0), "any_registered_student": False, "all_registered_students": True,
      "table_total": Decimal(0), "bonus_total": 0}),
    ("a member that does not read the missing parent fact",
     {"members": [student("none", enrolled=False)]},
     {"aid_total": Decimal(0), "all_registered_students": True, "table_total": Decimal(0)}),
    ("a member that reads the missing parent fact",
     {"members": [student("none", enrolled=True)]},
     {"aid_total": ("unknown", ["registered"]), "all_registered_students": ("unknown", ["registered"]),
      "any_registered_student": ("unknown", ["registered"])}),
    ("the parent fact known",
     {"registered": True, "members": [student("high"), student("college"), student("none", enrolled=False)]},
     {"aid_total": Decimal(200), "any_registered_student": True, "all_registered_students": True,
      "table_total": Decimal(1100)}),
    ("a parent fact with a value when absent",
     {"registered": False, "members": [student(), student()]},
     {"bonus_total": 0, "aid_total": Decimal(0), "all_registered_students": False}),
    ("a parent fact given, read for every member",
     {"registered": False, "bonus_level": 2, "members": [student(), student(enrolled=False), student()]},
     {"bonus_total": 4}),
    ("a sum keeps the digits of its terms",
     {"registered": True, "members": [student(pay="12.50"), student(pay="3", enrolled=False), student(pay="0.00")]},
     {"pay_total": Decimal("12.50")}),
    ("a sum of zeros written with cents",
     {"registered": True, "members": [student(pay="0.00")]},
     {"pay_total": Decimal("0.00")}),
    ("a member table's unmatched combination (decision tree)",
     {"registered": True, "members": [student("none"), student("high", enrolled=False)]},
     {"table_total": ("error", "E808")}),
    ("another branch of the tree unmatched",
     {"registered": True, "members": [student("college", enrolled=False)]},
     {"table_total": ("error", "E808")}),
    ("a one-input table's unmatched value (lookup)",
     {"status": "ordinary", "risk": False, "registered": True},
     {"status_word": ("error", "E808"), "status_risk": 3}),
    ("a several-input table's unmatched combination",
     {"status": "exited", "risk": True, "registered": False},
     {"status_word": 2, "status_risk": ("error", "E808")}),
    ("a negated cell that does not hold",
     {"status": "exited", "risk": False, "registered": False},
     {"status_risk": ("error", "E808")}),
    ("an interval's lower point", {"income": "5000", "risk": False}, {"income_band": 2}),
    ("just below it", {"income": "4999.99", "risk": True}, {"income_band": 1}),
    ("an interval's upper point", {"income": "100000", "risk": True}, {"income_band": 3}),
    ("beyond the declared domain, one row", {"income": "100000.01", "risk": False}, {"income_band": 4}),
    ("beyond the declared domain, two rows (unique)", {"income": "200000", "risk": True},
     {"income_band": ("error", "E809")}),
    ("a several-input table's first matching row",
     {"status": "poor", "risk": True, "registered": True},
     {"status_word": 1, "status_risk": 1, "status_twice": 2}),
    ("an output read by another output, in error for both",
     {"status": "ordinary"},
     {"status_word": ("error", "E808"), "status_twice": ("error", "E808")}),
    ("one of the sums sharing a loop unknown: the others from their own code",
     {"registered": True, "bonus_level": 1, "members": [{"stage": "high", "enrolled": True}, student("college")]},
     {"aid_total": Decimal(200), "pay_total": ("unknown", ["members[0].pay"]), "bonus_total": 2,
      "table_total": Decimal(1100)}),
    ("a term's zero with cents is added, the start's zero is not",
     {"registered": True, "members": [student(enrolled=False), student(enrolled=False)]},
     {"cents_total": Decimal("0.00"), "aid_total": Decimal(0), "bonus_total": 0}),
    ("the sums sharing a loop, all known",
     {"registered": True, "bonus_level": 3, "members": [student(pay="7.25"), student(enrolled=False, pay="1")]},
     {"aid_total": Decimal(100), "pay_total": Decimal("7.25"), "bonus_total": 3}),
]

# Facts that did not go through the validator: a fact present as None is unknown, as an
# absent one is (a subscript read finds None and raises Missing, as ``.get`` did).
NONE_FACTS = [
    {"id": "n0", "status": "poor", "registered": None, "risk": False, "income": Decimal(10)},
    {"id": "n1", "status": None, "registered": None, "risk": True, "income": None,
     "members": [{"stage": "high", "enrolled": None, "pay": None}]},
    {"id": "n2", "status": "poor", "registered": True, "risk": None, "income": Decimal(10),
     "members": [{"stage": None, "enrolled": True, "pay": Decimal(1)}, {"stage": "none", "enrolled": False}]},
    {"id": "n3", "status": "exited", "registered": False, "risk": False, "bonus_level": None, "members": None},
]


@pytest.mark.parametrize("raw,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_shape_gives_the_closures_results(raw, expected):
    program = Program(policy().program().checked)
    facts_ = validated(raw)
    assert_generated_agrees(program, "household", ON, [facts_])
    got = program.evaluate(facts_, ON, "household", generated=True, exact=False)
    for name, want in expected.items():
        if isinstance(want, tuple) and want[0] == "unknown":
            assert (got.values[name], got.unknown.get(name)) == (None, want[1]), name
        elif isinstance(want, tuple):
            assert got.errors[name].code == want[1], name
        else:
            assert (type(got.values[name]), repr(got.values[name])) == (type(want), repr(want)), name


def test_facts_given_as_none_are_unknown_as_absent_ones():
    program = Program(policy().program().checked)
    assert_generated_agrees(program, "household", ON, NONE_FACTS)
    got = program.evaluate(NONE_FACTS[1], ON, "household", generated=True, exact=False)
    assert (got.values["status_word"], got.unknown["status_word"]) == (None, ["status"])


def test_the_fast_path_sets_every_field_of_the_evaluation():
    """Program.evaluate's fast path stores the fields itself (no __init__): all of them."""
    program = Program(policy().program().checked)
    facts_ = validated({"status": "poor", "registered": True})
    slow = program.evaluate(facts_, ON, "household", generated=False)
    program.generated_on(ON)
    fast = program.evaluate(facts_, ON, "household", generated=True)
    assert {n: getattr(fast, n) for n in Evaluation.__slots__} == {n: getattr(slow, n) for n in Evaluation.__slots__}


def test_the_generated_code_has_each_shape():
    checked = policy().program().checked
    program = Program(checked)
    source = program.generated_on(ON).source
    tree = ast.parse(source)
    functions = {f.name for f in tree.body if isinstance(f, ast.FunctionDef)}
    assert {f"rule_{name}" for name in checked.rules} <= functions
    assert "v3 = f.get('registered')  # household.registered, read once for every child" in source
    assert "household.bonus_level, read once for every child" in source
    assert "# rows as a decision tree on 阶段, 建档, 在校 (every cell compares with constants)" in source
    assert "LOOKUP_status_word = {" in source and "    'exited': 2,  # row 2" in source
    assert "# rows as a decision tree on 状态, 风险, 建档" in source
    assert re.search(r"elif v\d+ <= 100000:  # 收入 in \[5000, 100000\]", source)
    assert re.search(r"raise several_rows\(RULE_\d+, \[3, 4\]\)", source)
    # the member loops read the parent's facts before the loop, never inside it
    loop = source[source.index("def rule_aid_total"):source.index("def rule_pay_total")]
    assert loop.count("f.get('registered')") == 1 and loop.index("f.get('registered')") < loop.index("for ")
    assert "f['members']  # sum(members: m_aid)" in loop and "f.get('members')" not in source
    # one loop for the three sums over members, then each sum's own code
    outputs = source[source.index("def outputs_household"):]
    assert "        # aid_total, pay_total, bonus_total: one loop over members for all" in outputs
    shared = outputs[outputs.index("one loop over members for all"):outputs.index("except (Missing, KeyError, EvalError)")]
    assert len(re.findall(r"\n +for c\d+ in ", shared)) == 1 and shared.count("f.get('registered')") == 1
    assert outputs.count("# pay_total: the code of rule_pay_total") == 1
    # a term whose else is the start's zero adds nothing then; one with 0.00元 is added
    aid = source[source.index("def rule_aid_total"):source.index("def rule_pay_total")]
    assert re.search(r"\n        if v\d+:  # else the zero the total starts from\n", aid)
    cents = source[source.index("def rule_cents_total"):]
    assert "else the zero the total starts from" not in cents[:cents.index("return")]
    # an output another one reads: written out, kept in the cache and in a local that the
    # later output reads (computed again if None); no earlier output reads it: no cache look-up
    assert "        s_status_word = None\n        # status_word: the code of rule_status_word" in outputs
    assert "c.get('status_word')" not in outputs
    assert "        if s_status_word is None:\n            s_status_word = c['status_word'] = rule_status_word(e)\n" \
        in outputs


def test_the_shapes_agree_with_the_closures_on_random_households():
    p = policy()
    program = Program(p.program().checked)
    checker = p.facts_checker()

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.lists(facts(program.checked, "household"), min_size=1, max_size=4))
    def check(raws):
        records = []
        for i, raw in enumerate(raws):
            got, _ = checker.validate({"id": f"r{i}", **raw}, "household")
            if got is not None:
                records.append(got)
        assert_generated_agrees(program, "household", ON, records)

    check()


def test_the_outcome_compares_digits():
    """The agreement check sees a sum's exponent (what skipping a zero must keep)."""
    program = Program(policy().program().checked)
    a = program.evaluate(validated({"members": [student(pay="0.00")]}), ON, "household", generated=False)
    b = program.evaluate(validated({"members": [student(pay="0")]}), ON, "household", generated=False)
    assert outcome(a)["values"]["pay_total"] != outcome(b)["values"]["pay_total"]


# --- a planted bug in a new shape must be caught by the checks above

ORIGINAL = {"accepts": codegen._accepts, "sum_add": codegen.Writer._sum_add, "lookup": codegen.Writer.lookup,
            "rep": codegen._Axis.rep, "x_TField": codegen.Writer.x_TField, "fused_sums": codegen.Writer.fused_sums,
            "x_TRule": codegen.Writer.x_TRule}


def _negation_ignored(cell, value, params):
    return True if isinstance(cell, cells.Negated) else ORIGINAL["accepts"](cell, value, params)


def _unique_as_first(self, rule, table, values, ind, unique=False):
    return ORIGINAL["lookup"](self, rule, table, values, ind)  # never looks for a second matching row (E809)


def _boundary_moved(axis, region):
    # an open interval's value taken at the point below it: ``< 5000`` then holds at 5000
    return ORIGINAL["rep"](axis, region - 1 if not axis.discrete and region % 2 == 0 and region > 0 else region)


def _falsy_skipped(self, node, out, value, body):
    if node.type.kind == "integer":
        return ORIGINAL["sum_add"](self, node, out, value, body)
    self.line(body, f"if {value}:")  # skips Decimal('0.00') too: its digits are lost
    self.line(body + 1, f"{out} += {value}")


def _none_taken_for_a_value(self, node, env, ind):
    # a subscript read without its None test: a fact given as None goes on as a value
    facts = env.facts if isinstance(env, codegen.Raw) else self.facts_of(env)
    return self.assign(ind, self.read(facts, node.name)) if not node.has_absent else ORIGINAL["x_TField"](self, node, env, ind)


def _held_taken_as_known(self, node, env, ind):
    # an earlier output's local read without its None test: its error becomes a value
    held = self._held.get(node.name) if env == "e" and self._cache_local else None
    return held if held is not None else ORIGINAL["x_TRule"](self, node, env, ind)


def _any_zero_as_start(node, value):
    # a zero literal taken for the total's start whatever its digits: 0.00元 is skipped
    return isinstance(value, codegen.t.TLit) and not isinstance(value.value, bool) and value.value == 0


def _totals_swapped(self, names):
    # the shared loop's totals stored under each other's names
    at = len(self.lines)
    ORIGINAL["fused_sums"](self, names)
    stores = [i for i in range(at, len(self.lines)) if self.lines[i].startswith("        values[")]
    texts = [self.lines[i] for i in stores]
    for i, text in zip(stores, texts[1:] + texts[:1]):
        self.lines[i] = text.split(" = ")[0] + " = " + self.lines[i].split(" = ")[1]


@pytest.mark.parametrize("target,bug", [(codegen, ("_accepts", _negation_ignored)),
                                        (codegen.Writer, ("lookup", _unique_as_first)),
                                        (codegen._Axis, ("rep", _boundary_moved)),
                                        (codegen.Writer, ("_sum_add", _falsy_skipped)),
                                        (codegen.Writer, ("x_TField", _none_taken_for_a_value)),
                                        (codegen.Writer, ("fused_sums", _totals_swapped)),
                                        (codegen.Writer, ("x_TRule", _held_taken_as_known)),
                                        (codegen.Writer, ("_start_zero", staticmethod(_any_zero_as_start)))],
                         ids=["negation", "unique", "boundary", "sum", "none-read", "shared-loop", "held",
                              "zero-term"])
def test_a_planted_bug_in_a_shape_is_caught(monkeypatch, target, bug):
    monkeypatch.setattr(target, *bug)
    program = Program(policy().program().checked)  # generates its code anew, with the bug
    # (the held value's bug computes None * 2: a TypeError where the closures give E808)
    with pytest.raises((AssertionError, TypeError), match="generated code differs|NoneType"):
        assert_generated_agrees(program, "household", ON, [validated(c[1]) for c in CASES] + NONE_FACTS)
