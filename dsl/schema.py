"""JSON Schemas for editors: rule files (from the pydantic models) and facts files (from
a policy's entities), for ``fupin schema``.

An editor with a YAML language server (VS Code's YAML extension) validates a file as it
is typed and completes keys from these schemas. They catch what a schema can: unknown
keys (``type2:``), a wrong shape (``labels: 红色``), a hit policy that does not exist,
a name an expression cannot refer to, a control character or full-width punctuation in
an expression, a misspelt enum value or an undeclared field in facts. Names, types and
tables are the checker's job (``fupin check``); the schema is the first, fast line.
"""
from __future__ import annotations

import copy

from .model import RuleFile, VariantFile

DRAFT = "https://json-schema.org/draft/2020-12/schema"
# A name an expression can refer to (dsl/parser.referenceable, in the regex dialect both
# Python's re and JavaScript understand: \w would be ASCII-only in an editor).
NAME = "^[A-Za-z_\u4e00-\u9fff][A-Za-z0-9_\u4e00-\u9fff]*$"
# An expression holds no control character and no full-width punctuation (a slip of the
# input method: （）：，；). Labels and notes may; expressions may not.
EXPRESSION = "^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f（）：，；]*$"
NUMBER_TEXT = "^\\s*-?[0-9０-９][0-9０-９,.]*\\s*(万元|亿元|元|万|%|％)?\\s*$"
_BOOL_TEXT = ["true", "false", "是", "否", "1", "0"]


def rules_schema(policy=None) -> dict:
    """The schema of a rule or variant file; with a checked policy, ``type:`` and
    ``entity:`` also list its types and entities (for completion)."""
    defs: dict = {}
    roots = {}
    for model in (RuleFile, VariantFile):
        schema = model.model_json_schema(ref_template="#/$defs/{model}")
        defs.update(schema.pop("$defs", {}))
        roots[model.__name__] = schema
    defs.update(roots)
    _expressions(defs)
    for section in ("rules", "parameters", "enums", "entities"):
        defs["RuleFile"]["properties"][section]["propertyNames"] = {"pattern": NAME}
    defs["VariantFile"]["properties"]["rules"]["propertyNames"] = {"pattern": NAME}
    if policy is not None:
        _policy_names(defs, policy)
    return {
        "$schema": DRAFT,
        "$id": "https://fupin.invalid/schema/rules.json",
        "title": "fupin rule or variant file",
        "$defs": defs,
        "if": {"type": "object", "required": ["variant"]},
        "then": {"$ref": "#/$defs/VariantFile"},
        "else": {"$ref": "#/$defs/RuleFile"},
    }


def _expressions(defs: dict) -> None:
    """Expressions, cells and exception values: no control or full-width characters."""
    for model, fields in (("RuleDef", ("expr",)), ("ExceptionDef", ("when", "value")), ("TableInputDef", ("expr",))):
        props = defs[model]["properties"]
        for name in fields:
            for alt in props[name].get("anyOf", [props[name]]):
                if alt.get("type") == "string":
                    alt["pattern"] = EXPRESSION


def _policy_names(defs: dict, policy) -> None:
    kinds = ["bool", "integer", "decimal", "money", "ratio", "date", "string", "list", *policy.enums]
    rule = defs["RuleDef"]["properties"]
    rule["type"] = {"type": "string", "enum": kinds, "title": rule["type"].get("title", "Type")}
    entities = list(policy.entities)
    for model in ("RuleDef", "RuleFile"):
        prop = defs[model]["properties"]["entity"]
        prop["anyOf"] = [{"type": "string", "enum": entities}, {"type": "null"}]


# --- facts


def facts_schema(policy, entity: str) -> dict:
    """The schema of a facts file of ``entity``: one entity object or a list of them,
    fields as the policy declares them (unknown fields refused, as fupin eval does)."""
    defs = {name: _entity(policy, name) for name in policy.entities}
    one = {"$ref": f"#/$defs/{entity}"}
    return {
        "$schema": DRAFT,
        "$id": f"https://fupin.invalid/schema/facts-{entity}.json",
        "title": f"fupin facts: {entity}",
        "$defs": defs,
        "anyOf": [one, {"type": "array", "items": one}],
    }


def _entity(policy, name: str) -> dict:
    ent = policy.entities[name]
    props, required = {}, []
    for fname, f in ent.fields.items():
        props[fname] = _field(policy, f)
        if f.required:
            required.append(fname)
    for key in policy.parent_keys(name):  # flat files name the parent's key in a column
        props.setdefault(key, {"type": ["string", "integer"]})
    out = {"type": "object", "additionalProperties": False, "properties": props}
    if ent.labels is not None:
        out["title"] = ent.labels.zh + (f" / {ent.labels.en}" if ent.labels.en else "")
    if required:
        out["required"] = required
    return out


def _field(policy, f) -> dict:
    kind = f.type.kind
    if kind == "list":
        out = {"type": "array", "items": {"$ref": f"#/$defs/{f.child}"}}
    elif kind == "bool":
        out = {"anyOf": [{"type": "boolean"}, {"type": "string", "enum": _BOOL_TEXT}]}
    elif kind == "integer":
        out = {"type": "integer", **_bounds(f)}
    elif kind in ("decimal", "money", "ratio"):
        out = {"anyOf": [{"type": "number", **_bounds(f)}, {"type": "string", "pattern": NUMBER_TEXT}]}
    elif kind == "date":
        out = {"type": "string", "format": "date", "pattern": "^\\d{4}-\\d{2}-\\d{2}$"}
    elif kind == "enum":
        values = policy.enums[f.type.name].spellings()
        out = {"type": "string", "enum": sorted(values)}
    elif kind == "string":
        out = {"type": ["string", "integer"]}
    else:
        out = {}
    if f.labels is not None:
        out["description"] = f.labels.zh + (f" / {f.labels.en}" if f.labels.en else "")
    return {"anyOf": [copy.deepcopy(out), {"type": "null"}]} if not f.required else out


def _bounds(f) -> dict:
    out = {}
    for key, value, name in (("minimum", f.min, "min"), ("maximum", f.max, "max")):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[key] = value
        elif value is not None and hasattr(value, "is_finite") and value.is_finite():
            out[key] = int(value) if value == value.to_integral_value() else float(value)
    return out


__all__ = ["rules_schema", "facts_schema", "NAME", "EXPRESSION"]
