"""``/openapi.json`` typed from the served pack, and the interactive docs at ``/docs``.

The routes read their bodies themselves (bodies.py), so FastAPI knows no body model:
each route names its body and answer by component (:func:`body_of`, :func:`answers`),
and :func:`install` replaces ``app.openapi`` with one that adds the components the pack
makes (web/schemas.py) and the problem-details answers every route may give. The
document is cached per pack revision: a reload that serves new declarations serves their
types too.

``/docs`` is Swagger UI served from this package (``static/``: swagger-ui-dist, Apache
2.0, its licence beside it): a county intranet may have no way out to a CDN, and a
page that loads scripts from one would leak who reads the docs.
"""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, HTMLResponse

from ...dsl.errors import Bilingual
from ..problems import Problem, at
from ..schemas import REF, component_name, components

STATIC = Path(__file__).parent / "static"
ASSETS = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css"}
PROBLEM = {"application/problem+json": {"schema": {"$ref": REF + "Problem"}}}
# the problem answers any route may give (the guard's 401 and 413, the bounds' 503 …)
ERRORS = {"400": "请求体不是可用的 JSON / not usable JSON (E871)", "401": "缺少令牌 / no token (E864)",
          "404": "不存在 / not found (E867)", "409": "任务未完成 / job not finished (E874)", "405": "方法不对 / wrong method (E868)",
          "413": "请求体太大 / body too large (E862)", "415": "内容类型不对 / wrong content type (E870)",
          "422": "请求或事实无效 / invalid request or facts", "503": "超时或繁忙 / timed out or busy (E865, E866)"}


def body_of(name: str) -> dict:
    """``openapi_extra`` of a route whose JSON body is the component ``name``."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": REF + name}}}}}


def answers(name: str) -> dict:
    """``responses`` of a route whose 200 answer is the component ``name``."""
    return {200: {"description": "OK", "content": {"application/json": {"schema": {"$ref": REF + name}}}}}


def install(app: FastAPI) -> None:
    """``app.openapi`` → the document for the pack served now (cached by revision)."""
    cache: dict = {}

    def openapi() -> dict:
        policy = app.state.served.current.policy
        if policy.revision not in cache:
            doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            schemas = doc.setdefault("components", {}).setdefault("schemas", {})
            for unused in ("HTTPValidationError", "ValidationError"):
                schemas.pop(unused, None)
            schemas.update(components(policy.program().checked))
            schemas.update(static_components(policy.program().checked))
            _problems(doc)
            cache.clear()
            cache[policy.revision] = doc
        return cache[policy.revision]

    app.openapi = openapi


def _problems(doc: dict) -> None:
    """Every operation answers its errors as problem details (never FastAPI's own 422)."""
    for methods in doc.get("paths", {}).values():
        for op in methods.values():
            responses = op.setdefault("responses", {})
            for status, text in ERRORS.items():
                responses[status] = {"description": text, "content": PROBLEM}


def static_components(checked) -> dict:
    """The answers' shapes: Problem, Diagnostic, Decision (results typed per entity), the
    evaluate / explain / what-if answers."""
    diagnostic = {"type": "object", "required": ["code", "severity", "file", "line", "col", "message"],
                  "properties": {"code": {"type": "string"}, "severity": {"type": "string"},
                                 "file": {"type": "string"}, "line": {"type": "integer"}, "col": {"type": "integer"},
                                 "message": {"type": "string"}, "hint": {"type": ["string", "null"]}}}
    members = {"type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
               "detail": {"type": "string"}, "code": {"type": "string"},
               "diagnostics": {"type": "array", "items": {"$ref": REF + "Diagnostic"}}}
    problem = {"type": "object", "required": list(members),  # RFC 9457's members, and fupin's
               "properties": {**members, "instance": {"type": "string"}, "lang": {"type": "string", "enum": ["zh", "en"]}}}
    output_error = {"type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                                                     "location": {"type": "string"}}}
    decision = {"type": "object", "required": ["id", "on", "results", "unknown"], "properties": {
        "id": {"type": ["string", "null"]}, "on": {"type": ["string", "null"]}, "entity": {"type": "string"},
        "results": {"anyOf": [*_results(checked), {"type": "null"}]},
        "unknown": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        "possible": {"type": "object"}, "errors": {"type": "object", "additionalProperties": output_error},
        "record": {"$ref": REF + "Record"}, "trace": {"$ref": REF + "Trace"},
        "warnings": {"type": "array", "items": {"type": "object"}},
        "invalid": {"type": "array", "items": {"$ref": REF + "Diagnostic"}}}}
    evaluate = {"type": "object", "required": ["policy_revision", "entity", "on", "variant", "decisions"],
                "properties": {"policy_revision": {"type": "string"}, "entity": {"type": "string"},
                               "on": {"type": "string", "format": "date"}, "variant": {"type": "string"},
                               "decisions": {"type": "array", "items": {"$ref": REF + "Decision"}}}}
    explain = {"type": "object", "required": ["output", "text", "decision"], "properties": {
        "output": {"type": "string"}, "value": {}, "unknown": {"type": "array", "items": {"type": "string"}},
        "text": {"type": "string"}, "parts": {"type": "object"}, "decision": {"$ref": REF + "Decision"}}}
    what_if = {"type": "object", "required": ["output", "answers"], "properties": {
        "output": {"type": "string"}, "value": {}, "unknown": {"type": "array", "items": {"type": "string"}},
        "answers": {"type": "array", "items": {"type": "object", "properties": {
            "value": {}, "alternatives": {"type": "array", "items": {"type": "object"}}}}}}}
    return {"Problem": problem, "Diagnostic": diagnostic, "Decision": decision, "EvaluateResponse": evaluate,
            "ExplainResponse": explain, "WhatIfResponse": what_if}


def _results(checked) -> list:
    return [{"$ref": REF + component_name("Results", e)} for e in checked.entities]


PAGE = """<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>fupin API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="static/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="static/docs/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({url: "openapi.json", dom_id: "#swagger-ui", deepLinking: true,
                             validatorUrl: null, tryItOutEnabled: true});
</script></body></html>
"""


def mount_docs(app: FastAPI) -> None:
    """``/docs`` and its two assets (``/static/docs/…``, reachable without the token:
    they hold no data)."""

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(PAGE)

    @app.get("/static/docs/{name}", include_in_schema=False)
    def asset(name: str):
        if name not in ASSETS:  # a fixed list: no path from the request reaches the disk
            raise Problem(at("<request>", "E867", kind=Bilingual("文件", "file"), name=name[:80]), 404)
        return FileResponse(STATIC / name, media_type=ASSETS[name], headers={"Cache-Control": "max-age=86400"})
