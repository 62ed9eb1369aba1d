"""Compile typed expressions into Python closures, once.

``Compiler(meta, traced)`` turns each typed node into a function ``f(env) -> value``.
Nothing is parsed or looked up by name during evaluation: names were resolved by the
checker, parameters are read from a per-date table. The traced form differs only where
it reports to the tracer (field and parameter reads, comparisons, aggregates); the fast
form carries no tracing code at all, so tracing off costs nothing.
"""
from __future__ import annotations

import datetime as dt
import operator
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from ...dsl import typed as t
from ..core.values import EvalError, Unknown, merge, to_fen

COMPARE = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
           ">": operator.gt, ">=": operator.ge}


class ParamIssue:
    """A parameter with no usable value on the evaluation date (gap or out of range)."""

    __slots__ = ("name", "unknown", "error")

    def __init__(self, name: str, unknown: Unknown | None = None, error: EvalError | None = None):
        self.name, self.unknown, self.error = name, unknown, error

    def value(self):
        if self.error is not None:
            raise self.error
        return self.unknown


class Compiler:
    """Compiles typed nodes; ``meta`` gives labels for trace descriptions."""

    def __init__(self, meta, traced: bool):
        self.meta = meta
        self.traced = traced

    def compile(self, node: t.T):
        return getattr(self, "c_" + type(node).__name__)(node)

    # --- leaves

    def c_TLit(self, node):
        value = node.value
        return lambda env: value

    def c_TField(self, node):
        name, absent, has_absent = node.name, node.when_absent, node.has_absent
        describe = self.meta.describe(node) if self.traced else None

        def field(env):
            value = env.facts.get(name)
            if value is None:
                value = absent if has_absent else Unknown(frozenset((env.path + name,)))
            return value

        if not self.traced:
            return field

        def traced_field(env):
            value = field(env)
            env.ctx.tracer.read(env.path + name, describe, value, has_absent and env.facts.get(name) is None)
            return value

        return traced_field

    def c_TRule(self, node):
        name = node.name
        return lambda env: env.rule(name)

    def c_TParam(self, node):
        name = node.name

        def param(env):
            value = env.ctx.params[name]
            return value.value() if type(value) is ParamIssue else value

        if not self.traced:
            return param

        def traced_param(env):
            value = param(env)
            env.ctx.tracer.param(name, value, env.ctx.param_starts.get(name))
            return value

        return traced_param

    def c_TUp(self, node):
        levels, inner = node.levels, self.compile(node.target)
        return lambda env: inner(env.up(levels))

    # --- operators

    def c_TNeg(self, node):
        inner = self.compile(node.operand)

        def neg(env):
            value = inner(env)
            return value if type(value) is Unknown else -value

        return neg

    def c_TNot(self, node):
        inner = self.compile(node.operand)

        def not_(env):
            value = inner(env)
            return value if type(value) is Unknown else not value

        return not_

    def c_TAnd(self, node):
        fns = [self.compile(i) for i in node.items]

        def and_(env):
            unknown = None
            for fn in fns:
                value = fn(env)
                if value is False:
                    return False
                if value is not True:
                    unknown = value if unknown is None else unknown.merge(value)
            return True if unknown is None else unknown

        return and_

    def c_TOr(self, node):
        fns = [self.compile(i) for i in node.items]

        def or_(env):
            unknown = None
            for fn in fns:
                value = fn(env)
                if value is True:
                    return True
                if value is not False:
                    unknown = value if unknown is None else unknown.merge(value)
            return False if unknown is None else unknown

        return or_

    def c_TArith(self, node):
        fns = [self.compile(o) for o in node.operands]
        steps = [(op, fn, step.kind, node) for op, fn, step in zip(node.ops, fns[1:], node.steps)]
        first = fns[0]

        def arith(env):
            acc = first(env)
            for op, fn, kind, where in steps:
                right = fn(env)
                if type(acc) is Unknown or type(right) is Unknown:
                    acc = merge(acc, right)
                    continue
                acc = _apply(op, acc, right, kind, where)
            return acc

        return arith

    def c_TCompare(self, node):
        fns = [self.compile(o) for o in node.operands]
        pairs = [(COMPARE[op], fn) for op, fn in zip(node.ops, fns[1:])]
        first = fns[0]

        def compare(env):
            left = first(env)
            unknown = None
            for op, fn in pairs:
                right = fn(env)
                if type(left) is Unknown or type(right) is Unknown:
                    unknown = _only_unknown(unknown, left, right)
                elif not op(left, right):
                    return False
                left = right
            return True if unknown is None else unknown

        if not self.traced:
            return compare
        return self._traced_compare(node, fns, compare)

    def _traced_compare(self, node, fns, compare):
        describe = [self.meta.describe(o) for o in node.operands]
        ops, text = node.ops, node.text

        def traced(env):
            result = compare(env)
            # Re-read the operands for the record; they are cached or cheap leaves.
            tracer = env.ctx.tracer
            tracer.muted += 1
            try:
                values = [fn(env) for fn in fns]
            finally:
                tracer.muted -= 1
            tracer.compare(text, describe, values, ops, result)
            return result

        return traced

    def c_TIn(self, node):
        subject = self.compile(node.subject)
        contains = self.container(node.container)
        negated = node.negated

        def in_(env):
            value = subject(env)
            if type(value) is Unknown:
                return value
            result = contains(env, value)
            if type(result) is Unknown:
                return result
            return (not result) if negated else result

        if not self.traced:
            return in_
        describe = [self.meta.describe(node.subject), {"text": node.container.text}]
        text = node.text

        def traced(env):
            result = in_(env)
            tracer = env.ctx.tracer
            tracer.muted += 1
            try:
                value = subject(env)
            finally:
                tracer.muted -= 1
            tracer.compare(text, describe, [value, None], ["not in" if negated else "in"], result)
            return result

        return traced

    def container(self, node):
        """A function ``(env, value) -> bool | Unknown`` for a set or an interval."""
        if isinstance(node, t.TSet):
            if all(isinstance(i, t.TLit) for i in node.items):
                members = frozenset(i.value for i in node.items)
                return lambda env, value: value in members
            fns = [self.compile(i) for i in node.items]

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
        lo, hi = self.compile(node.lo), self.compile(node.hi)
        lo_op = operator.ge if node.lo_closed else operator.gt
        hi_op = operator.le if node.hi_closed else operator.lt

        def within(env, value):
            a, b = lo(env), hi(env)
            if type(a) is Unknown or type(b) is Unknown:
                return merge(a, b) if type(a) is Unknown else b
            return lo_op(value, a) and hi_op(value, b)

        return within

    def c_TIf(self, node):
        cond, then, else_ = self.compile(node.cond), self.compile(node.then), self.compile(node.else_)

        def if_(env):
            c = cond(env)
            if c is True:
                return then(env)
            if c is False:
                return else_(env)
            a, b = then(env), else_(env)
            if type(a) is not Unknown and type(b) is not Unknown and a == b:
                return a
            out = c
            for v in (a, b):
                if type(v) is Unknown:
                    out = out.merge(v)
            return out

        return if_

    # --- calls and aggregations

    def c_TCall(self, node):
        fns = [self.compile(a) for a in node.args]
        impl = _FUNCTIONS[node.fn]
        fn_name = node.fn

        def call(env):
            args = [f(env) for f in fns]
            if fn_name == "is_known":
                return type(args[0]) is not Unknown
            unknown = None
            for a in args:
                if type(a) is Unknown:
                    unknown = a if unknown is None else unknown.merge(a)
            if unknown is not None:
                return unknown
            return impl(*args)

        return call

    def c_TAgg(self, node):
        from .aggregate import compile_aggregate

        fn = compile_aggregate(self, node)
        if not self.traced:
            return fn
        describe = {"text": node.text, "kind": "aggregate"}

        def traced(env):
            value = fn(env)
            env.ctx.tracer.read(node.text, describe, value, False, aggregate=True)
            return value

        return traced


