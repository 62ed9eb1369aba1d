"""CSV input: every column read as text, children joined from second files.

A CSV of one entity has one row per entity; the children of a list field come from a
second CSV (``--join LIST=FILE``), one row per child, its ``parent_key`` column (declared
by the child entity, e.g. ``household_id``) naming the parent's key. Joins nest: the
children of joined children come from a third file. Empty cells are missing facts;
cells are text, decided by the same rules as text in JSON (``"4999.5"``, ``"6万"``, ``"是"``).

Joining, and its memory:

- :class:`MergeJoin` (first try): the child file is in the order of its parents (all
  members of a household together, households in file order). It is streamed beside
  the parent file, so memory stays bounded by the chunk size. If a child row turns up
  out of that order, or matches no parent, the join raises :class:`OrderBroken`.
- :class:`IndexJoin` (the fallback, after ``OrderBroken`` the whole run starts again):
  the child file is read into memory once (an Arrow table of its text, about the size
  of the file) and indexed by key; children are then taken for each chunk of parents.
  Child rows that match no parent are counted and reported.

Either way, children attach to the first parent with their key (ids are meant to be
unique). A parent with no child rows has an unknown list, not an empty one. A
malformed child record (wrong number of fields) makes its parent invalid (E804).
"""
from __future__ import annotations

import csv
import difflib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from ...dsl.errors import Bilingual, FupinError, Span, error
from .encoding import header, undecodable
from .levels import Level, from_table, joined
from .readers import Broken, Chunk, OrderBroken, keep_extra, rechunk

ROW = "\x00row"  # the input row number, carried beside the data through re-chunking
BLOCK = 1 << 22


@dataclass
class JoinSpec:
    """Children of a list field read from a second CSV file, joined on ``key``."""

    name: str  # the list field
    path: str
    key: str  # the column of the child file naming the parent's key (the child's parent_key)
    children: tuple = ()  # JoinSpecs of the grandchildren (lists of the joined children)
    encoding: str = "utf-8"  # of the file (encoding.py)


@dataclass
class Malformed:
    """A CSV record with the wrong number of fields."""

    row: int  # 1-based data row (the header is not a row)
    text: str
    expected: int
    actual: int

    def field(self, header: list, name: str):
        """A field of the record, parsed from its text, if it can be found."""
        try:
            values = next(csv.reader([self.text]))
            return values[header.index(name)]
        except (StopIteration, ValueError, IndexError):
            return None

    def diagnostic(self, path):
        name = Path(path).name
        detail = Bilingual(f"{name} 第 {self.row} 条记录应有 {self.expected} 个字段，实有 {self.actual} 个：{self.text[:60]}",
                           f"{name} record {self.row} has {self.actual} fields, expected {self.expected}: {self.text[:60]}")
        return error("E804", Span(str(path), 0, 0), detail=detail)


class CsvStream:
    """Record batches of a CSV file, all text, each with its data row numbers (``ROW``)."""

    def __init__(self, path, encoding: str = "utf-8"):
        self.path, self.encoding = str(path), encoding
        self.header = header(self.path, encoding)
        self.malformed: list = []  # reported by the parser, not yet taken
        self._pending: list = []  # malformed row numbers not yet passed by the numbering
        self._last = 0

    def batches(self):
        """The file's batches with a ``ROW`` column (row numbers skip malformed records);
        E830 at this file for bytes that are not text in its encoding."""
        try:
            yield from self._batches()
        except (UnicodeDecodeError, pa.ArrowInvalid) as exc:
            if isinstance(exc, pa.ArrowInvalid) and "UTF8" not in str(exc):
                raise
            text = str(exc).splitlines()[0]
            raise undecodable(self.path, self.encoding, Bilingual(text, text)) from None

    def _batches(self):
        if not self.header:
            return
        reader = pcsv.open_csv(
            self.path,
            read_options=pcsv.ReadOptions(block_size=BLOCK, use_threads=False, encoding=self.encoding),
            parse_options=pcsv.ParseOptions(newlines_in_values=True, invalid_row_handler=self._invalid),
            convert_options=pcsv.ConvertOptions(column_types={c: pa.string() for c in self.header},
                                                null_values=[""], strings_can_be_null=True))
        for batch in reader:
            yield batch.append_column(ROW, pa.array(self._number(batch.num_rows)))

    def take_malformed(self) -> list:
        found, self.malformed = self.malformed, []
        return found

    def _invalid(self, row) -> str:
        # with use_threads=False the parser knows the record number (the header is 1)
        number = (row.number or 0) - 1
        self.malformed.append(Malformed(number, row.text, row.expected_columns, row.actual_columns))
        self._pending.append(number)
        return "skip"

    def _number(self, k: int) -> np.ndarray:
        nums = np.arange(self._last + 1, self._last + k + 1, dtype=np.int64)
        for m in sorted(self._pending):
            nums[nums >= m] += 1
        if k:
            self._last = int(nums[-1])
        self._pending = [m for m in self._pending if m > self._last]
        return nums


