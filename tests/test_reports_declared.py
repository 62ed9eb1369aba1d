"""The pack's ``reports:`` section (which outputs a summary counts, totals and averages,
and at which key columns it groups them) is checked with located errors and drives
``fupin batch --summary`` and its summary file."""
from __future__ import annotations

import csv
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from fupin.dsl.checker import check_all
from fupin.dsl.loader import load_source
from fupin.engine.tools.generate import write_households

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests/fixtures/mini"

RULES = """\
entity: household
rules:
  rep_tier: {type: tier, expr: 'if risk_event then red else none'}
  rep_aid: {type: money, expr: '100'}
  rep_size: {type: integer, expr: '3'}
"""


def _errors(tmp_path, reports: str) -> list:
    """The errors of the mini policy with a household parent_key, three rules and ``reports``."""
    shutil.copytree(MINI, tmp_path / "p", ignore=shutil.ignore_patterns("tests", "variants"))
    decl = tmp_path / "p/declarations.yaml"
    decl.write_text(decl.read_text(encoding="utf-8").replace(
        "  household:\n    parent: village\n", "  household:\n    parent: village\n    parent_key: village_id\n"),
        encoding="utf-8")
    (tmp_path / "p/report.yaml").write_text(RULES, encoding="utf-8")
    (tmp_path / "p/reports.yaml").write_text(reports, encoding="utf-8")
    diags, _ = check_all(load_source(tmp_path / "p"))
    return [d for d in diags if d.severity == "error"]


@pytest.mark.parametrize("declared, code, message", [
    ("househod: {total: [rep_aid]}", "E302", "unknown type or entity `househod`"),
    ("household: {total: [rep_aide]}", "E307",
     "the report of `household`: `reports.total` names output `rep_aide`, which `household` does not have"),
    ("household: {total: [rep_tier]}", "E406", "`rep_tier` in the report is enum; expected money"),
    ("household: {average: [rep_tier]}", "E406",
     "`rep_tier` in the report is enum; expected integer, decimal, money, ratio"),
    ("household: {count: [rep_aid]}", "E406", "`rep_aid` in the report is money; expected enum, bool, integer, string"),
    ("household: {levels: [township_id]}", "E307",
     "the report of `household`: `reports.levels` names key column `township_id`, which `household` does not have"),
])
def test_reports_section_is_checked(tmp_path, declared, code, message):
    errors = _errors(tmp_path, "reports:\n  " + declared + "\n")
    assert [(d.code, d.message("en")) for d in errors] == [(code, message)]
    assert errors[0].span.file.endswith("reports.yaml") and errors[0].span.line == 2


def test_reports_section_accepted(tmp_path):
    text = "reports:\n  household: {count: [rep_tier], total: [rep_aid], average: [rep_size], levels: [village_id], top: 3}\n"
    assert _errors(tmp_path, text) == []


def test_the_pack_totals_paid_money_only(pack):
    report = pack.program().checked.entities["household"].report
    assert report.declared and "dibao_standard_applicable" not in report.total
    assert "industry_household_package" not in report.total and "industry_grant" in report.total
    assert report.levels == ("village_id", "township_id")


@pytest.fixture(scope="module")
def summarised(tmp_path_factory):
    """A generated dataset's batch run with a summary file in every format."""
    from click.testing import CliRunner

    from fupin.cli.main import main

    d = tmp_path_factory.mktemp("sum")
    write_households(900, d / "hh.parquet", seed=3, villages_of=100, unknown_rate=0.02)
    only = "monitoring_tier,exit_eligible,education_aid_once,dibao_standard_applicable,poor_people_in_household"
    out = {}
    for fmt in ("json", "csv", "xlsx"):
        res = CliRunner().invoke(main, ["batch", str(ROOT / "policy"), str(d / "hh.parquet"), "-o",
                                        str(d / f"r{fmt}.parquet"), "--summary", "--summary-file",
                                        str(d / f"s.{fmt}"), "--top", "2", "--only", only, "--lang", "en"])
        assert res.exit_code == 0, res.output
        out[fmt] = (res.stdout, d / f"s.{fmt}")
    return pq.read_table(d / "rjson.parquet").to_pylist(), out


def test_summary_file_figures_match_the_results(summarised):
    rows, out = summarised
    data = json.loads(out["json"][1].read_text(encoding="utf-8"))
    assert set(data["totals"]) == {"education_aid_once"}  # a standard is not totalled
    paid = [r["education_aid_once"] for r in rows if r["education_aid_once"] is not None]
    assert data["totals"]["education_aid_once"] == {"yuan": f"{sum(paid, Decimal(0)):.2f}", "decided": len(paid)}
    for village, figures in data["levels"]["village_id"].items():
        mine = [r for r in rows if r["village_id"] == village]
        assert figures["rows"] == len(mine)
        reds = sum(r["monitoring_tier"] == "red" for r in mine)
        assert figures["counts"]["monitoring_tier"]["red"] == reds
        people = [r["poor_people_in_household"] for r in mine if r["poor_people_in_household"] is not None]
        expected = (Decimal(sum(people)) / len(people)).quantize(Decimal("0.01"), "ROUND_HALF_UP")
        assert figures["averages"]["poor_people_in_household"]["mean"] == str(expected)


def test_summary_file_formats_agree_and_screen_is_short(summarised):
    _, out = summarised
    with open(out["csv"][1], encoding="utf-8") as f:
        table = list(csv.reader(f))
    from openpyxl import load_workbook

    sheet = load_workbook(out["xlsx"][1], read_only=True)["report"]
    assert [[c if c is not None else "" for c in row] for row in sheet.iter_rows(values_only=True)] == table
    assert table[0] == ["level", "group", "output", "measure", "key", "value", "rows"]
    assert sum(1 for r in table if r[0] == "village_id" and r[3] == "rows") == 9
    screen = out["json"][0].splitlines()
    assert "    … and 7 more (see --summary-file)" in screen
    assert "  by village_id: 9 groups (each group's figures: --summary-file)" in screen


def test_summary_html_is_one_page(summarised, tmp_path):
    import xml.etree.ElementTree as ET
    from html.parser import HTMLParser

    from click.testing import CliRunner

    from fupin.cli.main import main

    _, out = summarised
    data = out["json"][1].parent
    res = CliRunner().invoke(main, ["batch", str(ROOT / "policy"), str(data / "hh.parquet"), "-o",
                                    str(tmp_path / "r.parquet"), "--format", "html", "--only",
                                    "monitoring_tier,education_aid_once"])
    assert res.exit_code == 0, res.output
    text = (tmp_path / "r.summary.html").read_text(encoding="utf-8")
    assert "<script" not in text and "src=" not in text and "监测等级" in text
    # groups by the declared entity's name, values by their labels, table heads in Chinese
    assert "按行政村分组" in text and "village_id" not in text and "红色" in text and ">red<" not in text
    assert "<th>行数</th>" in text and '<html lang="zh-CN">' in text
    HTMLParser().feed(text)
    for svg in text.split("<svg")[1:]:
        ET.fromstring("<svg" + svg[:svg.index("</svg>") + 6])
