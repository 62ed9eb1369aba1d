"""What a decision-table cell tests, and what ``x in {…}`` / ``x in [lo, hi)`` mean.

A cell is one of five constructs (:data:`CONSTRUCTS`), made from the checker's typed
test by :func:`of_test`; the expression ``x in C`` is the cell ``C`` tested on ``x``
(:func:`of_in`), its container one of the last two (:func:`of_container`):

=================  ==========================================================
:class:`Always`    ``any`` (or a missing cell): holds for every value
:class:`Negated`   ``not <cell>``: the inner cell's opposite
:class:`Compare`   ``< 5000``, ``== poor``: ``value op operand``
                   (:data:`operators.COMPARISONS`)
:class:`Member`    ``{poor, exited}``: ``value == item`` for some item
:class:`Between`   ``[5000, 10000)``: ``value lo_op lo and value hi_op hi``
                   (:func:`operators.interval_ops`)
=================  ==========================================================

Unknowns (three-valued, as everywhere): a cell tested against an unknown value is
that unknown, and then reads none of its operands (their errors do not count). Under
``not`` an unknown stays unknown. A comparison with an unknown operand is unknown. A
set's items are read in order until one equals the value (true); an unknown item makes
the result unknown unless a later item equals. An interval reads both bounds; if either
is unknown, so is the result.

:func:`compile_cell` and :func:`compile_container` give that meaning as Python
closures ``f(env, value) -> bool | Unknown``: the reference the scalar evaluator runs;
the columnar evaluator computes the same constructs over whole columns.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Union

from ...dsl import typed as t
from .operators import COMPARISONS, interval_ops
from .values import Unknown, merge


@dataclass(frozen=True)
class Always:
    """``any``: holds for every value, unknown ones included."""


@dataclass(frozen=True)
class Negated:
    """``not <inner>``."""

    inner: "Cell"


@dataclass(frozen=True)
class Compare:
    """``op operand``: ``value op operand``."""

    op: str
    operand: t.T


@dataclass(frozen=True)
class Member:
    """``{items}``: the value equals one of the items (read in order)."""

    items: tuple


@dataclass(frozen=True)
class Between:
    """An interval: ``value lo_op lo and value hi_op hi``; both bounds are read."""

    lo: t.T
    lo_op: str
    hi: t.T
    hi_op: str


Cell = Union[Always, Negated, Compare, Member, Between]
CONSTRUCTS = (Always, Negated, Compare, Member, Between)


def of_test(test: t.T) -> Cell:
    """The cell construct of a checked table cell (``TTest*``)."""
    if isinstance(test, t.TTestAny):
        return Always()
    if isinstance(test, t.TTestNot):
        return Negated(of_test(test.test))
    if isinstance(test, t.TTestIn):
        return of_container(test.container)
    return Compare(test.op, test.value)


def of_container(node: t.T) -> Member | Between:
    """The construct of ``in``'s container: a set or an interval."""
    if isinstance(node, t.TSet):
        return Member(tuple(node.items))
    lo_op, hi_op = interval_ops(node.lo_closed, node.hi_closed)
    return Between(node.lo, lo_op, node.hi, hi_op)


def of_in(node: t.T) -> Cell:
    """The expression ``x in C`` / ``x not in C`` (``TIn``) as the cell its subject is
    tested against: it means exactly what the cell ``C`` / ``not C`` means."""
    cell = of_container(node.container)
    return Negated(cell) if node.negated else cell


def operands(cell: Cell) -> list:
    """The typed nodes a cell compares the value with, in order."""
    if isinstance(cell, Negated):
        return operands(cell.inner)
    if isinstance(cell, Compare):
        return [cell.operand]
    if isinstance(cell, Member):
        return list(cell.items)
    if isinstance(cell, Between):
        return [cell.lo, cell.hi]
    return []


def literal_members(cell: Member) -> frozenset | None:
    """The set's values when every item is a literal (tested by hashing), else None."""
    if all(isinstance(i, t.TLit) for i in cell.items):
        return frozenset(i.value for i in cell.items)
    return None


def table_parts(compiler, table, cell: Callable):
    """A table's compiled inputs and rows ``(row, [(input position, cell test)], then)``;
    ``cell(compiler, construct)`` compiles one cell for the evaluator at hand."""
    inputs = [compiler.compile(i.expr) for i in table.inputs]
    positions = {i.name: n for n, i in enumerate(table.inputs)}
    rows = [(row, [(positions[name], cell(compiler, of_test(test))) for name, test in row.tests.items()],
             compiler.compile(row.then)) for row in table.rows]
    return inputs, rows


# --- the reference meaning, as closures over runtime values


def compile_cell(cell: Cell, compile: Callable) -> Callable:
    """``f(env, value) -> bool | Unknown`` for one cell; ``compile(node)`` gives an
    operand's ``f(env) -> value``."""
    if isinstance(cell, Always):
        return lambda env, value: True
    if isinstance(cell, Negated):
        inner = compile_cell(cell.inner, compile)

        def negate(env, value):
            r = inner(env, value)
            return r if type(r) is Unknown else not r

        return negate
    if isinstance(cell, Compare):
        op, other = COMPARISONS[cell.op].py, compile(cell.operand)

        def compare(env, value):
            if type(value) is Unknown:
                return value
            b = other(env)
            return b if type(b) is Unknown else op(value, b)

        return compare
    contains = compile_container(cell, compile)
    return lambda env, value: value if type(value) is Unknown else contains(env, value)


def compile_container(cell: Member | Between, compile: Callable) -> Callable:
    """``f(env, value) -> bool | Unknown`` for a known value in a set or an interval."""
    if isinstance(cell, Member):
        members = literal_members(cell)
        if members is not None:
            return lambda env, value: value in members
        return _member([compile(i) for i in cell.items])
    return _between(compile(cell.lo), COMPARISONS[cell.lo_op].py, compile(cell.hi), COMPARISONS[cell.hi_op].py)


def _member(fns):
    def member(env, value):
        unknown = None
        for fn in fns:
            item = fn(env)
            if type(item) is Unknown:
                unknown = item if unknown is None else unknown.merge(item)
            elif item == value:
                return True
        return False if unknown is None else unknown

    return member


def _between(lo, lo_op, hi, hi_op):
    def within(env, value):
        a, b = lo(env), hi(env)
        if type(a) is Unknown or type(b) is Unknown:
            return merge(a, b) if type(a) is Unknown else b
        return lo_op(value, a) and hi_op(value, b)

    return within