# --- joins


class MergeJoin:
    """Children streamed beside their parents, in the same order."""

    def __init__(self, spec: JoinSpec):
        self.spec = spec
        self.stream = keyed(CsvStream(spec.path, spec.encoding), spec)
        self._batches = self.stream.batches()
        self._buffer = None
        self._stuck = 0
        self.broken: dict = {}  # parent key -> [diagnostic] of malformed child records

    def take(self, parent_keys: pa.Array):
        """The child rows of these parents (a table) and each one's parent index."""
        parts, parents, last = [], [], -1
        while True:
            if self._buffer is None or not self._buffer.num_rows:
                self._buffer = self._next()
                if self._buffer is None:
                    break
            pos = pc.index_in(self._buffer.column(self.spec.key), value_set=parent_keys)
            found = pos.is_valid().to_numpy(zero_copy_only=False)
            k = int(np.argmin(found)) if not found.all() else len(found)
            if k:
                p = pos.slice(0, k).to_numpy(zero_copy_only=False).astype(np.int64)
                if p[0] < last or (np.diff(p) < 0).any():
                    raise OrderBroken()
                last = int(p[-1])
                parts.append(self._buffer.slice(0, k))
                parents.append(p)
                self._buffer = self._buffer.slice(k)
            if k < len(found):
                break
        self._note_stuck(bool(parts), parent_keys)
        self._note_broken()
        return _concat(parts, self.stream.header), _concat_idx(parents)

    def finish(self) -> int:
        """Raise OrderBroken if child rows are left over (orphans or out of order)."""
        if (self._buffer is not None and self._buffer.num_rows) or self._next() is not None:
            raise OrderBroken()
        return 0

    def _next(self):
        batch = next(self._batches, None)
        self._note_broken()
        return None if batch is None else pa.Table.from_batches([batch])

    def _note_stuck(self, took: bool, parent_keys) -> None:
        # a head row that fits none of two successive chunks of parents is out of order
        pending = self._buffer is not None and self._buffer.num_rows
        self._stuck = 0 if took or not pending or not len(parent_keys) else self._stuck + 1
        if self._stuck >= 2:
            raise OrderBroken()

    def _note_broken(self) -> None:
        for bad in self.stream.take_malformed():
            key = bad.field(self.stream.header, self.spec.key)
            self.broken.setdefault(key, []).append(bad.diagnostic(self.spec.path))


