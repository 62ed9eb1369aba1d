"""Generate readable Python source from a checked policy: the scalar fast path.

``generate(checked, day, params, starts)`` writes one function per rule, named after it,
with its labels and source citations in a comment: straight-line code, decision tables
as if-chains (one block per row), one loop per member aggregate, the parameters in force
on ``day`` bound as constants at the top. The source is ``compile()``d once per program
and date (scalar/generated.py; ``fupin compile --emit-python`` prints it).

The generated code is the fast path for known facts (scalar/generated.py explains the
way out, ``Missing``): every value it holds is known, so three-valued logic reduces to
Python's ``and``/``or`` with the same short-circuits, and it evaluates operands in the
closure evaluator's order (scalar/compile.py, tables.py, aggregate.py) so that it
raises the same errors. The meaning of each operator, function and table outcome is the
one of core/operators.py and scalar/tables.py: arithmetic, functions, bounds and E808
are called from there; only comparisons, ``-`` and ``not`` are written inline, and only
when their meaning in core/operators.py is Python's own operator (checked here).
"""
from __future__ import annotations

import datetime
import decimal
import fractions
import keyword
import operator
import unicodedata

from ...dsl import typed as t
from ..core import cells, exact
from ..core.operators import ARITHMETIC, COMPARISONS, FUNCTIONS, LIMIT, UNARY
from ..core.values import ParamIssue
from .generated import Generated

# The Python operator each meaning in core/operators.py may be written as (by identity).
_INLINE = {operator.eq: "==", operator.ne: "!=", operator.lt: "<", operator.le: "<=", operator.gt: ">",
           operator.ge: ">=", operator.neg: "-", operator.not_: "not "}
_REPR_SCOPE = {"Decimal": decimal.Decimal, "datetime": datetime}


def generate(checked, day, params: dict, starts: dict) -> Generated:
    """The compiled generated module of ``checked`` with the parameters of ``day``
    (``params``: name → value or values.ParamIssue; ``starts``: name → start date)."""
    writer = Writer(checked, params)
    writer.module(day, starts)
    source = source_of(writer.lines)
    return Generated(source, writer.bindings, writer.functions, writer.outputs_functions,
                     f"<fupin:{one_line(checked.variant)}:{day.isoformat()}>", writer.known_functions,
                     {name: entity.key for name, entity in checked.entities.items()})


def source_of(lines: list) -> str:
    """The module's text from its lines, each checked to be one printable line: rule-file
    text reaches the source only as ``repr`` literals (which escape what is not printable)
    and as :func:`one_line` comments, so a line break anywhere is a generator defect, and
    it must not become code."""
    for number, line in enumerate(lines, 1):
        if not line.isprintable():
            raise ValueError(f"internal: generated line {number} is not one printable line: {line[:80]!r}")
    return "\n".join(lines) + "\n"


def one_line(text) -> str:
    """Text of a rule file as it may stand in a comment of generated source: one line of
    printable characters. Ids, variant names, labels and sources are free text in the
    YAML; a line break in one would end the comment and run the rest as code."""
    return " ".join("".join(c if c.isprintable() else " " for c in str(text)).split())


def _source_literal(value) -> str | None:
    """``value`` as Python source when its repr reads back as exactly itself, else None."""
    if type(value) in (bool, int, str) or value is None:
        return repr(value)
    text = repr(value)
    plain_set = type(value) is frozenset and all(type(v) in (bool, int, str) for v in value)
    if plain_set:
        # sorted: a set's repr follows string hashing, which differs from process to
        # process, and `fupin compile --emit-python` should print the same text each time
        text = "frozenset({" + ", ".join(repr(v) for v in sorted(value, key=lambda v: (type(v).__name__, v))) + "})"
    try:
        back = eval(text, dict(_REPR_SCOPE))  # noqa: S307 — the repr of a value we hold
    except Exception:  # noqa: BLE001 — not readable back: bound as an object instead
        return None
    return text if type(back) is type(value) and back == value and (plain_set or repr(back) == text) else None


class Count:
    """How many fresh locals a module's writers have named (one counter for all of them)."""

    __slots__ = ("n",)

    def __init__(self):
        self.n = 0


class SourceWriter:
    """What both generators (this module's Writer, tracegen.py's TracedWriter) write with:
    the lines, the objects the code names (``bindings``), rule name → function name
    (``functions``), entity → outputs function, fresh identifiers and locals."""

    def __init__(self):
        self.lines: list[str] = []
        self.bindings: dict = {}
        self.functions: dict = {}
        self.outputs_functions: dict = {}  # entity -> its outputs function
        self._bound: dict = {}
        self.temps = Count()  # fresh locals (shared with the known-facts writers, scalar/knowngen.py)
        self._used: set = set()

    def _ident(self, prefix: str, name: str) -> str:
        base = prefix + name
        # Python reads identifiers NFKC-normalised: keep only names that are their own form
        if not base.isidentifier() or unicodedata.normalize("NFKC", base) != base or keyword.iskeyword(base):
            base = prefix + "".join(c if (c.isalnum() or c == "_") and c.isascii() else "_" for c in name)
        out, n = base, 1
        while out in self._used:
            n += 1
            out = f"{base}_{n}"
        self._used.add(out)
        return out

    def temp(self, stem: str = "v") -> str:
        """A fresh local name."""
        self.temps.n += 1
        return f"{stem}{self.temps.n}"

    def bind(self, value, stem: str, key=None) -> str:
        """A module-level name for an object the code reads (bound once per key: the
        object's identity unless given)."""
        key = id(value) if key is None else key
        if key not in self._bound:
            name = self._ident(stem, str(len(self._bound) + 1))
            self._bound[key] = name
            self.bindings[name] = value
        return self._bound[key]

    def line(self, indent: int, text: str) -> None:
        self.lines.append("    " * indent + text)


