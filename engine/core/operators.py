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
  division by zero E807, a result beyond ``|x| <= 10^15`` E720; :func:`beyond` and
  :func:`product_beyond` are the same bound on int64 arrays);
- :data:`FUNCTIONS`: ``min max abs round floor ceil year is_known``.

Unknown operands never reach these functions: an operation with an unknown operand is
unknown (the evaluators merge the facts); only a function marked ``reads_unknown``
(``is_known``) is given the unknown itself.
"""
from __future__ import annotations

import datetime as dt
import operator
from dataclasses import dataclass
from decimal import (ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal, DivisionByZero, InvalidOperation,
                     Overflow)
from typing import Callable

from ...dsl.coerce import MAX_MAGNITUDE
from .values import EvalError, Unknown, to_fen


class Ufunc:
    """The numpy ufunc ``name``, imported on first use: checking a pack and evaluating one
    household (the scalar path) never load numpy, which is a third of ``import fupin``'s
    time; the columnar path calls it (and reads its attributes, ``nin``) as the ufunc."""

    __slots__ = ("name", "_fn")

    def __init__(self, name: str):
        self.name, self._fn = name, None

    def resolve(self):
        fn = self._fn
        if fn is None:
            import numpy

            fn = self._fn = getattr(numpy, self.name)
        return fn

    def __call__(self, *args, **kwargs):
        return self.resolve()(*args, **kwargs)

    def __getattr__(self, attr: str):
        return getattr(self.resolve(), attr)

    def __repr__(self) -> str:
        return f"Ufunc({self.name!r})"


@dataclass(frozen=True)
class Operator:
    """One operator: its Python meaning and, where numpy computes the same on int64
    arrays of one representation, the ufunc (None: element by element only)."""

    symbol: str
    py: Callable
    ufunc: Callable | None
    # a known zero operand gives zero whatever the other is, even unknown: x × 0 = 0
    # for every bounded x (three-valued arithmetic is otherwise unknown if any operand is)
    absorbs: bool = False


# --- comparisons


COMPARISONS = {
    "==": Operator("==", operator.eq, Ufunc("equal")),
    "!=": Operator("!=", operator.ne, Ufunc("not_equal")),
    "<": Operator("<", operator.lt, Ufunc("less")),
    "<=": Operator("<=", operator.le, Ufunc("less_equal")),
    ">": Operator(">", operator.gt, Ufunc("greater")),
    ">=": Operator(">=", operator.ge, Ufunc("greater_equal")),
}


def interval_ops(lo_closed: bool, hi_closed: bool) -> tuple[str, str]:
    """The comparisons ``value lo_op lo`` and ``value hi_op hi`` of an interval:
    ``[`` is ``>=``, ``(`` is ``>``, ``]`` is ``<=``, ``)`` is ``<``."""
    return (">=" if lo_closed else ">"), ("<=" if hi_closed else "<")


# --- unary operators


UNARY = {
    "-": Operator("-", operator.neg, Ufunc("negative")),
    "not": Operator("not", operator.not_, Ufunc("logical_not")),
}


# --- arithmetic

# Every arithmetic result is bounded by the limit every input number obeys
# (dsl/coerce.py): |x| <= 10^15, so money in fen stays far inside int64 and no product
# of two bounded operands can overflow anything. A result beyond it is the runtime
# error E720 of that output, at the expression (never an exception out of evaluate).
LIMIT = MAX_MAGNITUDE
LIMIT_FEN = MAX_MAGNITUDE * 100
_LIMIT_TEXT = "|x| ≤ 10^15"


def bounded(value, where):
    """``value`` if ``|value| <= LIMIT`` (ints and Decimals; other values pass), else
    the runtime error E720 at ``where`` (a typed node: its span and text)."""
    kind = type(value)
    if kind is not int and kind is not Decimal:
        return value
    if -LIMIT <= value <= LIMIT:  # exact for both (an infinity fails it; NaN cannot arise)
        return value
    raise overflow(where)


def overflow(where) -> EvalError:
    """The error E720 of an arithmetic result beyond the bounds, at ``where``."""
    return EvalError("E720", where.span, text=where.text, detail=_LIMIT_TEXT)


def add(a, b, kind: str, where):
    """``a + b`` (sums of money to the fen stay to the fen), bounded."""
    try:
        return bounded(a + b, where)
    except ArithmeticError:  # only reachable from an unbounded literal
        raise overflow(where) from None


def subtract(a, b, kind: str, where):
    """``a - b``, bounded; date − date is a number of days (the checker types it integer)."""
    try:
        value = a - b
    except ArithmeticError:
        raise overflow(where) from None
    return value.days if isinstance(value, dt.timedelta) else bounded(value, where)


def multiply(a, b, kind: str, where):
    """``a * b``, bounded; a money result is rounded half-up to the fen."""
    try:
        value = bounded(a * b, where)  # bounded operands: the product cannot overflow
    except ArithmeticError:
        raise overflow(where) from None
    return to_fen(value) if kind == "money" else value


def divide(a, b, kind: str, where):
    """``a / b`` as an exact Decimal, bounded; a money result is rounded half-up to the fen.
    Division by zero is the runtime error E807 at ``where`` (a typed node)."""
    if b == 0:
        raise EvalError("E807", where.span, text=where.text)
    try:
        value = bounded(Decimal(a) / Decimal(b), where)
    except ArithmeticError:  # a quotient beyond even Decimal's exponent range
        raise overflow(where) from None
    return to_fen(value) if kind == "money" else value


# ``py(a, b, kind, where)``: ``kind`` is the result's type kind (``money`` rounds to the
# fen), ``where`` the typed node (its span and text for E807 and E720).
ARITHMETIC = {
    "+": Operator("+", add, Ufunc("add")),
    "-": Operator("-", subtract, Ufunc("subtract")),
    "*": Operator("*", multiply, Ufunc("multiply"), absorbs=True),
    "/": Operator("/", divide, None),  # money / integer on fen: see fen_quotient
}


def beyond(data: np.ndarray, rep: str) -> np.ndarray:
    """Where int64 results (``rep`` ``int``, or ``fen``: money in fen) exceed the bound:
    the rows of :func:`bounded`'s E720, on arrays."""
    limit = LIMIT_FEN if rep == "fen" else LIMIT
    return (data > limit) | (data < -limit)


