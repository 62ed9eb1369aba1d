"""What-if and why-not (engine/reports/whatif.py): answers from the compiled rules, each
verified here again by evaluating the changed facts through the public API, and none
larger than needed. Set FUPIN_FUZZ_EXAMPLES for a longer hypothesis run."""
from __future__ import annotations

import datetime as dt
import itertools
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from fupin.dsl.errors import FupinError
from fupin.engine.facts.read import FactsFile
from fupin.engine.reports.whatif import Question, UNSET
from fupin.engine.tools.generate import generate_households, records

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = FactsFile(str(ROOT / "examples" / "households.yaml"))
OUTPUTS = ["monitoring_tier", "exit_eligible", "guarantees_met"]
_SEG = re.compile(r"^(\w+)\[(\d+)\]$")


def household(pack, ident):
    return pack.find(EXAMPLES, ident)[0]


def applied(facts: dict, changes) -> dict:
    """Raw facts with each change written in (as a person would edit the file)."""
    out = dict(facts)
    for c in changes:
        *parents, name = c.path.split(".")
        node = out
        for seg in parents:
            m = _SEG.match(seg)
            kids = [dict(k) for k in node[m.group(1)]]
            node[m.group(1)] = kids
            node = kids[int(m.group(2))]
        node[name] = c.new
    return out


@pytest.mark.parametrize("ident, output, value, first", [
    ("HH01", "monitoring_tier", "yellow", [("income_per_capita", 4999, 5000)]),
    ("HH01", "monitoring_tier", "绿色", [("income_per_capita", 4999, 10000)]),
    ("HH10", "monitoring_tier", "yellow", [("water_safe", False, True)]),
    ("HH07", "monitoring_tier", "green", [("income_per_capita", 9999, 10000)]),
    ("HH02", "exit_eligible", "是", [("income_per_capita", 4000, Decimal("4000.01"))]),
    ("HH13", "monitoring_tier", "red", [("risk_event", None, True)]),  # unknown: the fact that settles it
    ("HH13", "monitoring_tier", "黄色", [("risk_event", None, False)]),
])
def test_why_not_by_hand(pack, ident, output, value, first):
    alts = pack.why_not(household(pack, ident), output, value)
    assert [(c.path, c.old, c.new) for c in alts[0].changes] == first


def test_why_not_names_a_value_the_output_has(pack):
    with pytest.raises(FupinError) as exc:
        pack.why_not(household(pack, "HH01"), "monitoring_tier", "purple")
    assert exc.value.code == "E840" and "red, yellow, green, none" in exc.value.render("en")


def test_unchangeable_facts_are_marked_and_ranked_last(pack):
    alts = pack.why_not(household(pack, "HH01"), "monitoring_tier", "none")
    assert alts and all(not c.mutable for c in alts[0].changes if c.path == "status")


@pytest.mark.parametrize("lang, line", [
    ("zh", "    · 预估当年人均纯收入再增加 1 元（4,999 元 → 5,000 元），即为黄色"),
    ("en", "    · estimated per-capita net income this year up by 1 yuan (4,999 yuan → 5,000 yuan) would give yellow"),
])
def test_cli_what_if(cli_run, lang, line):
    res = cli_run("explain", "policy", "examples/households.yaml", "--output", "monitoring_tier", "--id", "HH01",
                  "--what-if", "--lang", lang)
    assert res.exit_code == 0, res.output
    assert line in res.output.splitlines()


@pytest.mark.parametrize("args, line", [
    (("--output", "monitoring_tier", "--id", "HH01", "--why-not", "红色"), "    · 现已为红色"),
    (("--output", "monitoring_tier", "--id", "HH01", "--why-not", "red", "--lang", "en"), "    · it already is red"),
    (("--output", "education_aid_once", "--id", "HH05", "--what-if", "--lang", "en"),
     "  what if: a number has no list of other values; ask --why-not VALUE for the changes giving one"),
])
def test_cli_what_if_edges(cli_run, args, line):
    res = cli_run("explain", "policy", "examples/households.yaml", *args)
    assert res.exit_code == 0, res.output
    assert line in res.output.splitlines()


def test_a_number_asked_why_not_a_value(pack):
    alts = pack.why_not(household(pack, "HH05"), "education_aid_once", "0")
    assert alts and all(_value(pack, applied(household(pack, "HH05"), a.changes), "education_aid_once") == 0
                        for a in alts)


@pytest.fixture
def cli_run(monkeypatch):
    from click.testing import CliRunner

    from fupin.cli.main import main

    monkeypatch.chdir(ROOT)
    return lambda *args: CliRunner().invoke(main, list(args))


def _households(seed: int, n: int = 40):
    return records(generate_households(n, seed=seed))


def _value(pack, facts, output):
    r = pack.evaluate(facts, only=[output])
    return UNSET if output in r.unknown or output in r.errors else r.values[output]


@settings(max_examples=int(os.environ.get("FUPIN_FUZZ_EXAMPLES", 12)), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), index=st.integers(0, 39), output=st.sampled_from(OUTPUTS))
def test_every_answer_gives_its_value_and_none_is_larger_than_needed(pack, seed, index, output):
    facts = _households(seed)[index]
    try:
        answers = pack.what_if(facts, output)
    except FupinError:
        return  # facts the generator made invalid on purpose
    program = pack.program()
    typed, _ = pack.facts_checker().validate(facts, "household")
    r = pack.evaluate(facts, only=[output])
    question = Question(program.checked, program.space, "household", typed, output, r.unknown.get(output, ()))
    for target, alts in answers.items():
        for alt in alts:
            assert _same(_value(pack, applied(facts, alt.changes), output), target), (alt, target)
        if alts and alts[0].size > 1:  # then no single candidate change gives it
            for path, fld in question.facts_to_change:
                for v in question.values(path, fld):
                    one = [type("C", (), {"path": path, "new": _raw(v)})]
                    assert not _same(_value(pack, applied(facts, one), output), target), (path, v, target)


def _raw(value):
    return value.isoformat() if isinstance(value, dt.date) else value


def _same(a, b):
    return a is not UNSET and type(a) is type(b) and a == b if isinstance(b, bool) else a == b