class Writer(SourceWriter):
    """Writes the module's lines; ``bindings`` are the objects it names (typed nodes for
    error locations, rules, tables), ``functions`` maps rule names to function names."""

    def __init__(self, checked, params: dict):
        super().__init__()
        self.checked, self.params = checked, params
        self._constants: list[str] = []
        self._params_read: dict = {}  # parameter name -> its module-level name
        self._tables: dict = {}  # id(table) -> the name of its lookup dict (Writer.lookup)
        self._cache_local = False  # whether the instance ``e``'s rule cache is the local ``c``
        self._held: dict = {}  # in the outputs function: shared rule -> the local holding it
        self._filled: set = set()  # the rules the outputs written so far may have cached
        self._lens: dict = {}  # a sum's total -> the local holding the list it runs over
        self._leaves: dict = {}  # a local given its value at leaves -> [(line, indent, constant or None, note)]
        self.known_functions: dict = {}  # entity -> its known-facts function (scalar/knowngen.py)
        self._held_names: dict = {}  # shared rule -> the local name that holds it (Writer.held_name)
        for name in checked.rules:
            self.functions[name] = self._ident("rule_", name)
        uses = _uses(checked)
        # An output read by another rule of its entity is computed for the outputs function
        # too: a second use, so it is kept in the cache rather than computed twice (a rule
        # read only from a parent's aggregate stays inlined in the parent's loop).
        also_output = {name for name in _uses(checked, same_entity=True) if not checked.rules[name].internal}
        self.once = {name for name, n in uses.items() if n == 1 and name not in also_output}
        self.shared = {name for name, n in uses.items() if n > 1 or name in also_output}  # read through the cache

    # --- names

    def constant(self, value) -> str:
        """Source for a literal value: inline when short and exact, else a module constant."""
        if type(value) in (bool, int, str) or value is None:
            return repr(value)
        key = ("K", type(value), repr(value))
        if key not in self._bound:
            name = self._ident("K", str(len(self._bound) + 1))
            self._bound[key] = name
            text = _source_literal(value)
            if text is None:
                self.bindings[name] = value
            else:
                self._constants.append(f"{name} = {text}")
        return self._bound[key]

    # --- the module

    def module(self, day, starts: dict) -> None:
        """Header, dated parameters, then one function per rule (declaration order)."""
        body_start = len(self.lines)
        for name, rule in self.checked.rules.items():
            self.rule(rule)
        for entity in self.checked.entities:
            self.known_function(entity)
            self.outputs(entity)
        body = self.lines[body_start:]
        self.lines = [f"# Generated by fupin (engine/scalar/codegen.py): policy variant "
                      f"{one_line(self.checked.variant or 'base')}, parameters in force on {day.isoformat()}.",
                      "# Known facts only: an unknown value raises Missing (an absent fact KeyError: MISSING holds both)",
                      "# and the closure evaluator decides.",
                      "", "# --- parameters"]
        self.lines += self._param_lines(starts) + ["", "# --- constants"] + self._constants + [""] + body

    def _param_lines(self, starts: dict) -> list[str]:
        out = []
        for name in sorted(self._params_read):
            value, var = self.params[name], self._params_read[name]
            p = self.checked.params[name]
            label = one_line(p.labels.zh) if p.labels else name
            if type(value) is ParamIssue:
                self.bindings[var] = value
                out.append(f"# {var}: no usable value on this date ({label})")
                continue
            text = _source_literal(value)
            since = starts.get(name)
            note = f"  # {label}" + (f", since {since.isoformat()}" if since else "")
            if text is None:
                self.bindings[var] = value
                out.append(f"# {var} = {value!r}{note}")
            else:
                out.append(f"{var} = {text}{note}")
        return out

    def param(self, name: str, ind: int) -> str:
        var = self._params_read.get(name)
        if var is None:
            var = self._params_read[name] = self._ident("P_", name)
        if type(self.params[name]) is ParamIssue:
            self.line(ind, f"issue({var})  # raises its error, or Missing for a gap")
            return "None"
        return var

    # --- rules

    def rule(self, rule) -> None:
        """``def rule_<name>(e)``: the rule's value on the instance ``e`` (its facts read
        through a local ``f``)."""
        self._facts_local = []  # the def lines whose function reads ``f``
        self._rule(rule)
        for at in sorted(self._facts_local, reverse=True):
            self.lines.insert(at + 1, "    f = e.f")

    def define(self, header: str) -> None:
        """A ``def`` line; its body reads the instance's facts through ``f`` if needed."""
        self._def_at = len(self.lines)
        self.line(0, header)

    def _rule(self, rule) -> None:
        fn = self.functions[rule.name]
        labels = f" — {one_line(rule.labels.zh)}" + (f" / {one_line(rule.labels.en)}" if rule.labels.en else "") \
            if rule.labels else ""
        self.line(0, "")
        self.line(0, f"# {rule.name}{labels}")
        where = one_line(f"{rule.span.file}:{rule.span.line}" if rule.span else rule.origin)
        self.line(0, f"# source: {one_line(', '.join(str(s) for s in rule.sources)) or '-'} ({where})")
        if rule.exceptions:
            self.define(f"def {fn}(e):")
            self.exceptions(rule, fn + "_base")
            self.line(0, "")
            self.define(f"def {fn}_base(e):")
        else:
            self.define(f"def {fn}(e):")
        if rule.table is not None:
            self.table(rule)
        else:
            self.line(1, f"return {self.x(rule.expr, 'e', 1)}")

    def known_function(self, entity: str) -> None:
        """``known_<entity>(f)``, every output at once for facts all known, where it can be
        written (scalar/knowngen.py): two passes, each by a ``KnownWriter`` writing into
        this module; the first's lines are dropped (what it named stays: a constant only
        it used is written, unused). Not written where an output's code is its function's
        call, or where a pass finds the function would need the instance or never return."""
        from .knowngen import KnownWriter, NotWritten  # (it imports this module: its writer is a Writer)

        names = self.output_names(entity)
        if not names or any(self._called(self.checked.rules[n]) for n in names):
            return
        fn = self._ident("known_", entity)
        start, count, plan = len(self.lines), self.temps.n, None
        for _ in range(2):
            del self.lines[start:]
            self.temps.n = count
            try:
                plan = KnownWriter(self, entity, fn, plan).function(names)
            except NotWritten:  # its locals' numbers are free again (what it named stays)
                del self.lines[start:]
                self.temps.n = count
                return
        self.known_functions[entity] = fn

    def output_names(self, entity: str) -> list:
        """The entity's outputs (rules not internal), in declaration order."""
        return [n for n, r in self.checked.rules.items() if r.entity == entity and not r.internal]

    def _called(self, rule) -> bool:
        """Whether an output's code is certainly a call of its function (``shared_code``:
        with exceptions, or a table neither inlinable nor ``unique``)."""
        return bool(rule.exceptions) or (rule.table is not None and not self._inlinable(rule)
                                          and rule.table.hit != "unique")

    def shared_code(self, rule, ind: int) -> str:
        """The code of a shared rule written out (after a comment naming it), its value:
        an inlinable rule or a ``unique`` table decided by a tree (Writer.lookup), else
        a call of its function."""
        self.line(ind, f"# {rule.name}: the code of {self.functions[rule.name]}")
        mark = len(self.lines)
        if self._inlinable(rule):
            value = self.x(rule.expr, "e", ind) if rule.table is None else self.chain(rule, "e", ind)
        elif rule.table is not None and rule.table.hit == "unique" and not rule.exceptions:
            value = self.lookup(rule, rule.table, self.inputs(rule.table, "e", ind), ind, unique=True)
        else:
            value = None
        if value is None:  # neither: its function
            del self.lines[mark:]
            value = f"{self.functions[rule.name]}({self.instance('e')})"
        return value

    def held_name(self, name: str) -> str:
        """The local ``s_<name>`` that holds shared rule ``name`` (the same in every function)."""
        held = self._held_names.get(name)
        if held is None:
            held = self._held_names[name] = self._ident("s_", name)
        return held

    def outputs(self, entity: str) -> None:
        """``outputs_<entity>(e, values, errors, missing)``: every output of the entity in
        order (scalar/program.py's loop, unrolled): its value, its error (the diagnostic),
        or its name in ``missing`` (then None) for the closures to compute."""
        names = self.output_names(entity)
        if not names:
            return
        fn = self._ident("outputs_", entity)
        self.outputs_functions[entity] = fn
        self._facts_local = []
        self.line(0, "")
        self.line(0, f"# every output of {one_line(entity)}, in declaration order (an output no other rule reads,")
        self.line(0, "# and whose code needs no function of its own, is written out here: one call less)")
        self.define(f"def {fn}(e, values, errors, missing):")
        self.line(1, "c = e.c")
        self._cache_local = True  # the instance's cache is the local ``c`` here
        self._held, self._filled = {}, set()
        for group in self._loop_groups(names):
            if len(group) > 1:
                self.fused_sums(group)
            else:
                self.output(group[0], 1)
            for name in group:
                self._filled |= _cone(self.checked, name)
        self._cache_local = False
        self._held = {}
        for at in self._facts_local:
            self.lines.insert(at + 1, "    f = e.f")

    def output(self, name: str, ind: int) -> None:
        """One output of the outputs function: its value, error or name in ``missing``."""
        rule = self.checked.rules[name]
        self.line(ind, "try:")
        body = ind + 1
        if name in self.shared:
            self.shared_output(rule, body)
        elif self._inlinable(rule):
            self.line(body, f"# {name}: the code of {self.functions[name]}")
            value = self.x(rule.expr, "e", body) if rule.table is None else self.chain(rule, "e", body)
            self.line(body, f"values[{name!r}] = {value}")
        else:
            self.line(body, f"values[{name!r}] = {self.functions[name]}(e)")
        self.line(ind, "except MISSING:")
        self.line(body, f"values[{name!r}] = None")
        self.line(body, f"missing.append({name!r})")
        self.line(ind, "except EvalError as exc:")
        self.line(body, f"values[{name!r}] = None")
        self.line(body, f"errors[{name!r}] = exc.diagnostic")

    def shared_output(self, rule, ind: int) -> None:
        """An output other rules read through the cache, kept there and in a local
        (``s_<name>``, None until known) that later outputs read instead of the cache.
        Where no earlier output can have computed it (it is in none of their dependency
        cones) the cache is not looked at. It is computed here (one call less) if it is
        an inlinable rule or a ``unique`` table decided by a tree (Writer.lookup), else
        by its function."""
        name = rule.name
        held = self._held[name] = self.held_name(name)
        self.line(ind, f"{held} = None")
        at = ind
        if name in self._filled:
            self.line(ind, f"{held} = c.get({name!r})")
            self.line(ind, f"if {held} is None:")
            at = ind + 1
        self.line(at, f"{held} = c[{name!r}] = {self.shared_code(rule, at)}")
        self.line(ind, f"values[{name!r}] = {held}")

    # --- sums over the same children, one loop for all

    def _loop_sum(self, name: str):
        """The field an output's sum runs over, if the output is a plain sum (no
        ``where``) over its children's facts that no other rule reads; else None."""
        rule = self.checked.rules[name]
        node = rule.expr
        if name in self.shared or rule.exceptions or rule.table is not None or not isinstance(node, t.TAgg):
            return None
        if node.fn != "sum" or node.where is not None or not self._reads_facts_only([node.of]):
            return None
        return node.field

    def _loop_groups(self, names: list) -> list[list]:
        """The outputs in order, consecutive sums over the same children grouped."""
        groups: list = []
        for name in names:
            field = self._loop_sum(name)
            if field is not None and groups and self._loop_sum(groups[-1][-1]) == field:
                groups[-1].append(name)
            else:
                groups.append([name])
        return groups

    def fused_sums(self, names: list) -> None:
        """Consecutive outputs that are sums over the same children, in one loop (the
        hand-written way). A sum runs over every child, with no early exit, and each
        term is computed as in its own loop, so each total is its own loop's. An unknown
        or an error anywhere in the shared loop (whose order of raising is not each
        sum's own) sends every one of them to its own code, written out below it, which
        decides it exactly as before."""
        self.line(1, "try:")
        totals = self._fused_loop(names, 2)
        for name, total in zip(names, totals):
            self.line(2, f"values[{name!r}] = {total}")
        self.line(1, "except (Missing, KeyError, EvalError):  # each sum's own code decides it")
        for name in names:
            self.output(name, 2)

    def _fused_loop(self, names: list, ind: int) -> list:
        """The one loop of ``fused_sums`` at indent ``ind``: the totals' locals."""
        nodes = [self.checked.rules[name].expr for name in names]
        field = nodes[0].field
        self.line(ind, f"# {', '.join(names)}: one loop over {field} for all")
        kids = self.children_list(field, "e", ind)
        child = Raw(self.temp("c"), "e")
        for node in nodes:
            self.hoist(node, "e", ind, child.hoisted, child.checked)
        totals = []
        for node in nodes:
            totals.append(self.assign(ind, "0" if node.type.kind == "integer" else self.constant(decimal.Decimal(0))))
            self._lens[totals[-1]] = kids
        self.line(ind, f"for {child.facts} in {kids}:")
        for name, node, total in zip(names, nodes, totals):
            self.line(ind + 1, f"# {name}: {one_line(node.text)}")
            self.sum_term(node, total, child, ind + 1)
        for node, total in zip(nodes, totals):
            self._sum_bound(node, total, ind + 1)
        return totals

    def exceptions(self, rule, base: str) -> None:
        """Every exception's condition first, then the values of those that hold
        (scalar/tables.py ``_with_exceptions``); none: the base; two values: E805."""
        conditions = [self.x(exc.when, "e", 1) for exc in rule.exceptions]
        self.line(1, "held, ids = [], []")
        for exc, cond in zip(rule.exceptions, conditions):
            self.line(1, f"if {cond}:  # exception {one_line(exc.id)}: {one_line(exc.when.text)}")
            value = self.x(exc.value, "e", 2)
            self.line(2, f"held.append({value})")
            self.line(2, f"ids.append({exc.id!r})")
        self.line(1, f"if not held:")
        self.line(2, f"return {base}(e)")
        self.line(1, f"if len(held) > 1 and len(set(held)) > 1:")
        self.line(2, f"raise clash({self.bind(rule, 'RULE_')}, ids)")
        self.line(1, "return held[0]")

    # --- decision tables: one block per row, in order

    def table(self, rule) -> None:
        values = self.inputs(rule.table, "e", 1)
        getattr(self, "hit_" + rule.table.hit)(rule, rule.table, values)

    def inputs(self, table, env, ind: int) -> list:
        """Every input's value, in order (the closures compute them all first)."""
        values = []
        for tinput in table.inputs:
            value = self.x(tinput.expr, env, ind)
            if not value.isidentifier() or value in ("True", "False", "None"):
                held = self.temp("in")
                self.line(ind, f"{held} = {value}")
                value = held
            values.append(value)
        return values

    def _no_row(self, rule, table, values) -> str:
        return f"raise no_row({self.bind(rule, 'RULE_')}, {self.bind(table, 'TABLE_')}, [{', '.join(values)}])"

    def match(self, row, table, values, ind: int, skip: str | None = None) -> int:
        """Nested ``if``s for a row's cells, in the row's order (the first that fails
        stops, as ``_match`` does); the indent where the row's outcome goes."""
        positions = {i.name: n for n, i in enumerate(table.inputs)}
        self.line(ind, f"# row {row.index}" + (f" ({one_line(row.id)})" if row.id else "")
                  + (f": {one_line(', '.join(str(s) for s in row.sources))}" if row.sources else ""))
        for name, test in row.tests.items():
            if name == skip:  # the enclosing test already holds for this row's cell
                continue
            cond = self.cell(cells.of_test(test), values[positions[name]], "e", ind)
            if cond != "True":
                self.line(ind, f"if {cond}:  # {name} {one_line(test.text)}")
                ind += 1
        return ind

    def hit_first(self, rule, table, values) -> None:
        found = self.lookup(rule, table, values, 1)
        if found is not None:
            self.line(1, f"return {found}")
            return
        for row in table.rows:
            depth = self.match(row, table, values, 1)
            self.line(depth, f"return {self.x(row.then, 'e', depth)}")
        self.line(1, self._no_row(rule, table, values))

    def hit_unique(self, rule, table, values) -> None:
        if table.proven and not self._issues_in(table):
            # The checker proved that exactly one row matches every combination of known
            # inputs (dsl/checker/tables.py): E808 and E809 cannot arise, and the first
            # matching row is the one; later rows' cells read only constants, so skipping
            # them skips no error either (no parameter of theirs lacks a value on this date).
            self.line(1, "# proven unique and complete (dsl/checker/tables.py): the first match is the only one")
            self.hit_first(rule, table, values)
            return
        found = self.lookup(rule, table, values, 1, unique=True)
        if found is not None:
            self.line(1, f"return {found}")
            return
        self.line(1, "hits = []")
        split = self._split(table)
        if split is None:
            for row in table.rows:
                depth = self.match(row, table, values, 1)
                self.line(depth, f"hits.append({row.index})")
        else:
            self.grouped(table, values, *split)
        self.line(1, "if len(hits) > 1:")
        self.line(2, f"raise several_rows({self.bind(rule, 'RULE_')}, hits)")
        self.line(1, "if not hits:")
        self.line(2, self._no_row(rule, table, values))
        outcomes = {row.index: _constant_value(row.then, self.params) for row in table.rows}
        if all(v is not None for v in outcomes.values()):  # every outcome a constant: look it up
            self.line(1, f"return {self.constant({k: v[0] for k, v in outcomes.items()})}[hits[0]]  # row -> outcome")
            return
        self.line(1, "hit = hits[0]")
        for row in table.rows:
            self.line(1, f"if hit == {row.index}:")
            self.line(2, f"return {self.x(row.then, 'e', 2)}")

    def _inlinable(self, rule) -> bool:
        """An expression rule, or a table decided by its first matching row whose cells
        compare with constants only (then its rows are one ``if``/``elif`` chain)."""
        if rule.exceptions:
            return False
        table = rule.table
        if table is None:
            return True
        if not (table.hit == "first" or (table.hit == "unique" and table.proven and not self._issues_in(table))):
            return False
        return all(isinstance(o, t.TLit) or (isinstance(o, t.TParam) and type(self.params[o.name]) is not ParamIssue)
                   for row in table.rows for test in row.tests.values()
                   for o in cells.operands(cells.of_test(test)))

    def chain(self, rule, env, ind: int) -> str:
        """A table whose rows are one ``if``/``elif`` chain (``_inlinable``), its value."""
        table, out = rule.table, self.temp()
        values = self.inputs(table, env, ind)
        positions = {i.name: n for n, i in enumerate(table.inputs)}
        if table.hit == "unique":
            self.line(ind, "# proven unique and complete (dsl/checker/tables.py): the first match is the only one")
        found = self.lookup(rule, table, values, ind)
        if found is not None:
            return found
        for n, row in enumerate(table.rows):
            conds = [self.cell(cells.of_test(test), values[positions[name]], env, ind)
                     for name, test in row.tests.items()]
            cond = " and ".join(c for c in conds if c != "True") or "True"
            self.line(ind, f"{'if' if n == 0 else 'elif'} {cond}:  # row {row.index}" + (f" ({one_line(row.id)})" if row.id else ""))
            self.leaf(ind + 1, out, row.then, env)
        self.line(ind, "else:")
        self.line(ind + 1, self._no_row(rule, table, values))
        return out

    # --- a table whose cells compare with constants and whose outcomes are constants: its
    # matching rows are known for every region of its inputs' values, so it is written as
    # one dict lookup (one bool or enum input) or a decision tree (each input tested once
    # on a path, where the rows' code tests the same cell again for each row)

    TREE_LEAVES = 64  # a larger decision tree is written as the rows' code
    TREE_REGIONS = 64  # regions of one input's values a tree may tell apart

    def lookup(self, rule, table, values, ind: int, unique: bool = False) -> str | None:
        """The table's value as a lookup or a decision tree (``unique``: every matching
        row found, E809 for several), or None when it does not qualify. Its cells read
        constants only and raise nothing, so deciding them at generation time for each
        region of values changes nothing but the time; no row is E808, with the values
        the rows' code gives."""
        axes = self._axes(table)
        if axes is None:
            return None
        tested = sorted(axes)
        if len(tested) == 1 and axes[tested[0]].discrete and not unique:
            return self._dict_lookup(rule, table, values, ind, tested[0], axes[tested[0]])
        positions = {i.name: n for n, i in enumerate(table.inputs)}
        # each row: input position -> the regions its cell holds for (decided once, here)
        rows = [(row, {n: frozenset(r for r in axes[n].regions
                                    if _accepts(cells.of_test(test), axes[n].rep(r), self.params))
                       for n, test in ((positions[name], test) for name, test in row.tests.items()) if n in axes})
                for row in table.rows]
        leaves = [0]
        tree = self._decide(rows, {n: axes[n].regions for n in tested}, tested, axes, unique, leaves)
        if tree is None:
            return None
        out = self.temp()
        columns = ", ".join(table.inputs[n].name for n in tested)
        self.line(ind, f"# rows as a decision tree on {one_line(columns)} (every cell compares with constants)")
        self._emit_tree(tree, rule, table, values, axes, out, ind)
        return out

    def _axes(self, table) -> dict | None:
        """Input position -> its ``_Axis``, for every input some row tests; None when a
        cell compares with anything but constants, an outcome is not a constant, or an
        input's regions are too many to tell apart."""
        outcomes = [_constant_value(row.then, self.params) for row in table.rows]
        if not all(o is not None and o[0] is not None for o in outcomes):
            return None
        positions = {i.name: n for n, i in enumerate(table.inputs)}
        tested: dict = {}
        for row in table.rows:
            for name, test in row.tests.items():
                cell = cells.of_test(test)
                if isinstance(cell, cells.Always):
                    continue
                operands = [_constant_value(o, self.params) for o in cells.operands(cell)]
                if any(o is None for o in operands):
                    return None
                tested.setdefault(positions[name], []).append((cell, cells.operands(cell)))
        if not tested:
            return None
        out = {}
        for n, found in tested.items():
            axis = _Axis.of(self, table.inputs[n].expr.type, found)
            if axis is None or len(axis.regions) > self.TREE_REGIONS:
                return None
            out[n] = axis
        return out

    def _dict_lookup(self, rule, table, values, ind: int, n: int, axis) -> str:
        """One tested bool or enum input: a module-level dict from its values to the first
        matching row's outcome, one line per value."""
        name = self._tables.get(id(table))
        if name is None:
            name = self._tables[id(table)] = self._ident("LOOKUP_", rule.name)
            entries = []
            for v in axis.regions:
                row = next((r for r in table.rows if all(
                    _accepts(cells.of_test(test), v, self.params) for test in r.tests.values())), None)
                if row is not None:
                    entries.append((v, self.x(row.then, "e", 0), row))
            self._constants.append(f"# {rule.name}: {table.inputs[n].name} -> the outcome of the first matching row")
            self._constants.append(f"{name} = {{")
            for v, text, row in entries:
                self._constants.append(f"    {v!r}: {text},  # row {row.index}" + (f" ({one_line(row.id)})" if row.id else ""))
            self._constants.append("}")
        out = self.assign(ind, f"{name}.get({values[n]})", f"the first row matching {table.inputs[n].name}")
        self.line(ind, f"if {out} is None:")
        self.line(ind + 1, self._no_row(rule, table, values))
        return out

    def _decide(self, rows, possible: dict, tested: list, axes: dict, unique: bool, leaves: list):
        """``rows``: [(row, input position -> the regions its cell holds for)]. ("leaf",
        [matching rows]) or ("split", input position, [(regions, subtree)]):
        split on an input where a row still in play (the first, or for ``unique`` any)
        holds for some of the input's regions left and not others; a leaf when none does."""
        rows = [(row, c) for row, c in rows  # a row whose cell holds for none of an input's regions left is out
                if all(pos not in c or not c[pos].isdisjoint(possible[pos]) for pos in tested)]
        undecided = rows[:1] if not unique else rows
        for pos in tested:
            if not any(pos in c and not c[pos].issuperset(possible[pos]) for _, c in undecided):
                continue
            runs = []  # (the rows a region leaves in play, its regions): consecutive regions alike
            for r in possible[pos]:
                kept = tuple(i for i, (_, c) in enumerate(rows) if pos not in c or r in c[pos])
                if runs and runs[-1][0] == kept and not axes[pos].discrete:
                    runs[-1][1].append(r)
                else:
                    runs.append((kept, [r]))
            if axes[pos].discrete:  # values alike in one branch, the largest group first
                groups: dict = {}
                for kept, rs in runs:
                    groups.setdefault(kept, []).extend(rs)
                runs = sorted(groups.items(), key=lambda kv: -len(kv[1]))
            branches = []
            for kept, rs in runs:
                sub = self._decide([rows[i] for i in kept], {**possible, pos: tuple(rs)}, tested, axes, unique, leaves)
                if sub is None:
                    return None
                branches.append((tuple(rs), sub))
            outcomes = {_outcome_key(sub[1], self.params) if sub[0] == "one" else None for _, sub in branches}
            if len(outcomes) == 1 and None not in outcomes:  # one value whichever branch: no test
                return ("one", branches[0][1][1], [i for _, sub in branches for i in sub[2] if i])
            return ("split", pos, branches)
        leaves[0] += 1
        if leaves[0] > self.TREE_LEAVES:
            return None
        matched = [row for row, _ in (rows if unique else rows[:1])]
        return ("one", matched[0], [matched[0].index]) if len(matched) == 1 else ("leaf", matched)

    def _emit_tree(self, tree, rule, table, values, axes, out: str, ind: int) -> None:
        if tree[0] == "one":  # one matching row, or rows of one value (the branches merged)
            row, indices = tree[1], list(dict.fromkeys(tree[2]))
            which = f"row {row.index}" + (f" ({one_line(row.id)})" if row.id else "") if len(indices) == 1 else \
                "rows " + ", ".join(str(i) for i in indices)
            self.leaf(ind, out, row.then, "e", f"  # {which}")
            return
        if tree[0] == "leaf":
            matched = tree[1]
            if not matched:
                self.line(ind, self._no_row(rule, table, values))
            else:
                self.line(ind, f"raise several_rows({self.bind(rule, 'RULE_')}, {[r.index for r in matched]})")
            return
        _, pos, branches = tree
        axis, value, name = axes[pos], values[pos], table.inputs[pos].name
        for k, (regions, sub) in enumerate(branches):
            shown = f"{name} {axis.describe(regions)}"
            if k == len(branches) - 1:  # the regions left: every value of the input is in one
                self.line(ind, f"else:  # {shown}")
            else:
                self.line(ind, f"{'if' if k == 0 else 'elif'} {axis.test(self, value, regions)}:  # {shown}")
            self._emit_tree(sub, rule, table, values, axes, out, ind + 1)

    def _issues_in(self, table) -> bool:
        """Whether a cell of ``table`` reads a parameter with no usable value on the date."""
        return any(type(self.params.get(node.name)) is ParamIssue
                   for row in table.rows for test in row.tests.values() for node in t.walk(test)
                   if isinstance(node, t.TParam))

    def _split(self, table):
        """For a table whose cells compare with constants only: the input most rows test
        against literal values, and each row's literal values there (None: another cell).
        None when no input is worth splitting on."""
        if not all(self._constant_cells(row) for row in table.rows):
            return None
        best = None
        for n, tinput in enumerate(table.inputs):
            accepted = [_literal_values(row.tests.get(tinput.name)) for row in table.rows]
            distinct = {v for a in accepted if a is not None for v in a}
            score = sum(a is not None for a in accepted)
            if len(distinct) > 1 and (best is None or score > best[0]):
                best = (score, n, accepted)
        return None if best is None else best[1:]

    def _constant_cells(self, row) -> bool:
        return all(isinstance(o, t.TLit) or (isinstance(o, t.TParam) and type(self.params[o.name]) is not ParamIssue)
                   for test in row.tests.values() for o in cells.operands(cells.of_test(test)))

    def grouped(self, table, values, n: int, accepted: list) -> None:
        """The rows that match, in row order, testing only the rows that can match the
        split input's value: its cells compare with constants, so they cannot fail and
        skipping a row that cannot match changes nothing but the time."""
        order = []
        for a in accepted:
            for v in a or ():
                if v not in order:
                    order.append(v)
        name = table.inputs[n].name
        self.line(1, f"# rows grouped by {one_line(name)}'s value (every cell compares with constants)")
        for k, v in enumerate(order + [None]):
            self.line(1, "else:" if v is None else f"{'if' if k == 0 else 'elif'} {values[n]} == {self.constant(v)}:")
            rows = [(row, a) for row, a in zip(table.rows, accepted) if a is None or (v is not None and v in a)]
            if not rows:
                self.line(2, "pass")
            for row, a in rows:
                depth = self.match(row, table, values, 2, skip=name if a is not None else None)
                self.line(depth, f"hits.append({row.index})")

    def hit_priority(self, rule, table, values) -> None:
        rank = self.bind({v: i for i, v in enumerate(table.priority or [])}, "RANK_")
        self.line(1, "best, best_rank = None, None")
        for row in table.rows:
            depth = self.match(row, table, values, 1)
            out = self.x(row.then, "e", depth)
            self.line(depth, f"r = {rank}.get({out}, {len(table.priority or [])})")
            self.line(depth, "if best_rank is None or r < best_rank:")
            self.line(depth + 1, f"best, best_rank = {out}, r")
        self.line(1, "if best_rank is None:")
        self.line(2, self._no_row(rule, table, values))
        self.line(1, "return best")

    def hit_collect(self, rule, table, values) -> None:
        self.line(1, "outs = []")
        for row in table.rows:
            depth = self.match(row, table, values, 1)
            self.line(depth, f"outs.append({self.x(row.then, 'e', depth)})")
        self.line(1, f"return collect[{table.aggregate!r}](outs, {self.bind(rule, 'RULE_')})")

    # --- cells (core/cells.py): an expression over ``value``, statements emitted first

    def cell(self, cell, value: str, env: str, ind: int) -> str:
        if isinstance(cell, cells.Always):
            return "True"
        if isinstance(cell, cells.Negated):
            return f"{_inline(UNARY['not'].py, 'not')}({self.cell(cell.inner, value, env, ind)})"
        if isinstance(cell, cells.Compare):
            other = self.x(cell.operand, env, ind)
            return self.compare(cell.op, value, other)
        if isinstance(cell, cells.Member):
            return self.member(cell, value, env, ind)
        lo, hi = self.x(cell.lo, env, ind), self.x(cell.hi, env, ind)  # both bounds are read
        return f"({self.compare(cell.lo_op, value, lo)} and {self.compare(cell.hi_op, value, hi)})"

    def member(self, cell, value: str, env: str, ind: int) -> str:
        literal = cells.literal_members(cell)
        if literal is not None:
            return f"({value} in {self.constant(literal)})"
        found = self.temp()
        self.line(ind, f"{found} = False")
        for n, item in enumerate(cell.items):  # read in order until one equals the value
            got = self.x(item, env, ind)
            self.line(ind, f"if {got} == {value}:")
            self.line(ind + 1, f"{found} = True")
            if n < len(cell.items) - 1:
                self.line(ind, "else:")
                ind += 1
        return found

    def compare(self, op: str, left: str, right: str) -> str:
        meaning = COMPARISONS[op].py
        return f"({left} {_inline(meaning, op)} {right})"

    # --- expressions: statements at ``ind``, the value as an atom

    def x(self, node, env: str, ind: int) -> str:
        """Emit the statements computing ``node`` on instance ``env``; its value's source."""
        return getattr(self, "x_" + type(node).__name__)(node, env, ind)

    def leaf(self, ind: int, out: str, node, env, note: str = "") -> None:
        """``out = <node's value>`` at a leaf (a row of a table written as a chain or a
        tree, a branch of an ``if``: each gives ``out`` its value), noted with its line so
        that a sum adding ``out`` may add at the leaves instead (``_leaves_add``): the
        constant's source, or None where the value is not one."""
        value = self.x(node, env, ind)
        self.line(ind, f"{out} = {value}{note}")
        constant = value if _constant_value(node, self.params) is not None else None
        self._leaves.setdefault(out, []).append((len(self.lines) - 1, ind, constant, note))

    def assign(self, ind: int, text: str, note: str = "") -> str:
        out = self.temp()
        self.line(ind, f"{out} = {text}" + (f"  # {one_line(note)}" if note else ""))
        return out

    def x_TLit(self, node, env, ind):
        return self.constant(node.value)

    def x_TField(self, node, env, ind):
        facts = env.facts if isinstance(env, Raw) else self.facts_of(env)
        if node.has_absent:
            out = self.assign(ind, f"{facts}.get({node.name!r})")
            self.line(ind, f"if {out} is None:")
            self.line(ind + 1, f"{out} = {self.constant(node.when_absent)}")
        else:
            out = self.assign(ind, self.read(facts, node.name))
            self.line(ind, f"if {out} is None:")
            self.line(ind + 1, f"raise Missing({node.name!r})")
        return out

    @staticmethod
    def read(facts: str, name: str) -> str:
        """A fact with no value when absent, read by subscript: an absent one raises
        KeyError, which every caller of the generated code takes for ``Missing``
        (scalar/generated.py ``MISSING``); a present None still raises Missing below
        the read. ``f[k]`` costs about half of ``f.get(k)`` (no method call)."""
        return f"{facts}[{name!r}]"

    def _inlined(self, node, ind):
        """``node`` followed through the rules without a table inlined at their only use
        (a comment for each): the expression to write in their place."""
        while isinstance(node, t.TRule) and node.name in self.once:
            rule = self.checked.rules[node.name]
            if rule.table is not None or not self._inlinable(rule):
                break
            self.line(ind, f"# {node.name} (inlined, its only use)")
            node = rule.expr
        return node

    def x_TRule(self, node, env, ind):
        if node.name in self.once:
            # The rule's only use: nothing to share, so no cache (its value is the same
            # whether kept or computed again; caching only saves time).
            rule = self.checked.rules[node.name]
            if self._inlinable(rule):
                self.line(ind, f"# {node.name} (inlined, its only use)")
                return self.x(rule.expr, env, ind) if rule.table is None else self.chain(rule, env, ind)
            assert not isinstance(env, Raw), "a loop over raw facts calls no rule function"
            return self.assign(ind, f"{self.functions[node.name]}({self.instance(env)})")
        cache = "c" if self.instance(env) == "e" and self._cache_local else f"{env}.c"
        held = self._held.get(node.name) if cache == "c" else None
        if held is not None:  # an earlier output's local: the cache's value, or None if it has none
            self.line(ind, f"if {held} is None:")
            self.line(ind + 1, f"{held} = c[{node.name!r}] = {self.functions[node.name]}(e)")
            return held
        out = self.assign(ind, f"{cache}.get({node.name!r})")
        self.line(ind, f"if {out} is None:")
        self.line(ind + 1, f"{out} = {cache}[{node.name!r}] = {self.functions[node.name]}({env})")
        return out

    def x_TParam(self, node, env, ind):
        return self.param(node.name, ind)

    def x_TUp(self, node, env, ind):
        if isinstance(env, Raw):  # a child's parent is the instance the loop runs on
            held = env.hoisted.get(node.target.name) if node.levels == 1 and isinstance(node.target, t.TField) else None
            if held is not None:  # read once before the loop; still unknown only where a child reads it
                if not node.target.has_absent and node.target.name not in env.checked:
                    self.line(ind, f"if {held} is None:")
                    self.line(ind + 1, f"raise Missing({node.target.name!r})")
                return held
            if node.levels == 1:
                return self.x(node.target, env.parent, ind)
            above = self.assign(ind, f"up({self.instance(env.parent)}, {node.levels - 1})")
            return self.x(node.target, above, ind)
        env = self.instance(env)
        above = self.assign(ind, f"{env}.p or up({env}, 1)" if node.levels == 1 else f"up({env}, {node.levels})")
        return self.x(node.target, above, ind)

    def x_TNeg(self, node, env, ind):
        value = self.x(node.operand, env, ind)
        return self.assign(ind, f"{_inline(UNARY['-'].py, '-')}{value}")

    def x_TNot(self, node, env, ind):
        value = self.x(node.operand, env, ind)
        return self.assign(ind, f"{_inline(UNARY['not'].py, 'not')}{value}")

    def x_TAnd(self, node, env, ind):
        return self.logic(node.items, env, ind, "if {}:")

    def x_TOr(self, node, env, ind):
        return self.logic(node.items, env, ind, "if not {}:")

    def logic(self, items, env, ind, go_on: str) -> str:
        """``and``/``or`` over known truth values: stop at the first deciding item. The
        result starts as the deciding value (``False`` for ``and``); the last item, when
        every earlier one let evaluation go on, gives it."""
        out = self.temp()
        self.line(ind, f"{out} = {'False' if go_on == 'if {}:' else 'True'}")
        for item in items[:-1]:
            self.line(ind, go_on.format(self.cond(item, env, ind)))
            ind += 1
        self.line(ind, f"{out} = {self.x(items[-1], env, ind)}")
        return out

    def x_TArith(self, node, env, ind):
        acc = self.x(node.operands[0], env, ind)
        where = self.bind(node, "N")
        for op, operand, step in zip(node.ops, node.operands[1:], node.steps):
            right = self.x(operand, env, ind)
            fn = ARITHMETIC[op].py.__name__
            acc = self.assign(ind, f"{fn}({acc}, {right}, {step.kind!r}, {where})", f"{op} in {node.text}")
        return acc

    def x_TCompare(self, node, env, ind):
        out = self.temp()
        left = self.x(node.operands[0], env, ind)
        if len(node.ops) > 1 and self._constant_chain(node):
            # later operands are constants: Python's own chain stops where the closures do
            chain = self.x(node.operands[1], env, ind)
            for op, operand in zip(node.ops[1:], node.operands[2:]):
                chain += f" {_inline(COMPARISONS[op].py, op)} {self.x(operand, env, ind)}"
            self.line(ind, f"{out} = ({left} {_inline(COMPARISONS[node.ops[0]].py, node.ops[0])} {chain})")
            return out
        last = len(node.ops) - 1
        for n, (op, operand) in enumerate(zip(node.ops, node.operands[1:])):
            right = self.x(operand, env, ind)
            self.line(ind, f"{out} = {self.compare(op, left, right)}")
            if n < last:  # a chain stops at its first false link
                self.line(ind, f"if {out}:")
                ind += 1
            left = right
        return out

    def cond(self, node, env, ind) -> str:
        """``node``'s truth value where it is read once, as the test of an ``if``: a
        comparison (one operator, or a chain whose later operands are constants) or a
        membership is written into the test instead of into a temporary read once
        (through rules inlined at their only use); any other node as ``x`` writes it."""
        node = self._inlined(node, ind)
        if isinstance(node, t.TCompare) and (len(node.ops) == 1 or self._constant_chain(node)):
            left = self.x(node.operands[0], env, ind)
            if len(node.ops) == 1:
                return self.compare(node.ops[0], left, self.x(node.operands[1], env, ind))
            chain = self.x(node.operands[1], env, ind)
            for op, operand in zip(node.ops[1:], node.operands[2:]):
                chain += f" {_inline(COMPARISONS[op].py, op)} {self.x(operand, env, ind)}"
            return f"({left} {_inline(COMPARISONS[node.ops[0]].py, node.ops[0])} {chain})"
        if isinstance(node, t.TIn):
            subject = self.x(node.subject, env, ind)
            self.line(ind, f"# {one_line(node.text)}")
            return self.cell(cells.of_in(node), subject, env, ind)
        return self.x(node, env, ind)

    def _constant_chain(self, node) -> bool:
        """A comparison chain whose operands after the second are constants: Python's
        own chain then stops where the closures do."""
        return all(_constant_value(o, self.params) for o in node.operands[2:])

    def x_TIn(self, node, env, ind):
        subject = self.x(node.subject, env, ind)
        return self.assign(ind, self.cell(cells.of_in(node), subject, env, ind), node.text)

    def x_TIf(self, node, env, ind):
        cond = self.cond(node.cond, env, ind)
        out = self.temp()
        self.line(ind, f"if {cond}:")
        self.leaf(ind + 1, out, node.then, env)
        self.line(ind, "else:")
        self.leaf(ind + 1, out, node.else_, env)
        return out

    def x_TCall(self, node, env, ind):
        FUNCTIONS[node.fn]  # a known function (its meaning is bound as fn_<name>)
        args = [self.x(a, env, ind) for a in node.args]
        return self.assign(ind, f"fn_{node.fn}({', '.join(args)})")

    # --- aggregates over children: one loop each (scalar/aggregate.py)

    def x_TAgg(self, node, env, ind):
        if self._reads_facts_only([node.where, node.of]):
            # No child needs an instance (no rule function, no aggregate below): the loop
            # runs over the children's facts, their parent being ``env``.
            kids = self.children_list(node.field, env, ind, node.text)
            child = Raw(self.temp("c"), env)
            self.hoist(node, env, ind, child.hoisted, child.checked)
        else:
            kids = self.assign(ind, f"children({self.instance(env)}, {node.field!r})", node.text)
            child = self.temp("c")
        if node.fn == "count" and node.where is None:
            return self.assign(ind, f"len({kids})")
        out = self.temp()
        start = {"count": "0", "any": "False", "all": "True", "min": "None", "max": "None",
                 "sum": "0" if node.type.kind == "integer" else self.constant(decimal.Decimal(0))}[node.fn]
        self.line(ind, f"{out} = {start}")
        self.line(ind, f"for {child.facts if isinstance(child, Raw) else child} in {kids}:")
        body = ind + 1
        if node.where is not None:
            keep = self.cond(node.where, child, body)
            self.line(body, f"if not {keep}:")
            self.line(body + 1, "continue")
        if node.fn == "count":
            self.line(body, f"{out} += 1")
            return out
        if node.fn == "sum":
            self._lens[out] = kids
            self.sum_term(node, out, child, body)
            self._sum_bound(node, out, body)
            return out
        value = self.cond(node.of, child, body) if node.fn in ("any", "all") else self.x(node.of, child, body)
        getattr(self, "agg_" + node.fn)(node, out, value, body)
        return out

    def children_list(self, field: str, env: str, ind: int, note: str = "") -> str:
        """The local holding the list of children's facts in ``field`` of instance ``env``
        (Missing if it has none)."""
        kids = self.assign(ind, self.read(self.facts_of(env), field), note)
        self.line(ind, f"if {kids} is None:")
        self.line(ind + 1, f"raise Missing({field!r})")
        return kids

    def hoist(self, node, env: str, ind: int, out: dict | None = None, checked: set | None = None) -> dict:
        """The parent's facts that the children of a loop over facts read (``household.x``
        in a member rule), read once before the loop: field name -> local name. Reading a
        dict raises nothing, so only where a child reads it does a missing one raise
        Missing, as before (with no child, never); a field with a value when absent takes
        it here. ``out``: the reads of an earlier loop sharing this one (Writer.fused_sums);
        ``checked``: where the fields known to be known go (``hoist_field``)."""
        out = {} if out is None else out
        checked = set() if checked is None else checked
        stack = [r for r in (node.where, node.of) if r is not None]
        while stack:  # the roots and the rules inlined in them (_reads_facts_only's walk)
            item = stack.pop()
            if isinstance(item, t.TUp) and item.levels == 1 and isinstance(item.target, t.TField):
                if item.target.name not in out:
                    out[item.target.name] = self.hoist_field(item.target, env, ind, checked)
                continue
            if isinstance(item, t.TUp):  # another instance's reads: not this loop's parent's facts
                continue
            if isinstance(item, t.TRule):  # a child rule inlined in the loop
                stack.extend(self.checked.rules[item.name].roots())
            stack.extend(t.subnodes(item))
        return out

    def hoist_field(self, field, env: str, ind: int, checked: set) -> str:
        """A parent's field read once before a loop over its children (``hoist``): the
        local holding it, None there where it is unknown (a child that reads it tests it;
        ``checked`` takes the fields tested here already: none)."""
        held = self.assign(ind, f"{self.facts_of(env)}.get({field.name!r})",
                           f"{field.entity}.{field.name}, read once for every child")
        if field.has_absent:
            self.line(ind, f"if {held} is None:")
            self.line(ind + 1, f"{held} = {self.constant(field.when_absent)}")
        return held

    def instance(self, env: str) -> str:
        """How code names the instance ``env`` itself (not its facts): a call of a rule
        function, a cache, a parent, child instances. (The known-facts function has no
        instance: its writer refuses, scalar/knowngen.py.)"""
        return env

    def facts_of(self, env: str) -> str:
        """How code reads an instance's facts: the function's own (``e``) as the local ``f``."""
        if env == "e":
            if self._def_at not in self._facts_local:
                self._facts_local.append(self._def_at)
            return "f"
        return f"{env}.f"

    def _reads_facts_only(self, roots) -> bool:
        """Whether ``roots`` read only fields, parameters and inlined rules (no cache,
        no rule function, no aggregate): then they need no child instance."""
        stack = [r for r in roots if r is not None]
        while stack:
            node = stack.pop()
            if isinstance(node, t.TAgg):
                return False
            if isinstance(node, t.TRule):
                rule = self.checked.rules[node.name]
                if node.name not in self.once or not self._inlinable(rule):
                    return False
                stack.extend(rule.roots())
            stack.extend(t.subnodes(node))
        return True

    def sum_term(self, node, out, env, ind):
        """One child's term of sum ``node`` added to its total ``out``. A term
        ``如果 c 则 x 否则 0`` (through rules inlined at their only use) whose zero is the
        one the total starts from adds nothing when ``c`` fails, so it is written
        ``if c: out += x``: the add the zero would have skipped (``_sum_add``) is not
        written at all."""
        term = self._inlined(node.of, ind)
        if isinstance(term, t.TIf) and self._start_zero(node, term.else_):
            self.line(ind, f"if {self.cond(term.cond, env, ind)}:  # else the zero the total starts from")
            self._sum_add(node, out, self.x(term.then, env, ind + 1), ind + 1)
            return
        value = self.x(term, env, ind)
        if not self._leaves_add(node, out, value):
            self._sum_add(node, out, value, ind)

    def _leaves_add(self, node, out: str, value: str) -> bool:
        """A term whose value is given at leaves (``leaf``: a table inlined as a tree or a
        chain of rows, an ``if``), each a constant: each leaf becomes the add ``_sum_add``
        would do with that constant, decided here (the start's zero: ``pass``; any other:
        ``out += constant``), and the term's local is gone. False (nothing changed) when
        a leaf's value is not a constant named at module level (a parameter, a ``K``
        constant) or, in a sum of integers, an int literal."""
        leaves = self._leaves.get(value)
        if not leaves:
            return False
        integer = node.type.kind == "integer"
        for _, _, constant, _ in leaves:
            named = constant is not None and constant.isidentifier() and constant not in ("True", "False", "None")
            if not (named or (integer and constant is not None and constant.lstrip("-").isdigit())):
                return False
        zero = "0" if integer else self.constant(decimal.Decimal(0))
        for at, ind, constant, note in leaves:
            self.lines[at] = "    " * ind + (f"pass{note}" if constant == zero else f"{out} += {constant}{note}")
        return True

    @staticmethod
    def _start_zero(node, value) -> bool:
        """Whether ``value`` is a literal equal to the start of sum ``node``, digits and
        type included (so adding it changes nothing: the total is that same zero or a
        sum that already took its exponent)."""
        if not isinstance(value, t.TLit):
            return False
        if node.type.kind == "integer":
            return type(value.value) is int and value.value == 0
        return type(value.value) is decimal.Decimal and repr(value.value) == repr(decimal.Decimal(0))

    def _sum_add(self, node, out, value, body):
        """Add one term of a sum to its total ``out``."""
        if node.type.kind == "integer" or value in self._params_read.values():
            # (a parameter's module constant is never the very zero the total starts from)
            self.line(body, f"{out} += {value}")
        else:
            # Adding the zero the total starts from (this very object) changes neither its
            # value nor its digits: the total's exponent is never above 0 (it starts at 0,
            # and a sum takes the smaller one), it is never -0 (a sum reaching zero is +0),
            # and its digits are a sum's (within the context's precision): skipped.
            self.line(body, f"if {value} is not {self.constant(decimal.Decimal(0))}:")
            self.line(body + 1, f"{out} += {value}")

    def _sum_bound(self, node, out, body):
        """After the loop (``body`` is its body's indent): E720 for a total beyond the bound."""
        # bounded() returns a total within its bound unchanged: called only for one beyond
        # it, which is E720 (core/operators.py; LIMIT is its bound). A Decimal total is
        # compared with the bound as a Decimal: as exact, and much faster than with an int.
        if node.type.kind == "integer":
            low, high = "-LIMIT", "LIMIT"
        else:
            low, high = self.constant(-decimal.Decimal(LIMIT)), self.constant(decimal.Decimal(LIMIT))
        kids, most = self._lens.get(out), self._term_bound(node)
        if kids is not None and most is not None:
            # Every term is one of a few constants, at most ``most`` from zero: the total
            # of n terms is within n × most of it, so within the bound for n up to half of
            # LIMIT / most (the half leaves room for any rounding of the context): only
            # beyond that many terms is it compared with the bound (one int comparison).
            if most == 0:
                return  # zeros only: the total is zero
            self.line(body - 1, f"if len({kids}) > {LIMIT // (2 * most)} and not {low} <= {out} <= {high}:")
        else:
            self.line(body - 1, f"if not {low} <= {out} <= {high}:")
        self.line(body, f"bounded({out}, {self.bind(node, 'N')})")

    def _term_bound(self, node):
        """The largest distance from zero of any term sum ``node`` can add, when every
        term is a constant (a literal, a parameter with a value on the date, an ``if``
        of those, a negation, a rule inlined at its only use whose table's outcomes are
        those), as a ``Fraction``; else None."""
        stack, most = [node.of], fractions.Fraction(0)
        while stack:
            term = stack.pop()
            found = _constant_value(term, self.params)
            rule = self.checked.rules[term.name] if isinstance(term, t.TRule) and term.name in self.once else None
            if found is not None:
                value = found[0]
                if type(value) is not int and not (type(value) is decimal.Decimal and value.is_finite()):
                    return None
                most = max(most, abs(fractions.Fraction(value)))
            elif isinstance(term, t.TIf):
                stack += [term.then, term.else_]
            elif isinstance(term, t.TNeg):  # as far from zero as its operand
                stack.append(term.operand)
            elif rule is not None and not rule.exceptions and rule.table is None:
                stack.append(rule.expr)
            elif rule is not None and not rule.exceptions and rule.table.hit in ("first", "unique"):
                stack += [row.then for row in rule.table.rows]  # one row's outcome (or no value)
            else:
                return None
        return most

    def agg_any(self, node, out, value, body):
        self.line(body, f"if {value}:")
        self.line(body + 1, f"{out} = True")
        self.line(body + 1, "break")

    def agg_all(self, node, out, value, body):
        self.line(body, f"if not {value}:")
        self.line(body + 1, f"{out} = False")
        self.line(body + 1, "break")

    def agg_min(self, node, out, value, body):
        self._extreme(node, out, value, body)

    def agg_max(self, node, out, value, body):
        self._extreme(node, out, value, body)

    def _extreme(self, node, out, value, body):
        self.line(body, f"{out} = {value} if {out} is None else fn_{node.fn}({out}, {value})")
        self.line(body - 1, f"if {out} is None:")
        self.line(body, f"raise no_children({self.bind(node, 'N')})")


