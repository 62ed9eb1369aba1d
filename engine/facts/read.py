"""Read fact files, keeping positions: JSON or YAML (one entity object or a list), or the
rows of a table: CSV (UTF-8 or GB18030/GBK, detected or given), Excel ``.xlsx``, JSON
lines and Parquet — the formats ``fupin batch`` reads, so ``fupin eval`` can look at the
same register a row at a time.

A table row is one entity; an empty cell (or null) is a missing fact, never a default.
CSV and Excel cells are text, decided like text in JSON (``"4999.5"``, ``"是"``). A
diagnostic about a row's field is located at ``FILE:ROW:COLUMN``: the row as a
spreadsheet numbers it, the header being row 1; in a CSV file the column is the
character where the field's cell starts on that line (as every ``Span`` counts it, so the
caret stands under the cell), elsewhere the column's number (4 is column D of an Excel
sheet); for JSON lines and Parquet the row is the record's line or row number.
"""
from __future__ import annotations

import csv
import json
import os
from decimal import Decimal
from pathlib import Path

from ...dsl.errors import Bilingual, FupinError, Span, error
from ...dsl.yamlsrc import load_yaml_file
from .repeated import RepeatedKey, header_detail, repeats, schema_repeats, shown, unique_object

TABLES = {".csv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".jsonl": "jsonl", ".ndjson": "jsonl",
          ".parquet": "parquet", ".pq": "parquet"}


class FactsFile:
    """The entities of a facts file, each with a function that locates its fields.

    ``items``: ``(facts, base)`` pairs; :meth:`where` turns a base into a locator.
    ``encoding``: of a CSV file (None: detected).
    """

    def __init__(self, path: str, encoding: str | None = None):
        self.path = str(path)
        kind = TABLES.get(Path(self.path.rpartition("#")[0] or self.path).suffix.lower())
        if kind is not None:
            self.single, self.pos = False, None
            rows = TableRows(self.path, kind, encoding)
            self.items, self._columns = rows.read()
            self._starts = rows.starts
            return
        try:
            data, pos = load_yaml_file(path)  # JSON is read as YAML: same positions, exact decimals
        except FupinError as exc:
            raise FupinError([_as_facts(d) for d in exc.diagnostics]) from None
        self.single = isinstance(data, dict)
        if self.single:
            self.items = [(data, ())]
        elif isinstance(data, list):
            self.items = [(item, (i,)) for i, item in enumerate(data)]
        else:
            raise FupinError(error("E804", Span(path, 1, 1), detail={
                "zh": "事实文件应为一个对象或对象列表", "en": "a facts file holds one object or a list of objects"}))
        self.pos = pos

    def where(self, base: tuple) -> "Locator":
        """A locator ``path -> Span`` for the entity at ``base`` (``.key(path)``: its key's place)."""
        if self.pos is None:  # a table row: base is (row,)
            return RowLocator(self.path, base[0], self._columns, self._starts.get(base[0]))
        return Locator(self.pos, base)


class TableRows:
    """The rows of a table file as fact dicts, each with its row number."""

    def __init__(self, path: str, kind: str, encoding: str | None):
        self.path, self.kind, self.encoding = path, kind, encoding
        self.starts: dict = {}  # CSV row -> the character column where each cell starts

    def read(self):
        """``([(facts, (row,)), …], column names)``."""
        if self.kind == "parquet":
            return self._parquet()
        if self.kind == "jsonl":
            return self._jsonl()
        return self._csv()

    def _csv(self):
        from ..batch.encoding import codec_name, detect, undecodable
        from ..batch.excel import sheet_to_csv, split_sheet

        path, temp = self.path, None
        if self.kind == "xlsx":
            path = temp = sheet_to_csv(*split_sheet(self.path))
            encoding = "utf-8"
        else:
            _exists(path)
            encoding = codec_name(self.encoding) if self.encoding else detect(path)
        try:
            with open(path, newline="", encoding="utf-8-sig" if encoding == "utf-8" else encoding) as f:
                record: list = []  # the physical lines of the record being read
                reader = csv.reader(_kept(f, record))
                header = [h.lstrip("\ufeff") for h in next(reader, [])]
                _unique_header(self.path, header)
                items = []
                record.clear()
                for values in reader:
                    line, text = reader.line_num, "".join(record)
                    record.clear()
                    if not any(values):
                        continue
                    starts = None if temp is not None else cell_starts(text, len(values))
                    if starts is not None:  # an Excel sheet's rows keep the column numbers
                        self.starts[line] = starts
                    items.append((_row(self.path, line, header, values, starts), (line,)))
        except UnicodeDecodeError as exc:
            raise undecodable(self.path, encoding, Bilingual(str(exc), str(exc))) from None
        except csv.Error as exc:
            raise _bad(self.path, 1, Bilingual(f"CSV：{exc}", f"CSV: {exc}")) from None
        finally:
            if temp is not None:
                os.unlink(temp)
        return items, header

    def _jsonl(self):
        _exists(self.path)
        items, columns = [], []
        with open(self.path, "rb") as f:
            for number, line in enumerate(f, 1):
                line = line.removeprefix(b"\xef\xbb\xbf") if number == 1 else line
                if not line.strip():
                    continue
                try:
                    record = json.loads(line, parse_float=Decimal, object_pairs_hook=unique_object)
                except RepeatedKey as exc:  # json's default would keep the last value silently
                    raise _bad(self.path, number, exc.detail()) from None
                except (ValueError, UnicodeDecodeError) as exc:
                    raise _bad(self.path, number, Bilingual(f"不是有效的 JSON：{exc}", f"not valid JSON: {exc}")) from None
                items.append((record, (number,)))
                columns += [k for k in (record if isinstance(record, dict) else ()) if k not in columns]
        return items, columns

    def _parquet(self):
        import pyarrow as pa
        import pyarrow.parquet as pq

        _exists(self.path)
        try:
            found = schema_repeats(pq.read_schema(self.path))
            if found:  # reading would fail on it, or keep one of the two columns
                raise _bad(self.path, 0, header_detail(found, schema=True))
            table = pq.read_table(self.path)
        except (OSError, pa.ArrowException) as exc:
            text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise _bad(self.path, 0, Bilingual(text, text)) from None
        rows = [{k: v for k, v in r.items() if v is not None} for r in table.to_pylist()]
        return [(r, (i + 1,)) for i, r in enumerate(rows)], table.column_names


