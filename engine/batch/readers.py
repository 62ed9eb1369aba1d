"""Read Parquet, JSON lines or CSV input in chunks of rows, as raw levels.

Every reader yields :class:`Chunk`\\ s of at most ``chunk_size`` top-level rows, in input
order, each with the 1-based input row number of every row, a way to get the raw record
of a few rows (for the reasons of invalid rows and for ``--explain``), and the records
that could not be read at all (a malformed CSV record, a line that is not JSON), which
are quarantined with E804 but still counted as rows in.

- Parquet: ``ParquetFile.iter_batches`` of the declared columns only (projection.py);
  nested children are ``list<struct>`` columns.
- JSON lines: each chunk is parsed by pyarrow with an explicit schema taken from the
  policy (exact decimals for money and numbers, text for strings, enums and dates); a
  chunk pyarrow cannot read as a whole (mixed types, a broken line) is parsed line by
  line with ``json`` (decimals exact) and validated from Python values instead.
- CSV: ``csv.py`` (all columns read as text, children joined from a second file).
"""
from __future__ import annotations

import io
import json
import os
import re
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ...dsl.coerce import int_or_text
from ...dsl.errors import Bilingual, Span, error
from ..facts.repeated import RepeatedKey, unique_object
from .levels import Level, from_records, from_table
from .projection import dictionary_paths, project

FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
DEFAULT_CHUNK = 32_768  # rows; also the default of --chunk-size (cli/batch.py)


@dataclass
class Broken:
    """A record that could not be read: its row number, id if known, and the diagnostic."""

    row: int
    ident: str | None
    diagnostic: object


@dataclass
class Chunk:
    """Raw rows of the input with their input row numbers."""

    level: Level
    rows: np.ndarray  # int64, 1-based input row number of each row of ``level``
    records: Callable[[list], list]  # raw records (dicts) of some rows of ``level``
    extra: dict = field(default_factory=dict)  # undeclared top-level columns kept (Layout.kept)
    broken: list = field(default_factory=list)  # Broken records, counted as rows in
    reasons: dict = field(default_factory=dict)  # row -> diagnostics found while reading (joins)
    skipped: list = field(default_factory=list)  # undeclared columns not read (projection.py), for W906


class OrderBroken(Exception):
    """A CSV child file is not in the order of its parents: join with an index instead
    (raised by csvjoin.py; defined here so that the batch run catches it without
    importing the CSV reader for a Parquet input)."""


def spare_pandas() -> None:
    """Answer pyarrow's one probe for pandas with "absent" in a process that has not
    imported it (the ``fupin batch`` command's own process; never a library user's).

    pyarrow imports pandas (0.15–0.2 s, a tenth of a small ruleset's million-row run) the
    first time it converts an array, only to ask whether the array is a pandas one; the
    local batch path never hands it pandas objects. pyarrow remembers the answer, and
    imports pandas itself if it is later asked for a pandas conversion (its shim retries
    on demand), so nothing is lost. A process that already has pandas keeps it as it is.
    """
    if "pandas" in sys.modules:
        return
    absent = _Absent()
    sys.meta_path.insert(0, absent)  # ``import pandas`` raises ImportError while probing
    try:
        pa.array(np.zeros(1, dtype=np.int64)).to_numpy()
    finally:
        sys.meta_path.remove(absent)


class _Absent:
    """An import finder that says pandas is not installed."""

    def find_spec(self, name, path=None, target=None):
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError(f"{name} is not imported by the batch command", name=name)
        return None


def format_of(path) -> str | None:
    """``parquet``, ``csv`` or ``jsonl`` by the file's extension (None when unknown)."""
    return FORMATS.get(Path(path).suffix.lower())


def rechunk(batches, size: int) -> Iterator[pa.Table]:
    """Tables of exactly ``size`` rows (the last one shorter) from any batches."""
    # (Parquet batches are used as they come: iter_batches never exceeds the size.)
    pending, count = [], 0
    for batch in batches:
        while batch.num_rows:
            take = min(size - count, batch.num_rows)
            pending.append(batch.slice(0, take))
            count += take
            batch = batch.slice(take)
            if count == size:
                yield _table(pending)
                pending, count = [], 0
    if count:
        yield _table(pending)


def _table(batches) -> pa.Table:
    if len(batches) == 1:
        return pa.Table.from_batches(batches)
    # some read as dictionaries, some as text (a row group read again as text, _dictionary_tables)
    if not all(b.schema.equals(batches[0].schema) for b in batches):
        schema = pa.schema([pa.field(f.name, plain_type(f.type), f.nullable) for f in batches[0].schema])
        return pa.concat_tables([pa.Table.from_batches([b]).cast(schema) for b in batches]).combine_chunks()
    return pa.Table.from_batches(batches).combine_chunks()