def _only_unknown(current, left, right):
    out = current
    for v in (left, right):
        if type(v) is Unknown:
            out = v if out is None or type(out) is not Unknown else out.merge(v)
    return out


def _apply(op: str, a, b, kind: str, node):
    if op == "+":
        return a + b
    if op == "-":
        value = a - b
        # date − date is a number of days (the checker types it integer)
        return value.days if isinstance(value, dt.timedelta) else value
    if op == "*":
        value = a * b
        return to_fen(value) if kind == "money" else value
    if b == 0:
        raise EvalError("E807", node.span, text=node.text)
    value = Decimal(a) / Decimal(b)
    return to_fen(value) if kind == "money" else value


def _round(x, n=0):
    q = Decimal(1).scaleb(-n)
    value = Decimal(x).quantize(q, rounding=ROUND_HALF_UP)
    return int(value) if isinstance(x, int) and n == 0 else value


def _to_integral(x, rounding):
    if isinstance(x, int):
        return x
    return x.to_integral_value(rounding=rounding)


_FUNCTIONS = {
    "min": lambda *a: min(a),
    "max": lambda *a: max(a),
    "abs": abs,
    "round": _round,
    "floor": lambda x: _to_integral(x, ROUND_FLOOR),
    "ceil": lambda x: _to_integral(x, ROUND_CEILING),
    "year": lambda d: d.year,
    "is_known": None,
}
