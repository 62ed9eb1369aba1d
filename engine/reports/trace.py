"""Tracing: an observer that records a tree of decisions while a program evaluates.

:class:`Recorder` is attached to an evaluation only when a trace is asked for; the
fast path never calls it. The recorded tree becomes :class:`TraceNode` pydantic
models (the stable, versioned JSON schema of docs/trace-format.md) in
:func:`to_model`.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ..core.values import Unknown, plain

TRACE_SCHEMA = "fupin.trace/1"


class Read(BaseModel):
    """A fact (or aggregate) read while deciding a value."""

    path: str
    label: dict | None = None
    value: Any = None
    unknown: bool = False
    when_absent: bool = False
    aggregate: bool = False


class ParamUse(BaseModel):
    """A parameter used, with the value in force and the date it took effect."""

    name: str
    label: dict | None = None
    value: Any = None
    unit: str | None = None
    effective_from: str | None = None
    sources: list[str] = []
    origin: str = "base"
    gap: bool = False


class Comparison(BaseModel):
    """A comparison evaluated: the operands' values and the outcome."""

    text: str
    operands: list[dict]
    ops: list[str]
    result: Any = None


class TraceNode(BaseModel):
    """One rule's evaluation: its value, what decided it, what it read, its children."""

    rule: str
    entity: str
    path: str = ""
    label: dict | None = None
    type: str = ""
    value: Any = None
    value_label: dict | None = None
    unknown_facts: list[str] = []
    possible: list | None = None
    possible_labels: list | None = None  # the labels of each possible enum value, in order
    error: str | None = None
    decided_by: dict | None = None
    reads: list[Read] = []
    params: list[ParamUse] = []
    comparisons: list[Comparison] = []
    sources: list[str] = []
    origin: str = "base"
    children: list["TraceNode"] = Field(default_factory=list)
    reasons: list["Reason"] | None = None  # an output's deciding facts (reports/reasons.py)


class Reason(BaseModel):
    """A fact that decided an output: without it (the others kept), the output would not
    be what it is. ``where`` names the child it belongs to (``成员 2``), outermost first."""

    path: str
    label: dict | None = None
    value: Any = None
    value_label: dict | None = None
    type: str = ""
    unit: str | None = None
    where: list[dict] = []  # [{"label": {zh, en}, "number": 2}]
    mutable: bool = True  # False: the pack declares that a person cannot change it


TraceNode.model_rebuild()


class Trace(BaseModel):
    """The trace of one entity's evaluation (schema ``fupin.trace/1``)."""

    schema_: str = Field(TRACE_SCHEMA, alias="schema")
    policy: str = "base"
    on: str
    entity: str
    id: str | None = None
    roots: list[TraceNode]
    # What renders the trace without the policy (reports/reasons.py fills them): the
    # entity's labels, the labels of every enum value by type, the parameters' labels, the
    # cited document lines by citation ("001:78" -> text) and the documents' titles.
    entity_label: dict | None = None
    enums: dict[str, dict[str, dict]] = {}
    quotes: dict[str, str] = {}
    documents: dict[str, dict] = {}
    record: dict | None = None  # the decision record (reports/record.py)

    model_config = {"populate_by_name": True}


class _Frame:
    __slots__ = ("rule", "path", "reads", "params", "comparisons", "decided", "children", "value", "error")

    def __init__(self, rule, path):
        self.rule, self.path = rule, path
        self.reads, self.params, self.comparisons, self.children = [], [], [], []
        self.decided = None
        self.value = None
        self.error = None


