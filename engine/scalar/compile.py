"""Compile typed expressions into Python closures, once.

``Compiler(meta, traced)`` turns each typed node into a function ``f(env) -> value``.
Nothing is parsed or looked up by name during evaluation: names were resolved by the
checker, parameters are read from a per-date table. The traced form differs only where
it reports to the tracer (field and parameter reads, comparisons, aggregates); the fast
form carries no tracing code at all, so tracing off costs nothing.
"""
from __future__ import annotations

from ...dsl import typed as t
from ..core import cells
from ..core.operators import ARITHMETIC, COMPARISONS, FUNCTIONS, UNARY
from ..core.values import ParamIssue, Unknown, unknown_among, unknown_arith, unknown_if
from ..reports.trace import COMPARE, PARAM, READ


class Compiler:
    """Compiles typed nodes; ``meta`` gives labels for trace descriptions."""

    def __init__(self, meta, traced: bool):
        self.meta = meta
        self.traced = traced
        self.specs: dict = {}  # traced: rule name -> its table's spec (scalar/tables.py, read by tracegen.py)
        self.tables: dict = {}  # traced: rule name -> its table's (hit policy, compiled rows) (the same)
        self.bases: dict = {}  # traced: rule name -> its function without its exceptions (the same)

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

        def traced_field(env):  # field() with the read told to the tracer
            value = env.facts.get(name)
            absent_used = value is None and has_absent
            if value is None:
                value = absent if has_absent else Unknown(frozenset((env.path + name,)))
            env.ctx.tracer.note((READ, env.path + name, describe, value, absent_used, False))
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

        def traced_param(env):  # param() with the read told to the tracer
            ctx = env.ctx
            value = ctx.params[name]
            if type(value) is ParamIssue:
                value = value.value()
            ctx.tracer.note((PARAM, name, value))  # its start date is looked up when the trace is built
            return value

        return traced_param

    def c_TUp(self, node):
        levels, inner = node.levels, self.compile(node.target)
        return lambda env: inner(env.up(levels))

    # --- operators

    def c_TNeg(self, node):
        inner, negate = self.compile(node.operand), UNARY["-"].py

        def neg(env):
            value = inner(env)
            return value if type(value) is Unknown else negate(value)

        return neg

    def c_TNot(self, node):
        inner, invert = self.compile(node.operand), UNARY["not"].py

        def not_(env):
            value = inner(env)
            return value if type(value) is Unknown else invert(value)

        return not_

    def c_TAnd(self, node):
        return _kleene([self.compile(i) for i in node.items], stop=False)

    def c_TOr(self, node):
        return _kleene([self.compile(i) for i in node.items], stop=True)

    def c_TArith(self, node):
        fns = [self.compile(o) for o in node.operands]
        steps = [(ARITHMETIC[op].py, ARITHMETIC[op].absorbs, fn, step.kind, node)
                 for op, fn, step in zip(node.ops, fns[1:], node.steps)]
        first = fns[0]

        def arith(env):
            acc = first(env)
            for op, absorbs, fn, kind, where in steps:
                right = fn(env)
                if type(acc) is Unknown or type(right) is Unknown:
                    acc = unknown_arith(op, absorbs, acc, right, kind, where)  # x × 0 is 0
                    continue
                acc = op(acc, right, kind, where)
            return acc

        return arith

    def c_TCompare(self, node):
        fns = [self.compile(o) for o in node.operands]
        pairs = [(COMPARISONS[op].py, fn) for op, fn in zip(node.ops, fns[1:])]
        first = fns[0]

        def compare(env):
            left = first(env)
            unknown = None
            for op, fn in pairs:
                right = fn(env)
                if type(left) is Unknown or type(right) is Unknown:
                    unknown = unknown_among(unknown, left, right)
                elif not op(left, right):
                    return False
                left = right
            return True if unknown is None else unknown

        if not self.traced:
            return compare
        return self._traced_compare(node, fns, compare)

    def _traced_compare(self, node, fns, compare):
        """``compare`` that also tells the tracer every operand's value. The operands it
        evaluated are kept; those a false comparison left are read now with the tracer
        muted (an operand read again would be a cached rule or a leaf, recording nothing)."""
        describe = [self.meta.describe(o) for o in node.operands]
        ops, text = node.ops, node.text
        pairs = [(COMPARISONS[op].py, fn) for op, fn in zip(node.ops, fns[1:])]
        first = fns[0]

        def traced(env):
            left = first(env)
            values, unknown, result = [left], None, None
            for op, fn in pairs:  # compare(), keeping the values
                right = fn(env)
                values.append(right)
                if type(left) is Unknown or type(right) is Unknown:
                    unknown = unknown_among(unknown, left, right)
                elif not op(left, right):
                    result = False
                    break
                left = right
            if result is None:
                result = True if unknown is None else unknown
            tracer = env.ctx.tracer
            if len(values) < len(fns):
                tracer.mute()
                try:
                    values += [fn(env) for fn in fns[len(values):]]
                finally:
                    tracer.unmute()
            tracer.note((COMPARE, text, describe, values, ops, result))
            return result

        return traced

    def c_TIn(self, node):
        subject = self.compile(node.subject)
        test = cells.compile_cell(cells.of_in(node), self.compile)  # the cell ``in C`` / ``not in C``
        negated = node.negated

        def in_(env):
            return test(env, subject(env))

        if not self.traced:
            return in_
        describe = [self.meta.describe(node.subject), {"text": node.container.text}]
        text = node.text

        def traced(env):  # in_() keeping the subject's value for the tracer
            value = subject(env)
            result = test(env, value)
            env.ctx.tracer.note((COMPARE, text, describe, [value, None], ["not in" if negated else "in"], result))
            return result

        return traced

    def c_TIf(self, node):
        cond, then, else_ = self.compile(node.cond), self.compile(node.then), self.compile(node.else_)

        def if_(env):
            c = cond(env)
            if c is True:
                return then(env)
            if c is False:
                return else_(env)
            return unknown_if(c, then(env), else_(env))

        return if_

    # --- calls and aggregations

    def c_TCall(self, node):
        fns = [self.compile(a) for a in node.args]
        function = FUNCTIONS[node.fn]
        impl, reads_unknown = function.py, function.reads_unknown

        def call(env):
            args = [f(env) for f in fns]
            if reads_unknown:
                return impl(*args)
            unknown = unknown_among(None, *args)
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
            env.ctx.tracer.note((READ, node.text, describe, value, False, True))
            return value

        return traced


def _kleene(fns, stop: bool):
    """``and`` (``stop=False``) or ``or`` (``stop=True``), three-valued: the first item
    equal to ``stop`` decides and the rest are not evaluated; otherwise the result is
    unknown if any item was (their facts merged), else ``not stop``."""
    go_on = not stop

    def logic(env):
        unknown = None
        for fn in fns:
            value = fn(env)
            if value is stop:
                return stop
            if value is not go_on:
                unknown = value if unknown is None else unknown.merge(value)
        return go_on if unknown is None else unknown

    return logic


