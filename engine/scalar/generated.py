"""What generated scalar code runs on: entity instances, the fast path's way out, and the
compiled module of one program on one date.

The generated code (scalar/codegen.py writes it) is a fast path for known facts: every
value it handles is known. Where the closure evaluator would meet an unknown (a missing
fact, a missing child list, a parameter with a gap), the generated code raises
:class:`Missing` instead, and the program evaluates that output again with the closure
evaluator (scalar/program.py). Until that point both computed the same known values in
the same order, so the errors the generated code raises are the ones the closures raise.
"""
from __future__ import annotations

import datetime
import decimal

from ..core.operators import ARITHMETIC, FUNCTIONS, LIMIT, bounded
from ..core.values import EvalError
from . import tables


class Missing(Exception):
    """The generated code met an unknown value: the closure evaluator takes over."""


# What the generated code raises at an unknown value: Missing, or KeyError for a fact
# absent from its dict (read by subscript, codegen.Writer.read). Whoever calls generated
# code catches both. Taking another KeyError for an unknown would only send that output
# to the closures, the reference, which then decide it: never a different result.
MISSING = (Missing, KeyError)


class GEnv:
    """One entity instance for the generated code: facts, rule cache, parent, children.

    Unlike scalar/env.py's ``Env`` it carries no path: paths only name the facts of
    unknowns, and the generated code never holds an unknown."""

    __slots__ = ("f", "c", "p", "k")

    # No __init__: ``GEnv()`` then four stores costs about half of a Python __init__
    # (Python 3.11 runs no frame for a class without one); ``instance`` makes one.


def instance(facts: dict, parent=None) -> GEnv:
    """A fresh instance for one entity's validated facts (``parent``: its parent's)."""
    env = GEnv()
    env.f, env.c, env.p, env.k = facts, {}, parent, None
    return env


def children(env: GEnv, field: str) -> list:
    """The child instances in list field ``field`` (made once); Missing if the list is."""
    kids = env.k
    if kids is None:
        kids = env.k = {}
    found = kids.get(field)
    if found is None:
        raw = env.f.get(field)
        if raw is None:
            raise Missing(field)
        found = kids[field] = [instance(facts, env) for facts in raw]
    return found


def up(env: GEnv, levels: int) -> GEnv:
    """The ancestor ``levels`` steps up; evaluated alone, an ancestor with no facts
    (its reads are unknown, as scalar/env.py's ``Env.up`` makes them)."""
    for _ in range(levels):
        if env.p is None:
            env.p = instance({})
        env = env.p
    return env


def issue(param):
    """Read a parameter with no usable value on the date (values.ParamIssue): its error,
    or, for a gap (unknown), Missing."""
    param.value()  # raises the parameter's error, if it has one
    raise Missing(param.name)


def no_children(node) -> EvalError:
    """min/max over no child at all: E806 at the aggregation (scalar/aggregate.py)."""
    return EvalError("E806", node.span, fn=node.fn)


def clash(rule, ids: list) -> EvalError:
    """Exceptions that hold at once with different values: E805 (scalar/tables.py)."""
    return EvalError("E805", rule.span, name=rule.name, ids=", ".join(ids))


def several_rows(rule, rows: list) -> EvalError:
    """A ``unique`` table with more than one matching row: E809 (scalar/tables.py)."""
    return EvalError("E809", rule.span, name=rule.name, rows=", ".join(str(r) for r in rows))


def namespace() -> dict:
    """The names every generated module reads: the meanings of operators and functions
    (core/operators.py), table outcomes (scalar/tables.py) and the helpers above."""
    out = {"Decimal": decimal.Decimal, "EvalError": EvalError, "datetime": datetime, "Missing": Missing, "MISSING": MISSING,
           "GEnv": GEnv,
           "children": children, "up": up, "issue": issue, "bounded": bounded, "LIMIT": LIMIT, "no_children": no_children,
           "clash": clash, "several_rows": several_rows, "no_row": tables.no_row,
           "collect": tables.AGGREGATES}
    for op in ARITHMETIC.values():
        out[op.py.__name__] = op.py
    for name, fn in FUNCTIONS.items():
        out["fn_" + name] = fn.py
    return out


def loaded(source: str, filename: str, scope: dict, bindings: dict, functions: dict, outputs: dict) -> tuple:
    """Run a generated module's source in ``scope`` (the names it reads, with
    ``bindings``): its rule functions by rule name and its outputs functions by entity
    (``functions``, ``outputs``: the names the writer gave them)."""
    scope.update(bindings)
    exec(compile(source, filename, "exec"), scope)  # noqa: S102 — our own generated source
    return ({name: scope[fn] for name, fn in functions.items()},
            {entity: scope[fn] for entity, fn in outputs.items()})


class Generated:
    """The generated module of one program on one date, compiled once: ``rules`` maps
    each rule name to its function ``f(env) -> value``; ``outputs`` each entity to its
    function ``f(env, values, errors, missing)`` of all its outputs; ``known`` each
    entity that has one to its function ``f(facts) -> values`` of all its outputs for
    facts all known (it raises one of ``MISSING`` or ``EvalError`` otherwise: then
    ``outputs`` decides; scalar/knowngen.py), and ``by_entity`` each such entity to
    that function and the entity's key field (``keys``), read by ``Program.evaluate``
    in one lookup; ``source`` is the text."""

    def __init__(self, source: str, bindings: dict, functions: dict, outputs: dict, filename: str,
                 known: dict | None = None, keys: dict | None = None):
        self.source = source
        scope = namespace()
        self.rules, self.outputs = loaded(source, filename, scope, bindings, functions, outputs)
        self.known = {entity: scope[fn] for entity, fn in (known or {}).items()}
        self.by_entity = {entity: (fn, (keys or {}).get(entity)) for entity, fn in self.known.items()}

    def env(self, facts: dict) -> GEnv:
        """A fresh instance for one entity's validated facts."""
        return instance(facts)

    def rule(self, env: GEnv, name: str):
        """Rule ``name`` on ``env`` (cached on the instance); one of ``MISSING`` at an unknown."""
        cache = env.c
        if name in cache:
            return cache[name]
        value = cache[name] = self.rules[name](env)
        return value
