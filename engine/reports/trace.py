"""Tracing: an observer that records a tree of decisions while a program evaluates.

:class:`Recorder` is attached to an evaluation only when a trace is asked for; the
fast path never calls it. It records events in one flat list (a rule entered, left or
found cached, a fact or parameter read, a comparison, what decided a value) and
nothing else: labels, citations and dates are looked up, and the :class:`Trace` pydantic
model (the stable, versioned JSON schema of docs/trace-format.md) is built, only when
someone reads the trace. :class:`Recorded` is that trace in waiting: the events and what
building them needs; ``model()`` builds it (validated by pydantic-core from plain data
in one call), and attribute reads, ``model_dump`` and pickling build it on first use.
"""
from __future__ import annotations

from collections import deque
from decimal import Decimal
from typing import TYPE_CHECKING

from ..core.values import Unknown, plain

if TYPE_CHECKING:
    from .tracemodel import Trace

TRACE_SCHEMA = "fupin.trace/1"
# The pydantic models of a trace (Read, ParamUse, Comparison, TraceNode, Reason, Trace) live
# in tracemodel.py and are imported from here on first use (``from .trace import Trace``
# works as before): loading a policy and ``fupin batch`` never build a trace, and building
# these models was ~25 ms of their start-up (docs/performance.md, "Start-up").
MODELS = ("Read", "ParamUse", "Comparison", "TraceNode", "Reason", "Trace")


def __getattr__(name: str):
    if name in MODELS:
        from . import tracemodel

        return getattr(tracemodel, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# The events of a recorded evaluation, each told as a tuple whose first item is its kind:
# (ENTER, rule, path), (EXIT, value, error code), (CACHED, rule, path, value),
# (READ, path, description, value, when_absent used, aggregate), (PARAM, name, value),
# (COMPARE, text, descriptions, values, ops, result), (DECIDE, info) and
# (DECIDE_WITH, describe, args): info = describe(*args), made when the trace is built.
ENTER, EXIT, CACHED, READ, PARAM, COMPARE, DECIDE, DECIDE_WITH = range(8)
SIZES = (3, 3, 4, 6, 3, 6, 2, 3)  # items of an event, by kind
_DROPPED = deque(maxlen=0).extend  # where events go while muted


class Recorder:
    """Collects the events of one evaluation in ``log``: the traced closures call
    ``mark(event)`` when a rule is entered or left, ``note(event)`` for everything else.
    Both are the log's ``extend``: no Python call per event, and the log keeps the items,
    not the tuple, so that a traced evaluation does not leave a hundred new objects for
    the garbage collector to walk (it made the recording half as slow again). Between
    ``mute()`` and ``unmute()`` (operands read again for the record) notes are dropped;
    marks are not."""

    __slots__ = ("log", "mark", "note", "muted")

    def __init__(self):
        self.log: list = []
        self.mark = self.note = self.log.extend
        self.muted = 0

    def mute(self) -> None:
        self.muted += 1
        self.note = _DROPPED

    def unmute(self) -> None:
        self.muted -= 1
        if not self.muted:
            self.note = self.log.extend


class Recorded:
    """A recorded trace, built into the pydantic :class:`Trace` when first read.

    ``settled``/``possible``: outputs decided by cases and the values still possible of
    the undecided (core/exact.py, shown on the roots); ``then(step)`` adds a step
    ``Trace -> Trace`` run once the model is built (the API's deciding facts and
    decision record). Attribute reads (``roots``, ``record``…), ``model_dump`` and
    ``model_copy`` go to the built model, so a reader sees a :class:`Trace`.
    """

    __slots__ = ("program", "log", "on", "entity", "ident", "settled", "possible", "steps", "built")

    def __init__(self, program, recorder: Recorder, on, entity: str, ident, settled: dict, possible: dict):
        self.program, self.log, self.on, self.entity, self.ident = program, recorder.log, on, entity, ident
        self.settled, self.possible = settled, possible
        self.steps: list = []
        self.built: Trace | None = None

    def then(self, step) -> "Recorded":
        """Run ``step`` (``Trace -> Trace``) on the model when it is built."""
        if self.built is not None:
            self.built = step(self.built)
        else:
            self.steps.append(step)
        return self

    def data(self) -> dict:
        """The trace as plain data, before the steps: what ``Trace.model_dump(by_alias=True)``
        of the unannotated trace gives (a fresh tree each call; the labels and citations
        in it are shared with other traces, and validating copies them)."""
        parts = self.program.trace_parts
        roots = [parts.node(f, self.on) for f in _frames(self.log)]
        for node in roots:
            if node["path"] == "":
                parts.settle(node, self.settled, self.possible)
        return {"schema": TRACE_SCHEMA, "policy": self.program.checked.variant, "on": str(self.on),
                "entity": self.entity, "id": self.ident, "roots": roots, "entity_label": None, "enums": {},
                "quotes": {}, "documents": {}, "record": None}

    def tree(self) -> Trace:
        """The pydantic :class:`Trace` without the steps (no deciding facts, labels or
        record): the rules evaluated and what decided each, for a reader that needs no
        more (coverage). Not kept: :meth:`model` builds its own."""
        from .tracemodel import Trace

        return self.built if self.built is not None else Trace.model_validate(self.data())

    def model(self) -> Trace:
        """The pydantic :class:`Trace` (built once, the steps run on it)."""
        if self.built is None:
            from .tracemodel import Trace

            trace = Trace.model_validate(self.data())
            for step in self.steps:
                trace = step(trace)
            self.built, self.steps = trace, []
        return self.built

    def model_dump(self, **options) -> dict:
        return self.model().model_dump(**options)

    def model_copy(self, **options) -> Trace:
        return self.model().model_copy(**options)

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.model(), name)

    def __reduce__(self):
        # Pickled as the model it builds: the events refer to the live program.
        return built_trace, (self.model(),)


