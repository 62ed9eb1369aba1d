"""Errors as RFC 9457 problem details, made of fupin diagnostics.

Every error the service returns is ``application/problem+json``:

    {"type": "urn:fupin:error:E815", "title": "facts-unknown-field", "status": 422,
     "detail": "<the first diagnostic's message>", "instance": "/v1/evaluate",
     "code": "E815", "lang": "en", "diagnostics": [{code, severity, file, line, col, message, hint}]}

in the request's language (:func:`request_lang`). Bad input is 4xx with its located
diagnostics; the one 500 (E869) carries an incident id and no stack trace: the trace goes
to the server's log under that id.
"""
from __future__ import annotations

import logging
import secrets

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..dsl.codes import CODES
from ..dsl.errors import Bilingual, Diagnostic, FupinError, Span, error

log = logging.getLogger("fupin.serve")
MEDIA = "application/problem+json"

# the status of a diagnostic that is not bad input of the usual kind (422)
STATUS = {"E862": 413, "E864": 401, "E865": 503, "E866": 503, "E867": 404, "E868": 405, "E869": 500}


class Problem(Exception):
    """Raised by a route to answer with these diagnostics and this status."""

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic, status: int | None = None, headers=None):
        self.diagnostics = [diagnostics] if isinstance(diagnostics, Diagnostic) else list(diagnostics)
        self.status = status or STATUS.get(self.diagnostics[0].code, 422)
        self.headers = headers
        super().__init__(self.diagnostics[0].code)


def request_lang(request: Request, default: str = "zh") -> str:
    """``?lang=`` if given, else the first of zh/en in Accept-Language, else ``default``."""
    lang = request.query_params.get("lang")
    if lang in ("zh", "en"):
        return lang
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return getattr(request.app.state, "lang", default)


def body(diagnostics: list[Diagnostic], status: int, lang: str, instance: str) -> dict:
    """The problem-details document (see the module docstring)."""
    first = diagnostics[0]
    return {"type": f"urn:fupin:error:{first.code}", "title": CODES[first.code].title, "status": status,
            "detail": first.message(lang), "instance": instance, "code": first.code, "lang": lang,
            "diagnostics": [d.to_json(lang) for d in diagnostics]}


def respond(diagnostics: list[Diagnostic], status: int, lang: str, instance: str, headers=None) -> JSONResponse:
    return JSONResponse(body(diagnostics, status, lang, instance), status_code=status, media_type=MEDIA,
                        headers=headers)


def at(where: str, code: str, **args) -> Diagnostic:
    """A diagnostic located in the request: ``where`` is ``<request>`` or a body path."""
    return error(code, Span(where, 0, 0), **args)


def _validation(exc: RequestValidationError) -> list[Diagnostic]:
    """One E863 per pydantic error, located at its path in the request (``body/…``)."""
    out = []
    for err in exc.errors()[:50]:
        where = "/".join(str(p) for p in err.get("loc", ())) or "<request>"
        msg = str(err.get("msg", "invalid"))
        out.append(at(where, "E863", detail=Bilingual(f"请求不符合接口定义：{msg}", f"the request does not match the API: {msg}")))
    return out or [at("<request>", "E863", detail=Bilingual("请求无效", "invalid request"))]


def install(app: FastAPI) -> None:
    """Route every error of ``app`` through problem details."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem):
        return respond(exc.diagnostics, exc.status, request_lang(request), request.url.path, exc.headers)

    @app.exception_handler(FupinError)
    async def _fupin(request: Request, exc: FupinError):
        status = STATUS.get(exc.code, 422)
        return respond(exc.diagnostics, status, request_lang(request), request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        return respond(_validation(exc), 422, request_lang(request), request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        code = {404: "E867", 405: "E868", 401: "E864", 413: "E862"}.get(exc.status_code, "E863")
        path = request.url.path
        diag = at("<request>", code, kind=Bilingual("路径", "path"), name=path,
                  detail=Bilingual(str(exc.detail), str(exc.detail)), method=request.method)
        return respond([diag], exc.status_code, request_lang(request), path, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception):
        incident = secrets.token_hex(6)
        log.error("incident %s on %s %s", incident, request.method, request.url.path, exc_info=exc)
        return respond([at("<request>", "E869", incident=incident)], 500, request_lang(request), request.url.path)
