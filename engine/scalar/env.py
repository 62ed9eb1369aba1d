"""Entity environments: one per entity instance during an evaluation.

An :class:`Env` holds the instance's typed facts, its rule cache, its parent and its
children (made on first use). :class:`TracedEnv` also reports rule entries and exits to
the tracer. ``path`` prefixes fact names in unknowns (``members[2].age``).
"""
from __future__ import annotations

from ..core.values import EvalError, Unknown
from ..reports.trace import CACHED, ENTER, EXIT


class Context:
    """What one evaluation shares: dated parameters, compiled rules, the tracer."""

    __slots__ = ("params", "param_starts", "rules", "tracer", "program")

    def __init__(self, program, params, param_starts, rules, tracer=None):
        self.program, self.params, self.param_starts, self.rules, self.tracer = (
            program, params, param_starts, rules, tracer)


class Env:
    """The facts and computed rules of one entity instance."""

    __slots__ = ("facts", "path", "parent", "ctx", "cache", "kids", "entity")

    def __init__(self, facts: dict, path: str, parent, ctx: Context, entity: str):
        self.facts, self.path, self.parent, self.ctx, self.entity = facts, path, parent, ctx, entity
        self.cache: dict = {}
        self.kids: dict = {}

    def rule(self, name: str):
        cache = self.cache
        if name in cache:
            return cache[name]
        value = self.ctx.rules[name](self)
        cache[name] = value
        return value

    def children(self, field: str):
        kids = self.kids.get(field)
        if kids is None:
            raw = self.facts.get(field)
            if raw is None:
                kids = Unknown(frozenset((self.path + field,)))
            else:
                kids = self._made(raw, field)
            self.kids[field] = kids
        return kids

    def _made(self, raw: list, field: str) -> list:
        """The instances of the children ``raw`` in list ``field``. Made without calling
        ``__init__`` (the same seven fields stored): a traced household's members cost
        a fifth of its evaluation through four Python frames each."""
        ctx, cls, new = self.ctx, type(self), object.__new__
        child = ctx.program.child_entity(self.entity, field)
        prefix = self.path + field
        out = []
        for i, facts in enumerate(raw):
            kid = new(cls)
            kid.facts, kid.path, kid.parent, kid.ctx, kid.entity = facts, f"{prefix}[{i}].", self, ctx, child
            kid.cache = {}
            kid.kids = {}
            out.append(kid)
        return out

    def up(self, levels: int):
        env = self
        for _ in range(levels):
            if env.parent is None:
                # Evaluated without its parent (a member alone): the parent's facts are unknown.
                parent_name = self.ctx.program.parent_entity(env.entity)
                env.parent = type(self)({}, f"{parent_name}.", None, self.ctx, parent_name)
            env = env.parent
        return env


class TracedEnv(Env):
    """An Env that reports each rule's evaluation to the tracer."""

    __slots__ = ()

    def rule(self, name: str):
        tracer, cache = self.ctx.tracer, self.cache
        if name in cache:
            value = cache[name]
            tracer.note((CACHED, name, self.path, value))
            return value
        tracer.mark((ENTER, name, self.path))
        try:
            value = self.ctx.rules[name](self)
        except EvalError as exc:
            tracer.mark((EXIT, None, exc.diagnostic.code))
            raise
        tracer.mark((EXIT, value, None))
        cache[name] = value
        return value
