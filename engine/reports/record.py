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

import datetime as dt
import functools
import hashlib
import json
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel

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


@functools.cache
def fupin_version() -> str:
    """The installed fupin's version (read from the package metadata once a process: the
    read parses a file, half the time of a traced evaluation through the API)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("fupin")
    except PackageNotFoundError:  # pragma: no cover - a source checkout without install
        return "0+unknown"


def revision(files, root: Path, texts: dict | None = None) -> str:
    """``sha256:…`` over the pack's files (their paths relative to ``root`` and their
    bytes, in sorted order): any edit to a rule, parameter or declaration changes it.
    ``texts`` (resolved path → text) stands for files as edited but not saved."""
    texts = {str(Path(k).resolve()): v for k, v in (texts or {}).items()}
    h = hashlib.sha256()
    base = root.resolve()
    for path in sorted({Path(f).resolve() for f in files} | {Path(k) for k in texts}):
        full = str(path)
        rel = path.relative_to(base).as_posix() if path != base and root.is_dir() else path.name
        h.update(rel.encode("utf-8") + b"\0")
        h.update((texts[full].encode("utf-8") if full in texts else path.read_bytes()) + b"\0")
    return "sha256:" + h.hexdigest()


def input_hash(facts) -> str:
    """``sha256:…`` of the facts as canonical JSON (keys sorted, numbers as exact text)."""
    return "sha256:" + hashlib.sha256(canonical(facts).encode("utf-8")).hexdigest()


def canonical(facts) -> str:
    """Facts as one canonical JSON text: ``4999``, ``4999.0`` and ``Decimal('4999')`` alike."""
    return json.dumps(_canon(facts), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


_INT_LIMIT = 10 ** 27  # ints within the Decimal context's 28 digits take the short path


def _canon(value):
    kind = type(value)
    if kind is str or kind is bool or value is None:  # the common cases first, by exact type
        return value
    if kind is int and -_INT_LIMIT < value < _INT_LIMIT:
        return {"$n": str(value)}  # what the Decimal path gives an int (5000, not 5E+3), cheaper
    if kind is dict:
        return _canon_dict(value)
    if isinstance(value, dict):
        return {str(k): _canon(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canon(v) for v in value]
    if isinstance(value, bool) or isinstance(value, str):
        return value
    if isinstance(value, (int, float, Decimal)):
        d = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
        return {"$n": format(d.normalize(), "f")}  # a number, never confused with its text
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def _canon_dict(facts: dict) -> dict:
    """``_canon`` of a plain dict, its common values handled in the loop (a household's
    facts are ~100 values: one call each was most of the decision record's cost)."""
    out = {}
    for key, value in facts.items():
        kind = type(value)
        key = key if type(key) is str else str(key)
        if kind is str or kind is bool or value is None:
            out[key] = value
        elif kind is int and -_INT_LIMIT < value < _INT_LIMIT:
            out[key] = {"$n": str(value)}
        elif kind is list:
            out[key] = [_canon_dict(v) if type(v) is dict else _canon(v) for v in value]
        else:
            out[key] = _canon(value)
    return out


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
