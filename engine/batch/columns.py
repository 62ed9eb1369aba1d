"""Raw input columns → typed numpy columns, deciding exactly as ``FactsChecker`` does.

:func:`convert` takes the values of one field over a chunk (a pyarrow array, or a numpy
object array of Python values) and returns the column in the representation of
``engine/columnar/frame.py`` with two masks: ``missing`` (null: the fact is unknown)
and ``bad`` (present but invalid: E802 wrong type, E803 out of range).

Each input type has a fast path that decides the common, unambiguous cases on whole
arrays (an int64 column for an integer field, ``"4999.5"`` for money, an exact enum
value…). Every cell (an enum label such as ``已脱贫`` included) a fast path does not decide, and every Python value, is decided by
the scalar checker itself (:class:`CellChecker`, which calls ``FactsChecker``), so
the unusual spellings (``6万``, ``3%``, `` true ``) follow the one reference rule.
Two limits of the columnar format are reported separately (``limit``): whole numbers
beyond 64 bits, and money below the fen (more than two decimals).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ...dsl.coerce import MAX_MAGNITUDE
from ..columnar.frame import EPOCH, empty_array, encode_value
from .levels import single

INT64_MAX = np.iinfo(np.int64).max
MAGNITUDE = {"integer": MAX_MAGNITUDE, "money": MAX_MAGNITUDE * 100}  # in representation (fen)
BOOL_TRUE = ("true", "True", "TRUE", "是", "1")
BOOL_FALSE = ("false", "False", "FALSE", "否", "0")
INTEGER_TEXT = r"^-?[0-9]{1,18}$"
MONEY_TEXT = r"^-?[0-9]{1,15}(\.[0-9]{1,2})?$"
DATE_TEXT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
DAY_ONE = (dt.date(1, 1, 1) - EPOCH).days
UNITS_PER_DAY = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000}


@dataclass
class Converted:
    """One field over a chunk: data in representation, and which cells are missing/bad."""

    data: np.ndarray
    missing: np.ndarray
    bad: np.ndarray
    limit: dict  # row -> "fen" | "int64": bad for a limit of the columnar format


class CellChecker:
    """Decide one Python value with the scalar checker; cached per (type, text) of value."""

    def __init__(self, facts_checker, spec):
        self.facts = facts_checker
        self.spec = spec
        self.cache: dict = {}

    def __call__(self, value):
        """``(encoded, None)`` if valid, ``(None, reason)`` with reason "bad", "fen" or "int64"."""
        try:
            key = (type(value), repr(value))
        except Exception:  # pragma: no cover - repr of odd objects
            key = None
        found = self.cache.get(key) if key is not None else None
        if found is None:
            found = self._decide(value)
            if key is not None and len(self.cache) < 100_000:
                self.cache[key] = found
        return found

    def _decide(self, value):
        diags: list = []
        spec = self.spec
        typed = self.facts.check_value(spec.fld, value, path=spec.name, diags=diags)
        if typed is None or any(d.severity == "error" for d in diags):
            return None, "bad"
        try:
            encoded = encode_value(typed, spec.kind, spec.enum_values)
        except ValueError:
            return None, "fen"
        if spec.kind in ("integer", "money", "date") and not -INT64_MAX <= encoded <= INT64_MAX:
            return None, "int64"
        return encoded, None


def convert(values, spec, cell: CellChecker) -> Converted:
    """The typed column of one field; see the module docstring."""
    values = single(values)
    if isinstance(values, np.ndarray):
        return _by_cell(values, spec, cell)
    if pa.types.is_dictionary(values.type):
        return _dictionary(values, spec, cell)
    if pa.types.is_string_view(values.type):
        # pyarrow's set, regex and take kernels have no string_view kernel (index_in,
        # is_in, array_take): the same cells as plain text (readers.py casts whole files)
        values = values.cast(pa.string())
    n = len(values)
    missing = null_mask(values)
    fast = _fast_path(values, spec)
    if fast is None:
        data, ok, bad = empty_array(spec.kind, n), np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    else:
        data, ok, bad = fast  # data holds fillers where missing, anything where not ok
        _check_bounds(data, ok, bad, spec)
    rest = ~(missing | ok | bad)
    if rest.any():
        if not data.flags.writeable:
            data = data.copy()
        out = Converted(data, missing, bad, {})
        _undecided(out, np.flatnonzero(rest), values, cell)
        return out
    return Converted(data, missing, bad, {})


def is_text(values) -> bool:
    """Whether a raw column is Arrow text (string or large_string), as read from a file."""
    return isinstance(values, (pa.Array, pa.ChunkedArray)) and (
        pa.types.is_string(values.type) or pa.types.is_large_string(values.type))


def null_mask(values: pa.Array) -> np.ndarray:
    """True where a value is null, read from the validity bitmap."""
    n = len(values)
    if values.null_count == 0:
        return np.zeros(n, dtype=bool)
    if pa.types.is_null(values.type):
        return np.ones(n, dtype=bool)
    return ~bits(values.buffers()[0], values.offset, n)


def bits(buffer, offset: int, n: int) -> np.ndarray:
    """``n`` bits of an arrow bitmap from ``offset``, as booleans."""
    raw = np.frombuffer(buffer, dtype=np.uint8)
    return np.unpackbits(raw, count=offset + n, bitorder="little")[offset:].view(np.bool_)


def _by_cell(values: np.ndarray, spec, cell) -> Converted:
    """Python values (JSON lines that pyarrow could not read): every cell by the checker."""
    n = len(values)
    missing = np.fromiter((v is None for v in values), dtype=bool, count=n)
    out = Converted(empty_array(spec.kind, n), missing, np.zeros(n, dtype=bool), {})
    rows = np.flatnonzero(~missing)
    _cells(out, rows, [values[i] for i in rows], cell)
    return out


def _cells(out: Converted, rows, pyvalues, cell) -> None:
    """Decide some cells one by one with the scalar checker."""
    for i, value in zip(rows.tolist(), pyvalues):
        encoded, reason = cell(value)
        if reason is None:
            out.data[i] = encoded
            continue
        out.bad[i] = True
        if reason != "bad":
            out.limit[i] = reason


def _undecided(out: Converted, rows: np.ndarray, values: pa.Array, cell) -> None:
    """Cells no fast path decided: each distinct value once by the checker, then spread."""
    sub = values.take(pa.array(rows, pa.int64()))
    try:
        encoded = pc.dictionary_encode(sub) if len(rows) > 16 else None
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        encoded = None
    if encoded is None:
        _cells(out, rows, sub.to_pylist(), cell)
        return
    distinct = encoded.dictionary.to_pylist()
    decided = [cell(v) for v in distinct]
    idx = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    good = np.array([r is None for _, r in decided], dtype=bool)
    table = np.empty(len(distinct), dtype=out.data.dtype)
    for j, (value, reason) in enumerate(decided):
        if reason is None:
            table[j] = value
    ok_rows = good[idx]
    out.data[rows[ok_rows]] = table[idx[ok_rows]]
    out.bad[rows[~ok_rows]] = True
    for j, (_, reason) in enumerate(decided):
        if reason not in (None, "bad"):
            for i in rows[idx == j].tolist():
                out.limit[i] = reason


def _dictionary(values, spec, cell) -> Converted:
    """Convert the dictionary once, then spread it by the indices."""
    n = len(values)
    if len(values.dictionary) > n:
        # every batch of a row group carries the group's whole dictionary: with more
        # distinct texts than the chunk has cells, deciding the dictionary in each chunk
        # would cost (chunks × dictionary), so decide the chunk's own cells instead
        return convert(values.dictionary_decode(), spec, cell)
    null = null_mask(values.indices)
    if len(values.dictionary) == 0:
        return Converted(empty_array(spec.kind, n), null, np.zeros(n, dtype=bool), {})
    inner = convert(values.dictionary, spec, cell)
    indices = values.indices
    idx = (indices.fill_null(0) if indices.null_count else indices).to_numpy(zero_copy_only=False)
    # (a Parquet enum column: millions of rows, a handful of distinct values, all of them
    # valid and present; each mask spread only when the dictionary has such a value)
    missing = null | inner.missing[idx] if inner.missing.any() else null
    bad = inner.bad[idx] & ~missing if inner.bad.any() else np.zeros(n, dtype=bool)
    limit = {}
    if inner.limit:
        limit = {int(i): inner.limit[int(idx[i])] for i in np.flatnonzero(bad) if int(idx[i]) in inner.limit}
    data = inner.data[idx]
    if indices.null_count:  # the filler where the text path has it, not the first value's data
        data[null] = empty_array(spec.kind, 1)[0]
    return Converted(data, missing, bad, limit)


def _check_bounds(data, ok, bad, spec) -> None:
    """Out-of-range values decided by a fast path become bad (E803; E820 beyond the
    magnitude every number obeys, dsl/coerce.py's ``MAX_MAGNITUDE``)."""
    if not spec.vector_bounds:
        ok[:] = False  # decimal/ratio bounds: decided by the checker, cell by cell
        return
    limit = MAGNITUDE.get(spec.kind)
    if _within(data, spec, limit):
        return  # the common case: no value of the column is out of range, decided or not
    outside = np.zeros(len(data), dtype=bool)
    if limit is not None:
        outside |= (data > limit) | (data < -limit)
    if spec.lo is not None:
        outside |= data < spec.lo
    if spec.hi is not None:
        outside |= data > spec.hi
    outside &= ok
    bad |= outside
    ok &= ~outside


def _within(data, spec, limit) -> bool:
    """Whether every value of ``data`` (fillers and undecided cells included) lies within
    the field's bounds and the magnitude limit: two reductions instead of a mask per bound."""
    if not len(data) or data.dtype.kind not in "iu":
        return not len(data)
    low, high = data.min(), data.max()
    if limit is not None and (high > limit or low < -limit):
        return False
    return (spec.lo is None or low >= spec.lo) and (spec.hi is None or high <= spec.hi)


# --- fast paths: (decided values, ok mask, bad mask) or None; undecided cells go to the checker


def _fast_path(values: pa.Array, spec):
    t = values.type
    if pa.types.is_null(t):
        return None
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return _from_text(values, spec)
    if pa.types.is_boolean(t):
        return _from_bool(values, spec)
    if pa.types.is_integer(t):
        return _from_int(values, spec)
    if pa.types.is_floating(t):
        return _from_float(values.cast(pa.float64()), spec)
    if pa.types.is_decimal(t):
        return _from_decimal(values, spec)
    if pa.types.is_date(t):
        return _from_date(values, spec)
    if pa.types.is_timestamp(t) and t.tz is None:
        return _from_timestamp(values, spec)
    return None


def _valid(values) -> np.ndarray:
    return ~null_mask(values)


def _all_bad(values, spec):
    """The checker rejects every present value of this input type for this kind."""
    n = len(values)
    return empty_array(spec.kind, n), np.zeros(n, dtype=bool), _valid(values)


def _from_text(values, spec):
    kind = spec.kind
    if kind == "string":
        data = (values.fill_null("") if values.null_count else values).to_numpy(zero_copy_only=False)
        return data, _valid(values), np.zeros(len(values), dtype=bool)
    if kind == "enum":
        idx = pc.index_in(values, value_set=pa.array(list(spec.enum_values), type=values.type))
        found = _valid(idx)
        data = idx.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int16)
        # exact values here; any other text (a label, ``已脱贫``) goes to the checker, which
        # reads labels as values (each distinct text once) or rejects it
        return data, found, np.zeros(len(values), dtype=bool)
    if kind == "bool":
        yes = pc.is_in(values, value_set=pa.array(BOOL_TRUE, type=values.type)).to_numpy(zero_copy_only=False)
        no = pc.is_in(values, value_set=pa.array(BOOL_FALSE, type=values.type)).to_numpy(zero_copy_only=False)
        return yes, yes | no, np.zeros(len(values), dtype=bool)
    if kind == "integer":
        return _text_cast(values, INTEGER_TEXT, pa.int64(), lambda a: _ints(a))
    if kind == "money":
        return _text_cast(values, MONEY_TEXT, pa.decimal128(18, 2), lambda a: _unscaled(a))
    if kind == "date":
        return _text_cast(values, DATE_TEXT, pa.date32(), _days_checked)
    return None


