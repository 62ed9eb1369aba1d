"""Generated scalar code that records a trace: the traced closures' events, written out.

``generate_traced(program, day)`` writes one function per rule, ``t_<rule>(e, L)``,
that evaluates the rule on ``e`` (a scalar/env.py ``TracedEnv``) and appends to the
log ``L`` (reports/trace.py ``Recorder.log``) the very events the traced closures
(scalar/compile.py, tables.py, aggregate.py, env.py) append, in the same order, with
equal items: ENTER and EXIT around the rule (EXIT with the diagnostic code on an
error), CACHED for a rule read again, READ, PARAM, COMPARE, DECIDE, DECIDE_WITH. The
parameters in force on ``day`` are bound as constants. ``fupin compile --emit-python``
does not print this module (``TracedGenerated.source`` holds its text).

Values may be unknown, as in the closures: a missing fact, a missing child list, a
parameter's gap, a rule's unknown value flow through ``and``/``or``, ``if``,
comparisons, ``in``, arithmetic (x × 0), functions and aggregates exactly as
scalar/compile.py and aggregate.py let them (the helpers below are their steps). Where
the closures' next step is not so simple the generated code hands the rest to them at
the point where they would go on, on the same environment and recorder (so the events
still come in order): a table whose tested input is unknown, or whose cells compare with
a rule or a fact, to its hit policy in scalar/tables.py on the inputs' values (before
any row is looked at); an exception whose condition is unknown to ``tables.unsure``
with the conditions and values so far; an ``if`` with an unknown condition to its
branches' closures; the operands a false link of a chained comparison leaves, read
muted as compile.py reads them; ``in`` with a set whose items are not all literals;
tables of hit policies ``priority`` and ``collect`` whole. The table row's decision
(DECIDE_WITH) uses the table's own ``spec``, the object the traced closures use, so the
logs are equal item for item.

Left as a safety net: at an unknown the code does not handle (none in the pack today)
it raises ``Missing``, and ``Program.evaluate(trace=True)`` throws the whole recording
away and records the entity again with the traced closures, the reference, from a fresh
recorder. So a trace is always the closures' trace.
"""
from __future__ import annotations

import decimal
import operator

from ...dsl import typed as t
from ..core import cells
from ..core.operators import ARITHMETIC, COMPARISONS, FUNCTIONS, UNARY, bounded
from ..core.values import EvalError, ParamIssue, Unknown, unknown_among, unknown_arith, unknown_if, waiting
from ..reports import trace as events
from . import tables
from .codegen import SourceWriter, one_line, source_of
from .generated import MISSING, Missing, clash, loaded, no_children, several_rows

_INLINE = {operator.eq: "==", operator.ne: "!=", operator.lt: "<", operator.le: "<=", operator.gt: ">",
           operator.ge: ">="}  # a comparison written inline when its meaning is this operator
_EVENTS = ("ENTER", "EXIT", "CACHED", "READ", "PARAM", "COMPARE", "DECIDE", "DECIDE_WITH")


def generate_traced(program, day) -> "TracedGenerated":
    """The compiled traced module of ``program`` with the parameters of ``day``."""
    params, _ = program.params_on(day)
    writer = TracedWriter(program, params)
    writer.module(day)
    return TracedGenerated(source_of(writer.lines), writer.bindings, writer.functions,
                           writer.outputs_functions, f"<fupin-traced:{one_line(program.checked.variant)}:{day.isoformat()}>")


