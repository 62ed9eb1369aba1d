"""What both readers of the expression language share: its limits, its units, how it
reads a number, and the failure either reader raises.

:mod:`fupin.dsl.parser` (the entry point), :mod:`fupin.dsl.fastparse` (the
recursive-descent reader) and :mod:`fupin.dsl.larkparse` (Lark, the definition of the
language) all import from here and from nowhere else among themselves but downwards,
so the import graph of the parser has no cycle.
"""
from __future__ import annotations

from decimal import Decimal

MAX_LENGTH = 4000  # characters of one expression
MAX_DEPTH = 50  # nested brackets; Lark's tree may be twice as deep
MAX_NODES = 1000  # Lark's tree may have three times as many nodes

UNIT_SCALE = {"元": (1, "money"), "万元": (10_000, "money"), "亿元": (100_000_000, "money"),
              "万": (10_000, None), "%": (Decimal("0.01"), "ratio"), "％": (Decimal("0.01"), "ratio")}


class ParseFailure(Exception):
    """A syntax or limit problem at ``offset`` of the text, with message arguments."""

    def __init__(self, code: str, offset: int, length: int = 1, **args):
        super().__init__(code)
        self.code, self.offset, self.length, self.details = code, offset, length, args


def number(text: str) -> int | Decimal:
    """The value of a NUMBER token: an int, or a Decimal when it has a point."""
    return Decimal(text) if "." in text else int(text)


def quantity(digits: str, unit: str) -> tuple:
    """The value and kind of ``NUMBER UNIT`` (``3万`` is an integer, ``3元`` money)."""
    scale, kind = UNIT_SCALE[unit]
    value = number(digits) * scale
    if kind is None:
        kind = "decimal" if isinstance(value, Decimal) and value != int(value) else "integer"
    if kind == "money" or kind == "ratio" or isinstance(value, Decimal):
        value = Decimal(value)
        if kind == "integer":
            value = int(value)
    return value, kind