def plain_type(t: pa.DataType) -> pa.DataType:
    """``t`` with its dictionaries, at any depth, read as their values."""
    if pa.types.is_dictionary(t):
        return plain_type(t.value_type)
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, plain_type(f.type), f.nullable) for f in t])
    if pa.types.is_list(t):
        return pa.list_(pa.field(t.value_field.name, plain_type(t.value_type), t.value_field.nullable))
    if pa.types.is_large_list(t):
        return pa.large_list(pa.field(t.value_field.name, plain_type(t.value_type), t.value_field.nullable))
    return t


def _has_views(schema: pa.Schema) -> bool:
    return any(_viewless(f.type) != f.type for f in schema)


def _without_views(table: pa.Table) -> pa.Table:
    """``table`` with its string_view and binary_view columns, at any depth, as plain
    string and binary: pyarrow's take, set and regex kernels, which validation, the
    quarantine and the output use, have no view kernels (a bare "no kernel matching input
    types" E804 before)."""
    schema = pa.schema([pa.field(f.name, _viewless(f.type), f.nullable, f.metadata) for f in table.schema])
    return table if schema.equals(table.schema) else table.cast(schema)


def _viewless(t: pa.DataType) -> pa.DataType:
    if pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_binary_view(t):
        return pa.binary()
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, _viewless(f.type), f.nullable, f.metadata) for f in t])
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        field = t.value_field
        inner = pa.field(field.name, _viewless(field.type), field.nullable, field.metadata)
        return pa.list_(inner) if pa.types.is_list(t) else pa.large_list(inner)
    return t


def keep_extra(table, names) -> dict:
    """The named columns of a table, when present."""
    return {n: table.column(n) for n in names if n in table.schema.names}


# --- Parquet


_FOOTERS: dict = {}  # (path, size, mtime, inode, device) -> FileMetaData, the last few read


def footer(path) -> pq.FileMetaData:
    """A Parquet file's footer, parsed once while the file stays the same (size, time,
    inode): a run asks for it five times (names, rows, groups, two readers), and a
    footer of 100 row groups of 80 columns takes milliseconds to parse each time. The
    memo keeps the last 8 files; a changed file is read again."""
    st = os.stat(path)
    stamp = (os.fspath(path), st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)
    meta = _FOOTERS.get(stamp)
    if meta is None:
        meta = pq.read_metadata(path)
        if len(_FOOTERS) >= 8:
            _FOOTERS.pop(next(iter(_FOOTERS)))
        _FOOTERS[stamp] = meta
    return meta


def parquet_file(path, **options) -> pq.ParquetFile:
    """``pq.ParquetFile`` with the footer from :func:`footer`."""
    return pq.ParquetFile(path, metadata=footer(path), **options)


def parquet_rows(path) -> int:
    """The number of rows of a Parquet file, from its footer."""
    return footer(path).num_rows


def parquet_chunks(path, layout, chunk_size: int, kept=None, row_groups=None, start: int = 0,
                   dictionaries: bool = True) -> Iterator[Chunk]:
    """Chunks of a Parquet file; nested children come from ``list<struct>`` columns.

    Opened with ``pre_buffer=False``. With pyarrow's default (True in recent versions)
    column chunks are read through a cache that nothing evicts while the file is open
    (apache/arrow#39808), so one ``iter_batches`` over a whole file keeps the compressed
    bytes of every row group read so far: memory grows with the input, to the size of
    the file at the end (420 MiB for the 10M benchmark households, ~44 bytes each).
    Without it, each column chunk is read when its row group is decoded and freed after;
    pre-buffering pays on high-latency filesystems, and the input here is a local file.
    ``kept``: undeclared columns read and kept (default ``layout.kept``; the batch passes
    the key columns carried to the output, keys.py). ``row_groups``: only these (a Dask
    partition, distributed.py), whose first row is input row ``start + 1``.
    ``dictionaries``: the declared enums' text columns are read as dictionary arrays
    (projection.dictionary_paths; the same values, validated once per distinct text).
    """
    kept = layout.kept if kept is None else tuple(kept)
    pf = parquet_file(path, pre_buffer=False)
    chosen = project(pf.schema, layout, kept)  # declared columns only
    enums = dictionary_paths(pf.schema, layout, kept, chosen.columns) if dictionaries else []
    groups = None if row_groups is None else list(row_groups)
    if enums:
        tables = _dictionary_tables(path, pf, enums, chunk_size, groups, chosen.columns)
    else:
        tables = (pa.Table.from_batches([b]) for b in
                  pf.iter_batches(batch_size=chunk_size, row_groups=groups, columns=chosen.columns))
    views = _has_views(pf.schema_arrow)
    for table in tables:
        if table.num_rows:
            chunk = table_chunk(layout, _without_views(table) if views else table, start, kept)
            chunk.skipped = chosen.skipped
            yield chunk
        start += table.num_rows


