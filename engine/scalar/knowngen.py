"""The known-facts function of one entity in the generated code (scalar/codegen.py writes
the rest of the module and calls this writer for each entity).

``known_<entity>(f)`` returns every output of the entity, as one dict, for facts ``f`` of
which every one its code reads is known, when no output is in error. It is the outputs
function's code (the same expression writer, output by output, in the same order)
without its instance, cache, per-output handlers and dict stores: a rule the entity
reads more than once (``Writer.shared``) is held in a local ``s_<name>``. At an unknown
or an error it raises (one of ``MISSING``, or ``EvalError``) and the caller runs the
outputs function instead (scalar/program.py), which then decides every output as
before; so what it returns is what the outputs function would have stored, and where it
raises earlier than the outputs function would, only time is lost.

It is written in two passes, each by a :class:`KnownWriter` writing into the module. The
first finds (:class:`Plan`) the facts the code reads on every path (at its top level)
and the outputs whose code reads a shared rule on some paths only. The second reads
those facts once at the top, each raising there if unknown as it would have where first
read, and computes every shared rule such an output reads at the top level before it:
so a shared rule's code is written once, and a later read is its local. It is not
written at all (the entity then has the outputs function alone) where its code would
need the instance (a rule function, a child instance, a parent: ``instance``) or where
it raises on every path (a parameter with no usable value on the date read at its top
level: ``param``). The writer finds either as it writes, from what it is writing, and
stops (:class:`NotWritten`).
"""
from __future__ import annotations

from ..core.values import ParamIssue
from .codegen import Writer, one_line


class NotWritten(Exception):
    """The known-facts function would need the instance, or could never return."""


class Plan:
    """What the first pass found: ``top`` the entity's own facts (and child lists: None)
    read on every path, name -> typed node, in the order first read; ``reads`` each
    output -> the shared rules its code reads, in the order their code was finished
    (a rule after those its code reads); ``early`` the outputs whose code reads one of
    them on some paths only."""

    def __init__(self):
        self.top: dict = {}
        self.reads: dict = {}
        self.early: set = set()