class IndexJoin:
    """The child file read once and indexed by key (any order; memory ~ the file)."""

    def __init__(self, spec: JoinSpec):
        self.spec = spec
        stream = keyed(CsvStream(spec.path, spec.encoding), spec)
        batches = list(stream.batches())
        self.table = (pa.Table.from_batches(batches).combine_chunks() if batches
                      else pa.table({c: pa.array([], pa.string()) for c in [*stream.header, ROW]}))
        self.header = stream.header
        self.broken: dict = {}
        for bad in stream.take_malformed():
            self.broken.setdefault(bad.field(stream.header, spec.key), []).append(bad.diagnostic(spec.path))
        keys = pc.dictionary_encode(self.table.column(spec.key).combine_chunks()) if self.table.num_rows else None
        self.dictionary = keys.dictionary if keys is not None else pa.array([], pa.string())
        codes = keys.indices.fill_null(-1).to_numpy(zero_copy_only=False) if keys is not None else np.zeros(0, int)
        self.counts = np.bincount(codes[codes >= 0], minlength=len(self.dictionary))
        self.starts = np.concatenate(([0], np.cumsum(self.counts)))
        self.order = np.argsort(np.where(codes >= 0, codes, len(self.dictionary)), kind="stable")
        self.used = np.zeros(len(self.dictionary), dtype=bool)
        self.keyless = int((codes < 0).sum())

    def take(self, parent_keys: pa.Array):
        """The child rows of these parents (first parent of each key only) and their parent index."""
        d = pc.index_in(parent_keys, value_set=self.dictionary).fill_null(-1).to_numpy(zero_copy_only=False)
        rows = np.flatnonzero(d >= 0)
        _, first = np.unique(d[rows], return_index=True)
        pick = np.sort(rows[first])
        pick = pick[~self.used[d[pick]]]
        self.used[d[pick]] = True
        counts = self.counts[d[pick]]
        starts = self.starts[d[pick]]
        total = int(counts.sum())
        offsets = np.concatenate(([0], np.cumsum(counts)[:-1])) if len(counts) else np.zeros(0, np.int64)
        idx = self.order[np.repeat(starts - offsets, counts) + np.arange(total, dtype=np.int64)]
        return self.table.take(pa.array(idx, pa.int64())), np.repeat(pick, counts).astype(np.int64)

    def finish(self) -> int:
        """The number of child rows that matched no parent."""
        return int(self.counts[~self.used].sum()) + self.keyless


def _concat(parts, header):
    if parts:
        return pa.concat_tables(parts).combine_chunks()
    return pa.table({c: pa.array([], pa.string()) for c in [*header, ROW]})


def _concat_idx(parents):
    return np.concatenate(parents) if parents else np.zeros(0, dtype=np.int64)


# --- the CSV reader


@dataclass
class Node:
    """Rows of one level read from CSV, with their joined children."""

    table: pa.Table  # text columns (join key and ROW removed)
    layout: object
    kids: dict = field(default_factory=dict)  # list field -> (Node, parent idx, has_rows)
    reasons: dict = field(default_factory=dict)  # row -> diagnostics of malformed child records

    def level(self) -> Level:
        """The raw level of these rows and their children."""
        level = from_table(self.layout, self.table)
        for name, (node, parent, has_rows) in self.kids.items():
            level.lists[name] = joined(node.level(), parent, self.table.num_rows, has_rows)
        return level

    def records(self, rows) -> list:
        """Raw records (dicts of text) of some rows, with their children."""
        rows = list(rows)
        out = self.table.take(pa.array(rows, pa.int64())).to_pylist()
        for name, (node, parent, has_rows) in self.kids.items():
            for rec, i in zip(out, rows):
                if has_rows[i]:
                    kids = np.flatnonzero(parent == i)
                    rec[name] = node.records(kids)
        return out


