"""Excel ``.xlsx`` input (python-calamine) and output (openpyxl).

Input: a sheet of one entity (``book.xlsx``: the first sheet; ``book.xlsx#成员``: the named
one) is turned into a UTF-8 CSV of text cells in a temporary file, which then goes
through the CSV path (csvjoin.py: the same joins, validation and quarantine). Cells are
written as text the way a person reads them in Excel: whole numbers without ``.0``
(Excel stores every number as a double: an id typed ``1001`` is ``1001.0`` inside),
other numbers in their shortest round-trip form, dates (serial numbers with a date
format) as ``YYYY-MM-DD``, booleans as ``true``/``false``; text and shared strings as
they are. A workbook is at most 1,048,576 rows, so the temporary copy is bounded.
python-calamine (Rust) reads a sheet about 15 times as fast as openpyxl's read-only
mode (35,000 member rows: 1.2 s against about 20 s).

Output: :class:`SheetWriter` streams rows into a write-only workbook (openpyxl keeps
them in a temporary file until it saves). Text cells are always text, never formulas
(an id ``=1+1`` stays text), and characters XML cannot hold are replaced by U+FFFD.
"""
from __future__ import annotations

import csv
import datetime as dt
import os

from ...dsl.errors import Bilingual, FupinError, Span, error

MAX_ROWS = 1_048_576  # rows of an Excel sheet, the header included
EXCEL = (".xlsx", ".xlsm")


def split_sheet(path: str):
    """``book.xlsx#sheet`` → (``book.xlsx``, ``sheet``); no ``#``: (path, None)."""
    base, sep, sheet = str(path).rpartition("#")
    if sep and base.lower().endswith(EXCEL):
        return base, sheet
    return str(path), None


def unreadable_book(path, detail: str) -> FupinError:
    """E832 located at the workbook."""
    return FupinError(error("E832", Span(str(path), 0, 0), detail=detail))


def sheet_to_csv(path: str, sheet: str | None) -> str:
    """The cells of a sheet as a temporary UTF-8 CSV file (the caller removes it)."""
    import python_calamine as calamine

    try:
        book = calamine.CalamineWorkbook.from_path(path)
        names = book.sheet_names
        if sheet is not None and sheet not in names:
            listed = ", ".join(names)
            raise unreadable_book(path, Bilingual(f"没有工作表 `{sheet}`（可选：{listed}）", f"no sheet `{sheet}` (sheets: {listed})"))
        if not names:
            raise unreadable_book(path, Bilingual("工作簿中没有工作表", "the workbook has no sheet"))
        rows = book.get_sheet_by_name(sheet if sheet is not None else names[0]).iter_rows()
        import tempfile  # workbooks only (start-up of other runs)

        fd, out = tempfile.mkstemp(suffix=".csv", prefix="fupin-sheet-")
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            _copy_rows(rows, csv.writer(f))
        return out
    except (calamine.CalamineError, OSError, ValueError) as exc:
        raise unreadable_book(path, f"{type(exc).__name__}: {exc}") from None


def _copy_rows(rows, writer) -> None:
    width = None
    for row in rows:
        cells = [cell_text(v) for v in row]
        if width is None:  # the header: trailing empty cells are no columns
            while cells and cells[-1] == "":
                cells.pop()
            width = len(cells)
        elif not any(cells):  # blank rows (often left at the end of a sheet) are no rows
            continue
        cells = (cells + [""] * width)[:width]
        writer.writerow(cells)


def cell_text(value) -> str:
    """A cell's value as the text a person reads in Excel (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 2 ** 53 else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):  # a duration cell: its length in days, as Excel counts
        return cell_text(value / dt.timedelta(days=1))
    return str(value)


class SheetWriter:
    """Result rows streamed into one sheet of an .xlsx workbook."""

    def __init__(self, path: str, schema):
        from openpyxl import Workbook

        self.path, self.names = path, schema.names
        self.book = Workbook(write_only=True)
        self.sheet = self.book.create_sheet("results")
        self.sheet.append(list(self.names))
        self.rows = 1

    def write_table(self, table) -> None:
        """Append the rows of an arrow table (OSError if the sheet would overflow)."""
        if self.rows + table.num_rows > MAX_ROWS:
            raise OSError(f"more than {MAX_ROWS - 1} rows do not fit in an Excel sheet; write .parquet or .csv")
        for row in zip(*(table.column(n).to_pylist() for n in self.names)):
            self.sheet.append([self._cell(v) for v in row])
        self.rows += table.num_rows

    def _cell(self, value):
        if not isinstance(value, str):
            return value
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        cell = WriteOnlyCell(self.sheet, ILLEGAL_CHARACTERS_RE.sub("\ufffd", value))
        cell.data_type = "s"  # text, even when it starts with "="
        return cell

    def close(self) -> None:
        """Save the workbook to its path."""
        self.book.save(self.path)