def product_beyond(x: np.ndarray, y: np.ndarray, limit: int) -> np.ndarray:
    """Where ``|x·y| > limit`` for int64 arrays, decided without computing the product
    (which could wrap): ``|x|·|y| <= limit`` exactly when ``|y| <= limit // |x|``."""
    import numpy as np

    ax, ay = np.abs(x), np.abs(y)
    return (ax > 0) & (ay > limit // np.maximum(ax, 1))


def fen_quotient(num: np.ndarray, den) -> np.ndarray:
    """``num / den`` rounded half-up (away from zero at the half), in exact integer
    arithmetic: :func:`values.to_fen`'s rule on int64 arrays (``den`` non-zero).

    Money in fen divided by an integer is ``fen_quotient(fen, n)``; money times a
    decimal ``p/10**k`` is ``fen_quotient(fen * p, 10**k)``."""
    import numpy as np

    q = (2 * np.abs(num) + np.abs(den)) // (2 * np.abs(den))
    return q * (np.sign(num) * np.sign(den))


# --- functions


def round_half_up(x, n: int = 0):
    """``round(x, n)``: half-up to ``n`` decimals (四舍五入); an integer stays an integer.

    Total on bounded numbers: ``n`` is clamped to [-16, 60] (rounding |x| <= 10^15 to
    10^16 or coarser is 0, and to 60 places or finer changes no number the language
    makes), and the rounding is done in a context wide enough for every such case."""
    n = min(max(n, -16), 60)
    q = Decimal(1).scaleb(-n, context=_WIDE)
    value = Decimal(x).quantize(q, rounding=ROUND_HALF_UP, context=_WIDE)
    return int(value) if isinstance(x, int) and n == 0 else value


_WIDE = Context(prec=100, traps=[InvalidOperation, Overflow, DivisionByZero])


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
    import numpy as np

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
    "min": Function("min", lambda *a: min(a), Ufunc("minimum"), _NUMBERS),
    "max": Function("max", lambda *a: max(a), Ufunc("maximum"), _NUMBERS),
    "abs": Function("abs", abs, Ufunc("absolute"), _NUMBERS),
    "round": Function("round", round_half_up),
    "floor": Function("floor", floor),
    "ceil": Function("ceil", ceil),
    "year": Function("year", year, _years, frozenset({"date"})),
    "is_known": Function("is_known", is_known, reads_unknown=True),
}
