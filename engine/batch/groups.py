"""Exact per-group sums for the summary and the diff: rows grouped by a carried key column.

A chunk's key column (text: a village, a township) is dictionary-encoded once into
group indexes; every figure of that chunk is then a ``bincount`` or an integer
``np.add.at`` over those indexes. Money stays in int64 fen (float weights would round
sums past 2**53 fen), counts are integers, and the results are plain dicts keyed by
the group's key text, so chunks and Dask partitions merge by adding.
"""
from __future__ import annotations

from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

MISSING = ""  # the group of rows whose key cell is empty


def encode(keys) -> tuple:
    """``(names, index)``: the distinct key texts and each row's position among them."""
    codes = pc.dictionary_encode(keys.cast(pa.string()).fill_null(MISSING))
    return codes.dictionary.to_pylist(), codes.indices.to_numpy(zero_copy_only=False).astype(np.int64)


def count(index: np.ndarray, size: int, mask=None) -> np.ndarray:
    """Rows per group (only where ``mask``, when given)."""
    return np.bincount(index if mask is None else index[mask], minlength=size)


def total(index: np.ndarray, size: int, values: np.ndarray, mask: np.ndarray) -> list:
    """Exact sums of ``values`` per group where ``mask`` (int64, or exact objects)."""
    chosen = values[mask]
    if chosen.dtype == object:
        out = [Decimal(0)] * size
        for i, v in zip(index[mask].tolist(), chosen.tolist()):
            out[i] += v
        return out
    out = np.zeros(size, dtype=np.int64)
    np.add.at(out, index[mask], chosen.astype(np.int64))
    return out.tolist()


def pairs(index: np.ndarray, size: int, codes: np.ndarray, width: int, mask: np.ndarray) -> np.ndarray:
    """A ``size × width`` table: rows per group with each code (a value's position) where ``mask``."""
    flat = index[mask] * width + codes[mask].astype(np.int64)
    return np.bincount(flat, minlength=size * width).reshape(size, width)


def exact_sum(values: np.ndarray, mask: np.ndarray):
    """The exact sum of ``values`` where ``mask`` (an int, or a Decimal/Fraction for objects)."""
    chosen = values[mask]
    if chosen.dtype == object:
        return sum(chosen.tolist(), Decimal(0))
    if chosen.dtype == bool:
        return int(chosen.sum())
    return int(chosen.sum(dtype=np.int64))