class Raw:
    """A child in a loop over facts: ``facts`` names its facts dict, ``parent`` the
    instance it belongs to (the generated code makes no instance for it)."""

    def __init__(self, facts: str, parent: str):
        self.facts, self.parent = facts, parent
        self.hoisted: dict = {}  # the parent's fields read once before the loop (Writer.hoist)
        self.checked: set = set()  # those of them already tested there (known-facts function)


def _constant_value(node, params):
    """``(value,)`` when ``node`` is a literal or a parameter with a value on the date."""
    if isinstance(node, t.TLit):
        return (node.value,)
    if isinstance(node, t.TParam) and type(params[node.name]) is not ParamIssue:
        return (params[node.name],)
    return None


def _literal_values(test):
    """The literal values a cell accepts when it is ``== literal`` or a set of literals."""
    if test is None:
        return None
    cell = cells.of_test(test)
    if isinstance(cell, cells.Compare) and cell.op == "==" and isinstance(cell.operand, t.TLit):
        return (cell.operand.value,)
    if isinstance(cell, cells.Member) and cells.literal_members(cell) is not None:
        return tuple(i.value for i in cell.items)
    return None


def _accepts(cell, value, params) -> bool:
    """Whether a cell whose operands are constants holds for a known ``value``: the
    meaning of the generated tests (core/operators.py's comparisons, membership by
    equality, both bounds of an interval)."""
    if isinstance(cell, cells.Always):
        return True
    if isinstance(cell, cells.Negated):
        return not _accepts(cell.inner, value, params)
    if isinstance(cell, cells.Compare):
        return bool(COMPARISONS[cell.op].py(value, _constant_value(cell.operand, params)[0]))
    if isinstance(cell, cells.Member):
        return any(value == _constant_value(i, params)[0] for i in cell.items)
    lo, hi = _constant_value(cell.lo, params)[0], _constant_value(cell.hi, params)[0]
    return bool(COMPARISONS[cell.lo_op].py(value, lo)) and bool(COMPARISONS[cell.hi_op].py(value, hi))


