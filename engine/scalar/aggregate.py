"""Aggregations over child entities: count, sum, any, all, min, max — three-valued.

A child whose filter or value is unknown makes the result unknown only where it could
change it: ``any`` is true as soon as one child is, ``all`` false as soon as one is not.
"""
from __future__ import annotations

from decimal import Decimal

from ..core.operators import FUNCTIONS, bounded
from ..core.values import EvalError, Unknown, waiting


def compile_aggregate(compiler, node):
    """A function ``env -> value`` for one typed aggregation node."""
    field = node.field
    where = compiler.compile(node.where) if node.where is not None else None
    of = compiler.compile(node.of) if node.of is not None else None
    zero = 0 if node.type.kind == "integer" else Decimal(0)
    reduce = _REDUCERS[node.fn]
    meta = (node.fn, node.span, zero, node)

    def aggregate(env):
        children = env.children(field)
        if type(children) is Unknown:
            return children
        return reduce(children, where, of, meta)

    return aggregate


def _filtered(children, where):
    """Yield (child, included) where included is True or an Unknown."""
    for child in children:
        if where is None:
            yield child, True
            continue
        keep = where(child)
        if keep is False:
            continue
        yield child, keep


class _Waiting:
    """The facts an aggregation waits on, gathered into one set.

    Merging ``Unknown`` values pairwise copies the growing fact set once per child, which
    made a county of 7,096 households quadratic; adding to one set keeps it linear.
    """

    __slots__ = ("facts",)

    def __init__(self):
        self.facts = None

    def add(self, value) -> None:
        """Note ``value``'s facts if it is an Unknown."""
        if type(value) is Unknown:
            self.facts = waiting(self.facts, value)

    def result(self, decided):
        """``decided`` if nothing was unknown, else the Unknown of every fact noted."""
        return decided if self.facts is None else Unknown(frozenset(self.facts))


def _count(children, where, of, meta):
    total, waiting = 0, _Waiting()
    for _, keep in _filtered(children, where):
        if keep is True:
            total += 1
        else:
            waiting.add(keep)
    return waiting.result(total)


def _sum(children, where, of, meta):
    total, waiting = meta[2], _Waiting()
    for child, keep in _filtered(children, where):
        value = of(child)
        if keep is not True:
            waiting.add(keep)
            waiting.add(value)
        elif type(value) is Unknown:
            waiting.add(value)
        elif waiting.facts is None:
            total += value
    if waiting.facts is None:
        bounded(total, meta[3])  # a sum beyond |x| <= 10^15 is E720, like a + b (core/operators.py)
    return waiting.result(total)


def _any(children, where, of, meta):
    waiting = _Waiting()
    for child, keep in _filtered(children, where):
        value = of(child)
        if value is True and keep is True:
            return True
        waiting.add(keep)
        waiting.add(value)
    return waiting.result(False)


def _all(children, where, of, meta):
    waiting = _Waiting()
    for child, keep in _filtered(children, where):
        value = of(child)
        if value is False and keep is True:
            return False
        if value is True:
            continue  # holds whether or not the child is in the filter
        waiting.add(keep)
        waiting.add(value)
    return waiting.result(True)


def _extreme(name: str):
    pick = FUNCTIONS[name].py  # the function min / max (core/operators.py), pairwise

    def reduce(children, where, of, meta):
        best, waiting, seen = None, _Waiting(), False
        for child, keep in _filtered(children, where):
            value = of(child)
            if keep is not True or type(value) is Unknown:
                waiting.add(keep)
                waiting.add(value)
                continue
            seen = True
            best = value if best is None else pick(best, value)
        if waiting.facts is not None:
            return waiting.result(None)
        if not seen:
            raise EvalError("E806", meta[1], fn=meta[0])
        return best

    return reduce


_REDUCERS = {"count": _count, "sum": _sum, "any": _any, "all": _all,
             "min": _extreme("min"), "max": _extreme("max")}
