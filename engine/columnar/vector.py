"""Column values with three-valued status: :class:`V`, representations and masks.

A ``V`` is one value for every row of a level: ``data`` (an array, or a scalar that
broadcasts), ``unk`` (the value is unknown) and ``err`` (evaluating it raises an error
in the scalar evaluator). ``None`` masks mean "no row". Where ``err`` is set, ``unk``
and ``data`` mean nothing; where ``unk`` is set, ``data`` holds a harmless filler.

``rep`` names the representation (frame.py): ``bool``, ``int``, ``fen`` (money in
integer fen), ``dec`` (object ``Decimal``), ``enum`` (int16 codes), ``date`` (int64
days), ``str`` and ``obj`` (object arrays of scalar values, e.g. lists). Operations on
``bool``/``int``/``fen``/``enum``/``date`` are vectorized; the rest go element by
element through the Python meaning in engine/core/operators.py (exact, slower).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np

from .frame import EPOCH, decode_value, encode_value

REP_OF_KIND = {"bool": "bool", "integer": "int", "money": "fen", "decimal": "dec", "ratio": "dec",
               "enum": "enum", "date": "date", "string": "str", "list": "obj"}
NUMERIC_REPS = ("int", "fen", "dec")


class V:
    """One value per row, with unknown and error masks (see module docstring)."""

    __slots__ = ("data", "unk", "err", "rep", "enum", "why", "why_rows", "mag")

    def __init__(self, data, rep: str, unk=None, err=None, enum: tuple = (), why=None, mag=None):
        self.data, self.rep, self.unk, self.err, self.enum = data, rep, unk, err, enum
        # why: per row, the id of the facts an unknown row waits on (why.py); read it
        # through why.of(), which ignores rows that are not unknown
        self.why = why
        self.why_rows = None  # why.of()'s result, kept (a V is read by many nodes)
        # mag (int/fen): a bound on |data| its maker knows without a pass over the rows
        # (a table's constant outcomes, an if between constants); None: not known
        self.mag = mag

    def bad(self):
        """Rows where the value is unknown or an error (None: none)."""
        return orm(self.unk, self.err)

    def known(self, n: int) -> np.ndarray:
        """Rows with a usable value."""
        bad = self.bad()
        return np.ones(n, dtype=bool) if bad is None else ~bad


# --- masks (None = all False)


def orm(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return a | b


def andm(a, b):
    if a is None or b is None:
        return None
    return a & b


def andnot(a, b):
    """``a & ~b``."""
    if a is None:
        return None
    if b is None:
        return a
    return a & ~b


def full(mask, n: int) -> np.ndarray:
    """A mask as an explicit array."""
    return np.zeros(n, dtype=bool) if mask is None else np.broadcast_to(mask, (n,))


def squeeze(mask):
    """None for a mask with no row set (keeps later operations cheap)."""
    if mask is None or not mask.any():
        return None
    return mask


def choose(cond, a, b):
    """``np.where(cond, a, b)`` (same values, dtype and shape) without a branch per row
    for booleans and integers: ``(cond & a) | (~cond & b)``, ``b + (a - b) * cond``
    (integers wrap exactly, so the difference cannot lose anything). numpy's ``where``
    costs up to 15x that (60x on booleans) where ``cond`` is irregular, as masks of
    unknown rows are; other dtypes go through it."""
    dtype = np.result_type(a, b)
    if dtype == bool:
        out = np.logical_and(cond, a)
        out |= np.logical_and(np.logical_not(cond), b)
        return out
    if dtype.kind not in "iu" or np.ndim(cond) == np.ndim(a) == np.ndim(b) == 0:
        return np.where(cond, a, b)
    out = np.multiply(np.subtract(a, b, dtype=dtype), cond, dtype=dtype)
    out += b
    return out


def column(data, n: int) -> np.ndarray:
    """Data as an array of ``n`` rows (constants broadcast)."""
    if isinstance(data, np.ndarray) and data.ndim == 1:
        return data
    if isinstance(data, np.ndarray):
        data = data.item() if data.dtype != object else data[()]
    if isinstance(data, (Decimal, str, list, tuple, dt.date)) or data is None:
        out = np.empty(n, dtype=object)
        out[:] = [data] * n if isinstance(data, (list, tuple)) else data
        return out
    return np.full(n, data)


def take(v: V, index: np.ndarray) -> V:
    """The value for rows ``index`` (children reading their parent)."""
    data = v.data[index] if isinstance(v.data, np.ndarray) and v.data.ndim == 1 else v.data
    unk = None if v.unk is None else v.unk[index]
    err = None if v.err is None else v.err[index]
    w = None if v.why is None or v.unk is None else np.broadcast_to(v.why, v.unk.shape)[index]
    return V(data, v.rep, unk, err, v.enum, w, v.mag)


def gather(table: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``table[index]`` for a small table and narrow indices (a lookup's combinations).
    numpy 2's ``np.take`` of uint8 indices into 8-byte items is ~3-10x slower than
    anything else (3.5M rows: 14.8 ms, against 6.0 ms by fancy indexing and ~5 ms for
    every other index and item width through ``np.take``), so that pair is indexed."""
    if index.dtype == np.uint8 and table.dtype.itemsize == 8:
        return table[index]
    return np.take(table, index)


