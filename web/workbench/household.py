"""The household page's model: a form made from the entity declarations, the facts read
back from it, and the decisions of one evaluation.

Form names: ``f:FIELD`` for a field of the entity, ``c:LIST:I:FIELD`` for a field of
its I-th child in the list field LIST (members as rows). An empty input is an absent
fact (unknown to the rules, never a default); a yes/no input has three choices (not
given, yes, no). Numbers go to the facts checker as typed, so a wrong entry comes back
as its located diagnostic (E802 …) rather than being guessed at here.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import re
import zlib
from dataclasses import dataclass, field
from decimal import Decimal

from .i18n import pick

NUMBER = re.compile(r"-?\d+(\.\d+)?")
INPUTS = {"bool": "bool", "enum": "enum", "date": "date", "string": "text",
          "money": "number", "integer": "number", "decimal": "number", "ratio": "number"}


@dataclass
class FieldSpec:
    """One input: its form name suffix, label, kind of input and choices."""

    name: str
    label: str
    input: str                          # bool | enum | number | date | text | list
    kind: str                           # the declared type's kind
    unit: str | None = None
    choices: list = field(default_factory=list)   # [(value, label)] for enum
    required: bool = False
    mutable: bool = True
    main: bool = False                  # read by the outputs the entity reports
    child: "EntityForm | None" = None


@dataclass
class EntityForm:
    """The inputs of one entity: main fields first."""

    entity: str
    label: str
    key: str
    fields: list[FieldSpec]

    def main(self) -> list[FieldSpec]:
        return [f for f in self.fields if f.main and f.input != "list"]

    def more(self) -> list[FieldSpec]:
        return [f for f in self.fields if not f.main and f.input != "list"]

    def lists(self) -> list[FieldSpec]:
        return [f for f in self.fields if f.input == "list"]


def read_by_reports(checked, entity: str) -> set:
    """(entity, field) pairs read by the outputs the entity's report counts (the fields an
    officer fills first)."""
    from ...engine.reports.whatif import fields_read

    report = checked.entities[entity].report
    out = set()
    for name in (report.count if report is not None else ()):
        out |= set(fields_read(checked, name))
    return out


def entity_form(checked, entity: str, lang: str, main: set | None = None) -> EntityForm:
    """The form of ``entity`` (and its children's rows) from its declarations."""
    ent = checked.entities[entity]
    main = read_by_reports(checked, entity) if main is None else main
    specs = []
    for name, f in ent.fields.items():
        kind = f.type.kind
        spec = FieldSpec(name, pick(f.labels, lang) or name, "list" if kind == "list" else INPUTS.get(kind, "text"),
                         kind, f.unit, required=f.required, mutable=f.mutable,
                         main=(entity, name) in main or f.required or name == ent.key)
        if kind == "enum" and f.type.name in checked.enums:
            spec.choices = [(v, pick(lab, lang) or v) for v, lab in checked.enums[f.type.name].values.items()]
        if kind == "list" and f.child in checked.entities:
            spec.child = entity_form(checked, f.child, lang, main)
        specs.append(spec)
    return EntityForm(entity, pick(ent.labels, lang) or entity, ent.key, specs)


def facts_from_form(form: EntityForm, data) -> dict:
    """The raw facts an HTML form (``data``: a multi-dict) describes."""
    facts = _entity_facts(form, lambda name: data.get(f"f:{name}"))
    for lst in form.lists():
        rows = sorted({int(k.split(":")[2]) for k in data.keys()
                       if k.startswith(f"c:{lst.name}:") and k.split(":")[2].isdigit()})
        children = []
        for i in rows:
            child = _entity_facts(lst.child, lambda name, i=i: data.get(f"c:{lst.name}:{i}:{name}"))
            children.append(child)
        if children or data.get(f"has:{lst.name}"):
            facts[lst.name] = children
    return facts


def _entity_facts(form: EntityForm, get) -> dict:
    out = {}
    for spec in form.fields:
        if spec.input == "list":
            continue
        raw = get(spec.name)
        if raw is None or str(raw).strip() == "":
            continue
        text = str(raw).strip()
        if spec.input == "bool":
            out[spec.name] = {"true": True, "false": False}.get(text, text)
        elif spec.kind == "integer" and text.lstrip("-").isdigit():
            out[spec.name] = int(text)
        elif spec.input == "number" and NUMBER.fullmatch(text):
            out[spec.name] = Decimal(text)   # exact; anything else goes to the checker as typed
        else:
            out[spec.name] = text
    return out


def form_values(form: EntityForm, facts: dict) -> dict:
    """Form name → text, for filling the form with ``facts`` (the inverse of
    :func:`facts_from_form`)."""
    values = {}
    for spec in form.fields:
        value = facts.get(spec.name) if isinstance(facts, dict) else None
        if spec.input == "list":
            for i, child in enumerate(value or []):
                for cspec in spec.child.fields:
                    if cspec.input != "list" and isinstance(child, dict) and child.get(cspec.name) is not None:
                        values[f"c:{spec.name}:{i}:{cspec.name}"] = _text(child[cspec.name])
        elif value is not None:
            values[f"f:{spec.name}"] = _text(value)
    return values


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:f}"
    return str(value)


