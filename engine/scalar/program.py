"""The compiled program: compile once, evaluate many times.

``Program(checked)`` compiles every rule up front (fast; traced on first traced use);
``Program.evaluate(facts, on=…)`` validates the facts, takes the parameters in force on
the date (cached per date), and computes the requested outputs.
"""
from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

from ...dsl import typed as t
from ...dsl.checker.checked import CheckedPolicy, Gap
from .compile import Compiler
from .generated import MISSING, GEnv, Missing, instance
from .tables import compile_rule
from .env import Context, Env, TracedEnv
from ..reports.trace import Recorded, Recorder, TraceParts
from ..core import exact
from ..core.values import EvalError, ParamIssue, Unknown


@dataclass(slots=True, init=False)
class Evaluation:
    """The raw outcome for one entity: values, unknowns (with facts), errors, trace (a
    reports/trace.py ``Recorded``: read like the pydantic ``Trace`` it builds on first use)."""

    entity: str
    id: str | None
    on: dt.date
    variant: str
    values: dict
    unknown: dict
    errors: dict
    trace: object | None
    possible: dict  # unknown output -> the values still possible

    # No __init__ (``evaluation`` below makes one): one household evaluates in a few
    # microseconds; default factories cost a tenth of that, a Python __init__ frame a
    # twentieth, ``Evaluation()`` then nine stores about half of that.


def evaluation(entity: str, ident: str | None, on: dt.date, variant: str) -> Evaluation:
    """A fresh Evaluation with no values yet (Program.evaluate's fast path writes this out)."""
    result = Evaluation()
    result.entity, result.id, result.on, result.variant = entity, ident, on, variant
    result.values, result.unknown, result.errors, result.trace, result.possible = {}, {}, {}, None, {}
    return result


class Meta:
    """Static descriptions of typed nodes, for traces (labels of fields, rules, params)."""

    def __init__(self, checked: CheckedPolicy):
        self.checked = checked

    def describe(self, node) -> dict:
        target = node.target if isinstance(node, t.TUp) else node
        out = {"text": node.text}
        if isinstance(target, t.TField):
            f = self.checked.entities[target.entity].fields[target.name]
            out.update(kind="field", name=target.name, label=_labels(f.labels), unit=f.unit,
                       type=str(f.type))
        elif isinstance(target, t.TRule):
            r = self.checked.rules[target.name]
            out.update(kind="rule", name=target.name, label=_labels(r.labels), unit=r.unit, type=str(r.type))
        elif isinstance(target, t.TParam):
            p = self.checked.params[target.name]
            out.update(kind="parameter", name=target.name, label=_labels(p.labels), unit=p.unit, type=str(p.type))
        elif isinstance(target, t.TLit):
            out.update(kind="literal", type=str(node.type))
        else:
            out.update(kind="expression", type=str(node.type))
        return out


def _labels(labels):
    return {"zh": labels.zh, "en": labels.en or labels.zh} if labels else None


