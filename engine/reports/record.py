"""Decision records: what a decision must carry to be defended later against the exact
rules that made it.

Every result carries a :class:`Record`: a decision id, the policy's revision (a content
hash of the pack's files), the variant, the as-of date, the fupin version and a hash of the
input facts. The id is content-addressed (the same facts, policy, variant and date give
the same id), so a decision made twice is recognisably the same decision.

A *record file* (what ``fupin explain --format json`` writes: ``record``, ``facts`` and the
trace) can be explained again later: :func:`check_record` refuses it, with a located
diagnostic, when the policy's revision has changed (E841) or when its facts are not the
ones hashed (E842). A *decision log* (``--decision-log PATH``) appends one JSON line per
decision, the fields the pack declares ``pii: true`` masked (:func:`masked`), in the
spirit of OPA's decision logs; a masked log line is for audit, not for re-explaining.
"""
from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel

from .identity import canonical, fupin_version, input_hash, revision  # noqa: F401  (part of this module's API)

RECORD_SCHEMA = "fupin.record/1"
MASK = "***"


RESULT_SCHEMA = "fupin.result/1"


class Record(BaseModel):
    """The decision record of one result (schema ``fupin.record/1``)."""

    decision_id: str
    policy_revision: str
    variant: str = "base"
    on: str
    entity: str
    fupin_version: str
    input_hash: str


def make(policy_revision: str, variant: str, on: str, entity: str, facts) -> Record:
    """The record of a decision on ``facts``."""
    hashed = input_hash(facts)
    key = "\0".join((policy_revision, variant, on, entity, hashed))
    return Record(decision_id="d-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:24],
                  policy_revision=policy_revision, variant=variant, on=on, entity=entity,
                  fupin_version=fupin_version(), input_hash=hashed)


def masked(facts, checked, entity: str):
    """The facts with every field the pack declares ``pii: true`` replaced by ``***``
    (children's fields too)."""
    if not isinstance(facts, dict) or entity not in checked.entities:
        return facts
    ent = checked.entities[entity]
    out = {}
    for name, value in facts.items():
        fld = ent.fields.get(name)
        if fld is not None and fld.child and isinstance(value, list):
            out[name] = [masked(v, checked, fld.child) for v in value]
        elif fld is not None and fld.pii and value is not None:
            out[name] = MASK
        else:
            out[name] = value
    return out


def log_line(result, facts, checked) -> dict:
    """One decision-log entry: the record, the values, the unknowns, the masked facts."""
    key = checked.entities[result.entity].key if result.entity in checked.entities else None
    hidden = key is not None and checked.entities[result.entity].fields.get(key) is not None \
        and checked.entities[result.entity].fields[key].pii
    return {"record": result.record.model_dump() if result.record else None, "id": MASK if hidden else result.id,
            "results": result.values, "unknown": result.unknown,
            "facts": masked(facts, checked, result.entity)}


def append_log(path: str, evaluated, checked) -> None:
    """Append one :func:`log_line` per evaluated entity (invalid ones have no decision)."""
    from .jsonout import dumps

    with open(path, "a", encoding="utf-8") as out:
        for item in evaluated:
            if item.result is not None:
                out.write(dumps(log_line(item.result, item.facts, checked), indent=None) + "\n")


def read_record(path: str, current_revision: str) -> dict:
    """A record file's content (``record``, ``facts``), checked: E843 when it is not one,
    E841 when the policy's revision differs, E842 when its facts are not those hashed;
    each located at the file (the line of the key at fault)."""
    from ...dsl.errors import FupinError, Span, error

    try:
        text = Path(path).read_text(encoding="utf-8")
        data = json.loads(text, parse_float=Decimal)
        record = Record.model_validate(data["record"])
        facts = data["facts"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise FupinError(error("E843", Span(path, 1, 1), detail=str(exc).splitlines()[0][:200])) from None
    if record.policy_revision != current_revision:
        raise FupinError(error("E841", _at(path, text, "policy_revision"), recorded=record.policy_revision[:19],
                               current=current_revision[:19]))
    actual = input_hash(facts)
    if actual != record.input_hash:
        raise FupinError(error("E842", _at(path, text, "input_hash"), recorded=record.input_hash[:19],
                               actual=actual[:19]))
    return {"record": record, "facts": facts, "output": _first_output(data)}


def _first_output(data) -> str | None:
    roots = (data.get("roots") or (data.get("trace") or {}).get("roots") or []) if isinstance(data, dict) else []
    return roots[0].get("rule") if roots else None


def _at(path: str, text: str, key: str):
    """The place of ``"key"`` in the record file (line and column, 1-based)."""
    from ...dsl.errors import Span

    for number, line in enumerate(text.splitlines(), 1):
        col = line.find(f'"{key}"')
        if col >= 0:
            return Span(path, number, col + 1)
    return Span(path, 1, 1)


class ResultError(BaseModel):
    """An output that could not be computed: its code, message and location."""

    code: str
    message: str
    location: str


class ResultDocument(BaseModel):
    """One entity's result as ``fupin eval --format json`` writes it (schema
    ``fupin.result/1``, docs/result-schema.json, generated from this model)."""

    id: str | None
    on: str | None = None
    results: dict[str, object] | None
    unknown: dict[str, list[str]] = {}
    possible: dict[str, list] | None = None
    errors: dict[str, ResultError] | None = None
    record: Record | None = None
    warnings: list[dict] | None = None
    invalid: list[dict] | None = None


def trace_schema() -> dict:
    """The JSON Schema of ``fupin.trace/1``, generated from the pydantic ``Trace``."""
    from .trace import TRACE_SCHEMA, Trace

    schema = Trace.model_json_schema(by_alias=True)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": TRACE_SCHEMA, **schema}


def result_schema() -> dict:
    """The JSON Schema of ``fupin.result/1``, generated from :class:`ResultDocument`."""
    schema = ResultDocument.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": RESULT_SCHEMA, **schema}
