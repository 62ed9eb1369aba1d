"""The YAML case runner judges only what a case names; malformed cases are E813.

Each row of the tables is a case (as it would be written in YAML) against the mini
fixture, and what the runner must say about it.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from fupin import FupinError
from fupin.cli.main import main
from fupin.engine.tools.cases import Case, load_cases, run_case

ROOT = Path(__file__).resolve().parent.parent
POOR = {"id": "N", "status": "poor", "members": [{"age": 15, "enrolled": True}]}
EXITED = {"id": "N", "status": "exited", "income_per_capita": 3000, "members": [{"age": 15, "enrolled": True}]}


def _case(on="2021-06-30", facts=POOR, expect=None, unknown=None, error=None) -> Case:
    return Case("t", "cases.yaml", 1, "household", on, None, facts, expect or {}, unknown, error)


# On 2021-06-30 the mini policy's aid_amount has ended: aid_total fails with E701 for a
# poor household (an exited one gets 0 by exception, without the parameter).
@pytest.mark.parametrize("case", [
    _case(expect={"tier": "none"}),                                   # aid_total's error is not named
    _case(facts=EXITED, expect={"tier": "red", "aid_total": 0}),
    _case(unknown={"low_income": ["income_per_capita"]}),
    _case(error="E701"),                                              # some output fails with E701
    _case(expect={"tier": "none"}, error={"aid_total": "E701"}),
    _case(facts={"id": "P", "status": "rich"}, error="E802"),         # invalid facts
], ids=["unnamed-error", "exception-avoids-param", "unknown-only", "any-output", "named-output", "facts"])
def test_passes(mini, case):
    outcome = run_case(mini, case)
    assert outcome.ok, outcome.failures
    assert outcome.diagnostics == []


@pytest.mark.parametrize("case, failure", [
    (_case(expect={"aid_total": 3000}), "aid_total: expected 3,000 yuan, got error E701"),
    (_case(unknown={"aid_total": None}), "aid_total: expected unknown, got error E701"),
    (_case(error={"tier": "E701"}), "tier: expected error E701, got none"),
    (_case(error={"aid_total": "E807"}), "aid_total: expected error E807, got error E701"),
    (_case(on="2020-06-30", error="E701"), "expected error E701, got none"),
    (_case(expect={"teir": "none"}), "teir: no such output"),
    (_case(error={"teir": "E701"}), "teir: no such output"),
    (_case(facts={"id": "P", "status": "rich"}, expect={"tier": "none"}), "error E802"),
    (_case(facts={"id": "P", "status": "rich"}, error={"tier": "E802"}), "error E802"),
])
def test_fails(mini, case, failure):
    outcome = run_case(mini, case)
    assert not outcome.ok
    assert any(f["en"].startswith(failure) for f in outcome.failures), outcome.failures
    diag = outcome.diagnostics[0]
    assert diag.code == "E813" and (diag.span.file, diag.span.line) == ("cases.yaml", 1)
    assert diag.message("en").startswith("test `t`: ")


# Expected values are read as facts are: labels, 是/否, money with separators or 元.
@pytest.mark.parametrize("expect", [
    {"tier": "红色"}, {"tier": "Red"}, {"low_income": "是"}, {"any_disabled": "否"}, {"aid_total": "0元"},
    {"income_third": "1,000"}, {"workers": "0"},
], ids=["zh label", "en label, other case", "是", "否", "money in 元", "thousands", "integer as text"])
def test_expected_values_are_read_as_facts_are(mini, expect):
    outcome = run_case(mini, _case(facts=EXITED, expect=expect))
    assert outcome.ok, outcome.failures


@pytest.mark.parametrize("expect, zh, en", [
    ({"tier": "绿色"}, "tier：应为 绿色 (green)，实为 红色 (red)", "tier: expected green, got red"),
    ({"low_income": False}, "low_income：应为 否，实为 是", "low_income: expected no, got yes"),
    ({"income_third": 999.5}, "income_third：应为 999.5 元，实为 1,000 元", "income_third: expected 999.5 yuan, got 1,000 yuan"),
    ({"tier": "purple"}, "tier：期望值 `purple` 不是这个输出可能的取值（应为 红色 (red)、黄色 (yellow)、绿色 (green)、无 (none)），"
     "这个用例永远不会通过", "tier: the expected `purple` is not a value this output can take (expected red, yellow, "
     "green, none), so the case could never pass"),
    ({"aid_total": "abc"}, "aid_total：期望值 `abc` 不是这个输出可能的取值", "aid_total: the expected `abc` is not a value"),
    ({"teir": "red"}, "teir：没有这个输出（是否想写 `tier`？）", "teir: no such output (did you mean `tier`?)"),
    ({"days_to_exit": 3}, "days_to_exit：应为 3，实为 未知（缺少 `exited_on`、`registered_on`）",
     "days_to_exit: expected 3, got unknown (waits on `exited_on`, `registered_on`)"),
])
def test_a_failure_reads_in_each_language(mini, expect, zh, en):
    """Failures were English only, with Python reprs (``expected 'green', got 'red'``,
    ``Decimal('0')``); a value the output can never take was a plain mismatch."""
    (failure,) = run_case(mini, _case(facts=EXITED, expect=expect)).failures
    assert failure["zh"].startswith(zh) and failure["en"].startswith(en), failure


@pytest.mark.parametrize("text, line, col, detail", [
    ("cases:\n  - name: a\n    expcet: {tier: red}\n", 3, 5, "unknown key `expcet`"),
    ("cases:\n  - just a string\n", 2, 5, "a case should be a mapping"),
    ("cases:\n  - name: a\n    expect: [tier]\n", 3, 13, "expect should map outputs to values"),
    ("cases:\n  - name: a\n    unknown: tier\n", 3, 14, "unknown should be a list of outputs"),
    ("cases:\n  - name: a\n    error: E7O1\n", 3, 12, "unknown error code `E7O1`"),
    ("cases:\n  - name: a\n    error: [E701]\n", 3, 12, "error should be a code"),
    ("cases: {name: a}\n", 1, 8, "cases should be a list of cases"),
    ("cases:\n  - name: a\n    facts: {id: H}\n", 2, 5, "the case checks nothing: give expect"),
    ("cases:\n  - name: a\n    expect: {}\n    unknown: []\n", 2, 5, "the case checks nothing: give expect"),
    ("cases:\n  - name: a\n    facts: {id: H, id: G}\n    expect: {tier: red}\n", 3, 20,
     "key `id` appears twice in one mapping (first at"),
])
def test_malformed_cases_are_located_e813(tmp_path, monkeypatch, text, line, col, detail):
    monkeypatch.chdir(tmp_path)
    Path("cases.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(FupinError) as caught:
        load_cases(Path("cases.yaml"))
    diag = caught.value.diagnostics[0]
    assert diag.code == "E813"
    assert (diag.span.file, diag.span.line, diag.span.col) == ("cases.yaml", line, col)
    assert detail in diag.message("en")


def test_typo_key_gets_a_did_you_mean(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("cases.yaml").write_text("cases:\n  - name: a\n    expcet: {tier: red}\n", encoding="utf-8")
    with pytest.raises(FupinError) as caught:
        load_cases(Path("cases.yaml"))
    assert caught.value.diagnostics[0].hint("en") == "did you mean `expect`?"
    assert caught.value.diagnostics[0].hint("zh") == "是否想写 `expect`？"


def test_fupin_test_renders_e813_and_fails(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    bad = tmp_path / "cases.yaml"
    bad.write_text("cases:\n  - name: a\n    facts: {id: A}\n    expcet: {tier: red}\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["test", str(bad), "--policy", "tests/fixtures/mini", "--lang", "en"])
    assert res.exit_code == 1
    assert ":4:5: error[E813]: test `a`: unknown key `expcet`" in res.output
    assert "did you mean `expect`?" in res.output


# --- one runner: plain pytest and `fupin test` both collect the YAML cases


def _pytest(*args, cwd):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def mini_copy(tmp_path):
    import shutil

    dest = tmp_path / "mini"
    shutil.copytree(ROOT / "tests" / "fixtures" / "mini", dest)
    return dest


BROKEN = """
  - name: 故意写错的期望
    facts: {id: BAD, status: exited, income_per_capita: 4000, risk_event: false}
    expect: {tier: green}
