"""``GET /v1/policy``, ``/v1/policy/rules/{name}``, ``/v1/policy/parameters/{name}``.

What the served pack declares, read from the checked policy (``?variant=`` for a
variant): its variants, entities and their fields, rules, and parameters with their
dated values and cited sources; and, after a reload that found errors, those errors
(the previous pack is still served).
"""
from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from ...dsl.errors import Bilingual, FupinError
from ...engine.reports.jsonout import dumps
from ..problems import Problem, at
from ..state import Loaded, Served
from . import context
from .evaluate import problem

router = APIRouter(prefix="/v1/policy", tags=["policy"])
VARIANT = Query(None, description="变体（默认：base）/ variant (default: base)", max_length=200)


def labels(value) -> dict | None:
    return None if value is None else {"zh": value.zh, "en": value.en}


def sources(cited) -> list[dict]:
    return [{"doc": c.doc, "first": c.first, "last": c.last} for c in cited or ()]


def _type(t) -> str:
    return t.name if t.kind == "enum" and t.name else t.kind


def field_json(f) -> dict:
    return {"type": _type(f.type), "child": f.child, "required": bool(f.required), "pii": bool(f.pii),
            "min": f.min, "max": f.max, "unit": f.unit, "labels": labels(f.labels)}


def rule_summary(name: str, r) -> dict:
    return {"name": name, "entity": r.entity, "type": _type(r.type), "labels": labels(r.labels), "unit": r.unit,
            "internal": bool(r.internal), "origin": r.origin}


def param_json(name: str, p) -> dict:
    return {"name": name, "type": _type(p.type), "labels": labels(p.labels), "unit": p.unit, "note": p.note,
            "origin": p.origin, "sources": sources(p.sources), "file": str(p.span),
            "values": [_dated(day, value) for day, value in p.periods]}


def _dated(day, value) -> dict:
    """One dated value; a blank the source leaves (a documented gap) as ``gap`` text."""
    text = getattr(value, "text", None)
    if text is not None and not isinstance(value, (str, int)):
        return {"from": day.isoformat(), "value": None, "gap": text}
    return {"from": day.isoformat(), "value": value if isinstance(value, (str, int, float, Decimal, dict, list, type(None)))
            else str(value)}


def describe(loaded: Loaded, served: Served, variant: str | None, lang: str) -> dict:
    """The whole ``/v1/policy`` document."""
    policy = loaded.policy
    checked = policy.program(variant).checked
    failure = served.failure
    return {
        "revision": policy.revision, "loaded_at": loaded.loaded_at, "variant": checked.variant,
        "variants": [{"name": v, "labels": labels(policy.program(v).checked.variant_labels)} for v in policy.variants],
        "default_entity": checked.default_entity,
        "default_on": checked.default_on.isoformat() if checked.default_on else None,
        "documents": {k: {"title": labels(getattr(d, "title", None))} for k, d in checked.documents.items()},
        "enums": {n: {"labels": labels(e.labels), "values": list(e.values)} for n, e in checked.enums.items()},
        "entities": {n: {"labels": labels(e.labels), "key": e.key, "parent": e.parent, "default": bool(e.default),
                         "fields": {f: field_json(fd) for f, fd in e.fields.items()}}
                     for n, e in checked.entities.items()},
        "rules": [rule_summary(n, r) for n, r in checked.rules.items()],
        "parameters": [param_json(n, p) for n, p in checked.params.items()],
        "reload_errors": None if failure is None else {"at": failure.at,
                                                       "diagnostics": [d.to_json(lang) for d in failure.diagnostics]},
    }


def _json(data) -> Response:
    return Response(dumps(data, indent=None), media_type="application/json")


def _missing(kind: Bilingual, name: str) -> Problem:
    return Problem(at("<request>", "E867", kind=kind, name=name[:200]), 404)


@router.get("", summary="政策包：变体、实体、规则、参数 / The pack: variants, entities, rules, parameters")
def policy(request: Request, variant: str | None = VARIANT, loaded: Loaded = Depends(context.snapshot),
           served: Served = Depends(context.served), lang: str = Depends(context.lang)):
    """Everything the served pack declares, its revision, and the errors of a failed reload."""
    try:
        return _json(describe(loaded, served, variant, lang))
    except (Problem, FupinError) as exc:
        return problem(exc, lang, request)


@router.get("/rules/{name}", summary="一条规则 / One rule")
def rule(request: Request, name: str, variant: str | None = VARIANT, loaded: Loaded = Depends(context.snapshot),
         lang: str = Depends(context.lang)):
    """A rule's declaration: entity, type, labels, unit, note, cited sources, what it
    depends on, where it is written, and whether a table, an expression or exceptions decide it."""
    try:
        checked = loaded.policy.program(variant).checked
        r = checked.rules.get(name)
        if r is None:
            raise _missing(Bilingual("规则", "rule"), name)
        return _json({**rule_summary(name, r), "note": r.note, "sources": sources(r.sources), "file": str(r.span),
                      "depends_on": sorted(r.deps), "decided_by": "table" if r.table is not None else "expression",
                      "exceptions": len(r.exceptions or ())})
    except (Problem, FupinError) as exc:
        return problem(exc, lang, request)


@router.get("/parameters/{name}", summary="一个参数及其分期取值 / One parameter and its dated values")
def parameter(request: Request, name: str, variant: str | None = VARIANT, loaded: Loaded = Depends(context.snapshot),
              lang: str = Depends(context.lang)):
    """A parameter: type, labels, unit, note, cited sources, and each value with the date it holds from."""
    try:
        p = loaded.policy.program(variant).checked.params.get(name)
        if p is None:
            raise _missing(Bilingual("参数", "parameter"), name)
        return _json(param_json(name, p))
    except (Problem, FupinError) as exc:
        return problem(exc, lang, request)
