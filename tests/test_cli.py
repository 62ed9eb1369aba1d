"""The command line, end to end through click's runner (as a user would call it)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from fupin.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
MINI = "tests/fixtures/mini"


@pytest.fixture
def run(monkeypatch):
    monkeypatch.chdir(ROOT)
    runner = CliRunner()

    def call(*args):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return call


@pytest.fixture
def facts(tmp_path):
    path = tmp_path / "h.json"
    path.write_text(json.dumps([
        {"id": "H1", "status": "exited", "income_per_capita": 4800.5, "risk_event": False, "members": []},
        {"id": "H2", "status": "exited", "risk_event": False},
        {"id": "H3", "status": "poor"},
        {"id": "H4", "status": "exitd", "income_per_capita": "abc"},
    ]), encoding="utf-8")
    return str(path)


def test_check_clean_and_broken(run):
    assert run("check", MINI).exit_code == 0
    broken = run("check", "tests/fixtures/broken")
    assert broken.exit_code == 1
    assert "error[E601]" in broken.output and "error[E501]" in broken.output


def test_check_strict_fails_on_warnings(run):
    assert run("check", MINI, "--strict").exit_code == 1


def test_eval_json_contract(run, facts):
    res = run("eval", MINI, facts, "--only", "tier,low_income")
    assert res.exit_code == 1  # H4 has bad facts
    out = json.loads(res.stdout)
    assert [o["id"] for o in out] == ["H1", "H2", "H3", "H4"]
    record = out[0].pop("record")  # issue 12: every result carries its decision record
    assert out[0] == {"id": "H1", "on": "2020-06-30", "results": {"tier": "red", "low_income": True}, "unknown": {}}
    assert record["on"] == "2020-06-30" and record["variant"] == "base" and record["decision_id"].startswith("d-")
    assert out[1]["results"] == {"tier": None, "low_income": None}
    assert out[1]["unknown"] == {"tier": ["income_per_capita"], "low_income": ["income_per_capita"]}
    assert out[2]["results"]["tier"] == "none"  # decided without the missing income
    assert out[3]["results"] is None and out[3]["invalid"][0]["code"] == "E802"
    assert "H4" in res.stderr and "status" in res.stderr


def test_eval_money_is_exact(run, facts):
    out = json.loads(run("eval", MINI, facts, "--only", "income_third").stdout)
    assert '"income_third": 1600.17' in run("eval", MINI, facts, "--only", "income_third").stdout
    assert out[0]["results"]["income_third"] == 1600.17


def test_eval_unknown_output_is_an_error(run, facts):
    res = run("eval", MINI, facts, "--only", "teir")
    assert res.exit_code == 1 and "E811" in res.stderr and "tier" in res.stderr


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_explain_golden(run, facts, lang):
    res = run("explain", MINI, facts, "--output", "tier", "--id", "H1", "--lang", lang)
    assert res.exit_code == 0
    golden = ROOT / "tests" / "golden" / f"explain_tier.{lang}.txt"
    import os

    if os.environ.get("FUPIN_REGOLD"):
        golden.write_text(res.stdout, encoding="utf-8")
    assert res.stdout == golden.read_text(encoding="utf-8")


def test_explain_json_trace(run, facts):
    res = run("explain", MINI, facts, "--output", "low_income", "--format", "json")
    trace = json.loads(res.stdout)
    assert trace["schema"] == "fupin.trace/1"
    node = trace["roots"][0]
    assert node["rule"] == "low_income" and node["value"] is True
    assert node["params"][0] == {"name": "red_line", "label": {"zh": "红色监测收入线", "en": "red income line"},
                                 "value": 5000, "unit": "元/年", "effective_from": "2016-01-01",
                                 "sources": ["001:78"], "origin": "base", "gap": False}


def test_test_command_reports_coverage(run):
    res = run("test", MINI, "--min-coverage", "100")
    assert res.exit_code == 0, res.output
    assert "覆盖率 100.0%" in res.output and "失败 0 个" in res.output


def test_eval_exit_code_counts_errors_only_in_outputs_asked_for(run, tmp_path):
    """Before 2020 some pack parameters have no value (E701): reported, and a failure of
    the run only when that output was asked for by name."""
    path = tmp_path / "h.json"
    path.write_text(json.dumps([{"id": "H", "registered": True, "status": "exited", "income_per_capita": 6000,
                                 "food_secure": True, "clothing_secure": True, "water_safe": True,
                                 "housing_grade": "A", "risk_event": False, "members": []}]), encoding="utf-8")
    everything = run("eval", "policy", str(path), "--on", "2016-06-30", "--format", "json")
    assert everything.exit_code == 0
    out = json.loads(everything.stdout)[0]
    assert out["results"]["monitoring_tier"] is None and "E701" in everything.stderr
    asked = run("eval", "policy", str(path), "--on", "2016-06-30", "--only", "monitoring_tier")
    assert asked.exit_code == 1


def test_explain_shows_named_thresholds_with_their_value_and_margin(run):
    """A cell written with a parameter (`< monitoring_red_income_line`) shows the value in
    force and the margin, like a cell written with a number."""
    res = run("explain", "policy", "examples/households.yaml", "--output", "monitoring_tier", "--id", "HH01")
    assert "< 红色监测收入线 5,000 元（差 1 元）" in res.output  # the parameter's label (issue 12)