"""


def test_plain_pytest_collects_every_policy_case():
    res = _pytest("--collect-only", "-q", "-q", "policy/tests", cwd=ROOT)
    counts = [int(line.rsplit(": ", 1)[1]) for line in res.stdout.splitlines() if line.endswith(tuple("0123456789"))]
    assert sum(counts) == len(load_cases(ROOT / "policy" / "tests")) > 300, res.stdout[-2000:]


@pytest.mark.parametrize("runner", ["pytest", "fupin test"])
def test_a_broken_case_fails_the_run(mini_copy, runner):
    cases = mini_copy / "tests" / "cases.yaml"
    cases.write_text(cases.read_text(encoding="utf-8") + BROKEN, encoding="utf-8")
    if runner == "pytest":
        res = _pytest(str(mini_copy / "tests"), cwd=mini_copy.parent)
        output, code = res.stdout, res.returncode
    else:
        res = CliRunner().invoke(main, ["test", str(mini_copy)])
        output, code = res.output, res.exit_code
    assert code == 1, output
    assert "故意写错的期望" in output and "tier：应为 绿色 (green)，实为 红色 (red)" in output
    if runner == "fupin test":
        assert "通过 31 个，失败 1 个" in output


def test_coverage_below_the_threshold_fails(mini_copy):
    cases = mini_copy / "tests" / "cases.yaml"
    text = cases.read_text(encoding="utf-8")
    cases.write_text(text[: text.index("  - name: 村贫困发生率")], encoding="utf-8")
    res = CliRunner().invoke(main, ["test", str(mini_copy), "--min-coverage", "100", "--lang", "en"])
    assert res.exit_code == 1, res.output
    assert "never exercised: rule incidence" in res.output and "coverage below 100%" in res.output
    assert " failed" in res.output.splitlines()[-1] or "0 failed" in res.output


def test_a_policy_that_does_not_load_fails_its_cases(mini_copy):
    rules = mini_copy / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("income_per_capita", "income_per_capitaa", 1),
                     encoding="utf-8")
    res = _pytest(str(mini_copy / "tests"), "--fupin-lang", "en", cwd=mini_copy.parent)
    assert res.returncode == 1
    assert "error[E" in res.stdout