def _dictionary_tables(path, plain, enums: list, chunk_size: int, groups, columns) -> Iterator[pa.Table]:
    """The tables of ``chunk_size`` rows that ``plain.iter_batches`` would give, with the
    ``enums`` columns read as dictionary arrays.

    pyarrow cannot read a nested column as a dictionary across row groups (each has its
    own dictionary: "Nested data conversions not implemented for chunked array
    outputs"), so each row group is read on its own and the batches are joined again
    into the same chunks (``rechunk``; joining unifies the dictionaries). A row group
    pyarrow cannot read that way (a writer that gave up the dictionary in mid-column)
    is read as text from where it stopped."""
    as_dict = parquet_file(path, pre_buffer=False, read_dictionary=enums)
    groups = range(plain.num_row_groups) if groups is None else groups

    def batches():
        for group in groups:
            done = 0
            try:
                for batch in as_dict.iter_batches(batch_size=chunk_size, row_groups=[group], columns=columns):
                    done += batch.num_rows
                    yield batch
            except pa.ArrowException:
                for batch in plain.iter_batches(batch_size=chunk_size, row_groups=[group], columns=columns):
                    skip = min(done, batch.num_rows)
                    done -= skip
                    if batch.num_rows > skip:
                        yield batch.slice(skip)

    return rechunk(batches(), chunk_size)


def table_chunk(layout, table: pa.Table, start: int, kept=None) -> Chunk:
    """A chunk from an arrow table whose first row is input row ``start + 1``."""
    rows = np.arange(start + 1, start + table.num_rows + 1, dtype=np.int64)
    return Chunk(from_table(layout, table), rows, lambda idx, t=table: t.take(pa.array(idx, pa.int64())).to_pylist(),
                 keep_extra(table, layout.kept if kept is None else kept))


# --- JSON lines


def jsonl_chunks(path, layout, chunk_size: int, kept=None) -> Iterator[Chunk]:
    """Chunks of a JSON-lines file (blank lines skipped, not counted; a UTF-8 BOM dropped)."""
    kept = layout.kept if kept is None else tuple(kept)
    types = JsonTypes(layout)
    start = 0
    lines: list = []
    with open(path, "rb") as f:
        for line in f:
            if start == 0 and not lines and line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]
            if not line.strip():
                continue
            lines.append(line if line.endswith(b"\n") else line + b"\n")
            if len(lines) == chunk_size:
                yield _jsonl_chunk(layout, lines, start, types, path, kept)
                start += len(lines)
                lines = []
    if lines:
        yield _jsonl_chunk(layout, lines, start, types, path, kept)


JSON_TYPES = {"bool": pa.bool_(), "integer": pa.decimal128(38, 0), "money": pa.decimal128(38, 2),
              "decimal": pa.decimal128(38, 18), "ratio": pa.decimal128(38, 18), "date": pa.string(),
              "string": pa.string(), "enum": pa.string()}


class JsonTypes:
    """The arrow types JSON values must have to be read without loss, for the declared
    fields a file actually has (exact decimals; text for strings, enums and dates, which
    pyarrow would otherwise turn into timestamps). Declaring absent fields too would
    make pyarrow build null columns for them: twice the reading time on real data."""

    def __init__(self, layout):
        self.layout = layout
        self.seen = None  # declared field -> names seen in its children (None: scalar)

    def read(self, data: bytes) -> pa.Table:
        """The chunk as a table; raises pyarrow errors for what it cannot read."""
        if self.seen is None:
            self.seen = declared_names(self.layout, _read_json(data, None).schema)
        table = _read_json(data, pa.schema(self._fields(self.layout, self.seen)))
        found = declared_names(self.layout, table.schema)
        if not _within(found, self.seen):  # a declared field first seen here: read it typed
            self.seen = _union(self.seen, found)
            table = _read_json(data, pa.schema(self._fields(self.layout, self.seen)))
        return table

    def _fields(self, layout, seen) -> list:
        out = []
        for name, sub in seen.items():
            if name in layout.fields:
                out.append(pa.field(name, JSON_TYPES[layout.fields[name].kind]))
            else:
                child = layout.lists[name]
                names = sub if sub is not None else {n: None for n in child.fields}
                out.append(pa.field(name, pa.list_(pa.struct(self._fields(child, names)))))
        return out