class Recorder:
    """Collects frames while evaluating; ``muted`` silences re-reads done for the record."""

    def __init__(self, program):
        self.program = program
        self.stack: list[_Frame] = [_Frame(None, "")]
        self.muted = 0

    @property
    def roots(self) -> list:
        return self.stack[0].children

    def enter(self, rule, path: str) -> None:
        frame = _Frame(rule, path)
        self.stack[-1].children.append(frame)
        self.stack.append(frame)

    def exit(self, value, error=None) -> None:
        frame = self.stack.pop()
        frame.value, frame.error = value, error

    def note_cached(self, rule, path: str, value) -> None:
        if not self.muted:
            frame = _Frame(rule, path)
            frame.value = value
            frame.decided = {"kind": "cached"}
            self.stack[-1].children.append(frame)

    def read(self, path, describe, value, absent_used, aggregate=False) -> None:
        if not self.muted:
            self.stack[-1].reads.append((path, describe, value, absent_used, aggregate))

    def param(self, name, value, start) -> None:
        if not self.muted:
            self.stack[-1].params.append((name, value, start))

    def compare(self, text, describe, values, ops, result) -> None:
        if not self.muted:
            self.stack[-1].comparisons.append((text, describe, values, ops, result))

    def decide(self, info: dict) -> None:
        if not self.muted and self.stack[-1].decided is None:
            self.stack[-1].decided = info


def to_model(recorder: Recorder, on, entity, ident, policy) -> Trace:
    """The recorded frames as the pydantic Trace."""
    roots = [_node(f, recorder.program) for f in recorder.roots]
    return Trace(policy=policy, on=str(on), entity=entity, id=ident, roots=roots)


def _node(frame: _Frame, program) -> TraceNode:
    rule = frame.rule
    value = frame.value
    seen_reads, reads = set(), []
    for path, describe, v, absent, aggregate in frame.reads:
        if path in seen_reads:
            continue
        seen_reads.add(path)
        reads.append(Read(path=path, label=(describe or {}).get("label"), value=_json(v),
                          unknown=type(v) is Unknown, when_absent=absent, aggregate=aggregate))
    seen_params, params = set(), []
    for name, v, start in frame.params:
        if name in seen_params:
            continue
        seen_params.add(name)
        p = program.checked.params[name]
        params.append(ParamUse(name=name, label=_labels(p.labels), value=_json(v), unit=p.unit,
                               effective_from=start.isoformat() if start else None,
                               sources=[str(s) for s in p.sources], origin=p.origin, gap=type(v) is Unknown))
    comparisons = [Comparison(text=text, ops=list(ops), result=_json(result),
                              operands=[dict(d or {}, value=_json(v)) for d, v in zip(describe, values)])
                   for text, describe, values, ops, result in frame.comparisons]
    return TraceNode(
        rule=rule.name, entity=rule.entity, path=frame.path, label=_labels(rule.labels), type=str(rule.type),
        value=_json(value), value_label=_value_label(rule, value, program.checked), unknown_facts=sorted(value.facts) if type(value) is Unknown else [],
        error=frame.error, decided_by=_json_dict(frame.decided), reads=reads, params=params,
        comparisons=comparisons, sources=[str(s) for s in rule.sources], origin=rule.origin,
        children=[_node(c, program) for c in frame.children],
    )


def settle(trace: Trace, program, settled: dict, possible: dict) -> Trace:
    """The trace with its outputs settled by cases (core/exact.py) shown so: a decided
    output takes its value, ``decided_by`` of kind ``cases`` naming the facts every
    value of which gives it; an unknown one lists its ``possible`` values."""
    roots = []
    for node in trace.roots:
        if node.path == "" and node.rule in settled:
            value, facts = settled[node.rule]
            rule = program.checked.rules[node.rule]
            node = node.model_copy(update={
                "value": _json(value), "value_label": _value_label(rule, value, program.checked),
                "unknown_facts": [], "decided_by": {"kind": "cases", "facts": sorted(facts)}})
        elif node.path == "" and node.rule in possible and node.unknown_facts:
            rule = program.checked.rules[node.rule]
            node = node.model_copy(update={
                "possible": [_json(v) for v in possible[node.rule]],
                "possible_labels": [_value_label(rule, v, program.checked) for v in possible[node.rule]]})
        roots.append(node)
    return trace.model_copy(update={"roots": roots})


def _value_label(rule, value, checked) -> dict | None:
    """The labels of an enum value, so that a trace renders without the policy."""
    if rule.type.kind != "enum" or not isinstance(value, str):
        return None
    enum = checked.enums.get(rule.type.name)
    return _labels(enum.values.get(value)) if enum is not None else None


def _labels(labels) -> dict | None:
    return {"zh": labels.zh, "en": labels.en or labels.zh} if labels else None


def _json(value):
    from decimal import Decimal

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
