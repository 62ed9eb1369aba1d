"""Aggregations over child entities: count, sum, any, all, min, max — three-valued.

A child whose filter or value is unknown makes the result unknown only where it could
change it: ``any`` is true as soon as one child is, ``all`` false as soon as one is not.
"""
from __future__ import annotations

from decimal import Decimal

from .values import EvalError, Unknown


def compile_aggregate(compiler, node):
    """A function ``env -> value`` for one typed aggregation node."""
    field = node.field
    where = compiler.compile(node.where) if node.where is not None else None
    of = compiler.compile(node.of) if node.of is not None else None
    zero = 0 if node.type.kind == "integer" else Decimal(0)
    reduce = _REDUCERS[node.fn]
    meta = (node.fn, node.span, zero)

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


def _count(children, where, of, meta):
    total, unknown = 0, None
    for _, keep in _filtered(children, where):
        if keep is True:
            total += 1
        else:
            unknown = keep if unknown is None else unknown.merge(keep)
    return total if unknown is None else unknown


def _sum(children, where, of, meta):
    total, unknown = meta[2], None
    for child, keep in _filtered(children, where):
        value = of(child)
        if keep is not True:
            unknown = keep if unknown is None else unknown.merge(keep)
            if type(value) is Unknown:
                unknown = unknown.merge(value)
            continue
        if type(value) is Unknown:
            unknown = value if unknown is None else unknown.merge(value)
        elif unknown is None:
            total += value
    return total if unknown is None else unknown


def _any(children, where, of, meta):
    unknown = None
    for child, keep in _filtered(children, where):
        value = of(child)
        if value is True and keep is True:
            return True
        for v in (keep, value):
            if type(v) is Unknown:
                unknown = v if unknown is None else unknown.merge(v)
    return False if unknown is None else unknown


def _all(children, where, of, meta):
    unknown = None
    for child, keep in _filtered(children, where):
        value = of(child)
        if value is False and keep is True:
            return False
        if value is True:
            continue  # holds whether or not the child is in the filter
        for v in (keep, value):
            if type(v) is Unknown:
                unknown = v if unknown is None else unknown.merge(v)
    return True if unknown is None else unknown


def _extreme(pick):
    def reduce(children, where, of, meta):
        best, unknown, seen = None, None, False
        for child, keep in _filtered(children, where):
            value = of(child)
            if keep is not True or type(value) is Unknown:
                for v in (keep, value):
                    if type(v) is Unknown:
                        unknown = v if unknown is None else unknown.merge(v)
                continue
            seen = True
            best = value if best is None else pick(best, value)
        if unknown is not None:
            return unknown
        if not seen:
            raise EvalError("E806", meta[1], fn=meta[0])
        return best

    return reduce


_REDUCERS = {"count": _count, "sum": _sum, "any": _any, "all": _all,
             "min": _extreme(min), "max": _extreme(max)}