class KnownWriter(Writer):
    """Writes ``known_<entity>(f)`` into the module that ``writer`` writes: the same
    lines, names, constants, parameters and fresh-local counter (shared, not copied),
    with its own per-function state. ``plan`` None: the first pass (it fills a new
    one); else the second."""

    def __init__(self, writer: Writer, entity: str, fn: str, plan: Plan | None):
        self.__dict__.update(writer.__dict__)  # the module's state, shared: its lines, names, constants
        self._held, self._facts_local = {}, []  # (the outputs function's; not used here)
        self.entity, self.fn = entity, fn
        self.first = plan is None
        self.plan = Plan() if plan is None else plan
        self.values: dict = {}  # output -> its value's source
        self.assigned: set = set()  # the shared rules whose local is assigned on every path so far
        self.pre: dict = {}  # the facts read at the top (second pass): name -> local
        self.current: str | None = None  # the output being written

    def function(self, names: list) -> Plan:
        """The function's lines (``names``: the entity's outputs); the plan it followed
        or found."""
        self.line(0, "")
        self.line(0, f"# every output of {one_line(self.entity)} when every fact its code reads is known and none is in error;")
        self.line(0, "# else it raises and the outputs function below decides each output (same code, no cache)")
        self.define(f"def {self.fn}(f):")
        if not self.first:
            if self.plan.top:
                self.line(1, "# the facts read on every path below, read once")
            for name, node in self.plan.top.items():
                self.pre[name] = self.top_read(name, node)
        for group in self._loop_groups(names):
            self.current = group[0]
            if len(group) > 1:  # the loop alone: an unknown or an error there leaves the function
                for name, total in zip(group, self._fused_loop(group, 1)):
                    self.values[name] = total
                continue
            if not self.first and group[0] in self.plan.early:
                self.shared_first(group[0])
            self.output(group[0], 1)
        self.line(1, "return {")
        for name in names:
            self.line(2, f"{name!r}: {self.values[name]},")
        self.line(1, "}")
        return self.plan

    def top_read(self, name: str, node) -> str:
        """A fact (``node``; None: a child list) read at the top of the second pass, tested
        there: its local."""
        return super().x_TField(node, "e", 1) if node is not None else super().children_list(name, "e", 1)

    def shared_first(self, name: str) -> None:
        """Before output ``name``, whose code reads a shared rule on some paths only:
        every shared rule it reads, at the top level (each after those its code reads),
        so that each is computed once and read as its local below. Computed on every
        path, such a rule may raise where the output would not have needed it: the
        entity then goes to the outputs function, which decides it as before."""
        for shared in self.plan.reads.get(name, ()):
            if shared not in self.assigned:
                self.line(1, f"# {shared}: read below on some paths only, computed here once")
                self.shared_local(self.checked.rules[shared], 1)

    def output(self, name: str, ind: int) -> None:
        """One output's value, in a local (or a shared rule's local)."""
        rule = self.checked.rules[name]
        if name in self.shared:
            self.values[name] = self.shared_local(rule, ind)
            return
        value = self.shared_code(rule, ind)
        self.values[name] = value if value.isidentifier() else self.assign(ind, value)

    def shared_local(self, rule, ind: int) -> str:
        """A rule the entity reads more than once: its local ``s_<name>``, computed once
        (the outputs function's code, ``shared_code``) at the top level. The first pass
        writes it wherever it is met and notes, for the output being written, that it
        reads it (and on some paths only, where met there first); the second computes
        such rules before that output (``shared_first``), so it never meets one unassigned
        on some paths only (if it did, the function would not be written)."""
        name = rule.name
        held = self.held_name(name)
        if name not in self.assigned:
            if ind > 1 and not self.first:
                raise NotWritten(name)  # (the plan computed it at the top: not reached)
            self.line(ind, f"{held} = {self.shared_code(rule, ind)}")
            if ind == 1:  # at the function's top level: assigned on every path from here
                self.assigned.add(name)
            else:
                self.plan.early.add(self.current)
        if self.first:
            reads = self.plan.reads.setdefault(self.current, [])
            if name not in reads:
                reads.append(name)
        return held

    # --- reads: the entity's own facts (once at the top where read on every path), no instance

    def x_TField(self, node, env, ind):
        if env == "e":
            found = self.pre.get(node.name)
            if found is not None:  # read (and tested) at the top
                return found
            if ind == 1 and self.first:  # read on every path: at the top on the second pass
                self.plan.top.setdefault(node.name, node)
        return super().x_TField(node, env, ind)

    def children_list(self, field: str, env: str, ind: int, note: str = "") -> str:
        if env == "e":  # as a fact (x_TField)
            found = self.pre.get(field)
            if found is not None:
                return found
            if ind == 1 and self.first:
                self.plan.top.setdefault(field, None)
        return super().children_list(field, env, ind, note)

    def hoist_field(self, field, env: str, ind: int, checked: set) -> str:
        """A parent's fact a member loop reads, read before the loop as a known fact: a
        missing one raises here, even where no child would read it (then the outputs
        function decides, as for any unknown), so the loop has no test."""
        if env != "e":
            return super().hoist_field(field, env, ind, checked)
        if field.name not in self.pre:
            self.line(ind, f"# {one_line(field.entity)}.{one_line(field.name)}, read once for every child")
        checked.add(field.name)
        return self.x_TField(field, env, ind)

    def x_TRule(self, node, env, ind):
        if node.name not in self.once and env == "e":  # a shared rule: its local, no cache
            return self.shared_local(self.checked.rules[node.name], ind)
        return super().x_TRule(node, env, ind)

    def facts_of(self, env: str) -> str:
        return "f" if env == "e" else super().facts_of(env)  # the function's argument

    def instance(self, env: str) -> str:
        if env == "e":
            raise NotWritten("the code needs the instance")
        return env

    def param(self, name: str, ind: int) -> str:
        if ind == 1 and type(self.params[name]) is ParamIssue:
            raise NotWritten(name)  # read at the top level with no usable value: it raises on every call
        return super().param(name, ind)