def _text_cast(values, pattern, target, to_numpy):
    """Cast the cells that match a plain pattern; the others are left to the checker."""
    plain = pc.match_substring_regex(values, pattern).fill_null(False)
    if not pc.any(plain).as_py():
        return None
    n = len(values)
    picked = pc.if_else(plain, values, pa.scalar(None, values.type))
    try:
        decided = to_numpy(picked.cast(target))
    except (pa.ArrowInvalid, OverflowError):
        return None  # e.g. 2020-02-30 matches the pattern; let the checker say so
    if decided is None:
        return None
    data, ok = decided
    return data, ok & plain.to_numpy(zero_copy_only=False), np.zeros(n, dtype=bool)


def _ints(arr):
    data = arr.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    return data, _valid(arr)


def _unscaled(arr):
    """The unscaled int64 of a decimal128 array; None if any value needs more than 64 bits."""
    n = len(arr)
    raw = np.frombuffer(arr.buffers()[1], dtype=np.int64, count=2 * (arr.offset + n)).reshape(-1, 2)[arr.offset:]
    low, high = raw[:, 0], raw[:, 1]
    valid = _valid(arr)
    fits = high == (low >> 63)
    return np.where(valid, low, 0), valid & fits


def _days_checked(arr):
    days = arr.cast(pa.int32()).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    return days, _valid(arr) & (days >= DAY_ONE)


