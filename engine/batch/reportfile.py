"""Summary and diff figures written to a file: JSON, CSV, .xlsx (and HTML, htmlreport.py).

Every figure becomes one long row ``(level, group, output, measure, key, value, rows)``
(a count: ``key`` the value counted, ``value`` how many; a total or an average: ``value``
in yuan or the mean, ``rows`` the rows where the output is decided) — long rather than wide so one file holds counts, totals, averages and
transitions of any pack without columns named after the pack. JSON keeps the nested
structure instead (``summary_json`` / ``diff_json`` give it). Money is written in yuan
as exact decimal text; nothing goes through binary floats.

The file is written under a temporary name and renamed when complete (outputs.py's
writers), so a file at the path is always whole.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from .outputs import temp_name, write_failed
from .summary import Figures, Summary, mean, percent, yuan

FORMATS = {".json": "json", ".csv": "csv", ".xlsx": "xlsx", ".html": "html", ".htm": "html"}
COLUMNS = ("level", "group", "output", "measure", "key", "value", "rows")


def file_format(path, fmt: str | None = None) -> str:
    """The format of a summary or diff report file: ``fmt`` if given, else by extension."""
    from .source import bad_argument

    fmt = fmt or FORMATS.get(Path(str(path)).suffix.lower())
    if fmt not in ("json", "csv", "xlsx", "html"):
        raise bad_argument(f"报告文件 `{path}` 应为 .json、.csv、.xlsx 或 .html",
                           f"the report file `{path}` should be .json, .csv, .xlsx or .html")
    return fmt


def figures_rows(fig: Figures, checked, level: str = "", group: str = "") -> list:
    """The long rows of one :class:`Figures` (a whole run, or one group)."""
    rows = [(level, group, "", "rows", "", str(fig.rows), str(fig.rows))]
    for name, counter in fig.counts.items():
        rows += [(level, group, name, "count", value, str(n), str(fig.rows)) for value, n in counter.items()]
    for name, (fen, n) in fig.totals.items():
        rows.append((level, group, name, "total", "", yuan(fen), str(n)))
    for name, (value, n) in fig.sums.items():
        rows.append((level, group, name, "average", "", mean(value, n, checked.rules[name].type.kind), str(n)))
    if fig.people[1]:
        rows.append((level, group, "", "incidence", f"{fig.people[0]}/{fig.people[1]}", percent(*fig.people),
                     str(fig.rows)))
    return rows


def summary_rows(summary: Summary, checked) -> list:
    """The long rows of a whole summary: the run, then every group of every level."""
    whole = Figures(summary.rows, summary.counts, summary.totals, summary.averages)
    rows = figures_rows(whole, checked)
    for level, groups in summary.levels.items():
        for key in sorted(groups):
            rows += figures_rows(groups[key], checked, level, key)
    return rows


def summary_json(summary: Summary, checked) -> dict:
    """The summary as JSON-ready data (money in yuan text)."""
    def one(fig: Figures) -> dict:
        out = {"rows": fig.rows, "counts": {k: dict(v) for k, v in fig.counts.items()},
               "totals": {k: {"yuan": yuan(f), "decided": n} for k, (f, n) in fig.totals.items()},
               "averages": {k: {"mean": mean(v, n, checked.rules[k].type.kind), "decided": n}
                            for k, (v, n) in fig.sums.items()}}
        if fig.people[1]:
            out["incidence"] = {"counted": fig.people[0], "people": fig.people[1], "percent": percent(*fig.people)}
        return out

    data = {"entity": summary.entity, **one(Figures(summary.rows, summary.counts, summary.totals, summary.averages))}
    data["levels"] = {level: {key: one(groups[key]) for key in sorted(groups)} for level, groups in summary.levels.items()}
    return data


def write_report(path, fmt: str, rows: list, data: dict, html: str | None = None, columns=COLUMNS) -> None:
    """Write the report in ``fmt`` (rows for CSV/xlsx, data for JSON, the page for HTML),
    atomically; E831 at the path when it cannot be written."""
    path = Path(str(path))
    part = Path(temp_name(path))
    try:
        if fmt == "json":
            part.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
        elif fmt == "html":
            part.write_text(html or "", encoding="utf-8")
        elif fmt == "csv":
            part.write_text(_csv_text(rows, columns), encoding="utf-8")
        else:
            _xlsx(part, rows, columns)
        part.replace(path)
    except (OSError, ValueError) as exc:
        part.unlink(missing_ok=True)
        raise write_failed(path, exc) from None


def _csv_text(rows: list, columns) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buf.getvalue()


def _xlsx(path: Path, rows: list, columns) -> None:
    """One sheet of text cells (a figure stays exact: ``1234.56`` is not a binary float)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("report")
    sheet.append(list(columns))
    for row in rows:
        sheet.append([str(v) for v in row])
    book.save(str(path))