def _kept(lines, record: list):
    """The lines of a file, each also appended to ``record`` (the reader's current record)."""
    for line in lines:
        record.append(line)
        yield line


def cell_starts(text: str, cells: int) -> list:
    """The 1-based character columns where the ``cells`` cells of one CSV record start on
    its line; all 1 when the record spans several lines (a quoted cell with a line break:
    the row's number is its last line) or does not split as the csv module split it, so
    the caret stands under the row, never under the wrong cell."""
    line = text.rstrip("\r\n")
    if "\n" in line or "\r" in line:
        return [1] * cells
    starts, quoted = [1], False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted  # a doubled quote inside a quoted cell flips twice
        elif ch == "," and not quoted:
            starts.append(i + 2)
    return starts if len(starts) == cells else [1] * cells


def _row(path: str, line: int, header: list, values: list, starts: list | None = None) -> dict:
    """A CSV record as facts: empty cells are missing facts (a short record's absent cells
    too). A filled cell beyond the header or under a column with no name is E804 at it:
    no name would hold its value, and dropping it would lose a fact without a word."""
    for i, value in enumerate(values):
        if value != "" and (i >= len(header) or not header[i]):
            where = (f"第 {i + 1} 格超出表头的 {len(header)} 列", f"cell {i + 1} lies beyond the header's {len(header)} columns") \
                if i >= len(header) else (f"第 {i + 1} 列没有列名", f"column {i + 1} has no name in the header")
            raise FupinError(error("E804", Span(path, line, starts[i] if starts else i + 1), detail=Bilingual(
                f"{where[0]}，其中的 `{shown(value)}` 无处可放", f"{where[1]}, so `{shown(value)}` has nowhere to go")))
    return {name: value for name, value in zip(header, values) if value != ""}


def _exists(path: str) -> None:
    if not Path(path).is_file():
        raise _bad(path, 0, Bilingual("找不到文件", "file not found"))


def _unique_header(path: str, header: list) -> None:
    """E804 at row 1 for a column named twice: a row's dict would keep one of the two cells."""
    found = repeats(header)
    if found:
        raise _bad(path, 1, header_detail(found))


def _as_facts(diag):
    """A key given twice in a facts file is invalid input (E804, as in JSON lines), not the
    rule files' E104 "declared twice in the whole policy" with its hint about policies."""
    if diag.code != "E104":
        return diag
    key, first = shown(str(diag.args["name"])), diag.args["first"]
    return error("E804", diag.span, detail=Bilingual(f"字段 `{key}` 在同一对象中出现两次（首次在 {first}；只能给一次）",
                                                     f"key `{key}` appears twice in one object (first at {first}; give it once)"))


def _bad(path: str, line: int, detail: Bilingual) -> FupinError:
    return FupinError(error("E804", Span(path, line, 1 if line else 0), detail=detail))


class Locator:
    """Where the values (call) and keys (:meth:`key`) of one entity of a facts file are."""

    def __init__(self, pos, base: tuple):
        self.pos, self.base = pos, base

    def __call__(self, path) -> Span:
        return self.pos.span(self.base + tuple(path))

    def key(self, path) -> Span:
        """The place of the key at ``path`` (an undeclared field is located at its name)."""
        return self.pos.key_span(self.base + tuple(path))


class RowLocator:
    """Where the cells of one row of a table file are: its row, and the column of a
    top-level field (the first column for a field the file does not have): the character
    where its cell starts when ``starts`` gives them (a CSV line), else its number."""

    def __init__(self, path: str, row: int, columns: list, starts: list | None = None):
        self.path, self.row, self.columns, self.starts = path, row, columns, starts

    def __call__(self, path) -> Span:
        top = path[0] if path else None
        if top not in self.columns:
            return Span(self.path, self.row, 1)
        i = self.columns.index(top)
        return Span(self.path, self.row, self.starts[i] if self.starts and i < len(self.starts) else i + 1)

    def key(self, path) -> Span:
        """A table has no keys apart from its header: the cell's place stands for it."""
        return self(path)
