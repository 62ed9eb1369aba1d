"""Typed columns for one entity level, with their children: the columnar facts format.

A :class:`Frame` is what the batch readers produce and the columnar evaluator reads.
Each declared scalar field is a :class:`Column`: a numpy array in the representation
of its type (below) and a ``missing`` mask (the fact is absent: unknown). A list field
(``members``) is :class:`Children`: one frame of all children of all rows, grouped by
parent row in input order, with ``parent`` giving each child's parent row.

Representations (``REPR``), chosen so that every operation stays exact:

=========  ===========================================================
bool       ``bool``
integer    ``int64``
money      ``int64`` fen (1 元 = 100); facts with more than two decimals
           are invalid (money is to the fen)
decimal,   ``object`` arrays of ``Decimal`` (exact, evaluated element
ratio      by element with the Python meaning in engine/core/)
enum       ``int16`` index into the enum's declared values
date       ``int64`` days since 1970-01-01
string     ``object`` arrays of ``str``
=========  ===========================================================

Where ``missing`` is True the data holds a harmless filler (0, False, Decimal 0, "").
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

EPOCH = dt.date(1970, 1, 1)
NUMPY_DTYPE = {"bool": np.bool_, "integer": np.int64, "money": np.int64, "enum": np.int16, "date": np.int64}


@dataclass
class Column:
    """One fact field over all rows of a frame."""

    data: np.ndarray
    missing: np.ndarray | None = None  # None: no row is missing it


class TextColumn(Column):
    """A text field kept as the Arrow array it was read as until ``data`` is first read
    (then Python strings, "" where missing, as ``Column`` holds text). Making a million
    Python strings costs ~90 ms, and most rulesets never read the key, whose output
    column is taken from the input as read (batch/pipeline.py ``row_ids``)."""

    def __init__(self, text, missing: np.ndarray | None = None):
        self._text, self._data, self.missing = text, None, missing

    @property
    def data(self) -> np.ndarray:
        if self._data is None:
            self._data = self._text.fill_null("").to_numpy(zero_copy_only=False)
            self._text = None
        return self._data

    def rows(self, rows: np.ndarray) -> Column:
        """The column of some rows, still as text when it has not been read yet."""
        missing = None if self.missing is None else self.missing[rows]
        if self._text is None:
            return Column(self._data[rows], missing)
        import pyarrow as pa  # only where frames hold Arrow text: the batch path has it

        return TextColumn(self._text.take(pa.array(rows, pa.int64())), missing)


@dataclass
class Children:
    """The children in one list field of every row of the parent frame."""

    frame: "Frame"
    parent: np.ndarray  # int64, one per child: the parent row; non-decreasing
    missing: np.ndarray | None = None  # per parent row: the list itself is absent (unknown)

    def offsets(self, n_parents: int) -> np.ndarray:
        """``offsets[i]:offsets[i+1]`` are the children of parent row ``i``."""
        counts = np.bincount(self.parent, minlength=n_parents)
        out = np.zeros(n_parents + 1, dtype=np.int64)
        np.cumsum(counts, out=out[1:])
        return out


@dataclass
class Frame:
    """One entity level: ``n`` rows of typed fact columns and child lists."""

    entity: str
    n: int
    columns: dict = field(default_factory=dict)  # field name -> Column
    children: dict = field(default_factory=dict)  # list field name -> Children


def kind_of(ftype) -> str:
    """The representation kind of a field type (see the table above)."""
    return ftype.kind


# --- scalar value <-> representation


def encode_value(value, kind: str, enum_values=()):
    """A typed scalar fact (as FactsChecker gives it) in its column representation."""
    if kind == "money":
        fen = Decimal(value).scaleb(2)
        if fen != fen.to_integral_value():
            raise ValueError("money below the fen")
        return int(fen)
    if kind == "enum":
        return enum_values.index(value)
    if kind == "date":
        return (value - EPOCH).days
    if kind in ("decimal", "ratio"):
        return Decimal(value)
    if kind == "integer":
        return int(value)
    return value


def decode_value(raw, kind: str, enum_values=()):
    """A column cell back as the scalar evaluator's value."""
    if kind == "money":
        return Decimal(int(raw)).scaleb(-2)
    if kind == "enum":
        return enum_values[int(raw)]
    if kind == "date":
        return EPOCH + dt.timedelta(days=int(raw))
    if kind == "bool":
        return bool(raw)
    if kind == "integer":
        return int(raw)
    return raw


