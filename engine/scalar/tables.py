"""Decision tables (hit policies, three-valued row matching) and rule exceptions.

Both report what decided a value to the tracer when one is attached (one attribute
check per decision when tracing is off).
"""
from __future__ import annotations

from ..core import cells
from ..core.operators import FUNCTIONS
from ..core.values import EvalError, Unknown
from ..reports.trace import DECIDE, DECIDE_WITH


def compile_rule(compiler, rule):
    """The function ``env -> value`` of one checked rule, exceptions included."""
    base = compile_table(compiler, rule) if rule.table is not None else _expr(compiler, rule)
    if not rule.exceptions:
        return base
    if compiler.traced:  # what the traced generated code hands an unsure exception to (tracegen.py)
        compiler.bases[rule.name] = base
    excs = [(e, compiler.compile(e.when), compiler.compile(e.value)) for e in rule.exceptions]
    return _with_exceptions(rule, base, excs)


def _expr(compiler, rule):
    fn = compiler.compile(rule.expr)
    if not compiler.traced:
        return fn
    decided = {"kind": "expr", "text": rule.expr.text}  # the trace copies it when built

    def traced(env):
        value = fn(env)
        env.ctx.tracer.note((DECIDE, decided))
        return value

    return traced


def _with_exceptions(rule, base, excs):
    name, span = rule.name, rule.span

    def with_exceptions(env):
        conditions = [(exc, when(env), value) for exc, when, value in excs]
        holding = [(exc, value(env)) for exc, c, value in conditions if c is True]
        pending = None
        for _, c, _ in conditions:
            if c is not True and c is not False:
                pending = c if pending is None else pending.merge(c)
        if pending is None:
            if not holding:
                return base(env)
            if len({_key(v) for _, v in holding}) > 1:
                raise EvalError("E805", span, name=name, ids=", ".join(e.id for e, _ in holding))
            _record(env, holding)
            return holding[0][1]
        return unsure(env, conditions, holding, pending, base)

    return with_exceptions


def unsure(env, conditions, holding, pending, base):
    """Some exception's condition is unknown: decided only if every outcome agrees."""
    outcomes = [v for _, v in holding]
    outcomes += [value(env) for _, c, value in conditions if c is not True and c is not False]
    if not holding:
        outcomes.append(base(env))
    first = outcomes[0]
    if all(type(v) is not Unknown for v in outcomes) and all(v == first for v in outcomes):
        if holding:
            _record(env, holding)
        return first
    for v in outcomes:
        if type(v) is Unknown:
            pending = pending.merge(v)
    return pending


def _record(env, decided) -> None:
    tracer = env.ctx.tracer
    if tracer is not None:
        exc = decided[0][0]
        tracer.note((DECIDE, {"kind": "exception", "id": exc.id, "labels": exc.labels, "text": exc.when.text,
                              "sources": [str(s) for s in exc.sources], "origin": exc.origin}))


def _key(value):
    return ("u", value.facts) if type(value) is Unknown else ("v", value)


# --- decision tables


def compile_table(compiler, rule):
    table = rule.table
    inputs, rows = cells.table_parts(compiler, table, _cell)
    policy = _POLICIES[table.hit]
    bounds = {row.index: _row_bounds(compiler, table, row) for row in table.rows} if compiler.traced else {}
    spec = (rule, table, [compiler.meta.describe(i.expr) for i in table.inputs], bounds)
    if compiler.traced:  # the traced generated code tells the trace the same, or hands the rows over (tracegen.py)
        compiler.specs[rule.name] = spec
        compiler.tables[rule.name] = (policy, rows)

    def decide(env):
        values = [fn(env) for fn in inputs]
        return policy(env, spec, rows, values)

    return decide


def _row_bounds(compiler, table, row) -> list:
    """``(input, threshold functions)`` of a row's cells that compare with thresholds, in
    the table's input order (for the margins a trace shows)."""
    return [(name, [compiler.compile(b) for b in nodes]) for name, nodes in row_bound_nodes(table, row)]


