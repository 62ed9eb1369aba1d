"""The input of a batch run: which file, which format, which joined files.

:class:`Source` checks the arguments (formats by extension, files readable, joins only
for CSV, each naming a list field whose child entity declares its ``parent_key``) and
opens the right reader; problems are ``FupinError``\\ s located at
``<arguments>`` (E804), rendered like every other command's. A CSV input whose entity
(or a joined child) has a list that could be joined (its child declares ``parent_key``)
but is not, and is not declared ``optional``, is E816: forgetting ``--members`` would
otherwise make every output that reads the members unknown, without a word.
"""
from __future__ import annotations

import os
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from pyarrow import ArrowException

from ...dsl.errors import Bilingual, FupinError, Span, error
from .encoding import codec_name, detect, header
from .excel import EXCEL, sheet_to_csv, split_sheet
from .keys import input_columns
from .readers import DEFAULT_CHUNK, footer, format_of, jsonl_chunks, parquet_chunks, parquet_rows

ARGUMENTS = Span("<arguments>", 0, 0)
OUTPUT_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".xlsx": "xlsx"}
QUARANTINE_FORMATS = (".csv", ".jsonl", ".ndjson")


def bad_argument(zh: str, en: str) -> FupinError:
    """A FupinError (E804) located at ``<arguments>``."""
    return FupinError(error("E804", ARGUMENTS, detail=Bilingual(zh, en)))


