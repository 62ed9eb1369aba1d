"""Variants merge dated parameter values by date (issue 13 item 2): a variant's values
hold from its first date on, the base's earlier values stay, and ``replace_values: true``
says explicitly that the base's values go."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from fupin.cli.main import main
from fupin.dsl.checker import check_all
from fupin.dsl.checker.timeline import timelines
from fupin.dsl.checker.variants import merge_timeline
from fupin.dsl.loader import load_source
from fupin.engine.api import load_policy

MINI = Path(__file__).resolve().parent / "fixtures" / "mini"


@pytest.mark.parametrize("base, variant, merged", [
    ({"2020-01-01": 1}, {"2021-01-01": 2}, {"2020-01-01": 1, "2021-01-01": 2}),
    ({"2020-01-01": 1, "2022-01-01": 3}, {"2021-01-01": 2}, {"2020-01-01": 1, "2021-01-01": 2}),
    ({"2020-01-01": 1}, {"2020-01-01": 2}, {"2020-01-01": 2}),
    ({"2021-01-01": 1}, {"2020-01-01": 2}, {"2020-01-01": 2}),
    ({"2019-01-01": 1, "2020-01-01": 5}, {"2020-06-01": 2, "2023-01-01": 4},
     {"2019-01-01": 1, "2020-01-01": 5, "2020-06-01": 2, "2023-01-01": 4}),
])
def test_merge_timeline(base, variant, merged):
    assert merge_timeline(base, variant) == merged


def _policy(tmp_path, override: str) -> Path:
    folder = tmp_path / "mini"
    shutil.copytree(MINI, folder, ignore=shutil.ignore_patterns("tests"))
    (folder / "variants" / "strict.yaml").write_text(
        "variant: strict\nsource: \"001:78\"\nparameters:\n  red_line:\n" + override, encoding="utf-8")
    return folder


FACTS = {"id": "h1", "status": "exited", "income_per_capita": 5500, "risk_event": False, "members": []}


def test_earlier_date_keeps_the_base_value(tmp_path):
    pol = load_policy(_policy(tmp_path, "    values: {2021-01-01: 6000}\n"))
    before = pol.evaluate(FACTS, on="2020-06-30", variant="strict", only=["low_income"])
    after = pol.evaluate(FACTS, on="2021-06-30", variant="strict", only=["low_income"])
    assert before.errors == {} and before.values["low_income"] is False  # 5500 < 5000: the base's line
    assert after.values["low_income"] is True  # 5500 < 6000: the variant's line


def test_replace_values_removes_earlier_values(tmp_path):
    pol = load_policy(_policy(tmp_path, "    replace_values: true\n    values: {2021-01-01: 6000}\n"))
    before = pol.evaluate(FACTS, on="2020-06-30", variant="strict", only=["low_income"])
    assert before.errors["low_income"].code == "E701"


def test_replace_values_must_be_bool(tmp_path):
    diags, _ = check_all(load_source(_policy(tmp_path, "    replace_values: maybe\n    values: {2021-01-01: 6000}\n")))
    assert [d.message("en") for d in diags if d.code == "E103"] == ["`replace_values` should be true or false"]


def test_show_params_lists_the_merged_timeline(tmp_path):
    folder = _policy(tmp_path, "    values: {2021-01-01: 6000}\n")
    src = load_source(folder)
    _, results = check_all(src)
    strict = [t for t in timelines(src, results) if t.view == "strict" and t.name == "red_line"]
    assert [(p.start.isoformat(), str(p.value), p.origin) for p in strict[0].periods] == [
        ("2016-01-01", "5000", "base"), ("2021-01-01", "6000", "strict")]
    out = CliRunner().invoke(main, ["check", str(folder), "--show-params", "--lang", "en"]).output
    assert "[strict]\n  red_line (元/年)\n    from 2016-01-01  5000  ← base\n    from 2021-01-01  6000  ← strict" in out
