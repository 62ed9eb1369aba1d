"""Turn raw values (from YAML, JSON, CSV) into typed values, exactly and within bounds.

Used for parameter values and for facts. Money and ratios become ``Decimal`` (floats
are read through their shortest decimal text, never used as binary floats); amounts may
be written ``6万`` / ``6万元``; ratios ``3%``; full-width digits (``４９９９``) read as
their ASCII forms.

Every number is bounded before any arithmetic is done with it (:func:`check_bounds`):
``|x| <= MAX_MAGNITUDE`` and at most ``MAX_DECIMALS`` digits after the point; a
numeric text longer than ``MAX_NUMBER_TEXT`` characters is refused before it is parsed.
So ``"9e999999"`` is refused in microseconds instead of being expanded into a
million-digit integer, and no later sum or product can overflow (see
engine/core/operators.py, which bounds results by the same limit). A number beyond the
bounds raises :class:`BoundError` (E820); any other misfit :class:`CoerceError` (E802).
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Context, Decimal, DivisionByZero, InvalidOperation, Overflow

from .errors import Bilingual
from .types import Type

MAX_MAGNITUDE = 10 ** 15
"""The largest magnitude of a number: integers, money (元), decimals and ratios. Money
in fen (10^17) then fits int64 (9.2·10^18) with room for a sum of two."""
MAX_DECIMALS = 20
"""The most digits after the decimal point a number may be written with."""
MAX_NUMBER_TEXT = 100
"""The longest numeric text (characters) read at all."""
LIMIT_TEXT = {"zh": f"绝对值不超过 10^15、小数不超过 {MAX_DECIMALS} 位的数",
              "en": f"a number with |x| ≤ 10^15 and at most {MAX_DECIMALS} decimals"}

_SCALES = (("亿元", 100_000_000), ("万元", 10_000), ("元", 1), ("亿", 100_000_000), ("万", 10_000))
# Plain ASCII decimal notation only: no NaN/Infinity, no hex, no underscores, no other
# scripts' digits (Decimal itself would take '١٢٣' and '1_000').
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_MAGNITUDE_LIMIT = Decimal(MAX_MAGNITUDE)


class CoerceError(ValueError):
    """The value does not fit the type; ``expected`` says what would (E802)."""

    code = "E802"

    def __init__(self, expected):
        super().__init__(expected)
        self.expected = expected


class BoundError(CoerceError):
    """A number beyond the bounds of :func:`check_bounds` (E820)."""

    code = "E820"

    def __init__(self):
        super().__init__(LIMIT_TEXT)


def within_bounds(value) -> bool:
    """Whether an int or finite Decimal lies within ``MAX_MAGNITUDE`` and ``MAX_DECIMALS``.

    Exact and cheap on any value: it never expands the exponent and never rounds (no
    Decimal context is involved)."""
    if isinstance(value, int):
        return -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE
    if not value.is_finite():
        return False
    if value.is_zero():
        return True
    if value.adjusted() > 15 or value.copy_abs() > _MAGNITUDE_LIMIT:
        return False
    # as written within MAX_DECIMALS (the common case), or so once trailing zeros go
    return value.as_tuple().exponent >= -MAX_DECIMALS or decimals(value) <= MAX_DECIMALS


def decimals(value: Decimal) -> int:
    """Digits after the point once trailing zeros are dropped (``1.50000`` has one)."""
    sign, digits, exponent = value.as_tuple()
    if exponent >= 0 or not any(digits):
        return 0
    zeros = len(digits) - len("".join(map(str, digits)).rstrip("0")) if digits[-1] == 0 else 0
    return max(0, -(exponent + zeros))


def check_bounds(value):
    """``value`` if :func:`within_bounds`, else raise :class:`BoundError`."""
    if not within_bounds(value):
        raise BoundError()
    return value


def int_or_text(text: str):
    """A JSON/YAML integer literal as an int, or as its text when longer than
    ``MAX_NUMBER_TEXT`` (Python refuses to convert more than 4,300 digits, and no field
    takes such a number: the text reaches the field, which reports E820 where it is)."""
    return text if len(text) > MAX_NUMBER_TEXT else int(text)


def to_decimal(raw) -> Decimal:
    """A bounded number from int, Decimal, float (via its text) or a numeric string."""
    if isinstance(raw, bool):
        raise CoerceError(Bilingual("数字", "number"))
    if isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, int):
        check_bounds(raw)
        value = Decimal(raw)
    elif isinstance(raw, float):
        value = Decimal(repr(raw))
    elif isinstance(raw, str):
        value = _from_text(raw)
    else:
        raise CoerceError(Bilingual("数字", "number"))
    if not value.is_finite():
        raise CoerceError(Bilingual("有限的数", "finite number"))
    return check_bounds(value)


def _from_text(raw: str) -> Decimal:
    """A number written as text (``4,999.5``, ``6万``, ``3%``, ``４９９９``), exactly."""
    if len(raw) > MAX_NUMBER_TEXT:
        raise BoundError()
    text = raw if raw.isascii() else unicodedata.normalize("NFKC", raw)  # ４９９９ → 4999
    text = text.strip().replace(",", "")
    scale = 1
    for suffix, factor in _SCALES:
        if text.endswith(suffix):
            text, scale = text[: -len(suffix)].strip(), factor
            break
    percent = text.endswith("%")
    if percent:
        text = text[:-1]
    if not _NUMBER.fullmatch(text):
        raise CoerceError(Bilingual("数字", "number"))
    value = Decimal(text)
    if scale == 1 and not percent:
        return value
    if not value.is_zero() and not -MAX_DECIMALS - 4 <= value.adjusted() <= 15:
        raise BoundError()  # refused before scaling: 9e999999万 must not be computed
    value = _EXACT.multiply(value, scale)
    return _EXACT.divide(value, 100) if percent else value


# Wide enough that scaling any text of MAX_NUMBER_TEXT characters is exact.
_EXACT = Context(prec=2 * MAX_NUMBER_TEXT, traps=[InvalidOperation, Overflow, DivisionByZero])


def coerce(raw, typ: Type, enum_values=()):
    """``raw`` as a value of ``typ``; raise CoerceError naming what was expected."""
    kind = typ.kind
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in _BOOL_TEXT:
            return _BOOL_TEXT[raw.strip().lower()]
        raise CoerceError(Bilingual("是或否（true/false）", "bool (true/false)"))
    if kind == "integer":
        if isinstance(raw, int) and not isinstance(raw, bool):
            return check_bounds(raw)
        value = to_decimal(raw)  # bounded first: int() of 9e999999 would take a minute
        if value != value.to_integral_value():
            raise CoerceError(Bilingual("整数", "integer"))
        return int(value)
    if kind in ("decimal", "money"):
        if isinstance(raw, str) and raw.strip().endswith(("%", "％")) and len(raw) <= MAX_NUMBER_TEXT:
            raise CoerceError(Bilingual(f"{typ}（写成小数，不是百分数）", f"{typ} (not a percentage)"))
        return to_decimal(raw)
    if kind == "ratio":
        return to_decimal(raw)
    if kind == "date":
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        if isinstance(raw, str) and len(raw) <= 64:
            try:
                return dt.date.fromisoformat(raw.strip())
            except ValueError:
                pass
            wide = unicodedata.normalize("NFKC", raw).strip()  # ２０２０－０６－３０, as numbers' digits are read
            if wide != raw.strip():
                try:
                    return dt.date.fromisoformat(wide)
                except ValueError:
                    pass
        raise CoerceError(Bilingual("日期（YYYY-MM-DD）", "date (YYYY-MM-DD)"))
    if kind == "string":
        if isinstance(raw, str):
            return raw
        if isinstance(raw, int) and not isinstance(raw, bool):
            return str(raw)
        raise CoerceError(Bilingual("文本", "string"))
    if kind == "enum":
        if isinstance(raw, str) and raw in enum_values:
            return raw
        raise CoerceError(Bilingual("以下之一：" + "、".join(enum_values), "one of " + ", ".join(enum_values)))
    raise CoerceError(str(typ))


_BOOL_TEXT = {"true": True, "false": False, "是": True, "否": False, "1": True, "0": False}
