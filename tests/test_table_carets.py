"""Where a diagnostic about a cell of a CSV or Excel row points.

In a CSV file the column is the character where the cell starts on its line, so the
rendered caret stands under the cell (quoted cells with commas, Chinese text, a cell beyond
the header); before, the cell's number was taken as a character column and the caret stood
a few characters into the line. An Excel sheet, which has no text line, keeps the column's
number; a record with a line break inside a quoted cell is located at its row's column 1.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from fupin.cli.main import main

POLICY = Path(__file__).resolve().parents[1] / "policy"
HEADER = "id,registered,status,income_per_capita,food_secure\n"

CASES = {
    "plain": ("H1,true,poor,abc,true\n",
              "e.csv:2:14: error[E802]: household `H1`: field `income_per_capita` should be number, got `abc`\n"
              "  H1,true,poor,abc,true\n"
              "               ^\n"),
    "quoted comma before": ('"H,2",true,exitd,"5,000",true\n',
                            "e.csv:2:12: error[E802]: household `H,2`: field `status` should be one of poor, exited, "
                            "edge, monitored, ordinary, got `exitd`\n"
                            '  "H,2",true,exitd,"5,000",true\n'
                            "             ^\n"),
    "after a quoted comma": ('"H,2",true,poor,"5,000",yes\n',
                             "e.csv:2:25: error[E802]: household `H,2`: field `food_secure` should be bool (true/false), "
                             "got `yes`\n"
                             '  "H,2",true,poor,"5,000",yes\n'
                             "                          ^\n"),
    "doubled quotes": ('"H ""3""",true,poor,5000,yes\n',
                       "e.csv:2:26: error[E802]: household `H \"3\"`: field `food_secure` should be bool (true/false), "
                       "got `yes`\n"),
    "Chinese text, display width": ('H3,true,"已脱贫",5000,好\n',
                                    "e.csv:2:20: error[E802]: household `H3`: field `food_secure` should be bool "
                                    "(true/false), got `好`\n"
                                    '  H3,true,"已脱贫",5000,好\n'
                                    "                        ^\n"),
    "beyond the header": ("H4,true,poor,5000,true,extra\n",
                          "e.csv:2:24: error[E804]: invalid input: cell 6 lies beyond the header's 5 columns, so "
                          "`extra` has nowhere to go\n"
                          "  H4,true,poor,5000,true,extra\n"
                          "                         ^\n"),
    "a line break inside a quoted cell": ('H5,true,"po\nor",abc,true\n',
                                          "e.csv:3:1: error[E802]: household `H5`: field `status` should be one of"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_csv_diagnostic_points_at_the_cell(tmp_path, monkeypatch, case):
    row, expected = CASES[case]
    monkeypatch.chdir(tmp_path)
    Path("e.csv").write_text(HEADER + row, encoding="utf-8")
    result = CliRunner().invoke(main, ["eval", str(POLICY), "e.csv", "--lang", "en"])
    assert expected in result.output, result.output


def test_an_excel_diagnostic_keeps_the_column_number(tmp_path, monkeypatch):
    import openpyxl

    monkeypatch.chdir(tmp_path)
    book = openpyxl.Workbook()
    for cells in (HEADER.strip().split(","), ["H1", "true", "poor", "abc", "true"]):
        book.active.append(cells)
    book.save("e.xlsx")
    result = CliRunner().invoke(main, ["eval", str(POLICY), "e.xlsx", "--lang", "en"])
    assert "e.xlsx:2:4: error[E802]: household `H1`: field `income_per_capita` should be number, got `abc`\n" \
        in result.output


def test_a_file_edited_in_a_long_lived_process_shows_its_new_line(tmp_path, monkeypatch):
    """The source lines were cached by the path as given: after an edit (the workbench's
    editor, the service) or a change of folder, a diagnostic showed the old line."""
    from fupin.dsl.errors import Span, error

    monkeypatch.chdir(tmp_path)
    diag = error("E804", Span("r.yaml", 1, 1), detail={"zh": "x", "en": "x"})
    Path("r.yaml").write_text("old: line\n", encoding="utf-8")
    assert "  old: line\n" in diag.render("en")
    Path("r.yaml").write_text("a new line, longer\n", encoding="utf-8")
    assert "  a new line, longer\n" in diag.render("en")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    Path("r.yaml").write_text("another folder\n", encoding="utf-8")
    assert "  another folder\n" in diag.render("en")


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig"])
def test_a_register_not_in_plain_utf8_shows_its_row(tmp_path, monkeypatch, encoding):
    """A GBK register's rows were not shown under their diagnostics (read as UTF-8 only);
    a byte-order mark moved the caret of the header row by one."""
    monkeypatch.chdir(tmp_path)
    row, expected = CASES["Chinese text, display width"]
    Path("e.csv").write_bytes((HEADER + row).encode(encoding))
    result = CliRunner().invoke(main, ["eval", str(POLICY), "e.csv", "--lang", "en"])
    assert expected in result.output, result.output
