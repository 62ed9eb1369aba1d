"""Generated (clean) Arrow tables → the columnar ``Frame`` of a checked policy, fast.

Benchmark set-up only: the evaluation benchmarks time evaluation over data already in
memory, so building the frame is not timed, but at 1M households it must not take the
minutes that validating a million dicts and ``from_records`` would. This converts the
columns of a table made by ``fupin.engine.tools.generate`` (no malformed rows) directly, in
the representation engine/columnar/frame.py documents; ``run.py`` checks on a sample
that the result equals ``from_records`` over validated facts. Real inputs go through
``fupin batch``, whose reader validates every cell.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fupin.engine.columnar.frame import Children, Column, Frame, empty_array, enum_values


def table_to_frame(checked, entity: str, table) -> Frame:
    """The frame of ``entity`` from a table (or struct array) of its facts."""
    if isinstance(table, pa.Table):
        table = table.combine_chunks()
        columns = dict(zip(table.column_names, table.columns))
        n = table.num_rows
    else:
        columns = {name: table.field(name) for name in (f.name for f in table.type)}
        n = len(table)
    frame = Frame(entity, n)
    for name, fld in checked.entities[entity].fields.items():
        arr = columns.get(name)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        if fld.child:
            frame.children[name] = _children(checked, fld.child, arr, n)
        else:
            frame.columns[name] = _column(checked, fld.type, arr, n)
    return frame


def _children(checked, child: str, arr, n: int) -> Children:
    if arr is None:
        return Children(table_to_frame(checked, child, pa.table({})), np.zeros(0, np.int64), np.ones(n, bool))
    missing = arr.is_null().to_numpy(zero_copy_only=False)
    offsets = arr.offsets.to_numpy()
    counts = np.diff(offsets) * ~missing
    structs = arr.flatten()  # the children of the non-null lists, in order
    parent = np.repeat(np.arange(n, dtype=np.int64), counts)
    return Children(table_to_frame(checked, child, structs), parent, missing if missing.any() else None)


def _column(checked, ftype, arr, n: int) -> Column:
    kind = ftype.kind
    if arr is None:
        return Column(empty_array(kind, n), np.ones(n, dtype=bool))
    missing = arr.is_null().to_numpy(zero_copy_only=False)
    if kind == "bool":
        data = pc.fill_null(arr, False).to_numpy(zero_copy_only=False)
    elif kind in ("integer", "date"):
        arr = arr.cast(pa.int32()) if pa.types.is_date32(arr.type) else arr
        data = pc.fill_null(arr.cast(pa.int64()), 0).to_numpy().astype(np.int64)
    elif kind == "money":
        data = _fen(arr)
    elif kind == "enum":
        codes = pc.index_in(arr, value_set=pa.array(enum_values(checked, ftype), pa.string()))
        data = pc.fill_null(codes, 0).to_numpy().astype(np.int16)
    else:  # decimal, ratio, string: object arrays, as from_records makes them
        data = empty_array(kind, n)
        values = arr.to_numpy(zero_copy_only=False)
        data[~missing] = values[~missing]
    data = np.asarray(data)
    if missing.any():
        data = data.copy()
        data[missing] = empty_array(kind, 1)[0]
    return Column(data, missing if missing.any() else None)


def _fen(arr) -> np.ndarray:
    """decimal128(p, 2) cells as int64 fen: the low word of each unscaled 128-bit value."""
    if not (pa.types.is_decimal(arr.type) and arr.type.scale == 2):
        arr = pc.cast(pc.fill_null(arr, 0), pa.decimal128(18, 2))
    words = np.frombuffer(arr.buffers()[1], dtype=np.int64).reshape(-1, 2)
    return words[arr.offset:arr.offset + len(arr), 0].copy()