def built_trace(trace: Trace) -> Trace:
    """What an unpickled :class:`Recorded` becomes: its model."""
    return trace


class _Frame:
    """One rule's events, gathered when the trace is built."""

    __slots__ = ("name", "path", "reads", "params", "comparisons", "decided", "children", "value", "error")

    def __init__(self, name, path, value=None, decided=None):
        self.name, self.path, self.value, self.decided, self.error = name, path, value, decided, None
        self.reads, self.params, self.comparisons, self.children = [], [], [], []


CACHED_INFO = {"kind": "cached"}


def _frames(log: list) -> list:
    """The events as a tree of frames: the roots (the outputs evaluated, in order)."""
    top = _Frame(None, "")
    stack = [top]
    at, end = 0, len(log)
    while at < end:
        kind, frame = log[at], stack[-1]
        event = log[at:at + SIZES[kind]]
        at += SIZES[kind]
        if kind == READ:
            frame.reads.append(event)
        elif kind == PARAM:
            frame.params.append(event)
        elif kind == ENTER:
            child = _Frame(event[1], event[2])
            frame.children.append(child)
            stack.append(child)
        elif kind == EXIT:
            frame.value, frame.error = event[1], event[2]
            stack.pop()
        elif kind == CACHED:
            frame.children.append(_Frame(event[1], event[2], event[3], CACHED_INFO))
        elif kind == COMPARE:
            frame.comparisons.append(event)
        elif frame.decided is None:  # DECIDE, DECIDE_WITH: the first one said counts
            frame.decided = event[1] if kind == DECIDE else event[1](*event[2])
    return top.children


