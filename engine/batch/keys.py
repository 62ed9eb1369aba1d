"""The key columns of the input carried to the output, from the policy's declarations.

A result row names its entity by its ``key`` (always the first column); the columns that
name where the entity belongs follow it, when the input has them: the entity's declared
``parent_key`` (a household's village), then its parent entity's ``parent_key`` (the
village's township), and so on up the declared ``parent`` chain. These columns are not
facts: they are read beside the facts (``Chunk.extra``) and copied as text, so a result
file joins back to a register or groups by village without a second pass.
"""
from __future__ import annotations

import json

import pyarrow as pa

from .encoding import header


def carried_keys(checked, entity: str) -> tuple:
    """The declared ``parent_key`` columns of an entity and of its ancestors, nearest first."""
    return checked.parent_keys(entity)


def input_columns(fmt: str, path: str, encoding: str = "utf-8") -> list:
    """The top-level column names of an input file (for JSON lines: the keys of its first
    thousand records, which need not all have the same)."""
    try:
        if fmt == "parquet":
            from .readers import footer  # readers.py imports nothing of this module's

            return footer(path).schema.to_arrow_schema().names
        if fmt == "jsonl":
            return _record_keys(path)
        return header(path, encoding)
    except (OSError, pa.ArrowException, ValueError):
        return []  # the reader reports an unreadable file, located


def _record_keys(path, look: int = 1000) -> list:
    """The keys of the JSON objects among the first ``look`` lines (broken lines skipped)."""
    keys: dict = {}
    with open(path, "rb") as f:
        for _, line in zip(range(look), f):
            try:
                record = json.loads(line.removeprefix(b"\xef\xbb\xbf"))
            except ValueError:
                continue
            if isinstance(record, dict):
                keys.update(dict.fromkeys(record))
    return list(keys)


def key_column(column, good, n: int) -> pa.Array:
    """A carried key column of a chunk, as text, restricted to its valid rows."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if not isinstance(column, pa.Array):
        column = pa.array(column if column is not None else [None] * n)
    if len(good) != n:
        column = column.take(pa.array(good, pa.int64()))
    if pa.types.is_string(column.type):
        return column
    try:
        return column.cast(pa.string())
    except pa.ArrowException:  # e.g. a nested value where a key was expected: its text
        return pa.array([None if v is None else str(v) for v in column.to_pylist()], pa.string())
