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
import itertools
import keyword
import operator
import unicodedata

from ...dsl import typed as t
from ..core import cells, exact
from ..core.operators import ARITHMETIC, COMPARISONS, FUNCTIONS, UNARY
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
    source = "\n".join(writer.lines) + "\n"
    return Generated(source, writer.bindings, writer.functions, writer.outputs_functions,
                     f"<fupin:{checked.variant}:{day.isoformat()}>")


def _one_line(text) -> str:
    return " ".join(str(text).split())


def _source_literal(value) -> str | None:
    """``value`` as Python source when its repr reads back as exactly itself, else None."""
    if type(value) in (bool, int, str) or value is None:
        return repr(value)
    text = repr(value)
    try:
        back = eval(text, dict(_REPR_SCOPE))  # noqa: S307 — the repr of a value we hold
    except Exception:  # noqa: BLE001 — not readable back: bound as an object instead
        return None
    return text if type(back) is type(value) and back == value and repr(back) == text else None


class Writer:
    """Writes the module's lines; ``bindings`` are the objects it names (typed nodes for
    error locations, rules, tables), ``functions`` maps rule names to function names."""

    def __init__(self, checked, params: dict):
        self.checked, self.params = checked, params
        self.lines: list[str] = []
        self.bindings: dict = {}
        self.functions: dict = {}
        self._bound: dict = {}
        self._count = 0
        self._used: set = set()
        self._constants: list[str] = []
        self._params_read: dict = {}  # parameter name -> its module-level name
        self.outputs_functions: dict = {}  # entity -> its outputs function
        self._tables: dict = {}  # id(table) -> the name of its lookup dict (Writer.lookup)
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
        self._count += 1
        return f"{stem}{self._count}"

    def bind(self, value, stem: str) -> str:
        """A module-level name for an object the code passes on (bound once)."""
        key = id(value)
        if key not in self._bound:
            name = self._ident(stem, str(len(self._bound) + 1))
            self._bound[key] = name
            self.bindings[name] = value
        return self._bound[key]

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

    def line(self, indent: int, text: str) -> None:
        self.lines.append("    " * indent + text)

    # --- the module

    def module(self, day, starts: dict) -> None:
        """Header, dated parameters, then one function per rule (declaration order)."""
        body_start = len(self.lines)
        for name, rule in self.checked.rules.items():
            self.rule(rule)
        for entity in self.checked.entities:
            self.outputs(entity)
        body = self.lines[body_start:]
        self.lines = [f"# Generated by fupin (engine/scalar/codegen.py): policy variant "
                      f"{self.checked.variant or 'base'}, parameters in force on {day.isoformat()}.",
                      "# Known facts only: an unknown value raises Missing and the closure evaluator decides.",
                      "", "# --- parameters"]
        self.lines += self._param_lines(starts) + ["", "# --- constants"] + self._constants + [""] + body

    def _param_lines(self, starts: dict) -> list[str]:
        out = []
        for name in sorted(self._params_read):
            value, var = self.params[name], self._params_read[name]
            p = self.checked.params[name]
            label = _one_line(p.labels.zh) if p.labels else name
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
        labels = f" — {_one_line(rule.labels.zh)}" + (f" / {_one_line(rule.labels.en)}" if rule.labels.en else "") \
            if rule.labels else ""
        self.line(0, "")
        self.line(0, f"# {rule.name}{labels}")
        where = _one_line(f"{rule.span.file}:{rule.span.line}" if rule.span else rule.origin)
        self.line(0, f"# source: {', '.join(str(s) for s in rule.sources) or '-'} ({where})")
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

    def outputs(self, entity: str) -> None:
        """``outputs_<entity>(e, values, errors, missing)``: every output of the entity in
        order (scalar/program.py's loop, unrolled): its value, its error (the diagnostic),
        or its name in ``missing`` (then None) for the closures to compute."""
        names = [n for n, r in self.checked.rules.items() if r.entity == entity and not r.internal]
        if not names:
            return
        fn = self._ident("outputs_", entity)
        self.outputs_functions[entity] = fn
        self.line(0, "")
        self.line(0, f"# every output of {entity}, in declaration order")
        self.line(0, f"def {fn}(e, values, errors, missing):")
        if any(name in self.shared for name in names):
            self.line(1, "c = e.c")
        for name in names:
            self.line(1, "try:")
            if name in self.shared:  # other rules read it through the cache
                self.line(2, f"v = c.get({name!r})")
                self.line(2, "if v is None:")
                self.line(3, f"v = c[{name!r}] = {self.functions[name]}(e)")
                self.line(2, f"values[{name!r}] = v")
            else:
                self.line(2, f"values[{name!r}] = {self.functions[name]}(e)")
            self.line(1, "except Missing:")
            self.line(2, f"values[{name!r}] = None")
            self.line(2, f"missing.append({name!r})")
            self.line(1, "except EvalError as exc:")
            self.line(2, f"values[{name!r}] = None")
            self.line(2, f"errors[{name!r}] = exc.diagnostic")

    def exceptions(self, rule, base: str) -> None:
        """Every exception's condition first, then the values of those that hold
        (scalar/tables.py ``_with_exceptions``); none: the base; two values: E805."""
        conditions = [self.x(exc.when, "e", 1) for exc in rule.exceptions]
        self.line(1, "held, ids = [], []")
        for exc, cond in zip(rule.exceptions, conditions):
            self.line(1, f"if {cond}:  # exception {exc.id}: {_one_line(exc.when.text)}")
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
        self.line(ind, f"# row {row.index}" + (f" ({row.id})" if row.id else "")
                  + (f": {', '.join(str(s) for s in row.sources)}" if row.sources else ""))
        for name, test in row.tests.items():
            if name == skip:  # the enclosing test already holds for this row's cell
                continue
            cond = self.cell(cells.of_test(test), values[positions[name]], "e", ind)
            if cond != "True":
                self.line(ind, f"if {cond}:  # {name} {_one_line(test.text)}")
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
            self.line(ind, f"{'if' if n == 0 else 'elif'} {cond}:  # row {row.index}" + (f" ({row.id})" if row.id else ""))
            self.line(ind + 1, f"{out} = {self.x(row.then, env, ind + 1)}")
        self.line(ind, "else:")
        self.line(ind + 1, self._no_row(rule, table, values))
        return out

    # --- a table decided by its first matching row, every cell a literal test of a bool
    # or enum input, every outcome a constant: one dict lookup on the tested inputs

    LOOKUP_MAX = 512  # combinations of the tested inputs' values a lookup may list

    def lookup(self, rule, table, values, ind: int) -> str | None:
        """The value of a first-hit (or proven unique) table as a lookup in a module-level
        dict from the tested inputs' values to the first matching row's outcome, or None
        when the table does not qualify. Its cells read nothing and raise nothing, so
        testing them all at once changes nothing but the time; a combination no row
        matches is absent, and raises E808 with the same values as the rows would."""
        plan = self._lookup_plan(table)
        if plan is None:
            return None
        if len(plan[0]) > 1:
            return self.decision_tree(rule, table, values, ind, *plan)
        name = self._tables.get(id(table))
        if name is None:
            name = self._tables[id(table)] = self._lookup_constant(rule, table, *plan)
        keyed = plan[0]
        key = values[keyed[0]] if len(keyed) == 1 else f"({', '.join(values[n] for n in keyed)})"
        columns = ", ".join(table.inputs[n].name for n in keyed)
        out = self.assign(ind, f"{name}.get({key})", f"the first row matching {columns}")
        self.line(ind, f"if {out} is None:")
        self.line(ind + 1, self._no_row(rule, table, values))
        return out

    TREE_LEAVES = 64  # a larger decision tree is written as the rows' if/elif chain

    def decision_tree(self, rule, table, values, ind: int, tested: list, domains: list) -> str | None:
        """A table of several tested inputs (``lookup``'s kind) as nested ``if``s: each
        test splits the values an input can still have into groups that leave the same
        rows in play, until the first row in play holds for all of them (its outcome) or
        none is left (E808). Every input is tested at most once on a path, where the
        rows' chain tests the same cell again for each row. None if it grows too large."""
        positions = {i.name: n for n, i in enumerate(table.inputs)}
        rows = [(row, {positions[name]: cells.of_test(test) for name, test in row.tests.items()})
                for row in table.rows]
        leaves = [0]
        tree = self._decide(rows, dict(zip(tested, domains)), tested, leaves)
        if tree is None:
            return None
        out = self.temp()
        columns = ", ".join(table.inputs[n].name for n in tested)
        self.line(ind, f"# rows as a decision tree on {columns} (every cell tests a literal)")
        self._emit_tree(tree, rule, table, values, out, ind)
        return out

    def _decide(self, rows, possible: dict, tested: list, leaves: list):
        """("leaf", row or None) or ("split", input position, [(values, subtree)])."""
        if not rows:
            leaves[0] += 1
            return None if leaves[0] > self.TREE_LEAVES else ("leaf", None)
        first = rows[0][1]
        for pos in tested:
            cell = first.get(pos)
            if cell is None or all(_accepts(cell, v) for v in possible[pos]):
                continue
            groups: dict = {}  # the rows a value leaves in play -> the values that do
            for v in possible[pos]:
                kept = tuple(i for i, (_, c) in enumerate(rows) if pos not in c or _accepts(c[pos], v))
                groups.setdefault(kept, []).append(v)
            branches = []
            for kept, vals in sorted(groups.items(), key=lambda kv: -len(kv[1])):
                sub = self._decide([rows[i] for i in kept], {**possible, pos: tuple(vals)}, tested, leaves)
                if sub is None:
                    return None
                branches.append((tuple(vals), sub))
            return ("split", pos, branches)
        leaves[0] += 1
        return None if leaves[0] > self.TREE_LEAVES else ("leaf", rows[0][0])

    def _emit_tree(self, tree, rule, table, values, out: str, ind: int) -> None:
        if tree[0] == "leaf":
            row = tree[1]
            if row is None:
                self.line(ind, self._no_row(rule, table, values))
            else:
                self.line(ind, f"{out} = {self.x(row.then, 'e', ind)}  # row {row.index}"
                          + (f" ({row.id})" if row.id else ""))
            return
        _, pos, branches = tree
        value, name = values[pos], table.inputs[pos].name
        is_bool = table.inputs[pos].expr.type.kind == "bool"
        for k, (vals, sub) in enumerate(branches):
            shown = f"{name} in {{{', '.join(str(v) for v in vals)}}}"
            if k == len(branches) - 1:  # the values left: every value of the type is in a group
                self.line(ind, f"else:  # {shown}")
            else:
                if is_bool:
                    cond = value if vals == (True,) else f"not {value}"
                elif len(vals) == 1:
                    cond = f"{value} == {self.constant(vals[0])}"
                else:
                    cond = f"{value} in {self.constant(frozenset(vals))}"
                self.line(ind, f"{'if' if k == 0 else 'elif'} {cond}:  # {shown}")
            self._emit_tree(sub, rule, table, values, out, ind + 1)

    def _lookup_plan(self, table):
        """(positions of the tested inputs, their values, each row's outcome) or None."""
        positions = {i.name: n for n, i in enumerate(table.inputs)}
        tested = sorted({positions[name] for row in table.rows for name, test in row.tests.items()
                         if not isinstance(cells.of_test(test), cells.Always)})
        if not tested:
            return None
        domains = [exact.type_values(self.checked, table.inputs[n].expr.type) for n in tested]
        if any(d is None for d in domains) or _product(len(d) for d in domains) > self.LOOKUP_MAX:
            return None
        outcomes = [_constant_value(row.then, self.params) for row in table.rows]
        if any(o is None or o[0] is None for o in outcomes):
            return None
        if not all(_literal_cell(cells.of_test(test)) for row in table.rows for test in row.tests.values()):
            return None
        return tested, domains

    def _lookup_constant(self, rule, table, tested: list, domains: list) -> str:
        """The module-level dict of a table's lookup, one line per combination."""
        positions = {i.name: n for n, i in enumerate(table.inputs)}
        entries = []
        for combo in itertools.product(*domains):
            given = dict(zip(tested, combo))
            for row in table.rows:
                if all(_accepts(cells.of_test(test), given[positions[name]])
                       for name, test in row.tests.items() if positions[name] in given):
                    key = combo[0] if len(combo) == 1 else combo
                    entries.append((key, self.x(row.then, "e", 0), row))
                    break
        name = self._ident("LOOKUP_", rule.name)
        columns = ", ".join(table.inputs[n].name for n in tested)
        self._constants.append(f"# {rule.name}: ({columns}) -> the outcome of the first matching row")
        self._constants.append(f"{name} = {{")
        for key, out, row in entries:
            self._constants.append(f"    {key!r}: {out},  # row {row.index}" + (f" ({row.id})" if row.id else ""))
        self._constants.append("}")
        return name

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
        self.line(1, f"# rows grouped by {name}'s value (every cell compares with constants)")
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

    def assign(self, ind: int, text: str, note: str = "") -> str:
        out = self.temp()
        self.line(ind, f"{out} = {text}" + (f"  # {_one_line(note)}" if note else ""))
        return out

    def x_TLit(self, node, env, ind):
        return self.constant(node.value)

    def x_TField(self, node, env, ind):
        facts = env.facts if isinstance(env, Raw) else self._facts_of(env)
        out = self.assign(ind, f"{facts}.get({node.name!r})")
        if node.has_absent:
            self.line(ind, f"if {out} is None:")
            self.line(ind + 1, f"{out} = {self.constant(node.when_absent)}")
        else:
            self.line(ind, f"if {out} is None:")
            self.line(ind + 1, f"raise Missing({node.name!r})")
        return out

    def x_TRule(self, node, env, ind):
        if node.name in self.once:
            # The rule's only use: nothing to share, so no cache (its value is the same
            # whether kept or computed again; caching only saves time).
            rule = self.checked.rules[node.name]
            if self._inlinable(rule):
                self.line(ind, f"# {node.name} (inlined, its only use)")
                return self.x(rule.expr, env, ind) if rule.table is None else self.chain(rule, env, ind)
            assert not isinstance(env, Raw), "a loop over raw facts calls no rule function"
            return self.assign(ind, f"{self.functions[node.name]}({env})")
        out = self.assign(ind, f"{env}.c.get({node.name!r})")
        self.line(ind, f"if {out} is None:")
        self.line(ind + 1, f"{out} = {env}.c[{node.name!r}] = {self.functions[node.name]}({env})")
        return out

    def x_TParam(self, node, env, ind):
        return self.param(node.name, ind)

    def x_TUp(self, node, env, ind):
        if isinstance(env, Raw):  # a child's parent is the instance the loop runs on
            held = env.hoisted.get(node.target.name) if node.levels == 1 and isinstance(node.target, t.TField) else None
            if held is not None:  # read once before the loop; still unknown only where a child reads it
                if not node.target.has_absent:
                    self.line(ind, f"if {held} is None:")
                    self.line(ind + 1, f"raise Missing({node.target.name!r})")
                return held
            if node.levels == 1:
                return self.x(node.target, env.parent, ind)
            above = self.assign(ind, f"up({env.parent}, {node.levels - 1})")
            return self.x(node.target, above, ind)
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
            self.line(ind, go_on.format(self.x(item, env, ind)))
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
        if len(node.ops) > 1 and all(_constant_value(o, self.params) for o in node.operands[2:]):
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

    def x_TIn(self, node, env, ind):
        subject = self.x(node.subject, env, ind)
        return self.assign(ind, self.cell(cells.of_in(node), subject, env, ind), node.text)

    def x_TIf(self, node, env, ind):
        cond = self.x(node.cond, env, ind)
        out = self.temp()
        self.line(ind, f"if {cond}:")
        self.line(ind + 1, f"{out} = {self.x(node.then, env, ind + 1)}")
        self.line(ind, "else:")
        self.line(ind + 1, f"{out} = {self.x(node.else_, env, ind + 1)}")
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
            kids = self.assign(ind, f"{self._facts_of(env)}.get({node.field!r})", node.text)
            self.line(ind, f"if {kids} is None:")
            self.line(ind + 1, f"raise Missing({node.field!r})")
            child = Raw(self.temp("c"), env)
            child.hoisted = self.hoist(node, env, ind)
        else:
            kids = self.assign(ind, f"children({env}, {node.field!r})", node.text)
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
            keep = self.x(node.where, child, body)
            self.line(body, f"if not {keep}:")
            self.line(body + 1, "continue")
        if node.fn == "count":
            self.line(body, f"{out} += 1")
            return out
        value = self.x(node.of, child, body)
        getattr(self, "agg_" + node.fn)(node, out, value, body)
        return out

    def hoist(self, node, env: str, ind: int) -> dict:
        """The parent's facts that the children of a loop over facts read (``household.x``
        in a member rule), read once before the loop: field name -> local name. Reading a
        dict raises nothing, so only where a child reads it does a missing one raise
        Missing, as before (with no child, never); a field with a value when absent takes
        it here."""
        out: dict = {}
        stack = [r for r in (node.where, node.of) if r is not None]
        while stack:  # the roots and the rules inlined in them (_reads_facts_only's walk)
            item = stack.pop()
            if isinstance(item, t.TUp) and item.levels == 1 and isinstance(item.target, t.TField):
                field = item.target
                if field.name not in out:
                    out[field.name] = held = self.assign(ind, f"{self._facts_of(env)}.get({field.name!r})",
                                                         f"{field.entity}.{field.name}, read once for every child")
                    if field.has_absent:
                        self.line(ind, f"if {held} is None:")
                        self.line(ind + 1, f"{held} = {self.constant(field.when_absent)}")
                continue
            if isinstance(item, t.TUp):  # another instance's reads: not this loop's parent's facts
                continue
            if isinstance(item, t.TRule):  # a child rule inlined in the loop
                stack.extend(self.checked.rules[item.name].roots())
            stack.extend(t.subnodes(item))
        return out

    def _facts_of(self, env: str) -> str:
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

    def agg_sum(self, node, out, value, body):
        if node.type.kind == "integer":
            self.line(body, f"{out} += {value}")
        else:
            # Adding the zero the total starts from (this very object) changes neither its
            # value nor its digits: the total's exponent is never above 0 (it starts at 0,
            # and a sum takes the smaller one), it is never -0 (a sum reaching zero is +0),
            # and its digits are a sum's (within the context's precision): skipped.
            self.line(body, f"if {value} is not {self.constant(decimal.Decimal(0))}:")
            self.line(body + 1, f"{out} += {value}")
        # bounded() returns a total within its bound unchanged: called only for one beyond
        # it, which is E720 (core/operators.py; LIMIT is its bound)
        self.line(body - 1, f"if not -LIMIT <= {out} <= LIMIT:")
        self.line(body, f"bounded({out}, {self.bind(node, 'N')})")

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


