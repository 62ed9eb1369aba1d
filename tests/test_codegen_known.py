"""The known-facts function of the generated code (engine/scalar/knowngen.py
``KnownWriter``) and the bound test of a sum of constants (codegen.py
``Writer._sum_bound``), held equal to the closure evaluator:

- ``known_<entity>(f)`` returns every output at once when every fact its code reads is
  known; at an unknown or an error it raises and the outputs function decides, so an
  entity with a missing fact, a fact given as None, an error (E808, E809, E720) or a
  fact read earlier than its output needs it (the facts read on every path are read at
  the top; a parent's fact before a member loop is tested there; a shared rule read on
  some paths only is computed at the top) still gets the closures' results; it is not
  written where it would need the instance or raise on every call;
- a sum whose terms are all constants compares its total with the bound only beyond
  the number of members that could reach it (tests/fixtures/sumbound: 4·10^14 a member,
  so from the second member on), and gives E720 where the closures do.

Planted bugs in each must be caught by the same agreement checks.
"""
from __future__ import annotations

import ast
import datetime as dt
import os
import re
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factsgen import facts as random_facts
from genagree import assert_generated_agrees, policy, typed
from fupin.engine.scalar import codegen, knowngen
from fupin.engine.scalar.generated import MISSING
from fupin.engine.scalar.program import Program
from fupin.engine.tools.generate import generate_households, records
from test_codegen_shapes import CASES, NONE_FACTS

ON = dt.date(2020, 6, 30)
EXAMPLES = int(os.environ.get("FUPIN_EXAMPLES", "25"))
SUMBOUND = "tests/fixtures/sumbound"


def big(n_big: int, n_small: int = 0, registered=True, grade="high") -> dict:
    members = [{"big": True, "grade": grade, "count": 1} for _ in range(n_big)]
    members += [{"big": False, "grade": "none", "count": 2} for _ in range(n_small)]
    return {"registered": registered, "members": members}


# (label, household facts of tests/fixtures/sumbound, expected: output -> value or ("error", code))
BOUND_CASES = [
    ("no member", big(0), {"big_total": Decimal(0), "graded_total": Decimal(0), "big_count": 0}),
    ("one member: below the bound, not compared", big(1),
     {"big_total": Decimal(4 * 10**14), "graded_total": Decimal(3 * 10**14), "big_count": 3 * 10**14}),
    ("two: compared, within", big(2),
     {"big_total": Decimal(8 * 10**14), "graded_total": Decimal(6 * 10**14), "big_count": 6 * 10**14}),
    ("three: beyond the bound", big(3),
     {"big_total": ("error", "E720"), "graded_total": Decimal(9 * 10**14), "big_count": 9 * 10**14}),
    ("four: every sum beyond", big(4),
     {"big_total": ("error", "E720"), "graded_total": ("error", "E720"), "big_count": ("error", "E720")}),
    ("three among zeros", big(3, 5), {"big_total": ("error", "E720"), "count_total": 13}),
    ("negative terms", big(12, grade="low"), {"graded_total": ("error", "E720")}),
    ("not registered: zeros", big(5, registered=False), {"big_total": Decimal(0), "all_big": True,
                                                         "registered_all_big": False}),
    ("registered, some not big", big(1, 1), {"all_big": False, "registered_all_big": False}),
    ("not registered, no sum in error", big(1, registered=False), {"all_big": True, "registered_all_big": False}),
]


def bound_records() -> list:
    return typed(policy(SUMBOUND), [c[1] for c in BOUND_CASES])


def small_records(unknown_rate: float) -> list:
    p = policy("benchmarks/small_policy")
    return typed(p, records(generate_households(200, seed=11, fields="contract", unknown_rate=unknown_rate)))


def none_records() -> list:
    """Complete households of the small ruleset with one fact given as None (facts not
    through the validator): every other fact present, so only the None test finds it."""
    out = []
    for facts in small_records(0)[:4]:
        for name in facts:
            if name != "id":
                out.append({**facts, name: None})
        for name in (facts["members"] or [{}])[0]:
            out.append({**facts, "members": [{**facts["members"][0], name: None}] + facts["members"][1:]})
    return out


def codegen_records() -> list:
    p = policy("tests/fixtures/codegen")
    return typed(p, [c[1] for c in CASES]) + NONE_FACTS


def assert_all_agree(make=Program) -> None:
    """Generated code (made anew) = closures on every fixture's records."""
    for path, items in (("benchmarks/small_policy", small_records(0) + small_records(0.05) + none_records()),
                        ("tests/fixtures/codegen", codegen_records()), (SUMBOUND, bound_records())):
        assert_generated_agrees(make(policy(path).program().checked), "household", ON, items)


