"""The pydantic models of a trace (schema ``fupin.trace/1``, docs/trace-format.md): what
:class:`~.trace.Recorded` builds from a recorded evaluation when the trace is read.

Imported by reports/trace.py on first use of a model (``from .trace import Trace`` still
works), so that evaluating without a trace, loading a policy and ``fupin batch`` do not
pay for building these models at import.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from .trace import TRACE_SCHEMA


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