def row_bound_nodes(table, row) -> list:
    """``(input, threshold nodes)`` of a row's cells that compare with thresholds, in the
    table's input order (also read by the traced generated code, scalar/tracegen.py)."""
    out = []
    for tinput in table.inputs:
        test = row.tests.get(tinput.name)
        nodes = _bounds(cells.of_test(test)) if test is not None else []
        if nodes:
            out.append((tinput.name, nodes))
    return out


def _cell(compiler, cell):
    """A function ``(env, value) -> bool | Unknown`` for one cell (core/cells.py)."""
    return cells.compile_cell(cell, compiler.compile)


def _match(env, tests, values):
    unknown = None
    for index, test in tests:
        r = test(env, values[index])
        if r is False:
            return False
        if r is not True:
            unknown = r if unknown is None else unknown.merge(r)
    return True if unknown is None else unknown


def _first(env, spec, rows, values):
    pending, possible = None, []
    for row, tests, then in rows:
        m = _match(env, tests, values)
        if m is True:
            if pending is None:
                row_trace(env, spec, row, values)
                return then(env)
            possible.append((row, then))
            outs = [th(env) for _, th in possible]
            if all(type(o) is not Unknown for o in outs) and len({_key(o) for o in outs}) == 1:
                row_trace(env, spec, row, values, several=[r.index for r, _ in possible])
                return outs[0]
            return pending
        if m is not False:
            pending = m if pending is None else pending.merge(m)
            possible.append((row, then))
    if pending is not None:
        return _agreeing(env, spec, possible, values, pending)
    raise _no_row(spec, values)


def _unique(env, spec, rows, values):
    hits, pending, possible = [], None, []
    for row, tests, then in rows:
        m = _match(env, tests, values)
        if m is True:
            hits.append((row, then))
        elif m is not False:
            pending = m if pending is None else pending.merge(m)
            possible.append((row, then))
    if len(hits) > 1:
        rule = spec[0]
        raise EvalError("E809", rule.span, name=rule.name, rows=", ".join(str(r.index) for r, _ in hits))
    if pending is not None:
        if hits and spec[1].proven:
            # Proven disjoint: when this row matches, no undecided row can.
            row_trace(env, spec, hits[0][0], values)
            return hits[0][1](env)
        if hits:
            return pending
        return _agreeing(env, spec, possible, values, pending)
    if not hits:
        raise _no_row(spec, values)
    row_trace(env, spec, hits[0][0], values)
    return hits[0][1](env)


def _agreeing(env, spec, possible, values, pending):
    """No row surely matches, some may: decided when the table is proven complete (one
    of them must match) and every one of them gives the same known value."""
    if not spec[1].proven:
        return pending
    outs = [then(env) for _, then in possible]
    if all(type(o) is not Unknown for o in outs) and len({_key(o) for o in outs}) == 1:
        row_trace(env, spec, possible[0][0], values, several=[r.index for r, _ in possible])
        return outs[0]
    return pending


def _priority(env, spec, rows, values):
    rule, table = spec[0], spec[1]
    order = table.priority or []
    rank = {v: i for i, v in enumerate(order)}
    best, best_rank, pending = None, None, None
    unsure = []
    for row, tests, then in rows:
        m = _match(env, tests, values)
        if m is False:
            continue
        out = then(env)
        r = rank.get(out, len(rank)) if type(out) is not Unknown else -1
        if m is True and type(out) is not Unknown:
            if best_rank is None or r < best_rank:
                best, best_rank = (row, out), r
        else:
            unsure.append((r, m if m is not True else out))
    for r, m in unsure:
        if best_rank is None or r < best_rank:
            pending = m if pending is None else pending.merge(m)
    if pending is not None:
        return pending
    if best is None:
        raise _no_row(spec, values)
    row_trace(env, spec, best[0], values)
    return best[1]