@dataclass
class Source:
    """An input file of one entity, with the CSV files its children are joined from
    (``joined``: list field name -> CSV path, at any depth below the entity)."""

    path: str
    layout: object
    joined: dict = field(default_factory=dict)
    chunk_size: int = DEFAULT_CHUNK
    join_mode: str = "merge"

    encoding: str | None = None  # of CSV files (--encoding); None: detected per file
    kept: tuple | None = None  # undeclared columns read beside the facts (Job.carried); None: layout.kept

    def __post_init__(self):
        self._temps: list = []  # CSV copies of Excel sheets, removed with the Source
        weakref.finalize(self, _remove, self._temps)
        book, sheet = split_sheet(self.path)
        _readable(book, "输入", "input")
        self.fmt = "xlsx" if book.lower().endswith(EXCEL) else format_of(book)
        if self.fmt is None:
            raise bad_argument(f"不认识输入文件 `{self.path}` 的格式（应为 .parquet、.csv、.jsonl 或 .xlsx）",
                               f"unknown input format of `{self.path}` (expected .parquet, .csv, .jsonl or .xlsx)")
        self.given = codec_name(self.encoding) if self.encoding else None
        self.text_path, self.encoding = self._text(book, sheet)
        self._paths = {name: self._join_file(path, book) for name, path in self.joined.items()}
        if self.chunk_size < 1:
            raise bad_argument("--chunk-size 至少为 1", "--chunk-size must be at least 1")
        self._joins = join_specs(self.layout, self._paths)
        unused = sorted(set(self.joined) - _named(self._joins))
        if unused:
            raise bad_argument(f"--join `{unused[0]}`：不是{self.layout.label['zh']}或其关联下级的列表字段（可选：{_lists(self.layout)}）",
                               f"--join `{unused[0]}`: not a list field of {self.layout.entity} or of a joined child "
                               f"(lists: {_lists(self.layout)})")
        if self.fmt == "csv":
            _all_joined(self.layout, self.joined)
        self._unique_names()
        self._reader = None

    def _unique_names(self) -> None:
        """E804 at the file for a column named twice in the input's header or schema, or in
        a joined file's header: a reader would keep one of the two and drop the other's
        values without a word. Checked before anything is read or written."""
        from ..facts.repeated import header_detail, repeats, schema_repeats

        if self.fmt == "parquet":
            try:
                found = schema_repeats(footer(self.text_path).schema.to_arrow_schema())
            except (OSError, ArrowException):
                return  # the reader reports an unreadable file, located
            if found:
                raise FupinError(error("E804", Span(self.path, 0, 0), detail=header_detail(found, schema=True)))
            return
        files = [(self.path, self.text_path, self.encoding)] if self.fmt in ("csv", "xlsx") else []
        files += [(self.joined[name], *self._paths[name]) for name in self._paths]
        for shown, text_path, encoding in files:
            try:
                found = repeats(header(text_path, encoding))
            except FupinError:
                continue  # bytes that do not decode: the run reports them (E830), located and accounted
            if found:
                raise FupinError(error("E804", Span(os.fspath(shown), 1, 1), detail=header_detail(found)))

    def _text(self, book: str, sheet):
        """The CSV to read for a CSV or Excel input, and its encoding (other formats: as given)."""
        if self.fmt == "xlsx":
            self._temps.append(sheet_to_csv(book, sheet))
            return self._temps[-1], "utf-8"
        if self.fmt == "csv":
            return book, self.given or detect(book)
        return book, "utf-8"

    def _join_file(self, path: str, book: str):
        """(CSV path, encoding) of a joined file: a .csv, an .xlsx[#SHEET], or ``#SHEET`` of the input workbook."""
        path = os.fspath(path)
        if path.startswith("#"):
            if self.fmt != "xlsx":
                raise bad_argument(f"`{path}` 指输入工作簿中的工作表，但输入不是 .xlsx 文件",
                                   f"`{path}` names a sheet of the input workbook, and the input is not .xlsx")
            path = book + path
        base, sheet = split_sheet(path)
        _readable(base, "关联", "joined")
        if self.fmt not in ("csv", "xlsx") or not (format_of(base) == "csv" or base.lower().endswith(EXCEL)):
            raise bad_argument("--join 只用于 CSV 或 Excel 输入（.csv、.xlsx 文件或工作表）",
                               "--join goes with CSV or Excel input (.csv or .xlsx files, or sheets)")
        if base.lower().endswith(EXCEL):
            self._temps.append(sheet_to_csv(base, sheet))
            return self._temps[-1], "utf-8"
        return base, self.given or detect(base)

    def columns(self) -> list:
        """The input's top-level column names (keys.py)."""
        return input_columns(self.fmt if self.fmt != "xlsx" else "csv", self.text_path, self.encoding)

    def total(self) -> int | None:
        """The number of input rows when known before reading (Parquet)."""
        if self.fmt != "parquet":
            return None
        try:
            return parquet_rows(self.text_path)
        except (OSError, ArrowException) as exc:
            raise unreadable(self.path, exc) from None

    def chunks(self):
        """The input's chunks, in order (CSV merge joins may raise OrderBroken)."""
        if self.fmt == "parquet":
            return parquet_chunks(self.text_path, self.layout, self.chunk_size, self.kept_columns())
        if self.fmt == "jsonl":
            return jsonl_chunks(self.text_path, self.layout, self.chunk_size, self.kept_columns())
        from .csvjoin import CsvReader  # a CSV input only: Parquet runs need not import it

        self._reader = CsvReader(self.text_path, self.layout, self.joins(), self.join_mode, self.encoding, self.kept_columns())
        return self._reader.chunks(self.chunk_size)

    def row_groups(self) -> list | None:
        """A Parquet input's row groups as ``(index, rows before it, rows)`` (None for
        other formats, or when the footer cannot be read: reading reports it)."""
        if self.fmt != "parquet":
            return None
        try:
            meta = footer(self.text_path)
        except (OSError, ArrowException):
            return None
        groups, start = [], 0
        for i in range(meta.num_row_groups):
            rows = meta.row_group(i).num_rows
            groups.append((i, start, rows))
            start += rows
        return groups

    def slice(self, group: int, start: int):
        """The chunks of one row group of a Parquet input, as :meth:`chunks` reads them
        (a worker process reads its own, workers.py)."""
        return parquet_chunks(self.text_path, self.layout, self.chunk_size, self.kept_columns(), [group], start)

    def kept_columns(self) -> tuple:
        """Undeclared columns read beside the facts: the layout's own and the carried keys."""
        kept = tuple(self.layout.kept)
        return kept + tuple(k for k in (self.kept or ()) if k not in kept)

    def finish(self) -> int:
        """After the last chunk: child rows that matched no parent (CSV joins)."""
        return self._reader.finish() if self._reader is not None else 0

    def input_files(self) -> list:
        """The files this source reads: the input (a workbook, not its sheet) and the joined ones."""
        files = [split_sheet(self.path)[0]]
        for path in self.joined.values():
            path = os.fspath(path)
            base = split_sheet(self.path)[0] if path.startswith("#") else split_sheet(path)[0]
            if base not in files:
                files.append(base)
        return files

    def joins(self) -> list:
        """The CSV joins of this entity's list fields (nested for joined children)."""
        return list(self._joins)