@pytest.mark.parametrize("raw,expected", [c[1:] for c in BOUND_CASES], ids=[c[0] for c in BOUND_CASES])
def test_a_sum_of_constants_gives_the_closures_results(raw, expected):
    program = Program(policy(SUMBOUND).program().checked)
    facts = typed(policy(SUMBOUND), [raw])[0]
    assert_generated_agrees(program, "household", ON, [facts])
    got = program.evaluate(facts, ON, "household", generated=True, exact=False)
    for name, want in expected.items():
        if isinstance(want, tuple):
            assert got.errors[name].code == want[1], name
        else:
            assert (type(got.values[name]), got.values[name]) == (type(want), want), name


def test_the_bound_is_compared_only_beyond_the_members_that_could_reach_it():
    source = Program(policy(SUMBOUND).program().checked).generated_on(ON).source
    # 10^15 // (2 × 4·10^14) = 1 member; 3·10^14 (the table's largest, -10^14 as far as 10^14) and the int sum too
    assert re.search(r"if len\(v\d+\) > 1 and not K\d+ <= v\d+ <= K\d+:", source)
    assert re.search(r"if len\(v\d+\) > 1 and not -LIMIT <= v\d+ <= LIMIT:", source)
    # a sum of facts is compared every time
    count = source[source.index("def rule_count_total"):source.index("def rule_registered_all_big")]
    assert "len(" not in count and "if not -LIMIT <= " in count
    small = Program(policy("benchmarks/small_policy").program().checked).generated_on(ON).source
    assert "if len(v" in small and "> 62500000000 and not" in small  # 10^15 // (2 × 8000)


def test_the_known_function_is_written_where_no_instance_is_needed():
    for path in ("benchmarks/small_policy", "tests/fixtures/codegen", SUMBOUND):
        fast = Program(policy(path).program().checked).generated_on(ON)
        assert set(fast.known) == {"household"}, path
        assert "\ndef known_household(f):\n    # the facts read on every path below, read once\n" in fast.source
    # a household of the columnar fixture reads its village and calls rule functions: none
    fast = Program(policy("tests/fixtures/columnar").program().checked).generated_on(ON)
    assert "household" not in fast.known and "def known_household" not in fast.source
    small = Program(policy("benchmarks/small_policy").program().checked).generated_on(ON).source
    known = small[small.index("def known_household"):small.index("def outputs_household")]
    # no cache, no instance, no handler; shared outputs in locals; one dict at the end
    assert "c[" not in known and "(e)" not in known and "except" not in known
    assert "    s_guarantees_met = v" in known and "        'guarantees_met': s_guarantees_met,\n" in known
    # a shared output first read on some paths (under the registered test): computed once,
    # at the top before the output that reads it, and read as its local there and after
    bound = Program(policy(SUMBOUND).program().checked).generated_on(ON).source
    bound = bound[bound.index("def known_household"):bound.index("def outputs_household")]
    assert "\n    # all_big: read below on some paths only, computed here once\n" in bound
    assert bound.count("# all_big: the code of rule_all_big") == 1 and "s_all_big is None" not in bound
    assert re.search(r"\n    if v\d+:\n        v\d+ = s_all_big\n", bound)
    assert "        'all_big': s_all_big,\n" in bound
    # the parent's fact is tested before the member loop, not in it
    loop = known[known.index("one loop over members"):]
    assert "raise Missing('registered')" not in loop