class TracedWriter(SourceWriter):
    """Writes the traced module's lines; ``bindings`` are the objects it names (typed
    nodes, descriptions, closures it hands work to, parameter values)."""

    def __init__(self, program, params: dict):
        super().__init__()
        self.program, self.checked, self.params = program, program.checked, params
        self.compiler = program.traced_compiler
        self.meta = self.compiler.meta
        self._maybe: set = set()  # the locals that may hold an Unknown
        for name in self.checked.rules:
            self.functions[name] = self._ident("t_", name)

    # --- names

    def constant(self, value) -> str:
        if type(value) in (bool, int, str) or value is None:
            return repr(value)
        return self.bind(value, "K")

    def assign(self, ind: int, text: str, stem: str = "v") -> str:
        out = self.temp(stem)
        self.line(ind, f"{out} = {text}")
        return out

    # --- the module

    def module(self, day) -> None:
        self.line(0, f"# Traced generated code (engine/scalar/tracegen.py): policy variant "
                     f"{one_line(self.checked.variant or 'base')}, parameters in force on {day.isoformat()}.")
        self.line(0, "# Each function appends the traced closures' events to the log L; an unknown raises Missing.")
        for name, rule in self.checked.rules.items():
            self.rule(rule)
        for entity in self.checked.entities:
            self.outputs(entity)

    def outputs(self, entity: str) -> None:
        """``outputs_<entity>(e, L, values, errors)``: every output of the entity in order,
        as ``Program.evaluate`` asks each of ``TracedGenerated.rule`` (its value or error);
        returns the names of those whose value is unknown (None if none is)."""
        names = [n for n, r in self.checked.rules.items() if r.entity == entity and not r.internal]
        if not names:
            return
        fn = self.outputs_functions[entity] = self._ident("outputs_", entity)
        self.line(0, "")
        self.line(0, f"def {fn}(e, L, values, errors):")
        self.line(1, "c, p = e.cache, e.path")
        self.line(1, "unknown = None  # the outputs whose value is unknown, for Program.evaluate to settle")
        for name in names:
            self.line(1, "try:")
            value = self.read_rule(name, "e", 2)
            self.line(2, f"values[{name!r}] = {value}")
            self.line(2, f"if type({value}) is Unknown:")
            self.line(3, f"unknown = [{name!r}] if unknown is None else unknown + [{name!r}]")
            self.line(1, "except EvalError as exc:")
            self.line(2, f"values[{name!r}] = None")
            self.line(2, f"errors[{name!r}] = exc.diagnostic")
        self.line(1, "return unknown")

    def rule(self, rule) -> None:
        fn = self.functions[rule.name]
        self.line(0, "")
        self.line(0, f"# {rule.name}: {one_line(', '.join(str(s) for s in rule.sources)) or '-'}")
        self.line(0, f"def {fn}(e, L):")
        self.line(1, "f, c, p = e.facts, e.cache, e.path  # the instance's facts, rule cache and path")
        self.line(1, f"L += (ENTER, {rule.name!r}, p)")
        self.line(1, "try:")
        self._rule_name = rule.name
        if rule.table is not None and rule.table.hit not in ("unique", "first"):
            # the closure of the whole rule (exceptions included), on this environment
            value = self.assign(2, f"{self.bind(self.program.traced_rules[rule.name], 'R')}(e)")
            self.ret(value, 2)
        elif rule.exceptions:
            self.exceptions(rule, 2)
        else:
            self.base(rule, 2)
        self.line(1, "except EvalError as exc:")
        self.line(2, "L += (EXIT, None, exc.diagnostic.code)")
        self.line(2, "raise")

    def ret(self, value: str, ind: int) -> None:
        """The rule's value: EXIT, cached, returned (scalar/env.py ``TracedEnv.rule``)."""
        self.line(ind, f"L += (EXIT, {value}, None)")
        self.line(ind, f"c[{self._rule_name!r}] = {value}")
        self.line(ind, f"return {value}")

    def known(self, value: str, ind: int) -> None:
        """Where the closures would go on three-valued: ``Missing`` at an unknown."""
        self.line(ind, f"if type({value}) is Unknown:")
        self.line(ind + 1, "raise Missing()")

    def sure(self, value: str, ind: int) -> None:
        """``known`` for a local that may hold an unknown (no test for one that cannot)."""
        if value in self._maybe:
            self.known(value, ind)

    def maybe(self, value: str, *sources) -> str:
        """``value`` may hold an unknown (if any of ``sources`` may, when given)."""
        if not sources or any(s in self._maybe for s in sources):
            self._maybe.add(value)
        return value

    def base(self, rule, ind: int) -> None:
        """The rule without its exceptions: its table, or its expression then DECIDE."""
        if rule.table is not None:
            self.table(rule, ind)
            return
        value = self.x(rule.expr, "e", ind)
        decided = self.bind({"kind": "expr", "text": rule.expr.text}, "DX")
        self.line(ind, f"L += (DECIDE, {decided})")
        self.ret(value, ind)

    def exceptions(self, rule, ind: int) -> None:
        """scalar/tables.py ``_with_exceptions``: every condition, then the values of those
        that hold; a condition unknown: tables.py ``unsure`` goes on from there (as the
        closure does); none holds: the base; values that differ: E805."""
        conditions = [self.x(exc.when, "e", ind) for exc in rule.exceptions]
        held = self.assign(ind, "[]", "held")
        for exc, cond in zip(rule.exceptions, conditions):
            self.line(ind, f"if {cond} is True:  # exception {one_line(exc.id)}" if cond in self._maybe
                      else f"if {cond}:  # exception {one_line(exc.id)}")
            value = self.x(exc.value, "e", ind + 1)
            info = {"kind": "exception", "id": exc.id, "labels": exc.labels, "text": exc.when.text,
                    "sources": [str(s) for s in exc.sources], "origin": exc.origin}
            self.line(ind + 1, f"{held}.append(({exc.id!r}, {value}, {self.bind(info, 'XD')}, {self.bind(exc, 'EXC')}))")
        unsure = [c for c in conditions if c in self._maybe]
        if unsure:
            self.line(ind, f"if {' or '.join(f'type({c}) is Unknown' for c in unsure)}:")
            listed = ", ".join(f"({self.bind(exc, 'EXC')}, {c}, {self.bind(self.compiler.compile(exc.value), 'X')})"
                               for exc, c in zip(rule.exceptions, conditions))
            value = self.assign(ind + 1, f"unsure(e, [{listed}], [(h[3], h[1]) for h in {held}], "
                                         f"unknown_among(None, {', '.join(unsure)}), {self.bind(self.compiler.bases[rule.name], 'BASE')})")
            self.ret(value, ind + 1)
        self.line(ind, f"if {held}:")
        self.line(ind + 1, f"if len({held}) > 1 and len({{('v', h[1]) for h in {held}}}) > 1:")
        self.line(ind + 2, f"raise clash({self.bind(rule, 'RULE_')}, [h[0] for h in {held}])")
        self.line(ind + 1, f"L += (DECIDE, {held}[0][2])")
        self.ret(f"{held}[0][1]", ind + 1)
        self.base(rule, ind)

    # --- decision tables (unique, first) on known inputs

    def table(self, rule, ind: int) -> None:
        table = rule.table
        values = [self.table_input(i.expr, ind) for i in table.inputs]
        vals = self.assign(ind, f"[{', '.join(values)}]", "vals")
        positions = {i.name: n for n, i in enumerate(table.inputs)}
        tested = {positions[name] for row in table.rows for name, test in row.tests.items()
                  if not isinstance(cells.of_test(test), cells.Always)}
        unsure = [values[n] for n in sorted(tested) if values[n] in self._maybe]
        if not all(self._constant_cells(row) for row in table.rows):
            # a cell compares with a rule or a fact, which may be unknown: the rows are the closures'
            policy, rows = self.compiler.tables[rule.name]
            out = self.assign(ind, f"{self.bind(policy, 'HIT')}(e, {self.bind(self.compiler.specs[rule.name], 'SPEC')}, "
                                   f"{self.bind(rows, 'ROWS')}, {vals})")
            self.ret(out, ind)
            return
        if unsure:
            # An input a cell tests is unknown: the rows are the closures' (tables.py's hit
            # policy on these very values: no row was looked at yet).
            self.line(ind, f"if {' or '.join(f'type({v}) is Unknown' for v in unsure)}:")
            policy, rows = self.compiler.tables[rule.name]
            out = self.assign(ind + 1, f"{self.bind(policy, 'HIT')}(e, {self.bind(self.compiler.specs[rule.name], 'SPEC')}, "
                                       f"{self.bind(rows, 'ROWS')}, {vals})")
            self.ret(out, ind + 1)
            self._maybe.difference_update(unsure)
        rows = {row.index: row for row in table.rows}
        if table.hit == "first":
            for row in table.rows:
                depth = self.match(row, positions, values, ind)
                self.decide(rule, row, vals, depth)
                self.ret(self.x(row.then, "e", depth), depth)
            self.line(ind, f"raise no_row({self.bind(rule, 'RULE_')}, {self.bind(table, 'TABLE_')}, {vals})")
            return
        hits = self.assign(ind, "[]", "hits")
        quiet = [self._quiet(row) for row in table.rows]
        for n, row in enumerate(table.rows):
            depth = self.match(row, positions, values, ind)
            if table.proven and all(quiet[n + 1:]):
                # Proven (one row matches known inputs) and no row after it records
                # anything: _unique's outcome is this row (also where a later row's
                # cell would be unknown: a proven table's match then decides).
                self.decide(rule, row, vals, depth)
                self.ret(self.x(row.then, "e", depth), depth)
            else:
                self.line(depth, f"{hits}.append({row.index!r})")
        self.line(ind, f"if len({hits}) > 1:")
        self.line(ind + 1, f"raise several_rows({self.bind(rule, 'RULE_')}, {hits})")
        self.line(ind, f"if not {hits}:")
        self.line(ind + 1, f"raise no_row({self.bind(rule, 'RULE_')}, {self.bind(table, 'TABLE_')}, {vals})")
        hit = self.assign(ind, f"{hits}[0]", "hit")
        for n, (index, row) in enumerate(rows.items()):
            self.line(ind, f"{'if' if n == 0 else 'elif'} {hit} == {index!r}:")
            self.decide(rule, row, vals, ind + 1)
            self.ret(self.x(row.then, "e", ind + 1), ind + 1)

    def decide(self, rule, row, vals: str, ind: int) -> None:
        """The row that decided (DECIDE_WITH, tables.py ``row_trace``): told here when
        the row's cells name no threshold, else by ``row_trace`` (it reads them muted)."""
        spec = self.compiler.specs[rule.name]
        found = self._bound_values(rule.table, row)
        if found is None:
            self.line(ind, f"row_trace(e, {self.bind(spec, 'SPEC')}, {self.bind(row, 'ROW')}, {vals})")
        else:
            found = self.bind(found, "BOUNDS") if found else "{}"
            self.line(ind, f"L += (DECIDE_WITH, row_decision, ({self.bind(spec, 'SPEC')}, "
                           f"{self.bind(row, 'ROW')}, {vals}, None, {found}))")

    def _bound_values(self, table, row) -> dict | None:
        """The thresholds' values ``row_trace`` would find (by input), when every one is a
        literal or a parameter with a value on the date (it reads them muted: no event);
        else None (``row_trace`` reads them)."""
        found = {}
        for name, nodes in tables.row_bound_nodes(table, row):
            out = []
            for node in nodes:
                if isinstance(node, t.TLit):
                    out.append(node.value)
                elif isinstance(node, t.TParam) and type(self.params[node.name]) is not ParamIssue:
                    out.append(self.params[node.name])
                else:
                    return None
            found[name] = out
        return found

    def _constant_cells(self, row) -> bool:
        """Whether every cell of a row compares with literals or parameters with a value."""
        return all(isinstance(o, t.TLit) or (isinstance(o, t.TParam) and type(self.params[o.name]) is not ParamIssue)
                   for test in row.tests.values() for o in cells.operands(cells.of_test(test)))

    @staticmethod
    def _quiet(row) -> bool:
        """Whether testing a row's cells records nothing (every operand a literal)."""
        return all(isinstance(o, t.TLit) for test in row.tests.values()
                   for o in cells.operands(cells.of_test(test)))

    def table_input(self, node, ind: int) -> str:
        """A table input's value. A fact read as an input may be missing: it is then the
        closures' unknown (``Unknown`` of its path, read as such) and only a cell that
        tests it raises ``Missing`` (a row whose cell for it is ``any``, or a row after
        the deciding one, does not look at it, as with the closures)."""
        return self.x(node, "e", ind)

    def match(self, row, positions: dict, values: list, ind: int) -> int:
        """Nested ``if``s for a row's cells in the row's order (the first that fails
        stops, as ``_match``); the indent where the row's outcome goes."""
        self.line(ind, f"# row {row.index}")
        top = ind
        for name, test in row.tests.items():
            cell, value = cells.of_test(test), values[positions[name]]
            if value in self._maybe and not isinstance(cell, cells.Always):
                self.known(value, ind)  # the closures' cell would be unknown
                if ind == top:  # checked for every row after this one
                    self._maybe.discard(value)
            cond = self.cell(cell, value, "e", ind)
            if cond != "True":
                self.line(ind, f"if {cond}:")
                ind += 1
        return ind

    def cell(self, cell, value: str, env: str, ind: int) -> str:
        """A condition (statements before it at ``ind``) for a cell on a known value."""
        if isinstance(cell, cells.Always):
            return "True"
        if isinstance(cell, cells.Negated):
            return f"not ({self.cell(cell.inner, value, env, ind)})"
        if isinstance(cell, cells.Compare):
            other = self.x(cell.operand, env, ind)
            self.sure(other, ind)
            return self.compare(cell.op, value, other)
        if isinstance(cell, cells.Member):
            members = cells.literal_members(cell)
            if members is not None:
                return f"{value} in {self.bind(members, 'SET')}"
        else:  # an interval: both bounds read, then both tests
            lo, hi = self.x(cell.lo, env, ind), self.x(cell.hi, env, ind)
            self.sure(lo, ind)
            self.sure(hi, ind)
            return f"({self.compare(cell.lo_op, value, lo)} and {self.compare(cell.hi_op, value, hi)})"
        test = self.bind(cells.compile_cell(cell, self.compiler.compile), "CELL")
        out = self.assign(ind, f"{test}({env}, {value})", "m")
        self.known(out, ind)
        return out

    def compare(self, op: str, left: str, right: str) -> str:
        """``left op right``: inline where core/operators.py's meaning is Python's operator."""
        meaning = COMPARISONS[op].py
        if _INLINE.get(meaning) == op:
            return f"{left} {op} {right}"
        return f"{self.bind(meaning, 'CMP')}({left}, {right})"

    # --- expressions: statements at ``ind``, the value's name returned

    def x(self, node, env: str, ind: int) -> str:
        method = getattr(self, "x_" + type(node).__name__, None)
        if method is None:
            return self.delegate(node, env, ind)
        return method(node, env, ind)

    def delegate(self, node, env: str, ind: int) -> str:
        """The traced closure of ``node`` on ``env``: same events, a value or an unknown."""
        return self.maybe(self.assign(ind, f"{self.bind(self.compiler.compile(node), 'X')}({env})"))

    def x_TLit(self, node, env, ind):
        return self.constant(node.value)

    def x_TField(self, node, env, ind):
        describe = self.bind(self.meta.describe(node), "DESC")
        facts, path = self._of(env)
        value = self.assign(ind, f"{facts}.get({node.name!r})")
        self.line(ind, f"if {value} is None:")
        if node.has_absent:
            self.line(ind + 1, f"{value} = {self.constant(node.when_absent)}")
            self.line(ind + 1, f"L += (READ, {path} + {node.name!r}, {describe}, {value}, True, False)")
            self.line(ind, "else:")
        else:
            self.line(ind + 1, f"{value} = Unknown(frozenset(({path} + {node.name!r},)))")
            self.maybe(value)
        self.line(ind + (1 if node.has_absent else 0),
                  f"L += (READ, {path} + {node.name!r}, {describe}, {value}, False, False)")
        return value

    @staticmethod
    def _of(env: str) -> tuple:
        """How code reads an instance's facts and path (the function's own: its locals)."""
        return ("f", "p") if env == "e" else (f"{env}.facts", f"{env}.path")

    def x_TRule(self, node, env, ind):
        return self.read_rule(node.name, env, ind)

    def read_rule(self, name: str, env: str, ind: int) -> str:
        """Rule ``name`` on ``env`` as ``TracedEnv.rule`` reads it: CACHED, or its function."""
        value = self.temp()
        cache = "c" if env == "e" else f"{env}.cache"
        self.line(ind, f"if {name!r} in {cache}:")
        self.line(ind + 1, f"{value} = {cache}[{name!r}]")
        self.line(ind + 1, f"L += (CACHED, {name!r}, {self._of(env)[1]}, {value})")
        self.line(ind, "else:")
        self.line(ind + 1, f"{value} = {self.functions[name]}({env}, L)")
        return self.maybe(value)

    def x_TParam(self, node, env, ind):
        found = self.params[node.name]
        if type(found) is ParamIssue:
            value = self.maybe(self.assign(ind, f"{self.bind(found, 'PI')}.value()"))
        else:
            value = self.bind(found, self._ident("P_", node.name), key=("param", node.name))
        self.line(ind, f"L += (PARAM, {node.name!r}, {value})")
        return value

    def x_TUp(self, node, env, ind):
        up = self.up(env, node.levels, ind)
        return self.x(node.target, up, ind)

    def up(self, env: str, levels: int, ind: int) -> str:
        """The ancestor ``levels`` up (a parent already made is read directly)."""
        if levels != 1:
            return self.assign(ind, f"{env}.up({levels})", "u")
        up = self.assign(ind, f"{env}.parent", "u")
        self.line(ind, f"if {up} is None:")
        self.line(ind + 1, f"{up} = {env}.up(1)")
        return up

    def x_TNeg(self, node, env, ind):
        return self._unary(node, env, ind, "-", "NEG")

    def x_TNot(self, node, env, ind):
        return self._unary(node, env, ind, "not", "NOT")

    def _unary(self, node, env, ind, op: str, stem: str) -> str:
        inner = self.x(node.operand, env, ind)
        call = f"{self.bind(UNARY[op].py, stem)}({inner})"
        if inner not in self._maybe:
            return self.assign(ind, call)
        return self.maybe(self.assign(ind, f"{inner} if type({inner}) is Unknown else {call}"))

    def x_TAnd(self, node, env, ind):
        return self._logic(node.items, env, ind, stop=False)

    def x_TOr(self, node, env, ind):
        return self._logic(node.items, env, ind, stop=True)

    def _logic(self, items, env, ind, stop: bool) -> str:
        """``and``/``or`` (compile.py ``_kleene``): the first item equal to ``stop``
        decides and the rest are not evaluated; else unknown if an item was (their facts
        merged), else ``not stop``."""
        out, unknown = self.temp("b"), self.temp("uk")
        self.line(ind, f"{out} = {stop!r}")
        mark = len(self.lines)  # where ``unknown`` starts at None, if an item may be unknown
        depth, unsure = ind, False
        for item in items:
            value = self.x(item, env, depth)
            self.line(depth, f"if {value} is not {stop!r}:")
            if value in self._maybe:
                unsure = True
                self.line(depth + 1, f"if {value} is not {(not stop)!r}:")
                self.line(depth + 2, f"{unknown} = {value} if {unknown} is None else {unknown}.merge({value})")
            depth += 1
        if unsure:
            self.line(depth, f"{out} = {(not stop)!r} if {unknown} is None else {unknown}")
            self.lines.insert(mark, "    " * ind + f"{unknown} = None")
            return self.maybe(out)
        self.line(depth, f"{out} = {(not stop)!r}")
        return out

    def x_TArith(self, node, env, ind):
        acc = self.x(node.operands[0], env, ind)
        where = self.bind(node, "N")
        for op, operand, step in zip(node.ops, node.operands[1:], node.steps):
            right = self.x(operand, env, ind)
            fn = self.bind(ARITHMETIC[op].py, "OP")
            call = f"{fn}({acc}, {right}, {self.constant(step.kind)}, {where})"
            if acc in self._maybe or right in self._maybe:
                # compile.py c_TArith: x × 0 is 0 whatever x is, else the facts merged
                acc = self.maybe(self.assign(ind, f"unknown_arith({fn}, {ARITHMETIC[op].absorbs!r}, {acc}, {right}, "
                                                  f"{self.constant(step.kind)}, {where}) if type({acc}) is Unknown "
                                                  f"or type({right}) is Unknown else {call}"))
            else:
                acc = self.assign(ind, call)
        return acc

    def x_TCompare(self, node, env, ind):
        """Operands in order while the links hold; after a false link the operands left
        are read by their closures with the recorder muted, as compile.py's traced
        comparison reads them (for the record only: the result is False)."""
        left = self.x(node.operands[0], env, ind)
        result, values = self.temp("r"), self.temp("cv")
        if len(node.operands) == 2:
            right = self.x(node.operands[1], env, ind)
            self.line(ind, f"{values} = [{left}, {right}]")
            test = f"True if {self.compare(node.ops[0], left, right)} else False"
            if left in self._maybe or right in self._maybe:
                self.line(ind, f"{result} = unknown_among(None, {left}, {right}) if type({left}) is Unknown "
                               f"or type({right}) is Unknown else {test}")
                self.maybe(result)
            else:
                self.line(ind, f"{result} = {test}")
        else:
            unknown = self.temp("uk")
            self.line(ind, f"{result} = None")
            self.line(ind, f"{unknown} = None")
            self.line(ind, f"{values} = [{left}]")
            self._link(node, 1, left, values, result, unknown, env, ind)
            self.line(ind, f"if {result} is None:")
            self.line(ind + 1, f"{result} = True if {unknown} is None else {unknown}")
            self.maybe(result)
        describe = self.bind([self.meta.describe(o) for o in node.operands], "DS")
        self.line(ind, f"L += (COMPARE, {node.text!r}, {describe}, {values}, {self.bind(node.ops, 'OPS')}, {result})")
        return result

    def _link(self, node, n: int, left: str, values: str, result: str, unknown: str, env: str, ind: int) -> None:
        """Link ``n`` of a chained comparison (operand ``n`` against the one before it):
        an unknown operand makes the link unknown and the chain goes on; a false link
        ends it, the operands left read muted by their closures (for the record)."""
        right = self.x(node.operands[n], env, ind)
        self.line(ind, f"{values}.append({right})")
        test = self.compare(node.ops[n - 1], left, right)
        if left in self._maybe or right in self._maybe:
            self.line(ind, f"if type({left}) is Unknown or type({right}) is Unknown:")
            self.line(ind + 1, f"{unknown} = unknown_among({unknown}, {left}, {right})")
            self.line(ind, f"elif not ({test}):")
        else:
            self.line(ind, f"if not ({test}):")
        self.line(ind + 1, f"{result} = False")
        if n == len(node.ops):
            return
        self.line(ind, f"if {result} is None:")
        self._link(node, n + 1, right, values, result, unknown, env, ind + 1)
        self.line(ind, "else:")
        rest = [f"{self.bind(self.compiler.compile(o), 'X')}({env})" for o in node.operands[n + 1:]]
        self.line(ind + 1, f"tr = {env}.ctx.tracer")
        self.line(ind + 1, "tr.mute()")
        self.line(ind + 1, "try:")
        self.line(ind + 2, f"{values} += [{', '.join(rest)}]")
        self.line(ind + 1, "finally:")
        self.line(ind + 2, "tr.unmute()")

    def x_TIn(self, node, env, ind):
        cell = cells.of_container(node.container)
        if isinstance(cell, cells.Member) and cells.literal_members(cell) is None:
            return self.delegate(node, env, ind)
        value = self.x(node.subject, env, ind)
        result = self.temp("r")
        at = ind
        if value in self._maybe:  # an unknown subject: the cell is that unknown, its operands unread
            self.line(ind, f"if type({value}) is Unknown:")
            self.line(ind + 1, f"{result} = {value}")
            self.line(ind, "else:")
            at = ind + 1
            self.maybe(result)
        test = self.cell(cells.Negated(cell) if node.negated else cell, value, env, at)
        self.line(at, f"{result} = True if {test} else False")
        describe = self.bind([self.meta.describe(node.subject), {"text": node.container.text}], "DS")
        self.line(ind, f"L += (COMPARE, {node.text!r}, {describe}, [{value}, None], "
                       f"[{'not in' if node.negated else 'in'!r}], {result})")
        return result

    def x_TIf(self, node, env, ind):
        cond = self.x(node.cond, env, ind)
        out = self.temp()
        self.line(ind, f"if {cond} is True:" if cond in self._maybe else f"if {cond}:")
        then = self.x(node.then, env, ind + 1)
        self.line(ind + 1, f"{out} = {then}")
        self.line(ind, f"elif {cond} is False:" if cond in self._maybe else "else:")
        else_ = self.x(node.else_, env, ind + 1)
        self.line(ind + 1, f"{out} = {else_}")
        if cond in self._maybe:  # unknown: both branches (their closures), compile.py c_TIf
            self.line(ind, "else:")
            both = [f"{self.bind(self.compiler.compile(b), 'X')}({env})" for b in (node.then, node.else_)]
            self.line(ind + 1, f"{out} = unknown_if({cond}, {', '.join(both)})")
            return self.maybe(out)
        return self.maybe(out, then, else_)

    def x_TCall(self, node, env, ind):
        args = [self.x(a, env, ind) for a in node.args]
        function = FUNCTIONS[node.fn]
        call = f"{self.bind(function.py, 'FN')}({', '.join(args)})"
        unsure = [a for a in args if a in self._maybe]
        if function.reads_unknown or not unsure:
            return self.maybe(self.assign(ind, call), *args) if function.reads_unknown else self.assign(ind, call)
        # compile.py c_TCall: an unknown argument makes the result unknown (their facts merged)
        return self.maybe(self.assign(ind, f"unknown_among(None, {', '.join(unsure)}) if "
                                           f"{' or '.join(f'type({a}) is Unknown' for a in unsure)} else {call}"))

    def x_TAgg(self, node, env, ind):
        """scalar/aggregate.py's reducers on known values, then the aggregate's READ."""
        kids = self.assign(ind, f"{env}.kids.get({node.field!r})", "kids")
        self.line(ind, f"if {kids} is None:")
        self.line(ind + 1, f"{kids} = {env}.children({node.field!r})")
        out = self.temp("agg")
        self.line(ind, f"if type({kids}) is Unknown:  # the list is missing: the aggregate is unknown")
        self.line(ind + 1, f"{out} = {kids}")
        self.line(ind, "else:")
        self.maybe(out)
        self._reduce(node, env, ind + 1, kids, out)
        describe = self.bind({"text": node.text, "kind": "aggregate"}, "DA")
        self.line(ind, f"L += (READ, {node.text!r}, {describe}, {out}, False, True)")
        return out

    def _reduce(self, node, env, ind, kids: str, out: str) -> None:
        """scalar/aggregate.py's reducer over the children: a child whose filter or value
        is unknown adds its facts to those the result waits on (``w``, a set, None while
        there are none: core.values.waiting), unless the result is decided without it."""
        zero = "0" if node.type.kind == "integer" else self.constant(decimal.Decimal(0))
        start = {"count": "0", "sum": zero, "any": "False", "all": "True", "min": "None", "max": "None"}[node.fn]
        self.line(ind, f"{out} = {start}")
        mark = len(self.lines)  # ``w = None`` goes here if a filter or a value may be unknown
        w = self.temp("w")
        child = self.temp("ch")
        self.line(ind, f"for {child} in {kids}:")
        body = ind + 1
        keep = "True"
        if node.where is not None:
            keep = self.x(node.where, child, body)
            self.line(body, f"if {keep} is False:")
            self.line(body + 1, "continue")
        unsure = keep in self._maybe
        fn = node.fn
        if fn == "count":
            if unsure:
                self.line(body, f"if {keep} is True:")
                self.line(body + 1, f"{out} += 1")
                self.line(body, "else:")
                self.line(body + 1, f"{w} = waiting({w}, {keep})")
            else:
                self.line(body, f"{out} += 1")
        else:
            value = self.x(node.of, child, body)
            unsure = unsure or value in self._maybe
            waits = [v for v in (keep, value) if v in self._maybe]
            wait_line = f"{w} = waiting({w}, {', '.join(waits)})" if waits else "pass"
            if fn == "sum":
                el = "if"
                if keep in self._maybe:
                    self.line(body, f"if {keep} is not True:")
                    self.line(body + 1, wait_line)
                    el = "elif"
                if value in self._maybe:
                    self.line(body, f"{el} type({value}) is Unknown:")
                    self.line(body + 1, f"{w} = waiting({w}, {value})")
                    el = "elif"
                if unsure:
                    self.line(body, f"{el} {w} is None:")
                    self.line(body + 1, f"{out} += {value}")
                else:
                    self.line(body, f"{out} += {value}")
            elif fn in ("any", "all"):
                decisive = fn == "any"
                both = f" and {keep} is True" if keep in self._maybe else ""
                self.line(body, f"if {value} is {decisive!r}{both}:")
                self.line(body + 1, f"{out} = {decisive!r}")
                self.line(body + 1, "break")
                if fn == "all" and unsure:
                    self.line(body, f"if {value} is True:")
                    self.line(body + 1, "continue")
                if unsure:
                    self.line(body, wait_line)
            else:
                if unsure:
                    tests = ([f"{keep} is not True"] if keep in self._maybe else []) + \
                            ([f"type({value}) is Unknown"] if value in self._maybe else [])
                    self.line(body, f"if {' or '.join(tests)}:")
                    self.line(body + 1, wait_line)
                    self.line(body + 1, "continue")
                pick = self.bind(FUNCTIONS[fn].py, "FN")
                self.line(body, f"{out} = {value} if {out} is None else {pick}({out}, {value})")
        where = self.bind(node, "N")
        if unsure:
            self.lines.insert(mark, "    " * ind + f"{w} = None")
            if fn in ("any", "all"):
                self.line(ind, f"if {out} is not {(fn == 'any')!r} and {w} is not None:")
            else:
                self.line(ind, f"if {w} is not None:")
            self.line(ind + 1, f"{out} = Unknown(frozenset({w}))")
            if fn in ("sum", "min", "max"):
                self.line(ind, "else:")
                ind += 1
        if fn == "sum":
            self.line(ind, f"bounded({out}, {where})")
        elif fn in ("min", "max"):
            self.line(ind, f"if {out} is None:")
            self.line(ind + 1, f"raise no_children({where})")


