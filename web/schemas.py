"""The OpenAPI document's types, made from the served pack's declarations.

A client generated from ``/openapi.json`` should get real types: each entity's facts
(fields, enums, money, members as nested lists — :func:`fupin.dsl.schema.facts_schema`),
each entity's results (one property per output, typed by the rule's declared type), the
request bodies of evaluate / explain / what-if, and the trace and record models. The pack
decides them, so :func:`components` is rebuilt when a reload serves another revision
(:func:`openapi_for` caches by revision).

The request models here (:class:`EvaluateRequest` …) validate the options of a request;
the facts inside it are validated by the engine's facts checker, which gives located
diagnostics (E801-E817) rather than pydantic's messages.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..dsl.schema import facts_schema
from ..engine.reports.record import Record
from ..engine.reports.trace import Trace

REF = "#/components/schemas/"


class Options(BaseModel):
    """What every evaluating request may say besides the facts."""

    model_config = ConfigDict(extra="forbid")

    entity: str | None = Field(None, description="实体（默认：政策声明的默认实体）/ the entity (default: the pack's default)")
    on: dt.date | None = Field(None, description="评估日期 / as-of date (default: the pack's declared date)")
    variant: str | None = Field(None, description="变体 / variant (default: base)")
    lang: Literal["zh", "en"] | None = Field(None, description="消息语言 / language of messages")
    allow_unknown_fields: bool = Field(False, description="忽略未声明字段（警告 W906）/ ignore undeclared fields")


class EvaluateRequest(Options):
    """``POST /v1/evaluate``: one entity's facts, or a list of them."""

    facts: Any = Field(..., description="一个实体的事实，或其列表 / one entity's facts, or a list")
    only: list[str] | None = Field(None, description="只计算这些输出 / compute these outputs only")
    trace: bool = Field(False, description="附带推理过程 / include the trace")


class ExplainRequest(Options):
    """``POST /v1/explain``: one entity's facts and the output to explain."""

    facts: Any = Field(..., description="一个实体的事实 / one entity's facts")
    output: str = Field(..., description="要解释的输出 / the output to explain")
    depth: int | None = Field(1, ge=0, le=50, description="展开的层数（null：全部）/ levels of detail (null: all)")


class WhatIfRequest(Options):
    """``POST /v1/whatif``: the smallest fact changes giving ``output`` another value."""

    facts: Any = Field(..., description="一个实体的事实 / one entity's facts")
    output: str = Field(..., description="输出 / the output")
    value: Any = Field(None, description="目标值（默认：其他每个值）/ the wanted value (default: each other value)")
    max_changes: int = Field(2, ge=1, le=3, description="最多改变几项事实 / facts changed at most")


REQUESTS = {"EvaluateRequest": EvaluateRequest, "ExplainRequest": ExplainRequest, "WhatIfRequest": WhatIfRequest}


def component_name(prefix: str, name: str) -> str:
    """An OpenAPI component name (``[A-Za-z0-9._-]``) for a pack name, which may be Chinese."""
    clean = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    if clean == name:
        return f"{prefix}_{name}"
    # the same in every worker process (str hash() is salted per process)
    return f"{prefix}_{clean}_{hashlib.sha256(name.encode('utf-8')).hexdigest()[:8]}"


def components(checked) -> dict:
    """The pack-made component schemas: ``Facts_<entity>``, ``Results_<entity>``, the
    request bodies (their ``facts`` typed by the entities), ``Trace`` and ``Record``."""
    out: dict = {}
    names = {e: component_name("Facts", e) for e in checked.entities}
    for entity, schema in facts_schema(checked, checked.default_entity or next(iter(checked.entities)))["$defs"].items():
        out[names[entity]] = _retarget(schema, names)
        out[component_name("Results", entity)] = results_schema(checked, entity)
    any_facts = [{"$ref": REF + n} for n in names.values()]
    one = {"anyOf": any_facts}
    for name, model in REQUESTS.items():
        schema = model.model_json_schema(ref_template=REF + "{model}")
        schema["properties"]["facts"] = {**schema["properties"]["facts"], **(
            {"anyOf": [*any_facts, {"type": "array", "items": one}]} if name == "EvaluateRequest" else one)}
        out[name] = schema
    trace = Trace.model_json_schema(ref_template=REF + "{model}")
    out.update(trace.pop("$defs", {}))
    out["Trace"] = trace
    out["Record"] = Record.model_json_schema(ref_template=REF + "{model}")
    return out


def results_schema(checked, entity: str) -> dict:
    """One property per output of ``entity``, typed by its rule (null: unknown)."""
    props = {}
    for name, rule in checked.rules.items():
        if rule.entity == entity and not rule.internal:
            props[name] = {"anyOf": [_output_type(checked, rule), {"type": "null"}]}
            if rule.labels is not None:
                props[name]["description"] = rule.labels.zh + (f" / {rule.labels.en}" if rule.labels.en else "")
    return {"type": "object", "properties": props}


def _output_type(checked, rule) -> dict:
    kind = rule.type.kind
    if kind == "enum" and rule.type.name in checked.enums:
        return {"type": "string", "enum": list(checked.enums[rule.type.name].values)}
    return {"bool": {"type": "boolean"}, "integer": {"type": "integer"}, "money": {"type": "number"},
            "ratio": {"type": "number"}, "decimal": {"type": "number"},
            "date": {"type": "string", "format": "date"}, "string": {"type": "string"}}.get(kind, {})


def _retarget(schema, names: dict):
    """``#/$defs/<entity>`` references rewritten to the components they became."""
    if isinstance(schema, dict):
        out = {k: _retarget(v, names) for k, v in schema.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            out["$ref"] = REF + names[ref[len("#/$defs/"):]]
        return out
    if isinstance(schema, list):
        return [_retarget(v, names) for v in schema]
    return schema