def _collect(env, spec, rows, values):
    rule, table = spec[0], spec[1]
    outs, pending, matched = [], None, []
    for row, tests, then in rows:
        m = _match(env, tests, values)
        if m is False:
            continue
        out = then(env)
        if m is not True:
            pending = m if pending is None else pending.merge(m)
        elif type(out) is Unknown:
            pending = out if pending is None else pending.merge(out)
        else:
            outs.append(out)
            matched.append(row)
    if pending is not None:
        return pending
    row_trace(env, spec, matched[0] if matched else None, values, several=[r.index for r in matched])
    return AGGREGATES[table.aggregate](outs, rule)


def _sum(outs, rule):
    from decimal import Decimal

    return sum(outs, Decimal(0) if rule.type.kind != "integer" else 0)


def _extreme(name: str):
    pick = FUNCTIONS[name].py  # the function min / max (core/operators.py)

    def reduce(outs, rule):
        if not outs:
            raise EvalError("E806", rule.span, fn=name)
        return pick(*outs)

    return reduce


# a ``collect`` table's aggregate over its matched rows' outcomes (also read by the generated code)
AGGREGATES = {"sum": _sum, "min": _extreme("min"), "max": _extreme("max"),
               "count": lambda outs, rule: len(outs), "list": lambda outs, rule: list(outs)}
_POLICIES = {"first": _first, "unique": _unique, "priority": _priority, "collect": _collect}


def _no_row(spec, values):
    return no_row(spec[0], spec[1], values)


def no_row(rule, table, values) -> EvalError:
    """No row of ``table`` matches: E808 at the table, the inputs' ``values`` as the example
    (also raised by the generated code, scalar/generated.py)."""
    example = ", ".join(f"{i.name}={_show(v)}" for i, v in zip(table.inputs, values))
    return EvalError("E808", table.span, name=rule.name, example=example)


def _show(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def row_trace(env, spec, row, values, several=None) -> None:
    """Tell the tracer (if any) the row that decided: the thresholds' values now (they
    need the entity), the description of the row's cells when the trace is built."""
    tracer = env.ctx.tracer
    if tracer is None:
        return
    row_bounds = spec[3].get(row.index) if row is not None else None
    found = {name: _bound_values(env, fns) for name, fns in row_bounds} if row_bounds else {}
    tracer.note((DECIDE_WITH, row_decision, (spec, row, values, several, found)))


def row_decision(spec, row, values, several, bounds) -> dict:
    """What decided a table's value, for the trace: the row (or rows), its cells with
    the inputs' values and the thresholds' (``bounds``, by input), its reason and citations."""
    rule, table, descs, _ = spec
    cells = []
    for tinput, value, desc in zip(table.inputs, values, descs):
        test = row.tests.get(tinput.name) if row is not None else None
        cell = {"input": tinput.name, "expr": tinput.expr.text, "value": value, "label": desc.get("label"),
                "type": desc.get("type"), "condition": test.text if test is not None else "any"}
        if tinput.name in bounds:
            cell["bounds"] = bounds[tinput.name]
        cells.append(cell)
    return {"kind": "row", "row": row.index if row else None, "id": row.id if row else None,
            "rows": several, "hit": table.hit, "cells": cells,
            "reason": row.reason if row else None,
            "sources": [str(s) for s in row.sources] if row else []}


def _bounds(cell) -> list:
    """The numeric or date thresholds a cell compares against (for margins)."""
    if isinstance(cell, cells.Negated):
        return _bounds(cell.inner)
    if isinstance(cell, cells.Compare) and cell.operand.type.ordered:
        return [cell.operand]
    if isinstance(cell, cells.Between):
        return [cell.lo, cell.hi]
    return []


def _bound_values(env, fns) -> list:
    """The thresholds' values for the trace (unknown: None), read without recording."""
    tracer = env.ctx.tracer
    tracer.mute()
    try:
        out = []
        for fn in fns:
            try:
                v = fn(env)
            except EvalError:
                v = None
            out.append(None if type(v) is Unknown else v)
        return out
    finally:
        tracer.unmute()