def _from_bool(values, spec):
    if spec.kind == "bool":
        n = len(values)
        data = bits(values.buffers()[1], values.offset, n) if n else np.zeros(0, dtype=bool)
        return data, _valid(values), np.zeros(n, dtype=bool)
    return _all_bad(values, spec)  # no other kind takes true/false (not even integer)


def _from_int(values, spec):
    kind = spec.kind
    if kind in ("bool", "enum", "date"):
        return _all_bad(values, spec)
    if kind == "string":
        text = values.cast(pa.string())
        return text.fill_null("").to_numpy(zero_copy_only=False), _valid(values), np.zeros(len(values), dtype=bool)
    if kind not in ("integer", "money"):
        return None  # decimal/ratio: Decimal objects, by the checker
    if pa.types.is_uint64(values.type):
        raw = values.fill_null(0).to_numpy(zero_copy_only=False)
        fits = raw <= np.uint64(INT64_MAX)
        data = np.where(fits, raw, 0).astype(np.int64)
    else:
        filled = values.fill_null(0) if values.null_count else values  # no copy where nothing is null
        data = filled.to_numpy(zero_copy_only=False).astype(np.int64)
        fits = np.ones(len(values), dtype=bool)
    if kind == "money":
        # not np.abs: the absolute value of -2^63 wraps to itself and would pass
        fits &= (data <= INT64_MAX // 100) & (data >= -(INT64_MAX // 100))
        data = np.where(fits, data, 0) * 100
    return data, _valid(values) & fits, np.zeros(len(values), dtype=bool)


def _from_float(values, spec):
    kind = spec.kind
    if kind in ("bool", "enum", "date", "string"):
        return _all_bad(values, spec)
    if kind not in ("integer", "money"):
        return None
    x = values.fill_null(0.0).to_numpy(zero_copy_only=False)
    valid = _valid(values)
    with np.errstate(invalid="ignore", over="ignore"):
        if kind == "integer":
            plain = np.isfinite(x) & (np.abs(x) < 2.0 ** 53)
            whole = plain & (np.floor(x) == x)
            data = np.where(whole, x, 0).astype(np.int64)
            return data, valid & whole, valid & plain & ~whole
        # money: x is the double nearest a value with at most two decimals exactly when
        # round(x·100)/100 == x (safe below 1e13, where the double spacing is < 0.001)
        plain = np.isfinite(x) & (np.abs(x) < 1e13)
        fen = np.round(np.where(plain, x, 0) * 100)
        exact = plain & (fen / 100 == x)
    return fen.astype(np.int64), valid & exact, np.zeros(len(values), dtype=bool)


def _from_decimal(values, spec):
    kind = spec.kind
    if kind in ("bool", "enum", "date", "string"):
        return _all_bad(values, spec)
    if kind not in ("integer", "money") or not pa.types.is_decimal128(values.type):
        return None
    unscaled, fits = _unscaled(values)
    scale = values.type.scale
    target = 2 if kind == "money" else 0
    n = len(values)
    if scale <= target:
        factor = 10 ** (target - scale)
        fits &= (unscaled <= INT64_MAX // factor) & (unscaled >= -(INT64_MAX // factor))
        return np.where(fits, unscaled, 0) * factor, fits, np.zeros(n, dtype=bool)
    factor = 10 ** (scale - target)
    exact = fits & (unscaled % factor == 0)
    bad = fits & ~exact if kind == "integer" else np.zeros(n, dtype=bool)  # money: fen rule by the checker
    return unscaled // factor, exact, bad


def _from_date(values, spec):
    if spec.kind == "date":
        if pa.types.is_date64(values.type):
            ms = values.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
            return ms // 86_400_000, _valid(values), np.zeros(len(values), dtype=bool)
        days = values.cast(pa.int32()).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
        return days, _valid(values), np.zeros(len(values), dtype=bool)
    if spec.kind in ("decimal", "ratio", "integer", "money", "string", "enum", "bool"):
        return _all_bad(values, spec)
    return None


def _from_timestamp(values, spec):
    if spec.kind != "date":
        return _all_bad(values, spec)
    raw = values.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
    return raw // UNITS_PER_DAY[values.type.unit], _valid(values), np.zeros(len(values), dtype=bool)
