"""One chunk of raw input, level by level, before validation.

A :class:`Level` holds the raw columns of one entity level over a chunk (pyarrow arrays,
or numpy object arrays of Python values for JSON lines pyarrow could not read) and, for
each declared list field, a :class:`Nested` level of all the children with each child's
parent row. Readers build levels from Parquet/JSON ``list<struct>`` columns
(:func:`from_arrow`), from Python dicts (:func:`from_records`), or by joining a second
CSV file (``readers.py``). ``validate.py`` turns a level into a typed ``Frame``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


@dataclass
class Nested:
    """The children in one list field: their level, and per parent row what the list was."""

    level: "Level"
    parent: np.ndarray  # int64 per child: its parent row, non-decreasing
    missing: np.ndarray  # per parent row: the list is absent (null) → unknown
    not_list: np.ndarray  # per parent row: present but not a list → E802


@dataclass
class Level:
    """Raw columns of one entity level over a chunk."""

    entity: str
    n: int
    columns: dict = field(default_factory=dict)  # column name -> pa.Array | object ndarray
    lists: dict = field(default_factory=dict)  # declared list field -> Nested
    not_object: np.ndarray | None = None  # rows that are not objects (E802)


def single(column):
    """One arrow array for a column: its only chunk as it is, or the chunks joined.

    ``ChunkedArray.combine_chunks`` copies even a single chunk; a chunk's columns all
    have one (a Parquet batch, a JSON block), and copying them would hold every chunk
    twice while it is alive (29 MB per 65,536 households of every field).
    """
    if isinstance(column, pa.ChunkedArray):
        return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    return column


def none_mask(n: int) -> np.ndarray:
    """An all-False row mask."""
    return np.zeros(n, dtype=bool)


def from_arrow(layout, arrays: dict, n: int, not_object=None) -> Level:
    """A level from arrow columns; declared list columns become nested levels."""
    level = Level(layout.entity, n, not_object=not_object)
    for name, arr in arrays.items():
        arr = single(arr)
        if name in layout.lists:
            level.lists[name] = _nested_arrow(layout.lists[name], arr)
        else:
            level.columns[name] = arr
    return level


def _nested_arrow(child_layout, arr) -> Nested:
    """The children of a ``list<struct>`` column (any other type is not a list: E802)."""
    n = len(arr)
    missing = arr.is_null().to_numpy(zero_copy_only=False) if arr.null_count else none_mask(n)
    t = arr.type
    if not (pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)):
        return Nested(from_arrow(child_layout, {}, 0), np.zeros(0, dtype=np.int64), missing, ~missing)
    parent = pc.list_parent_indices(arr).to_numpy(zero_copy_only=False).astype(np.int64)
    kids = arr.flatten()
    if pa.types.is_struct(kids.type):
        not_object = kids.is_null().to_numpy(zero_copy_only=False) if kids.null_count else none_mask(len(kids))
        arrays = {kids.type.field(i).name: col for i, col in enumerate(kids.flatten())}
    else:  # a list of numbers, strings…: no element is an object
        not_object = np.ones(len(kids), dtype=bool)
        arrays = {}
    return Nested(from_arrow(child_layout, arrays, len(kids), not_object), parent, missing, none_mask(n))


def from_table(layout, table, not_object=None) -> Level:
    """A level from a pyarrow Table or RecordBatch (one column per field)."""
    arrays = {name: table.column(i) for i, name in enumerate(table.schema.names)}
    return from_arrow(layout, arrays, table.num_rows, not_object)


def from_records(layout, records: list) -> Level:
    """A level from Python values (dicts, or anything else: not an object, E802)."""
    n = len(records)
    not_object = np.fromiter((not isinstance(r, dict) for r in records), dtype=bool, count=n)
    names: dict = {}
    for r in records:
        if isinstance(r, dict):
            names.update(dict.fromkeys(r))
    level = Level(layout.entity, n, not_object=not_object)
    for name in names:
        values = [r.get(name) if isinstance(r, dict) else None for r in records]
        if name in layout.lists:
            level.lists[name] = _nested_records(layout.lists[name], values)
        else:
            column = np.empty(n, dtype=object)
            column[:] = values
            level.columns[name] = column
    return level


def _nested_records(child_layout, values: list) -> Nested:
    missing = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
    is_list = np.fromiter((isinstance(v, list) for v in values), dtype=bool, count=len(values))
    counts = [len(v) if ok else 0 for v, ok in zip(values, is_list)]
    parent = np.repeat(np.arange(len(values), dtype=np.int64), counts)
    kids = [c for v, ok in zip(values, is_list) if ok for c in v]
    return Nested(from_records(child_layout, kids), parent, missing, ~missing & ~is_list)


def joined(child_level: Level, parent: np.ndarray, n_parents: int, has_rows: np.ndarray) -> Nested:
    """Children found by a join: a parent without child rows has an unknown list."""
    return Nested(child_level, parent, ~has_rows, none_mask(n_parents))