def empty_array(kind: str, n: int) -> np.ndarray:
    """An array of ``n`` fillers of a kind's representation."""
    if kind in NUMPY_DTYPE:
        return np.zeros(n, dtype=NUMPY_DTYPE[kind])
    filler = Decimal(0) if kind in ("decimal", "ratio") else ""
    out = np.empty(n, dtype=object)
    out[:] = filler
    return out


# --- conversion from and to the scalar facts dicts (tests, fallback, small inputs)


def from_records(checked, entity: str, records: list) -> Frame:
    """A frame from typed facts dicts (as ``FactsChecker.validate`` returns them)."""
    ent = checked.entities[entity]
    n = len(records)
    frame = Frame(entity, n)
    for name, fld in ent.fields.items():
        if fld.child:
            lists = [r.get(name) for r in records]
            missing = np.array([v is None for v in lists], dtype=bool)
            parent = np.repeat(np.arange(n, dtype=np.int64), [len(v or ()) for v in lists])
            kids = [c for v in lists for c in (v or ())]
            frame.children[name] = Children(from_records(checked, fld.child, kids), parent,
                                            missing if missing.any() else None)
            continue
        kind = kind_of(fld.type)
        values = enum_values(checked, fld.type)
        data = empty_array(kind, n)
        missing = np.zeros(n, dtype=bool)
        for i, r in enumerate(records):
            v = r.get(name)
            if v is None:
                missing[i] = True
            else:
                data[i] = encode_value(v, kind, values)
        frame.columns[name] = Column(data, missing if missing.any() else None)
    return frame


def to_records(checked, frame: Frame, rows=None) -> list:
    """Typed facts dicts of some rows (all by default): the inverse of from_records.

    Column by column (one bulk conversion per field), since explaining the undecided
    rows of a batch converts many rows back."""
    ent = checked.entities[frame.entity]
    rows = np.arange(frame.n, dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
    out = [{} for _ in range(len(rows))]
    for name, col in frame.columns.items():
        fld = ent.fields[name]
        values = _decoded(col.data[rows], kind_of(fld.type), enum_values(checked, fld.type))
        if col.missing is None:
            for rec, v in zip(out, values):
                rec[name] = v
        else:
            for rec, v, gone in zip(out, values, col.missing[rows].tolist()):
                if not gone:
                    rec[name] = v
    for name, ch in frame.children.items():
        offsets = ch.offsets(frame.n)
        lo, hi = offsets[rows], offsets[rows + 1]
        kids = to_records(checked, ch.frame, np.concatenate([np.arange(a, b) for a, b in zip(lo, hi)])
                          if len(rows) else np.zeros(0, dtype=np.int64))
        gone = ch.missing[rows].tolist() if ch.missing is not None else [False] * len(rows)
        at = 0
        for rec, count, absent in zip(out, (hi - lo).tolist(), gone):
            if not absent:
                rec[name] = kids[at:at + count]
            at += count
    return out


def _decoded(data: np.ndarray, kind: str, values: tuple) -> list:
    """Column cells as the scalar evaluator's values, in bulk."""
    if kind == "money":
        return [Decimal(x).scaleb(-2) for x in data.tolist()]
    if kind == "enum":
        return [values[x] for x in data.tolist()]
    if kind == "date":
        return [EPOCH + dt.timedelta(days=x) for x in data.tolist()]
    if kind in ("bool", "integer"):
        return data.tolist()
    return list(data)


def enum_values(checked, ftype) -> tuple:
    """The declared values of an enum type (empty for other types)."""
    if ftype.kind != "enum":
        return ()
    return tuple(checked.enums[ftype.name].values)


def take(frame: Frame, rows: np.ndarray) -> Frame:
    """The sub-frame of some parent rows (with all their children), in the given order."""
    rows = np.asarray(rows, dtype=np.int64)
    out = Frame(frame.entity, len(rows))
    for name, col in frame.columns.items():
        if isinstance(col, TextColumn):
            out.columns[name] = col.rows(rows)
            continue
        out.columns[name] = Column(col.data[rows], None if col.missing is None else col.missing[rows])
    for name, ch in frame.children.items():
        offsets = ch.offsets(frame.n)
        counts = offsets[rows + 1] - offsets[rows]
        starts = offsets[rows]
        idx = (np.repeat(starts - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
               + np.arange(counts.sum(), dtype=np.int64)) if len(rows) else np.zeros(0, dtype=np.int64)
        parent = np.repeat(np.arange(len(rows), dtype=np.int64), counts)
        out.children[name] = Children(take(ch.frame, idx), parent,
                                      None if ch.missing is None else ch.missing[rows])
    return out
