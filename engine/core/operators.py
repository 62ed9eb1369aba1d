"""The meaning of every operator and built-in function, defined once.

Each table below names one construct of the expression language and gives its meaning
as a Python function over runtime values (``bool``, ``int``, ``Decimal``, ``str``,
``date``; see values.py). Where numpy computes the same thing on int64 arrays (integers,
money in fen, enum codes, dates in days), the ufunc sits beside the Python function in
the same entry, so that the scalar evaluator (the reference) and the columnar one read
one definition:

- :data:`COMPARISONS`: ``== != < <= > >=``;
- :data:`UNARY`: ``-x`` and ``not x``;
- :data:`ARITHMETIC`: ``+ - * /`` (money rounded to the fen, date − date in days,
  division by zero E807);
- :data:`FUNCTIONS`: ``min max abs round floor ceil year is_known``.

Unknown operands never reach these functions: an operation with an unknown operand is
unknown (the evaluators merge the facts); only a function marked ``reads_unknown``
(``is_known``) is given the unknown itself.
"""
from __future__ import annotations

import datetime as dt
import operator
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Callable

import numpy as np

from .values import EvalError, Unknown, to_fen


@dataclass(frozen=True)
class Operator:
    """One operator: its Python meaning and, where numpy computes the same on int64
    arrays of one representation, the ufunc (None: element by element only)."""

    symbol: str
    py: Callable
    ufunc: Callable | None


# --- comparisons


COMPARISONS = {
    "==": Operator("==", operator.eq, np.equal),
    "!=": Operator("!=", operator.ne, np.not_equal),
    "<": Operator("<", operator.lt, np.less),
    "<=": Operator("<=", operator.le, np.less_equal),
    ">": Operator(">", operator.gt, np.greater),
    ">=": Operator(">=", operator.ge, np.greater_equal),
}


def interval_ops(lo_closed: bool, hi_closed: bool) -> tuple[str, str]:
    """The comparisons ``value lo_op lo`` and ``value hi_op hi`` of an interval:
    ``[`` is ``>=``, ``(`` is ``>``, ``]`` is ``<=``, ``)`` is ``<``."""
    return (">=" if lo_closed else ">"), ("<=" if hi_closed else "<")


# --- unary operators


UNARY = {
    "-": Operator("-", operator.neg, np.negative),
    "not": Operator("not", operator.not_, np.logical_not),
}


# --- arithmetic


def add(a, b, kind: str, where):
    """``a + b`` (sums of money to the fen stay to the fen)."""
    return a + b


def subtract(a, b, kind: str, where):
    """``a - b``; date − date is a number of days (the checker types it integer)."""
    value = a - b
    return value.days if isinstance(value, dt.timedelta) else value


def multiply(a, b, kind: str, where):
    """``a * b``; a money result is rounded half-up to the fen."""
    value = a * b
    return to_fen(value) if kind == "money" else value


def divide(a, b, kind: str, where):
    """``a / b`` as an exact Decimal; a money result is rounded half-up to the fen.
    Division by zero is the runtime error E807 at ``where`` (a typed node)."""
    if b == 0:
        raise EvalError("E807", where.span, text=where.text)
    value = Decimal(a) / Decimal(b)
    return to_fen(value) if kind == "money" else value


# ``py(a, b, kind, where)``: ``kind`` is the result's type kind (``money`` rounds to the
# fen), ``where`` the typed node (its span and text for E807).
ARITHMETIC = {
    "+": Operator("+", add, np.add),
    "-": Operator("-", subtract, np.subtract),
    "*": Operator("*", multiply, np.multiply),
    "/": Operator("/", divide, None),  # money / integer on fen: see fen_quotient
}


def fen_quotient(num: np.ndarray, den) -> np.ndarray:
    """``num / den`` rounded half-up (away from zero at the half), in exact integer
    arithmetic: :func:`values.to_fen`'s rule on int64 arrays (``den`` non-zero).

    Money in fen divided by an integer is ``fen_quotient(fen, n)``; money times a
    decimal ``p/10**k`` is ``fen_quotient(fen * p, 10**k)``."""
    q = (2 * np.abs(num) + np.abs(den)) // (2 * np.abs(den))
    return q * (np.sign(num) * np.sign(den))


# --- functions


def round_half_up(x, n: int = 0):
    """``round(x, n)``: half-up to ``n`` decimals (四舍五入); an integer stays an integer."""
    q = Decimal(1).scaleb(-n)
    value = Decimal(x).quantize(q, rounding=ROUND_HALF_UP)
    return int(value) if isinstance(x, int) and n == 0 else value


def floor(x):
    """The largest integer not above ``x`` (an integer stays itself)."""
    return x if isinstance(x, int) else x.to_integral_value(rounding=ROUND_FLOOR)


def ceil(x):
    """The smallest integer not below ``x`` (an integer stays itself)."""
    return x if isinstance(x, int) else x.to_integral_value(rounding=ROUND_CEILING)


def year(d: dt.date) -> int:
    """The calendar year of a date."""
    return d.year


def is_known(x) -> bool:
    """Whether a value is known (the one function that is given an unknown)."""
    return type(x) is not Unknown


def _years(days: np.ndarray) -> np.ndarray:
    """``year`` over numpy dates (``datetime64[D]``)."""
    return days.astype("datetime64[Y]").astype(np.int64) + 1970


@dataclass(frozen=True)
class Function:
    """A built-in function: its Python meaning; ``ufunc``, where numpy computes the same
    on arrays of the argument kinds in ``array_kinds`` (integers and money as int64,
    money in fen and integers scaled to fen when mixed; dates as ``datetime64[D]``),
    applied pairwise when it takes two arguments; ``reads_unknown``: given unknown
    arguments as they are instead of being unknown itself."""

    name: str
    py: Callable
    ufunc: Callable | None = None
    array_kinds: frozenset = frozenset()
    reads_unknown: bool = False


_NUMBERS = frozenset({"integer", "money"})

FUNCTIONS = {
    "min": Function("min", lambda *a: min(a), np.minimum, _NUMBERS),
    "max": Function("max", lambda *a: max(a), np.maximum, _NUMBERS),
    "abs": Function("abs", abs, np.abs, _NUMBERS),
    "round": Function("round", round_half_up),
    "floor": Function("floor", floor),
    "ceil": Function("ceil", ceil),
    "year": Function("year", year, _years, frozenset({"date"})),
    "is_known": Function("is_known", is_known, reads_unknown=True),
}
