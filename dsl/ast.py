"""The surface AST of expressions: frozen dataclasses, each with the character offsets
of its source text. Offsets are left out of equality, so two parses of the same
expression written differently compare equal (as in Cedar).

The Lark tree is turned into this AST at once by :mod:`fupin.dsl.larkparse` (and
:mod:`fupin.dsl.fastparse` reads text straight into it); nothing downstream sees Lark.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal


def _pos():
    return field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class Node:
    """Base of every AST node; ``start``/``end`` are offsets into the expression text."""


@dataclass(frozen=True)
class Num(Node):
    """A number literal; ``kind`` is integer, decimal, money (元) or ratio (%)."""

    value: int | Decimal
    kind: str
    start: int = _pos()
    end: int = _pos()


@dataclass(frozen=True)
class Str(Node):
    value: str
    start: int = _pos()
    end: int = _pos()


@dataclass(frozen=True)
class DateLit(Node):
    value: dt.date
    start: int = _pos()
    end: int = _pos()


@dataclass(frozen=True)
class Bool(Node):
    value: bool
    start: int = _pos()
    end: int = _pos()


@dataclass(frozen=True)
class Name(Node):
    """An identifier: a field, rule, parameter, entity or enum value (resolved later)."""

    id: str
    start: int = _pos()
    end: int = _pos()


@dataclass(frozen=True)
class Attr(Node):
    """``household.status``: a field or rule of an ancestor entity."""

    obj: Node
    name: str
    start: int = _pos()
    end: int = _pos()


@dataclass(frozen=True)
class Call(Node):
    fn: str
    args: tuple
    start: int = _pos()
    end: int = _pos()


@dataclass(frozen=True)
class Agg(Node):
    """``fn(source where cond: of)``: an aggregation over child entities."""

    fn: str
    source: Node
    where: Node | None
    of: Node | None
    start: int = _pos()
    end: int = _pos()


@dataclass(frozen=True)
class Neg(Node):
    operand: Node
    start: int = _pos()
    end: int = _pos()


@dataclass(frozen=True)
class Not(Node):
    operand: Node
    start: int = _pos()
    end: int = _pos()


@dataclass(frozen=True)
class Arith(Node):
    """A left-associative chain ``a op b op c`` of one precedence level (+ - or * /)."""

    operands: tuple
    ops: tuple
    start: int = _pos()
    end: int = _pos()


@dataclass(frozen=True)
class And(Node):
    items: tuple
    start: int = _pos()
    end: int = _pos()


@dataclass(frozen=True)
class Or(Node):
    items: tuple
    start: int = _pos()
    end: int = _pos()


@dataclass(frozen=True)
class Compare(Node):
    """A chained comparison ``a < b <= c`` (operands has one more item than ops)."""

    operands: tuple
    ops: tuple
    start: int = _pos()
    end: int = _pos()


@dataclass(frozen=True)
class SetLit(Node):
    items: tuple
    start: int = _pos()
    end: int = _pos()


@dataclass(frozen=True)
class Interval(Node):
    lo: Node
    hi: Node
    lo_closed: bool
    hi_closed: bool
    start: int = _pos()
    end: int = _pos()


@dataclass(frozen=True)
class In(Node):
    subject: Node
    container: Node
    negated: bool = False
    start: int = _pos()
    end: int = _pos()


@dataclass(frozen=True)
class If(Node):
    cond: Node
    then: Node
    else_: Node
    start: int = _pos()
    end: int = _pos()


# --- decision-table cells ("unary tests", as in DMN)


@dataclass(frozen=True)
class TestAny(Node):
    start: int = _pos()
    end: int = _pos()


@dataclass(frozen=True)
class TestCompare(Node):
    op: str
    value: Node
    start: int = _pos()
    end: int = _pos()


@dataclass(frozen=True)
class TestIn(Node):
    container: Node
    start: int = _pos()
    end: int = _pos()


@dataclass(frozen=True)
class TestNot(Node):
    test: Node
    start: int = _pos()
    end: int = _pos()


@dataclass(frozen=True)
class TestEqual(Node):
    value: Node
    start: int = _pos()
    end: int = _pos()


def children(node: Node) -> list[Node]:
    """The direct sub-nodes of a node, in source order."""
    out = []
    for name in node.__dataclass_fields__:
        if name in ("start", "end"):
            continue
        value = getattr(node, name)
        if isinstance(value, Node):
            out.append(value)
        elif isinstance(value, tuple):
            out.extend(v for v in value if isinstance(v, Node))
    return out


def walk(node: Node):
    """Every node of a tree, iteratively (deep trees do not exhaust the stack)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))