def join_specs(layout, joined: dict) -> list:
    """A JoinSpec for each list field of ``layout`` named in ``joined`` (name -> path, or
    (path, encoding)), with the joins of its child entity inside; the join column is the
    child entity's declared ``parent_key``."""
    out = []
    for name, child in layout.lists.items():
        if name not in joined:
            continue
        if not child.parent_key:
            raise bad_argument(f"--join `{name}`：实体 `{child.entity}` 未声明 parent_key（关联文件中上级编号所在的列）",
                               f"--join `{name}`: entity `{child.entity}` declares no parent_key "
                               f"(the column of a joined file naming the parent)")
        path, encoding = joined[name] if isinstance(joined[name], tuple) else (joined[name], "utf-8")
        from .csvjoin import JoinSpec

        out.append(JoinSpec(name, path, child.parent_key, tuple(join_specs(child, joined)), encoding))
    return out


def _all_joined(layout, joined: dict, prefix: str = "") -> None:
    """E816 for the first joinable list (its child declares parent_key) of ``layout``, or of
    a joined child, that is neither joined nor declared optional."""
    for name, child in layout.lists.items():
        if name in joined:
            _all_joined(child, joined, f"{prefix}{name}[].")
        elif child.parent_key and name not in layout.optional_lists:
            raise FupinError(error("E816", ARGUMENTS, path=prefix + name, name=name, child=child.label, detail=Bilingual(
                "CSV 输入的下级记录须另给文件", "the child rows of a CSV input come in a file of their own")))


def _named(joins) -> set:
    return {j.name for j in joins}.union(*(_named(j.children) for j in joins))


def _lists(layout) -> str:
    """The list fields of an entity and of its descendants, for the hint of a bad --join."""
    names, todo = [], [layout]
    while todo:
        level = todo.pop(0)
        names += [n for n in level.lists if n not in names]
        todo += level.lists.values()
    return ", ".join(names) or "-"


def output_format(path) -> str:
    """``parquet``, ``csv`` or ``xlsx`` by the output's extension (a folder ``DIR/``: a
    Parquet dataset written by the Dask workers, dataset.py)."""
    text = os.fspath(path)
    fmt = "parquet" if text.endswith(("/", os.sep)) or Path(text).is_dir() else OUTPUT_FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise bad_argument(f"输出文件 `{path}` 应为 .parquet、.csv 或 .xlsx", f"the output `{path}` must be .parquet, .csv or .xlsx")
    return fmt


def quarantine_path(output, given=None) -> str:
    """The quarantine file: as given (.csv or .jsonl), or ``<OUTPUT stem>.quarantine.csv``."""
    if given is None:
        out = Path(output)
        return str(out.with_name(out.stem + ".quarantine.csv"))
    if Path(given).suffix.lower() not in QUARANTINE_FORMATS:
        raise bad_argument(f"隔离文件 `{given}` 应为 .csv 或 .jsonl", f"the quarantine file `{given}` must be .csv or .jsonl")
    return str(given)


def unreadable(path, exc) -> FupinError:
    """E804 located at the input file: it could not be read."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return FupinError(error("E804", Span(os.fspath(path), 0, 0),
                            detail=Bilingual(f"无法读取：{text}", f"cannot be read: {text}")))


def _readable(path, zh: str, en: str) -> None:
    if Path(path).is_dir():
        raise bad_argument(f"{zh}文件 `{path}` 是一个文件夹：应给出一个 .parquet、.csv、.jsonl 或 .xlsx 文件",
                           f"the {en} file `{path}` is a folder: give one .parquet, .csv, .jsonl or .xlsx file")
    if not Path(path).is_file():
        raise bad_argument(f"找不到{zh}文件 `{path}`", f"{en} file `{path}` not found")


def _remove(paths: list) -> None:
    for path in paths:
        try:
            os.unlink(path)
        except OSError:
            pass