def namespace() -> dict:
    """The names every traced module reads."""
    out = {name: getattr(events, name) for name in _EVENTS}
    out.update(EvalError=EvalError, Missing=Missing, Unknown=Unknown, bounded=bounded, clash=clash,
               no_children=no_children, several_rows=several_rows, no_row=tables.no_row,
               row_trace=tables.row_trace, row_decision=tables.row_decision, unknown_among=unknown_among,
               unknown_arith=unknown_arith, unknown_if=unknown_if, waiting=waiting, unsure=tables.unsure)
    return out


class TracedGenerated:
    """The traced module of one program on one date, compiled once: ``rules`` maps each
    rule name to ``f(env, log) -> value`` (called when the rule is not in ``env``'s
    cache); ``outputs`` each entity to ``f(env, log, values, errors)`` of all its
    outputs; ``source`` is the text."""

    def __init__(self, source: str, bindings: dict, functions: dict, outputs: dict, filename: str):
        self.source = source
        self.rules, self.outputs = loaded(source, filename, namespace(), bindings, functions, outputs)

    def rule(self, env, name: str, log: list):
        """Rule ``name`` on ``env`` as ``TracedEnv.rule`` records it (CACHED when
        cached); one of ``MISSING`` at an unknown value."""
        cache = env.cache
        if name in cache:
            value = cache[name]
            log += (events.CACHED, name, env.path, value)
            return value
        return self.rules[name](env, log)


__all__ = ["generate_traced", "TracedGenerated", "MISSING"]