class CsvReader:
    """Chunks of a CSV file of one entity, with children joined from other CSV files."""

    def __init__(self, path, layout, joins=(), mode: str = "merge", encoding: str = "utf-8", kept=None):
        self.path, self.encoding = str(path), encoding
        self.kept = layout.kept if kept is None else tuple(kept)  # undeclared columns kept (keys.py)
        self.layout = layout
        self.joins = list(joins)
        self.mode = mode
        self._joiners: dict = {}

    def chunks(self, chunk_size: int):
        """Chunks in input order; raises OrderBroken (merge mode) for an unordered child file."""
        stream = CsvStream(self.path, self.encoding)
        self._joiners = {}
        for table in rechunk(stream.batches(), chunk_size):
            rows = table.column(ROW).to_numpy().astype(np.int64)
            node = self._node(table.drop_columns([ROW]), self.layout, self.joins, (), self.path)
            broken = [Broken(m.row, m.field(stream.header, self.layout.key), m.diagnostic(self.path))
                      for m in stream.take_malformed()]
            yield Chunk(node.level(), rows, node.records, keep_extra(table, self.kept), broken, node.reasons)
        leftover = [Broken(m.row, m.field(stream.header, self.layout.key), m.diagnostic(self.path))
                    for m in stream.take_malformed()]
        if leftover:
            yield Chunk(Level(self.layout.entity, 0), np.zeros(0, dtype=np.int64), lambda idx: [], {}, leftover)

    def finish(self) -> int:
        """Check the joins are complete; the number of child rows that matched no parent."""
        return sum(j.finish() for j in self._joiners.values())

    def _node(self, table, layout, joins, path, file) -> Node:
        node = Node(table, layout)
        if joins and layout.key not in table.schema.names:
            raise no_key_column(file, layout.key, [spec.name for spec in joins])
        for spec in joins:
            joiner = self._joiner(spec, path)
            kids, parent = joiner.take(table.column(layout.key))
            kid_table = kids.drop_columns([c for c in (spec.key, ROW) if c in kids.schema.names])
            child = self._node(kid_table, layout.lists[spec.name], spec.children,
                               path + (spec.name,), spec.path)
            has_rows = np.bincount(parent, minlength=table.num_rows) > 0
            node.kids[spec.name] = (child, parent, has_rows)
            self._broken_reasons(node, joiner, table.column(layout.key), child)
        return node

    def _joiner(self, spec, path):
        if path + (spec.name,) not in self._joiners:
            make = MergeJoin if self.mode == "merge" else IndexJoin
            self._joiners[path + (spec.name,)] = make(spec)
        return self._joiners[path + (spec.name,)]

    @staticmethod
    def _broken_reasons(node, joiner, keys, child) -> None:
        """Malformed child records (and grandchildren's) make their parent invalid."""
        if joiner.broken:
            for i, key in enumerate(keys.to_pylist()):
                if key in joiner.broken:
                    node.reasons.setdefault(i, []).extend(joiner.broken.pop(key))
        for name, (kid, parent, _) in node.kids.items():
            for row, diags in kid.reasons.items():
                node.reasons.setdefault(int(parent[row]), []).extend(diags)
            kid.reasons = {}


def keyed(stream: CsvStream, spec: JoinSpec) -> CsvStream:
    """``stream``, when its header has the column naming each row's parent; E804 at the
    file otherwise (a run stopped with E833 "KeyError: Field … does not exist" before)."""
    if stream.header and spec.key not in stream.header:
        near = difflib.get_close_matches(spec.key, [h for h in stream.header if h], n=1)
        raise FupinError(error("E804", Span(str(spec.path), 1, 1), detail=Bilingual(
            f"没有 `{spec.key}` 列：{spec.name} 文件的每一行按它找到所属的上级",
            f"no `{spec.key}` column: each row of the {spec.name} file names its parent by it"),
            hint=Bilingual(f"文件中有 `{near[0]}` 列：若它就是上级的编号，请改名为 `{spec.key}`",
                           f"the file has a `{near[0]}` column: if it holds the parent's key, rename it `{spec.key}`")
            if near else None))
    return stream


def no_key_column(file: str, key: str, lists: list) -> FupinError:
    """E804 at ``file``: it has no ``key`` column, which the joined files name their parents by."""
    names = ", ".join(lists)
    return FupinError(error("E804", Span(str(file), 1, 1), detail=Bilingual(
        f"没有 `{key}` 列：关联的 {names} 文件按它找到各自的上级",
        f"no `{key}` column: the joined {names} file names each row's parent by it")))
