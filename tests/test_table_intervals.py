"""Decision-table gaps and overlaps read as intervals, hints that fit the table,
declared gaps and readings at info level, row sources, names that cannot be referred
to, and checking one file of a policy (issue 13 items 3 and 4)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from fupin.cli.main import main
from fupin.dsl.checker import check_all
from fupin.dsl.errors import render_all
from fupin.dsl.loader import load_source

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "fixtures" / "mini"


def _check(tmp_path, extra: str):
    folder = tmp_path / "mini"
    if not folder.exists():
        shutil.copytree(MINI, folder, ignore=shutil.ignore_patterns("tests"))
    (folder / "extra.yaml").write_text(extra, encoding="utf-8")
    diags, _ = check_all(load_source(folder))
    return [d for d in diags if "extra.yaml" in d.span.file]


def _table(inputs: str, rows: list[str], typ="money", entity="member", more="") -> str:
    body = "\n".join(f"        - {r}" for r in rows)
    return (f"entity: {entity}\nrules:\n  t:\n    type: {typ}\n    source: \"001:78\"\n    table:\n{more}"
            f"      inputs: {inputs}\n      rows:\n{body}\n")


@pytest.mark.parametrize("inputs, rows, typ, example", [
    ("{年龄: age}", ['{年龄: ">= 80", then: 100, source: "001:78"}'], "money", "年龄∈[0, 80)"),
    ("{年龄: age}", ['{年龄: "< 60", then: 1, source: "001:78"}', '{年龄: ">= 70", then: 2, source: "001:78"}'],
     "integer", "年龄∈[60, 70)"),
    ("{年龄: age}", ['{年龄: "[0, 60]", then: 1, source: "001:78"}', '{年龄: "(60, 100)", then: 2, source: "001:78"}'],
     "integer", "年龄∈[100, 150]"),
    ("{劳力: labor, 年龄: age}", ['{劳力: full, then: 1, source: "001:78"}', '{劳力: none, 年龄: "< 16", then: 2, source: "001:78"}'],
     "integer", "劳力=none, 年龄∈[16, 150]"),
])
def test_gap_is_an_interval(tmp_path, inputs, rows, typ, example):
    diags = _check(tmp_path, _table(inputs, rows, typ))
    assert [d.args["example"]["en"] for d in diags if d.code == "E601"] == [example]


def test_overlap_is_an_interval(tmp_path):
    diags = _check(tmp_path, _table("{年龄: age}", ['{年龄: "<= 60", then: 1, source: "001:78"}',
                                                    '{年龄: ">= 50", then: 2, source: "001:78"}'],
                                    "integer", more="      hit: unique\n"))
    assert [d.message("en") for d in diags if d.code == "E602"] == [
        "decision table `t` (unique): rows 1 and 2 both match 年龄∈[50, 60]"]


def test_money_gap_hint_never_says_any(tmp_path):
    diags = _check(tmp_path, _table("{年龄: age}", ['{年龄: ">= 80", then: 100, source: "001:78"}']))
    hint = diags[0].hint("zh")
    assert "any" not in hint and "gap:" in hint and "明确" in hint
    assert "catch-all" in diags[0].hint("en")


def test_declared_gap_is_info(tmp_path):
    more = "      gap: {reason: {zh: 原文没有规定 80 岁以下, en: the text says nothing below 80}, source: \"001:78\"}\n"
    diags = _check(tmp_path, _table("{年龄: age}", ['{年龄: ">= 80", then: 100, source: "001:78"}'], more=more))
    assert [(d.code, d.severity) for d in diags] == [("I952", "info")]
    assert diags[0].message("en") == ("decision table `t` declares the text leaves 年龄∈[0, 80) open: "
                                      "the text says nothing below 80 (on 001:78)")
    assert render_all(diags, "en").endswith("0 error(s), 0 warning(s), 1 declared reading(s)")
    assert render_all(diags, "zh").endswith("0 个错误，0 个警告，1 处声明的解读")


def test_declared_gap_without_a_gap_warns(tmp_path):
    more = "      gap: {reason: x, source: \"001:78\"}\n"
    diags = _check(tmp_path, _table("{年龄: age}", ['{年龄: any, then: 100, source: "001:78"}'], more=more))
    assert [d.code for d in diags] == ["W911"]


def test_readings_are_listed(tmp_path):
    rows = ['{年龄: ">= 80", then: 100, source: "001:78", reading: {reason: 80 岁含本数（以上含本数）, source: "001:78"}}',
            '{年龄: "< 80", then: 0, source: "001:78", gap: {reason: 原文未说 80 岁以下, source: "001:78"}}']
    text = _table("{年龄: age}", rows).replace("    source: \"001:78\"\n    table",
                                                "    source: \"001:78\"\n    reading: {reason: 按户计, source: \"001:78\"}\n    table")
    diags = _check(tmp_path, text)
    assert [(d.code, d.message("zh")) for d in diags] == [
        ("I950", "`t` 采用了一种解读：按户计（依据 001:78）"),
        ("I950", "`t` 第 1 行 采用了一种解读：80 岁含本数（以上含本数）（依据 001:78）"),
        ("I951", "`t` 第 2 行 补上了原文的缺口：原文未说 80 岁以下（依据 001:78）"),
    ]


def test_reading_needs_reason_and_source(tmp_path):
    rows = ['{年龄: any, then: 1, source: "001:78", reading: {reason: x}}']
    diags = _check(tmp_path, _table("{年龄: age}", rows, "integer"))
    assert [d.code for d in diags] == ["E103"]


def test_row_without_source(tmp_path):
    diags = _check(tmp_path, _table("{年龄: age}", ['{年龄: any, then: 1}'], "integer"))
    assert [d.message("en") for d in diags] == ["row `1` of decision table `t` has no source citation"]


@pytest.mark.parametrize("name", ['"a-b"', "且", '"has space"', '"2020x"', '"true"', "where"])
def test_unreferenceable_rule_names(tmp_path, name):
    diags = _check(tmp_path, f"entity: household\nrules:\n  {name}: {{type: bool, source: \"001:78\", expr: true}}\n")
    assert "E110" in [d.code for d in diags]


def test_check_one_file_of_a_policy(tmp_path):
    """One file is checked within its policy: no bogus E302 `是否想写 ?`, no E105."""
    _check(tmp_path, "entity: household\nrules:\n  fine: {type: bool, source: \"001:78\", expr: risk_event}\n")
    res = CliRunner().invoke(main, ["check", str(tmp_path / "mini" / "extra.yaml")])
    assert res.exit_code == 0 and res.output.strip() == "0 个错误，0 个警告"


def test_check_a_lone_file_says_why(tmp_path):
    lone = tmp_path / "lone.yaml"
    lone.write_text("entity: household\nrules:\n  r: {type: bool, source: \"001:78\", expr: true}\n", encoding="utf-8")
    out = CliRunner().invoke(main, ["check", str(lone)]).output
    assert "`?`" not in out and "检查整个文件夹" in out


def test_strict_ignores_readings(tmp_path):
    more = "      gap: {reason: x, source: \"001:78\"}\n"
    _check(tmp_path, _table("{年龄: age}", ['{年龄: ">= 80", then: 100, source: "001:78"}'], more=more))
    res = CliRunner().invoke(main, ["check", str(tmp_path / "mini" / "extra.yaml"), "--strict"])
    assert res.exit_code == 0, res.output