def test_no_known_function_where_it_would_raise_on_every_call():
    """The pack's Jinchang county reads a parameter with no value on the date at the top
    level of its code (and the 2016 cadre one too): no known function, and the outputs
    function gives the closures' results."""
    p = policy("policy")
    for on, entity in ((ON, "jinchang_county"), (dt.date(2016, 6, 30), "cadre")):
        program = Program(p.program().checked)
        fast = program.generated_on(on)
        assert entity not in fast.known and f"def known_{entity}(" not in fast.source
        assert f"def outputs_{entity}(" in fast.source

        @settings(max_examples=5, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(st.lists(random_facts(program.checked, entity), min_size=1, max_size=3))
        def check(raws):
            assert_generated_agrees(program, entity, on, typed(p, raws, entity))

        check()


def test_all_known_households_take_the_known_function(monkeypatch):
    """With every fact known the outputs function is never called (it would fail)."""
    program = Program(policy("benchmarks/small_policy").program().checked)
    fast = program.generated_on(ON)
    items = small_records(0)
    want = [program.evaluate(f, ON, "household", generated=False) for f in items]

    def refuse(*_):
        raise AssertionError("the outputs function ran")

    monkeypatch.setitem(fast.outputs, "household", refuse)
    got = [program.evaluate(f, ON, "household", generated=True) for f in items]
    assert [(g.values, g.unknown, g.errors, g.possible, g.id) for g in got] == \
        [(w.values, w.unknown, w.errors, w.possible, w.id) for w in want]


def test_a_fact_read_earlier_than_needed_only_leaves_the_known_function():
    """``registered`` is read before the member loop: with no member it is not needed,
    so the known function raises where the outputs function gives every value."""
    p = policy("benchmarks/small_policy")
    program = Program(p.program().checked)
    full = small_records(0)[0]
    facts = {k: v for k, v in full.items() if k != "registered"} | {"members": []}
    with pytest.raises(MISSING):
        program.generated_on(ON).known["household"](facts)
    got = program.evaluate(facts, ON, "household", generated=True, exact=False)
    assert not got.unknown and got.values["education_aid_once"] == Decimal(0)
    assert_generated_agrees(program, "household", ON, [facts])


def test_the_known_function_agrees_on_every_fixture():
    assert_all_agree()


@pytest.mark.parametrize("path", ["policy", "tests/fixtures/codegen", SUMBOUND, "benchmarks/small_policy"])
def test_every_known_function_reads_facts_only_and_agrees_on_random_entities(path):
    """Whichever entities get one (the pack's projects, cadres, counties): it reads no
    instance or cache, and gives the closures' results on random facts."""
    p = policy(path)
    program = Program(p.program().checked)
    fast = program.generated_on(ON)
    assert fast.known, path
    tree = ast.parse(fast.source)
    for fn in tree.body:
        if isinstance(fn, ast.FunctionDef) and fn.name.startswith("known_"):
            assert not {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)} & {"e", "c"}, fn.name
    for entity in sorted(fast.known):
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(st.lists(random_facts(program.checked, entity), min_size=1, max_size=4))
        def check(raws):
            assert_generated_agrees(program, entity, ON, typed(p, raws, entity))

        check()


# --- planted bugs: each must be caught by the agreement checks above

def test_a_table_term_adds_at_its_rows():
    """A member table inlined in a sum adds its row's constant where the row is decided
    (the start's zero: nothing), instead of a local tested after the tree."""
    source = Program(policy("benchmarks/small_policy").program().checked).generated_on(ON).source
    rule = source[source.index("def rule_education_aid_once"):source.index("def rule_member_job_subsidy_monthly")]
    assert re.search(r"\n                    v\d+ \+= P_edu_aid_high_school  # row 4\n", rule)
    assert "            pass  # row 1\n" in rule and " is not K" not in rule


ORIGINAL = {"function": knowngen.KnownWriter.function, "top_read": knowngen.KnownWriter.top_read,
            "term_bound": codegen.Writer._term_bound, "leaves_add": codegen.Writer._leaves_add}


def _values_swapped(self, names):
    # the known function returns two outputs under each other's names
    at = len(self.lines)
    plan = ORIGINAL["function"](self, names)
    entries = [i for i in range(at, len(self.lines)) if re.match(r"        '\w+': ", self.lines[i])]
    if len(entries) > 1:
        a, b = entries[0], entries[-1]
        key_a, key_b = self.lines[a].split(":")[0], self.lines[b].split(":")[0]
        self.lines[a] = key_b + ":" + self.lines[a].split(":", 1)[1]
        self.lines[b] = key_a + ":" + self.lines[b].split(":", 1)[1]
    return plan


def _pre_read_untested(self, name, node):
    # a fact read at the top of the known function without its None test
    if node is not None and not node.has_absent:
        return self.assign(1, self.read("f", name))
    return ORIGINAL["top_read"](self, name, node)


def _bound_too_lax(self, node):
    most = ORIGINAL["term_bound"](self, node)
    return None if most is None else most / 4  # three big members counted as below the bound


def _shared_taken_as_computed(self, name):
    # a shared rule read on some paths only taken as computed at the top (its local unset)
    self.assigned.update(self.plan.reads.get(name, ()))


def _parameter_rows_dropped(self, node, out, value):
    # a row whose outcome is a parameter taken for the start's zero: nothing added
    done = ORIGINAL["leaves_add"](self, node, out, value)
    for i in range(max(0, len(self.lines) - 60), len(self.lines)):
        if re.match(rf"\s*{out} \+= P_", self.lines[i]):
            self.lines[i] = re.sub(rf"{out} \+= P_\w+", "pass", self.lines[i])
    return done


PLANTED = [(knowngen.KnownWriter, "function", _values_swapped), (codegen.Writer, "_leaves_add", _parameter_rows_dropped),
           (knowngen.KnownWriter, "top_read", _pre_read_untested), (codegen.Writer, "_term_bound", _bound_too_lax),
           (knowngen.KnownWriter, "shared_first", _shared_taken_as_computed)]


@pytest.mark.parametrize("owner,method,bug", PLANTED, ids=[p[1] for p in PLANTED])
def test_a_planted_bug_in_the_known_function_is_caught(monkeypatch, owner, method, bug):
    monkeypatch.setattr(owner, method, bug)
    with pytest.raises((AssertionError, NameError), match="generated code differs|s_"):
        assert_all_agree()