def declared_names(layout, fields) -> dict:
    """The declared fields among arrow fields, with those of their children."""
    out = {}
    for f in fields:
        if f.name in layout.fields:
            out[f.name] = None
        elif f.name in layout.lists:
            t = f.type
            inner = t.value_type if pa.types.is_list(t) or pa.types.is_large_list(t) else None
            out[f.name] = (declared_names(layout.lists[f.name], list(inner))
                           if inner is not None and pa.types.is_struct(inner) else None)
    return out


def _within(found: dict, seen: dict) -> bool:
    return all(name in seen and (sub is None or _within(sub, seen[name] or {})) for name, sub in found.items())


def _union(a: dict, b: dict) -> dict:
    out = dict(a)
    for name, sub in b.items():
        mine = out.get(name)
        out[name] = sub if mine is None else (mine if sub is None else _union(mine, sub))
    return out


def _read_json(data: bytes, schema) -> pa.Table:
    import pyarrow.json as pj  # JSON lines only: a Parquet run need not import it (start-up)

    options = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer") if schema is not None \
        else pj.ParseOptions()
    return pj.read_json(io.BytesIO(data), parse_options=options,
                        read_options=pj.ReadOptions(block_size=max(1 << 20, len(data) + 1), use_threads=False))


def _jsonl_chunk(layout, lines: list, start: int, types: JsonTypes, path, kept) -> Chunk:
    table = None
    # pyarrow only sees chunks of objects: a line `null` makes its reader crash the
    # process (a segmentation fault with pyarrow 26), and other non-objects fail anyway;
    # nor a number with an exponent of four digits or more, which no field takes (E820)
    # and whose conversion to a decimal column can crash it too (`1e-9999999`)
    if all(line.lstrip()[:1] == b"{" for line in lines) and not any(map(_HUGE_EXPONENT.search, lines)):
        try:
            table = types.read(b"".join(lines))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            table = None
    if table is not None and table.num_rows == len(lines):
        rows = np.arange(start + 1, start + len(lines) + 1, dtype=np.int64)
        return Chunk(from_table(layout, table), rows, lambda idx: [_loads(lines[i]) for i in idx],
                     keep_extra(table, kept))
    return _jsonl_python(layout, lines, start, path, kept)


# a digit or point, then an exponent of 4+ digits: a number no field takes (bounded to
# 10^15 and MAX_DECIMALS places); rarely also text inside a string, which only costs
# that chunk the line-by-line path
_HUGE_EXPONENT = re.compile(rb"[0-9.][eE][+-]?[0-9]{4,}")


def _loads(line: bytes):
    """A JSON line, decimals exact; RepeatedKey for a key given twice in one object."""
    return json.loads(line.rstrip(b"\r\n"), parse_float=Decimal, parse_int=int_or_text, object_pairs_hook=unique_object)


def _ident(line: bytes, key: str) -> str | None:
    """The id of a quarantined JSON line whose id is not in doubt, to name its row."""
    try:
        record = json.loads(line)
    except ValueError:
        return None
    value = record.get(key) if isinstance(record, dict) else None
    return None if value is None or isinstance(value, (dict, list)) else str(value)


def _jsonl_python(layout, lines: list, start: int, path, kept) -> Chunk:
    """A chunk parsed line by line: exact decimals, any mix of types, broken lines quarantined."""
    records, rows, broken = [], [], []
    for i, line in enumerate(lines):
        try:
            records.append(_loads(line))
            rows.append(start + i + 1)
        except RepeatedKey as exc:  # json's default would keep the last value silently
            detail = exc.detail(f"第 {start + i + 1} 行：", f"line {start + i + 1}: ")
            ident = _ident(line, layout.key) if exc.key != layout.key else None
            broken.append(Broken(start + i + 1, ident, error("E804", Span(str(path), 0, 0), detail=detail)))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            detail = Bilingual(f"第 {start + i + 1} 行不是有效的 JSON：{exc}", f"line {start + i + 1} is not valid JSON: {exc}")
            broken.append(Broken(start + i + 1, None, error("E804", Span(str(path), 0, 0), detail=detail)))
    extra = {}
    for name in kept:
        if any(isinstance(r, dict) and name in r for r in records):
            values = [r.get(name) if isinstance(r, dict) else None for r in records]
            extra[name] = pa.array([None if v is None else str(v) for v in values], pa.string())
    return Chunk(from_records(layout, records), np.array(rows, dtype=np.int64),
                 lambda idx: [records[i] for i in idx], extra, broken)