class TraceParts:
    """What the nodes of one policy's traces share (each rule's and parameter's labels,
    type and citations), looked up once, and the building of a node's data."""

    def __init__(self, program):
        self.program = program
        self.checked = program.checked
        self.rules: dict = {}
        self.params: dict = {}

    def rule(self, name: str) -> dict:
        found = self.rules.get(name)
        if found is None:
            rule = self.checked.rules[name]
            found = self.rules[name] = {
                "rule": rule, "entity": rule.entity, "label": _labels(rule.labels), "type": str(rule.type),
                "sources": [str(s) for s in rule.sources], "origin": rule.origin}
        return found

    def param(self, name: str, on) -> tuple:
        found = self.params.get((name, on))
        if found is None:
            p = self.checked.params[name]
            start = self.program.params_on(on)[1].get(name)
            found = self.params[(name, on)] = (_labels(p.labels), p.unit, start.isoformat() if start else None,
                                                [str(s) for s in p.sources], p.origin)
        return found

    def node(self, frame: _Frame, on) -> dict:
        """One frame as the data of a :class:`TraceNode` (its fields, in order)."""
        r = self.rule(frame.name)
        rule, value = r["rule"], frame.value
        unknown = type(value) is Unknown
        return {
            "rule": frame.name, "entity": r["entity"], "path": frame.path, "label": r["label"],
            "type": r["type"], "value": _json(value), "value_label": _value_label(rule, value, self.checked),
            "unknown_facts": sorted(value.facts) if unknown else [], "possible": None, "possible_labels": None,
            "error": frame.error, "decided_by": _json_dict(frame.decided), "reads": _reads(frame.reads),
            "params": self._params(frame.params, on), "comparisons": _comparisons(frame.comparisons),
            "sources": r["sources"], "origin": r["origin"],
            "children": [self.node(c, on) for c in frame.children], "reasons": None}

    def _params(self, events, on) -> list:
        seen, out = set(), []
        for _, name, v in events:
            if name in seen:
                continue
            seen.add(name)
            labels, unit, start, sources, origin = self.param(name, on)
            out.append({"name": name, "label": labels, "value": _json(v), "unit": unit,
                        "effective_from": start, "sources": sources, "origin": origin,
                        "gap": type(v) is Unknown})
        return out

    def settle(self, node: dict, settled: dict, possible: dict) -> None:
        """A root decided by cases shows its value, ``decided_by`` of kind ``cases`` naming
        the facts every value of which gives it; an undecided one its ``possible`` values."""
        name = node["rule"]
        rule = self.checked.rules[name]
        if name in settled:
            value, facts = settled[name]
            node.update(value=_json(value), value_label=_value_label(rule, value, self.checked),
                        unknown_facts=[], decided_by={"kind": "cases", "facts": sorted(facts)})
        elif name in possible and node["unknown_facts"]:
            node.update(possible=[_json(v) for v in possible[name]],
                        possible_labels=[_value_label(rule, v, self.checked) for v in possible[name]])


def _reads(events) -> list:
    seen, out = set(), []
    for _, path, describe, v, absent, aggregate in events:
        if path in seen:
            continue
        seen.add(path)
        out.append({"path": path, "label": (describe or {}).get("label"), "value": _json(v),
                    "unknown": type(v) is Unknown, "when_absent": absent, "aggregate": aggregate})
    return out


def _comparisons(events) -> list:
    return [{"text": text, "operands": [dict(d or {}, value=_json(v)) for d, v in zip(describe, values)],
             "ops": list(ops), "result": _json(result)}
            for _, text, describe, values, ops, result in events]


def _value_label(rule, value, checked) -> dict | None:
    """The labels of an enum value, so that a trace renders without the policy."""
    if rule.type.kind != "enum" or not isinstance(value, str):
        return None
    enum = checked.enums.get(rule.type.name)
    return _labels(enum.values.get(value)) if enum is not None else None


def _labels(labels) -> dict | None:
    return {"zh": labels.zh, "en": labels.en or labels.zh} if labels else None


_AS_IS = frozenset((str, bool, int, Decimal, dict, type(None)))  # what a trace keeps as it is


def _json(value):
    if type(value) in _AS_IS:
        return value
    if type(value) is Unknown:
        return None
    if isinstance(value, Decimal):
        return value
    return plain(value)


def _json_dict(info):
    if info is None:
        return None
    out = {}
    for k, v in info.items():
        if hasattr(v, "zh"):
            out[k] = _labels(v)
        elif isinstance(v, list):
            out[k] = [{kk: _json(vv) for kk, vv in item.items()} if isinstance(item, dict) else item for item in v]
        else:
            out[k] = v
    return out
