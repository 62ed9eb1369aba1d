"""Turn raw values (from YAML, JSON, CSV) into typed values, exactly.

Used for parameter values and for facts. Money and ratios become ``Decimal`` (floats
are read through their shortest decimal text, never used as binary floats); amounts may
be written ``6万`` / ``6万元``; ratios ``3%``.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from .types import Type

_SCALES = (("亿元", 100_000_000), ("万元", 10_000), ("元", 1), ("亿", 100_000_000), ("万", 10_000))


class CoerceError(ValueError):
    """The value does not fit the type; ``expected`` says what would."""

    def __init__(self, expected: str):
        super().__init__(expected)
        self.expected = expected


def to_decimal(raw) -> Decimal:
    """A number from int, Decimal, float (via its text) or a numeric string."""
    if isinstance(raw, bool):
        raise CoerceError("number")
    if isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, int):
        value = Decimal(raw)
    elif isinstance(raw, float):
        value = Decimal(repr(raw))
    elif isinstance(raw, str):
        text = raw.strip().replace(",", "").replace("，", "")
        scale = 1
        for suffix, factor in _SCALES:
            if text.endswith(suffix):
                text, scale = text[: -len(suffix)].strip(), factor
                break
        percent = text.endswith(("%", "％"))
        if percent:
            text = text[:-1]
        try:
            value = Decimal(text) * scale
        except InvalidOperation:
            raise CoerceError("number") from None
        if percent:
            value = value / 100
    else:
        raise CoerceError("number")
    if not value.is_finite():
        raise CoerceError("finite number")
    return value


def coerce(raw, typ: Type, enum_values=()):
    """``raw`` as a value of ``typ``; raise CoerceError naming what was expected."""
    kind = typ.kind
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in _BOOL_TEXT:
            return _BOOL_TEXT[raw.strip().lower()]
        raise CoerceError("bool (true/false)")
    if kind == "integer":
        value = to_decimal(raw) if not isinstance(raw, int) or isinstance(raw, bool) else raw
        if isinstance(value, Decimal):
            if value != value.to_integral_value():
                raise CoerceError("integer")
            value = int(value)
        return value
    if kind in ("decimal", "money"):
        if isinstance(raw, str) and raw.strip().endswith(("%", "％")):
            raise CoerceError(f"{typ} (not a percentage)")
        return to_decimal(raw)
    if kind == "ratio":
        return to_decimal(raw)
    if kind == "date":
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        if isinstance(raw, str):
            try:
                return dt.date.fromisoformat(raw.strip())
            except ValueError:
                pass
        raise CoerceError("date (YYYY-MM-DD)")
    if kind == "string":
        if isinstance(raw, str):
            return raw
        if isinstance(raw, int) and not isinstance(raw, bool):
            return str(raw)
        raise CoerceError("string")
    if kind == "enum":
        if isinstance(raw, str) and raw in enum_values:
            return raw
        raise CoerceError("one of " + ", ".join(enum_values))
    raise CoerceError(str(typ))


_BOOL_TEXT = {"true": True, "false": False, "是": True, "否": False, "1": True, "0": False}