def _literal_cell(cell) -> bool:
    """A cell that compares the value with literals only, by equality or membership."""
    if isinstance(cell, cells.Negated):
        return _literal_cell(cell.inner)
    if isinstance(cell, cells.Compare):
        return cell.op in ("==", "!=") and isinstance(cell.operand, t.TLit)
    if isinstance(cell, cells.Member):
        return cells.literal_members(cell) is not None
    return isinstance(cell, cells.Always)


def _accepts(cell, value) -> bool:
    """Whether a literal cell (``_literal_cell``) holds for a known ``value``: the meaning
    the generated tests have (core/operators.py's comparisons, membership by hashing)."""
    if isinstance(cell, cells.Negated):
        return not _accepts(cell.inner, value)
    if isinstance(cell, cells.Compare):
        return bool(COMPARISONS[cell.op].py(value, cell.operand.value))
    if isinstance(cell, cells.Member):
        return value in cells.literal_members(cell)
    return True


def _product(sizes) -> int:
    out = 1
    for n in sizes:
        out *= n
    return out


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


def _inline(meaning, symbol: str) -> str:
    """``symbol`` when core/operators.py's meaning is that Python operator itself."""
    if _INLINE.get(meaning) != (symbol if symbol != "not" else "not "):
        raise ValueError(f"the meaning of {symbol} is not Python's operator; generate a call instead")
    return _INLINE[meaning]