def children_count(form: EntityForm, facts: dict) -> dict:
    """List field → number of rows to show (at least one)."""
    return {lst.name: max(1, len(facts.get(lst.name) or [])) for lst in form.lists()}


def pack(facts: dict) -> str:
    """Facts in a URL (a permalink): compact JSON, deflated, base64url."""
    from ...engine.reports.jsonout import dumps

    text = dumps(facts, indent=None).encode("utf-8")
    return base64.urlsafe_b64encode(zlib.compress(text, 9)).decode("ascii").rstrip("=")


def unpack(text: str) -> dict | None:
    """The facts of a permalink, or None when it is not one (at most 1 MB unpacked)."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        data = zlib.decompressobj().decompress(raw, 1 << 20)
        facts = json.loads(data.decode("utf-8"), parse_float=Decimal)
    except (ValueError, zlib.error, UnicodeDecodeError):
        return None
    return facts if isinstance(facts, dict) else None


@dataclass
class Decision:
    """One output's row in the decisions table."""

    name: str
    label: str
    value: str
    state: str          # decided | unknown | error
    needs: list = field(default_factory=list)


def decisions(result, checked, entity: str, lang: str) -> list[Decision]:
    """Every output of ``entity`` (internal rules left out), as the explanation reads it."""
    from ...engine.reports.explain import parts

    out = []
    for name, rule in checked.rules.items():
        if rule.entity != entity or rule.internal:
            continue
        p = parts(result, name, lang)
        value = p["title"].split(" = ", 1)[1] if p and " = " in p["title"] else "?"
        if name in (result.errors or {}):
            state = "error"
        elif name in (result.unknown or {}):
            state = "unknown"
        else:
            state = "decided"
        needs = list((result.unknown or {}).get(name, ()))[:6]
        out.append(Decision(name, pick(rule.labels, lang) or name, value, state, needs))
    return out


def explanation(result, output: str, lang: str) -> dict | None:
    """The pieces of one output's explanation: decision, heading, reasons, rule, sources,
    and the tree as nested (line, details, children) tuples."""
    from ...engine.reports.explain import node_parts, parts

    p = parts(result, output, lang)
    if p is None:
        return None

    def tree(node, depth=0):
        line, details, children = node_parts(node, result.trace, lang)
        return {"line": line, "details": details, "children": [tree(c, depth + 1) for c in children] if depth < 12 else []}
    reasons = [r.lstrip("· ") for r in p["reasons"] if not r.endswith(("：", ":"))] or p["reasons"]
    sources = [s for s in p["sources"] if not s.endswith(("：", ":"))]
    return {"title": p["title"], "heading": p["heading"], "reasons": reasons, "rule": p["rule"],
            "sources": sources, "tree": tree(p["node"])}


def alternatives(answers: dict, lang: str) -> list[dict]:
    """What-if answers as buttons: the value each gives and the form inputs to set."""
    out = []
    for alts in answers.values():
        for alt in alts[:3]:
            changes = []
            for c in alt.changes:
                changes.append({"name": form_name(c.path), "value": "" if c.new is None else _text(c.new),
                                "text": change_text(c, lang), "mutable": c.mutable})
            label = pick_dict(alt.value_label, lang) or _text(alt.value)
            if isinstance(alt.value, bool):
                label = ("是" if alt.value else "否") if lang == "zh" else ("yes" if alt.value else "no")
            out.append({"value": label, "changes": changes})
    return out


def form_name(path: str) -> str:
    """A what-if change's path (``income_per_capita``, ``members[1].age``) → the form name."""
    if "[" in path:
        head, rest = path.split("[", 1)
        index, _, name = rest.partition("].")
        return f"c:{head}:{index}:{name}"
    return f"f:{path}"


def change_text(c, lang: str) -> str:
    label = pick_dict(c.label, lang) or c.path
    where = "".join(f"{pick_dict(w.get('label'), lang) or ''} {w.get('index', '')} " for w in (c.where or [])
                    if isinstance(w, dict))
    old = pick_dict(c.old_label, lang) or ("—" if c.old is None else _yes(c.old, lang))
    new = pick_dict(c.new_label, lang) or ("—" if c.new is None else _yes(c.new, lang))
    return f"{where}{label}: {old} → {new}"


def _yes(value, lang: str) -> str:
    if isinstance(value, bool):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    return _text(value)


def pick_dict(labels, lang: str) -> str | None:
    if not isinstance(labels, dict):
        return None
    return labels.get(lang) or labels.get("zh")