def magnitude(v: V) -> int | None:
    """A bound on ``|data|`` of an ``int``/``fen`` value known without reading its rows:
    a constant's own, or the one its maker recorded (``V.mag``); None otherwise."""
    if v.rep not in ("int", "fen"):
        return None
    if v.mag is not None:
        return v.mag
    return abs(int(v.data)) if np.ndim(v.data) == 0 else None


# --- representations


def encode_literal(value, kind: str, enum: tuple):
    """A literal (a scalar evaluator value) as (data, rep)."""
    rep = REP_OF_KIND.get(kind, "obj")
    if value is None:
        return None, rep
    if kind == "enum":
        return np.int16(enum.index(value)), rep
    if kind == "date":
        return np.int64((value - EPOCH).days), rep
    if kind == "money":
        fen = Decimal(value).scaleb(2)
        if fen == fen.to_integral_value():
            return np.int64(int(fen)), "fen"
        return Decimal(value), "dec"
    if kind == "integer":
        return np.int64(int(value)), rep
    if kind == "bool":
        return np.bool_(value), rep
    if kind in ("decimal", "ratio"):
        return Decimal(value), rep
    return value, rep


# Representation name → the field kind frame.py converts for (one conversion table).
KIND_OF_REP = {"fen": "money", "int": "integer", "bool": "bool", "enum": "enum", "date": "date", "dec": "decimal"}


def decode_cell(x, rep: str, enum: tuple):
    """One cell as the scalar evaluator's value."""
    return decode_value(x, KIND_OF_REP.get(rep, rep), enum)


def encode_cell(x, rep: str, enum: tuple):
    """A scalar evaluator value in a representation (inverse of decode_cell)."""
    if rep == "fen":
        return int(Decimal(x).scaleb(2))  # callers pass values already to the fen
    return encode_value(x, KIND_OF_REP.get(rep, rep), enum)


def as_objects(v: V, n: int) -> np.ndarray:
    """The data as an object array of scalar evaluator values."""
    data = column(v.data, n)
    if v.rep in ("dec", "str", "obj"):
        return data
    if v.rep == "fen":
        return np.array([Decimal(int(x)).scaleb(-2) for x in data.tolist()] or [], dtype=object)
    if v.rep == "date":
        return np.array([EPOCH + dt.timedelta(days=int(x)) for x in data.tolist()], dtype=object)
    if v.rep == "enum":
        labels = v.enum
        return np.array([labels[int(x)] for x in data.tolist()], dtype=object)
    out = np.empty(n, dtype=object)
    out[:] = data.tolist()
    return out


def fen_exact(values: np.ndarray):
    """Object Decimals as int64 fen, or None when some value is below the fen."""
    out = np.zeros(len(values), dtype=np.int64)
    for i, x in enumerate(values.tolist()):
        f = Decimal(x).scaleb(2)
        if f != f.to_integral_value():
            return None
        out[i] = int(f)
    return out


def unify(values: list, n: int) -> list:
    """Values brought to one common representation (for if / tables / exceptions)."""
    reps = {v.rep for v in values}
    if len(reps) <= 1:
        return values
    if reps <= {"int", "fen"}:
        return [to_fen(v) for v in values]
    return [V(as_objects(v, n), "obj" if not reps <= set(NUMERIC_REPS) else "dec", v.unk, v.err, v.enum, v.why)
            for v in values]


def to_fen(v: V) -> V:
    if v.rep == "fen":
        return v
    return V(v.data * np.int64(100), "fen", v.unk, v.err, why=v.why)


def numeric_pair(a: V, b: V, n: int):
    """Two numeric values in a shared vectorizable rep, or None (use objects)."""
    if a.rep == b.rep and a.rep in ("int", "fen", "date", "enum", "bool"):
        return a.data, b.data, a.rep
    if {a.rep, b.rep} == {"int", "fen"}:
        return to_fen(a).data, to_fen(b).data, "fen"
    return None