def _outcome_key(row, params):
    """A row's constant outcome, compared by type and digits (Decimal 1 is not 1.00)."""
    value = _constant_value(row.then, params)[0]
    return type(value), repr(value)


class _Axis:
    """The regions of one table input's values that its cells cannot tell apart: each
    value of a bool or enum type, or for a number or a date the points its cells compare
    with and the open intervals between them (regions 0, 1, 2, …: below the first
    point, the first point, between the first two, …)."""

    ORDERED = ("integer", "money", "decimal", "ratio", "date")

    def __init__(self, discrete: bool, regions: tuple, points: list = (), texts: list = (), kind: str = ""):
        self.discrete, self.regions, self.points, self.texts, self.kind = discrete, regions, points, texts, kind

    @classmethod
    def of(cls, writer, rtype, found: list):
        """The axis of an input of type ``rtype`` tested by ``found`` [(cell, operands)]."""
        values = exact.type_values(writer.checked, rtype)
        if values is not None:
            return cls(True, tuple(values))
        if rtype.kind not in cls.ORDERED:
            return None
        by_value: dict = {}
        for _, operands in found:
            for o in operands:
                v = _constant_value(o, writer.params)[0]
                if rtype.kind == "date" and not isinstance(v, datetime.date):
                    return None
                if v not in by_value:
                    by_value[v] = writer.x(o, "e", 0)
        points = sorted(by_value)
        if rtype.kind == "integer" and not all(type(v) is int for v in points):
            return None  # an integer between two fractional points would have no region
        axis = cls(False, (), points, [by_value[v] for v in points], rtype.kind)
        axis.regions = tuple(r for r in range(2 * len(points) + 1) if axis.rep(r) is not None)
        return axis

    def rep(self, region):
        """A value in ``region`` (its value, for a bool or enum); None if it has none."""
        if self.discrete:
            return region
        points = self.points
        if region % 2:
            return points[region // 2]
        k = region // 2
        step = datetime.timedelta(days=1) if self.kind == "date" else 1
        if k == 0:
            return points[0] - step
        if k == len(points):
            return points[-1] + step
        lo, hi = points[k - 1], points[k]
        if self.kind in ("integer", "date"):
            return lo + step if lo + step < hi else None
        return (decimal.Decimal(lo) + decimal.Decimal(hi)) / 2

    def test(self, writer, value: str, regions) -> str:
        """The condition of a branch; for a number or a date the branches come in
        increasing order, so only the upper end of a run of regions is tested."""
        if not self.discrete:
            last = regions[-1]
            return f"{value} {'<=' if last % 2 else '<'} {self.texts[last // 2]}"
        if regions == (True,):
            return value
        if regions == (False,):
            return f"not {value}"
        if len(regions) == 1:
            return f"{value} == {writer.constant(regions[0])}"
        return f"{value} in {writer.constant(frozenset(regions))}"

    def describe(self, regions) -> str:
        if self.discrete:
            return f"in {{{', '.join(str(v) for v in regions)}}}"
        first, last = regions[0], regions[-1]
        if first == 0:
            lo = "(-inf"
        else:  # a point is closed; an open interval starts after the point below it
            lo = "[" + self.texts[first // 2] if first % 2 else "(" + self.texts[first // 2 - 1]
        hi = "inf)" if last == 2 * len(self.points) else self.texts[last // 2] + ("]" if last % 2 else ")")
        return f"in {lo}, {hi}"


def _uses(checked, same_entity: bool = False) -> dict:
    """How many places in the policy read each rule (``same_entity``: only the places in
    rules of the rule's own entity)."""
    uses: dict = {}
    for rule in checked.rules.values():
        for root in rule.roots():
            for node in t.walk(root):
                if isinstance(node, t.TRule) and (not same_entity or checked.rules[node.name].entity == rule.entity):
                    uses[node.name] = uses.get(node.name, 0) + 1
    return uses


def _cone(checked, name: str) -> set:
    """The rules ``name`` reads, directly or through others, and itself: those an
    evaluation of it may leave in a cache (a superset: any entity)."""
    out, stack = set(), [name]
    while stack:
        found = stack.pop()
        if found in out:
            continue
        out.add(found)
        for root in checked.rules[found].roots():
            stack.extend(node.name for node in t.walk(root) if isinstance(node, t.TRule))
    return out


def _inline(meaning, symbol: str) -> str:
    """``symbol`` when core/operators.py's meaning is that Python operator itself."""
    if _INLINE.get(meaning) != (symbol if symbol != "not" else "not "):
        raise ValueError(f"the meaning of {symbol} is not Python's operator; generate a call instead")
    return _INLINE[meaning]