class Program:
    """A checked policy compiled into closures, ready to evaluate many entities.

    ``compiled`` (optional, kept by the caller across the programs of one policy's
    variants) holds the fast closure of each checked rule object: a variant shares most
    rule objects with the base (the checker takes them over), and a fast closure depends
    only on its rule, so it is compiled once. Traced closures describe fields, rules and
    parameters with this policy's labels; they are compiled on the first traced
    evaluation.
    """

    def __init__(self, checked: CheckedPolicy, compiled: dict | None = None):
        self.checked = checked
        self._meta = Meta(checked)
        fast = Compiler(self._meta, False)
        shared = {} if compiled is None else compiled
        self.fast_rules = {}
        for n, r in checked.rules.items():
            found = shared.get(id(r))
            if found is None or found[0] is not r:
                found = shared[id(r)] = (r, compile_rule(fast, r))  # keeps r, so its id stays its own
            self.fast_rules[n] = found[1]
        # one program may be evaluated from several threads (fupin serve): what is made on
        # first use (traced closures, a date's generated code) is made once, under this lock,
        # and published whole; the fast paths only read
        self._making = threading.RLock()
        self._traced_rules: dict | None = None
        self._traced_compiler: Compiler | None = None
        self._traced_generated: dict = {}  # as-of date -> the traced generated code (tracegen.py)
        self._traced_seen: dict = {}  # as-of date -> traced evaluations before its code was generated
        # as-of date -> [traced evaluations the generated code recorded, those it left to the
        # closures (it met an unknown), those that did not try it] (scalar/tracegen.py)
        self.traced_counts: dict = {}
        self._trace_parts: TraceParts | None = None
        self._dated: dict = {}
        self._generated: dict = {}
        self._untraced: dict = {}  # as-of date -> untraced evaluations before its code was generated
        self._children = {(e.name, f): c for e in checked.entities.values() for f, c in e.children.items()}
        self._outputs = {e: [n for n, r in checked.rules.items() if r.entity == e and not r.internal]
                         for e in checked.entities}
        self._keys = {name: e.key for name, e in checked.entities.items()}
        self._variant = checked.variant  # (read per evaluation: one attribute, not two)
        self.space = exact.Space(checked)

    @property
    def traced_rules(self) -> dict:
        """The traced closure of every rule (compiled on first use)."""
        if self._traced_rules is None:
            with self._making:
                if self._traced_rules is None:
                    traced = Compiler(self._meta, True)
                    rules = {n: compile_rule(traced, r) for n, r in self.checked.rules.items()}
                    self._traced_compiler = traced  # before the rules: their presence says both are whole
                    self._traced_rules = rules
        return self._traced_rules

    @property
    def traced_compiler(self) -> Compiler:
        """The compiler of the traced closures (its table specs are the ones they tell
        the trace; scalar/tracegen.py hands it the nodes it does not write itself)."""
        self.traced_rules  # noqa: B018 — compiled on first use
        return self._traced_compiler

    @property
    def trace_parts(self) -> TraceParts:
        """What this program's traces share when built (labels, citations; reports/trace.py)."""
        if self._trace_parts is None:
            self._trace_parts = TraceParts(self)
        return self._trace_parts

    # --- structure

    def child_entity(self, entity: str, field_name: str) -> str:
        return self._children[(entity, field_name)]

    def parent_entity(self, entity: str) -> str:
        return self.checked.entities[entity].parent or "parent"

    def outputs(self, entity: str) -> list[str]:
        """The entity's output rules (not internal), in declaration order."""
        return list(self._outputs.get(entity, []))

    # --- parameters by date

    def params_on(self, day: dt.date):
        """Parameter values (or issues) in force on ``day``, and their start dates."""
        found = self._dated.get(day)
        if found is None:
            values, starts = {}, {}
            for name, p in self.checked.params.items():
                picked = p.value_on(day)
                if picked is None or picked[1] is None:
                    detail = _range_detail(p, picked)
                    values[name] = ParamIssue(name, error=EvalError("E701", p.span, name=name, date=day.isoformat(),
                                                                    detail=detail))
                elif isinstance(picked[1], Gap):
                    values[name] = ParamIssue(name, unknown=Unknown(frozenset((f"parameter:{name}",))))
                    starts[name] = picked[0]
                else:
                    values[name], starts[name] = picked[1], picked[0]
            found = self._dated[day] = (values, starts)
        return found

    # --- generated code (scalar/codegen.py)

    def generated_on(self, day: dt.date):
        """The generated code with the parameters of ``day`` (scalar/generated.py
        ``Generated``), written and compiled on first use."""
        found = self._generated.get(day)
        if found is None:
            found = self._made(self._generated, day, self._write, (self._untraced,))
        return found

    def traced_generated_on(self, day: dt.date):
        """The traced generated code with the parameters of ``day`` (scalar/tracegen.py
        ``TracedGenerated``), written and compiled on first use."""
        found = self._traced_generated.get(day)
        if found is None:
            found = self._made(self._traced_generated, day, self._write_traced, (self._traced_seen, self.traced_counts))
        return found

    def _made(self, modules: dict, day: dt.date, write, counts: tuple):
        """``modules[day]``, written by ``write(day)`` once under the lock (threads that
        meet the same new date wait for it); at most ``GENERATED_DATES`` are kept (a
        service asked about many dates drops the oldest), and what ``counts`` held for a
        date made or dropped is forgotten."""
        with self._making:
            found = modules.get(day)
            if found is None:
                if len(modules) >= GENERATED_DATES:
                    dropped = next(iter(modules))
                    del modules[dropped]
                    for count in counts:
                        count.pop(dropped, None)
                found = modules[day] = write(day)
                for count in counts:
                    count.pop(day, None)
        return found

    def _write(self, day: dt.date):
        from .codegen import generate  # the writer is imported by the first date it writes

        values, starts = self.params_on(day)
        return generate(self.checked, day, values, starts)

    def _write_traced(self, day: dt.date):
        from .tracegen import generate_traced  # as above: only a traced date needs it

        return generate_traced(self, day)

    def _worth_tracing_generated(self, day: dt.date) -> bool:
        """As ``_worth_generating``, for traced evaluations (their own code and count);
        once made, while most of the date's evaluations are not redone by the closures
        (``traced_counts``): where most are (entities with missing facts: the code stops
        at the first unknown) one in ``GENERATE_AFTER`` still tries it."""
        if not GENERATED:
            return False
        if day in self._traced_generated:
            counts = self.traced_counts.get(day)
            if counts is None or counts[1] <= counts[0] + GENERATE_AFTER // 4:
                return True
            counts[2] += 1
            return counts[2] % GENERATE_AFTER == 0
        return counted(self._traced_seen, day) >= GENERATE_AFTER

    def _worth_generating(self, day: dt.date) -> bool:
        """Whether a default evaluation on ``day`` runs the generated code: once made, or
        from the ``GENERATE_AFTER``-th evaluation on that day (making it costs what ~1,500
        evaluations of the pack save, so a call or two on a date stay with the closures)."""
        if not GENERATED:
            return False
        if day in self._generated:
            return True
        return counted(self._untraced, day) >= GENERATE_AFTER

    # --- evaluation

    def evaluate(self, facts: dict, on: dt.date, entity: str, outputs=None, trace: bool = False,
                 exact: bool = True, generated: bool | None = None) -> Evaluation:
        """Evaluate already validated facts of one entity on a date; ``exact`` settles
        unknown outputs by cases (core/exact.py). Untraced, ``generated=True`` runs the
        generated code first and the closures for an output it leaves at an unknown value;
        ``False`` the closures alone; None (default) the generated code once the date has
        been evaluated ``GENERATE_AFTER`` times (``GENERATED``: at all). Traced, the same
        choice (counted apart) runs the traced generated code (scalar/tracegen.py), which
        leaves an entity whose evaluation meets an unknown to the traced closures. The
        results, and the traces event for event, are the same."""
        if not trace and generated is not False:
            # The common call (untraced, the date's code already generated) in as few
            # steps as possible: it costs about as much as the generated code itself.
            fast = self._generated.get(on)
            if fast is not None and (generated or GENERATED):
                # Every output at once for facts all known (the entity's known-facts function,
                # scalar/knowngen.py; ``by_entity``: it and the entity's key field, one lookup);
                # at an unknown or an error it raises, and the outputs function below decides.
                entry = None if outputs else fast.by_entity.get(entity)
                if entry is not None:
                    try:
                        values = entry[0](facts)
                    except (Missing, KeyError, EvalError):
                        pass
                    else:
                        ident = facts.get(entry[1])
                        # The fields stored here rather than by an __init__: a Python __init__
                        # frame cost a third of making the object (Python 3.11 does not inline
                        # it); the three dicts are fresh, as in every result (callers may fill them).
                        result = Evaluation()
                        result.entity = entity
                        result.id = ident if type(ident) is str else None if ident is None else str(ident)
                        result.on = on
                        result.variant = self._variant
                        result.values = values
                        result.unknown = {}
                        result.errors = {}
                        result.trace = None
                        result.possible = {}
                        return result
                ident = facts.get(self._keys[entity])
                # (as above; GEnv has no __init__ either)
                result = Evaluation()
                result.entity = entity
                result.id = ident if type(ident) is str else None if ident is None else str(ident)
                result.on = on
                result.variant = self._variant
                result.unknown = {}
                result.trace = None
                result.possible = {}
                result.values = values = {}
                result.errors = errors = {}
                genv = GEnv()
                genv.f = facts
                genv.c = {}
                genv.p = genv.k = None
                missing = []
                whole = None if outputs else fast.outputs.get(entity)
                if whole is not None:
                    whole(genv, values, errors, missing)
                elif outputs:
                    if type(outputs) is not list and type(outputs) is not tuple:
                        outputs = list(outputs)  # read twice (an iterator would be used up)
                    self._each(fast, genv, outputs, result, missing)
                if missing:
                    self._closures_for(missing, facts, on, entity, exact, result, outputs or self._outputs[entity])
                return result
        ident = facts.get(self.checked.entities[entity].key)
        result = evaluation(entity, None if ident is None else str(ident), on, self.checked.variant)
        if outputs is not None and not isinstance(outputs, (list, tuple)):
            outputs = list(outputs)  # read more than once below (an iterator would be used up)
        names = outputs or self._outputs.get(entity, ())  # read only: no copy
        if not trace and (self._worth_generating(on) if generated is None else generated):
            return self._generated_first(facts, on, entity, names, exact, result, every=not outputs)
        values, starts = self.params_on(on)
        if trace and (self._worth_tracing_generated(on) if generated is None else generated):
            if self._traced_first(facts, on, entity, names, exact, result, values, starts, every=not outputs):
                return result
            result.values, result.unknown, result.errors, result.possible = {}, {}, {}, {}
        recorder = Recorder() if trace else None
        ctx = Context(self, values, starts, self.traced_rules if trace else self.fast_rules, recorder)
        env = (TracedEnv if trace else Env)(facts, "", None, ctx, entity)
        settled: dict = {}
        for name in names:
            try:
                value = env.rule(name)
            except EvalError as exc:
                result.values[name] = None
                result.errors[name] = exc.diagnostic
                continue
            self._note(facts, on, entity, name, value, exact, result, settled)
        if recorder is not None:  # built into the pydantic Trace when read (reports/trace.py)
            result.trace = Recorded(self, recorder, on, entity, result.id, settled, dict(result.possible))
        return result

    def _traced_first(self, facts: dict, on: dt.date, entity: str, names, exact: bool, result: Evaluation,
                      params, starts, every: bool = False) -> bool:
        """The traced generated code (scalar/tracegen.py) records the evaluation; an
        unknown output is then settled as the closures' loop settles it. False when the
        code met an unknown it leaves to the closures (then nothing it did counts: the
        caller records the evaluation again with the traced closures). ``every``: the
        entity's outputs function at once."""
        fast = self._traced_generated.get(on) or self.traced_generated_on(on)
        counts = self.traced_counts.get(on) or self.traced_counts.setdefault(on, [0, 0, 0])
        recorder = Recorder()
        log = recorder.log
        env = TracedEnv(facts, "", None, Context(self, params, starts, self.traced_rules, recorder), entity)
        values, errors, rule = result.values, result.errors, fast.rule
        whole = fast.outputs.get(entity) if every else None
        try:
            if whole is not None:
                unknown = whole(env, log, values, errors)
            else:
                for name in names:
                    try:
                        values[name] = rule(env, name, log)
                    except EvalError as exc:
                        values[name] = None
                        errors[name] = exc.diagnostic
                unknown = [name for name in names if type(values[name]) is Unknown]
        except MISSING:
            counts[1] += 1
            return False
        counts[0] += 1
        settled: dict = {}
        for name in unknown or ():  # settled by cases (or not), as the closures' loop does
            self._note(facts, on, entity, name, values[name], exact, result, settled)
        result.trace = Recorded(self, recorder, on, entity, result.id, settled, dict(result.possible))
        return True

    def _generated_first(self, facts: dict, on: dt.date, entity: str, names, exact: bool, result: Evaluation,
                         every: bool = False):
        """Each output from the generated code (``every``: the entity's outputs function
        at once); one it leaves at an unknown value (it raised one of ``MISSING``) from the
        closures, on one closure instance made on demand."""
        fast = self._generated.get(on) or self.generated_on(on)
        genv, missing = instance(facts), []
        whole = fast.outputs.get(entity) if every else None
        if whole is not None:
            whole(genv, result.values, result.errors, missing)
        else:
            self._each(fast, genv, names, result, missing)
        if missing:
            self._closures_for(missing, facts, on, entity, exact, result, names)
        return result

    @staticmethod
    def _each(fast, genv, names, result: Evaluation, missing: list) -> None:
        values, rules, cache = result.values, fast.rules, genv.c
        for name in names:
            try:
                values[name] = cache[name] = cache[name] if name in cache else rules[name](genv)  # fast.rule
            except MISSING:
                values[name] = None
                missing.append(name)
            except EvalError as exc:
                values[name] = None
                result.errors[name] = exc.diagnostic

    def _closures_for(self, missing, facts, on, entity, exact: bool, result: Evaluation, names) -> None:
        """The outputs the generated code left to the closures, in place (same order)."""
        params, starts = self.params_on(on)
        env = Env(facts, "", None, Context(self, params, starts, self.fast_rules), entity)
        erred = False
        for name in missing:
            try:
                value = env.rule(name)
            except EvalError as exc:
                result.errors[name] = exc.diagnostic
                erred = True
                continue
            self._note(facts, on, entity, name, value, exact, result, {})
        if erred:  # errors in output order, as the closures alone list them
            result.errors = {n: result.errors[n] for n in names if n in result.errors}

    def _note(self, facts, on, entity, name, value, exact: bool, result: Evaluation, settled: dict) -> None:
        """Record output ``name``'s value, or its unknown (settled by cases if ``exact``)."""
        if type(value) is Unknown and exact:
            waiting = value.facts
            value = self._settle(facts, on, entity, name, value, result)
            if type(value) is not Unknown:
                settled[name] = (value, waiting)
        if type(value) is Unknown:
            result.values[name] = None
            result.unknown[name] = sorted(value.facts)
        else:
            result.values[name] = value

    def _settle(self, facts: dict, on: dt.date, entity: str, name: str, value: Unknown, result: Evaluation):
        """Decide an unknown output by cases (core/exact.py): its value when every
        completion of the missing facts agrees, else ``value``, noting what is possible."""
        search = exact.run(exact.Search(self.space, entity, value.facts,
                                        values=exact.type_values(self.checked, self.checked.rules[name].type),
                                        output=name, known=lambda path: exact.read(facts, path)),
                           lambda completions: [self.complete(facts, on, entity, name, c) for c in completions])
        if search.decided:
            return search.value
        possible = exact.listed(self.checked, self.checked.rules[name].type, search.possible)
        if possible is not None:
            result.possible[name] = possible
        return value

    def complete(self, facts: dict, on: dt.date, entity: str, name: str, completion: dict):
        """Output ``name`` with the missing facts (and blank parameters) of
        ``completion`` given: a value, an Unknown, or an ``exact.ErrorOutcome``."""
        values, starts = self.params_on(on)
        given = exact.parameters(completion)
        if given:
            values = {**values, **given}
        env = Env(exact.assign(facts, completion), "", None, Context(self, values, starts, self.fast_rules), entity)
        try:
            return env.rule(name)
        except EvalError as exc:
            return exact.ErrorOutcome(exc.diagnostic.code)


# Untraced evaluation runs the generated code unless told otherwise (the closures stay the
# reference: tests/test_codegen.py holds the two equal on every output, unknown and error).
GENERATED = True
GENERATE_AFTER = 64  # untraced evaluations on one date before its code is generated (generated=True: at once)
COUNTED_DATES = 1024  # dates whose evaluations are counted toward generating their code, at most


def counted(counts: dict, day) -> int:
    """One more evaluation on ``day``: the count so far. Bounded: a service asked about
    ever new dates forgets the oldest counts (those dates then wait a little longer)."""
    seen = counts[day] = counts.get(day, 0) + 1
    if len(counts) > COUNTED_DATES:
        counts.pop(next(iter(counts)), None)
    return seen


GENERATED_DATES = 16  # generated modules kept per program (one per as-of date, ~0.1 s each to make)


def _range_detail(p, picked):
    from ...dsl.errors import Bilingual

    if not p.periods:
        return ""
    first = p.periods[0][0].isoformat()
    if picked is None:
        return Bilingual(f"（最早自 {first} 起有值）", f" (its first value starts {first})")
    return Bilingual(f"（自 {picked[0].isoformat()} 起已停止）", f" (it ended on {picked[0].isoformat()})")
