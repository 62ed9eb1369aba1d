"""Runtime values: exact numbers, the unknown value, evaluation errors.

Values are Python ``bool``, ``int``, ``Decimal`` (money, ratios, decimals), ``str``
(enum values, strings) and ``date``. A missing fact is an :class:`Unknown` that carries
the facts that would settle it; logic and arithmetic reason about it (three-valued).
A parameter with no usable value on a date is a :class:`ParamIssue` in the per-date
parameter table. What operators, functions and table cells do with values is defined
in operators.py and cells.py.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from ...dsl.errors import Diagnostic, Span, error

FEN = Decimal("0.01")


class Unknown:
    """A value that cannot be decided; ``facts`` names what would settle it."""

    __slots__ = ("facts",)

    def __init__(self, facts: frozenset):
        self.facts = facts

    def merge(self, other: "Unknown") -> "Unknown":
        if other is self or other.facts <= self.facts:
            return self
        return Unknown(self.facts | other.facts)

    def __repr__(self) -> str:
        return f"Unknown({sorted(self.facts)})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Unknown) and other.facts == self.facts

    def __hash__(self) -> int:
        return hash(self.facts)


def merge(a, b):
    """Merge two values of which at least one is Unknown."""
    if type(a) is Unknown:
        return a.merge(b) if type(b) is Unknown else a
    return b


# --- three-valued steps with an unknown operand: the closures (scalar/compile.py,
# scalar/aggregate.py) and the traced generated code (scalar/tracegen.py) both call these,
# so that the two ways of evaluating a rule cannot drift apart


def unknown_among(current, *values):
    """``current`` (an Unknown met before; anything else counts as none) merged with the
    facts of every Unknown among ``values``, in order: a comparison's link, a function's
    arguments."""
    out = current
    for v in values:
        if type(v) is Unknown:
            out = v if out is None or type(out) is not Unknown else out.merge(v)
    return out


def unknown_arith(op, absorbs: bool, left, right, kind, where):
    """An arithmetic step with an unknown operand: 0 where the operator absorbs and the
    other operand is 0 (x × 0 is 0 whatever x is, ``operators.Operator.absorbs``), else
    the unknowns merged."""
    if absorbs and (left == 0 or right == 0):
        return op(0, 0, kind, where)
    return merge(left, right)


def unknown_if(cond, then, else_):
    """``如果`` with an unknown condition: the branches' common known value, else the
    condition's facts with those of the unknown branches."""
    if type(then) is not Unknown and type(else_) is not Unknown and then == else_:
        return then
    out = cond
    for v in (then, else_):
        if type(v) is Unknown:
            out = out.merge(v)
    return out


def waiting(facts: set | None, *values) -> set | None:
    """The facts an aggregate waits on (one set, added to in place: pairwise merges made a
    county quadratic), with those of the Unknowns among ``values``."""
    for v in values:
        if type(v) is Unknown:
            if facts is None:
                facts = set(v.facts)
            else:
                facts.update(v.facts)
    return facts


def to_fen(value) -> Decimal:
    """Round money to the fen (0.01 元), half-up (四舍五入)."""
    return Decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)


class EvalError(Exception):
    """A runtime problem (E7xx/E8xx) that stops one output; carries a Diagnostic."""

    def __init__(self, code: str, span: Span, **args):
        self.diagnostic: Diagnostic = error(code, span, **args)
        super().__init__(self.diagnostic.message("en"))


def plain(value):
    """A runtime value as JSON-ready data (Unknown → None, dates → ISO text)."""
    if type(value) is Unknown:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


class ParamIssue:
    """A parameter with no usable value on the evaluation date: a gap in its values
    (read as ``unknown``) or no value in force at all (reading it raises ``error``).
    The per-date parameter tables of both evaluators hold one in the parameter's place."""

    __slots__ = ("name", "unknown", "error")

    def __init__(self, name: str, unknown: Unknown | None = None, error: EvalError | None = None):
        self.name, self.unknown, self.error = name, unknown, error

    def value(self):
        """The value a read gives: the unknown, or the error raised."""
        if self.error is not None:
            raise self.error
        return self.unknown
