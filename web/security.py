"""The guard in front of every route: token, body size, access log.

A pure ASGI middleware (no body buffering of its own):

- **token** — when the service has one, every request but ``OPEN`` paths carries it as
  ``Authorization: Bearer TOKEN`` or the ``fupin_token`` cookie the workbench's login
  sets; compared with :func:`hmac.compare_digest` (constant time). 401 otherwise (E864).
- **size** — a body larger than the limit is refused with 413 (E862): at once when
  ``Content-Length`` says so, else when the counted bytes pass it while the route reads.
  Uploads (multipart, octet-stream) have the upload limit, everything else the body limit.
- **access log** — one line per request on the ``fupin.access`` logger: client, method,
  path (never the query string or the body: facts and personal fields stay out), status,
  milliseconds, request id.
"""
from __future__ import annotations

import hmac
import logging
import secrets
import time
from http.cookies import SimpleCookie

from ..dsl.errors import Bilingual
from .config import ServeConfig
from .problems import Problem, at, body

access = logging.getLogger("fupin.access")

OPEN = ("/healthz", "/login", "/static/")  # no data behind them: reachable without the token
UPLOAD_TYPES = ("multipart/form-data", "application/octet-stream")
COOKIE = "fupin_token"


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def presented_token(scope) -> str | None:
    """The token a request carries: the Bearer header first, else the cookie."""
    auth = _header(scope, b"authorization")
    if auth and auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    cookie = _header(scope, b"cookie")
    if cookie:
        jar = SimpleCookie()
        try:
            jar.load(cookie)
        except Exception:  # a malformed cookie header is no token
            return None
        if COOKIE in jar:
            return jar[COOKIE].value
    return None


def token_ok(expected: str | None, given: str | None) -> bool:
    """True when no token is required, or ``given`` equals it (constant time)."""
    if expected is None:
        return True
    return given is not None and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


class Guard:
    """ASGI middleware: see the module docstring."""

    def __init__(self, app, config: ServeConfig):
        self.app, self.config = app, config

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start, rid = time.perf_counter(), _header(scope, b"x-request-id") or secrets.token_hex(8)
        rid = rid[:64]
        status = {"code": 0}

        async def sending(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode("latin-1", "replace"))]
            await send(message)

        try:
            refusal = self._refusal(scope)
            if refusal is not None:
                await self._send_problem(scope, refusal, sending)
            else:
                await self.app(scope, self._counted(scope, receive), sending)
        finally:
            client = (scope.get("client") or ("-",))[0]
            access.info('%s "%s %s" %d %.1fms id=%s', client, scope["method"], scope["path"], status["code"],
                        (time.perf_counter() - start) * 1000, rid)

    def _limit(self, scope) -> int:
        ctype = (_header(scope, b"content-type") or "").lower()
        limits = self.config.limits
        return limits.upload_bytes if ctype.startswith(UPLOAD_TYPES) else limits.body_bytes

    def _refusal(self, scope) -> Problem | None:
        path = scope["path"]
        if not path.startswith(OPEN) and not token_ok(self.config.token, presented_token(scope)):
            return Problem(at("<request>", "E864"), 401, headers={"WWW-Authenticate": "Bearer"})
        length = _header(scope, b"content-length")
        limit = self._limit(scope)
        if length is not None and (not length.strip().isdigit() or int(length) > limit):
            return _too_large(limit)
        return None

    def _counted(self, scope, receive):
        limit, seen = self._limit(scope), {"n": 0}

        async def counted():
            message = await receive()
            if message["type"] == "http.request":
                seen["n"] += len(message.get("body", b""))
                if seen["n"] > limit:
                    raise _too_large(limit)
            return message
        return counted

    async def _send_problem(self, scope, problem: Problem, send) -> None:
        from starlette.requests import Request
        from starlette.responses import JSONResponse

        from .problems import MEDIA, request_lang

        request = Request(scope)
        lang = request_lang(request, self.config.lang)
        response = JSONResponse(body(problem.diagnostics, problem.status, lang, scope["path"]),
                                status_code=problem.status, media_type=MEDIA, headers=problem.headers)
        await response(scope, None, send)


def _too_large(limit: int) -> Problem:
    return Problem(at("<request>", "E862", limit=limit,
                      detail=Bilingual(f"上限 {limit} 字节", f"the limit is {limit} bytes")), 413)
