"""``--explain ID``: find one row of a dataset by its id and return its raw record."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .levels import single


def find_record(source, ident: str):
    """The raw record (dict, children included) of the first row whose id is ``ident``."""
    key = source.layout.key
    for chunk in source.chunks():
        column = chunk.level.columns.get(key)
        if column is None:
            continue
        hits = _matches(column, str(ident))
        if len(hits):
            return chunk.records([int(hits[0])])[0]
    return None


def ids_of(source) -> list:
    """Every row's id as text, for a did-you-mean after :func:`find_record` found none (a
    second reading of the file, on the error path only)."""
    key, ids = source.layout.key, []
    for chunk in source.chunks():
        column = chunk.level.columns.get(key)
        if column is None:
            continue
        if isinstance(column, np.ndarray):
            ids += [str(v) for v in column if v is not None]
            continue
        column = single(column)
        column = column.dictionary_decode() if pa.types.is_dictionary(column.type) else column
        ids += [str(v) for v in column.to_pylist() if v is not None]
    return ids


def _matches(column, ident: str) -> np.ndarray:
    """Rows of a raw id column equal to ``ident`` (compared as text)."""
    if isinstance(column, np.ndarray):
        return np.flatnonzero([v is not None and str(v) == ident for v in column])
    column = single(column)
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    try:
        text = column.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return np.flatnonzero([v is not None and str(v) == ident for v in column.to_pylist()])
    return np.flatnonzero(pc.equal(text, ident).fill_null(False).to_numpy(zero_copy_only=False))
