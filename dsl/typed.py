"""The typed, resolved IR: what the checker produces and the compiler consumes.

Every name is resolved (field, rule, parameter, enum value, ancestor), every node has a
type, a file span and its source text (for explanations). Nothing in here refers to
Lark or to YAML.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import Span
from .types import Type


@dataclass(eq=False)
class T:
    """Base of typed nodes."""

    type: Type
    span: Span
    text: str


@dataclass(eq=False)
class TLit(T):
    value: Any = None


@dataclass(eq=False)
class TField(T):
    entity: str = ""
    name: str = ""
    when_absent: Any = None
    has_absent: bool = False


@dataclass(eq=False)
class TRule(T):
    entity: str = ""
    name: str = ""


@dataclass(eq=False)
class TParam(T):
    name: str = ""


@dataclass(eq=False)
class TUp(T):
    """Read ``target`` on the ancestor ``levels`` steps up (``household.status``)."""

    levels: int = 1
    target: T | None = None


@dataclass(eq=False)
class TNeg(T):
    operand: T | None = None


@dataclass(eq=False)
class TNot(T):
    operand: T | None = None


@dataclass(eq=False)
class TArith(T):
    """``operands[0] ops[0] operands[1] …``; ``steps[i]`` is the type after op i."""

    operands: list = field(default_factory=list)
    ops: list = field(default_factory=list)
    steps: list = field(default_factory=list)


@dataclass(eq=False)
class TAnd(T):
    items: list = field(default_factory=list)


@dataclass(eq=False)
class TOr(T):
    items: list = field(default_factory=list)


@dataclass(eq=False)
class TCompare(T):
    operands: list = field(default_factory=list)
    ops: list = field(default_factory=list)


@dataclass(eq=False)
class TSet(T):
    items: list = field(default_factory=list)


@dataclass(eq=False)
class TInterval(T):
    lo: T | None = None
    hi: T | None = None
    lo_closed: bool = True
    hi_closed: bool = True


@dataclass(eq=False)
class TIn(T):
    subject: T | None = None
    container: T | None = None
    negated: bool = False


@dataclass(eq=False)
class TIf(T):
    cond: T | None = None
    then: T | None = None
    else_: T | None = None


@dataclass(eq=False)
class TCall(T):
    fn: str = ""
    args: list = field(default_factory=list)


@dataclass(eq=False)
class TAgg(T):
    """``fn(field where cond: of)`` over the children in list field ``field``."""

    fn: str = ""
    field: str = ""
    child: str = ""
    where: T | None = None
    of: T | None = None


# --- decision-table cells, typed against their input


@dataclass(eq=False)
class TTestAny(T):
    pass


@dataclass(eq=False)
class TTestCompare(T):
    op: str = "=="
    value: T | None = None


@dataclass(eq=False)
class TTestIn(T):
    container: T | None = None


@dataclass(eq=False)
class TTestNot(T):
    test: T | None = None


def subnodes(node: T) -> list[T]:
    """Direct typed children of a node (for dependency and usage walks)."""
    out = []
    for name in node.__dataclass_fields__:
        if name in ("type", "span", "text"):
            continue
        value = getattr(node, name)
        if isinstance(value, T):
            out.append(value)
        elif isinstance(value, list):
            out.extend(v for v in value if isinstance(v, T))
    return out


def walk(node: T):
    """Every node below and including ``node``, without recursion."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(subnodes(current))
