"""Reading a JSON request body: never trusted, never a 500.

FastAPI's own body parsing would read numbers as binary floats (money must stay exact),
accept ``NaN`` and answer pydantic's messages; here the body is decoded as UTF-8, parsed
with decimals exact and non-finite constants refused (E871, 400), its content type
checked (E870, 415), the route's options validated by its pydantic model (E863, 422,
located at ``body/<path>``), and the facts bounded in entities (E872) and list lengths
(E873) before anything is evaluated.
"""
from __future__ import annotations

import json
from decimal import Decimal

from fastapi import Request
from pydantic import BaseModel, ValidationError

from ...dsl.errors import Bilingual, Span
from ...engine.facts.repeated import RepeatedKey, unique_object
from ..config import Limits
from ..problems import Problem, at

JSON_TYPES = ("application/json", "application/problem+json")


def token(key) -> str:
    """One step of a body path, escaped as a JSON Pointer step (RFC 6901: ``~`` → ``~0``,
    ``/`` → ``~1``) and with control characters written out: a key from the request can
    neither add steps nor carry a NUL into a file name."""
    text = str(key).replace("~", "~0").replace("/", "~1")
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)[:200]


class Locator:
    """``where`` for the facts checker: a key path in the facts → a span naming its place
    in the body (``body/facts/0/members/1/age``); line and column 0 (JSON has none to give)."""

    def __init__(self, prefix: str):
        self.prefix = prefix

    def __call__(self, path: tuple) -> Span:
        return Span("/".join((self.prefix, *map(token, path))), 0, 0)


def _constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def parse_json(raw: bytes):
    """The body's JSON value (decimals exact); Problem E871 (400) when it is not UTF-8,
    not JSON, too deep, names a key twice in one object, or holds NaN/Infinity or an
    integer too long to read."""
    try:
        return json.loads(raw.decode("utf-8"), parse_float=Decimal, parse_constant=_constant,
                          object_pairs_hook=unique_object)
    except RepeatedKey as exc:  # json's default would keep the last value silently
        detail = exc.detail()
    except UnicodeDecodeError as exc:
        detail = Bilingual(f"第 {exc.start} 字节不是 UTF-8", f"byte {exc.start} is not UTF-8")
    except RecursionError:
        detail = Bilingual("嵌套太深", "nested too deeply")
    except ValueError as exc:  # JSONDecodeError, NaN, an integer beyond 4300 digits
        text = str(exc).splitlines()[0][:120]
        detail = Bilingual(text, text)
    raise Problem(at("body", "E871", detail=detail), 400)


async def read_json(request: Request):
    """The JSON value of the request body (see :func:`parse_json`); E870 (415) for another
    content type."""
    ctype = request.headers.get("content-type", "")
    if ctype.split(";")[0].strip().lower() not in JSON_TYPES:
        raise Problem(at("<request>", "E870", expected="application/json", got=ctype[:80] or "-"), 415)
    return parse_json(await request.body())


def options(model: type[BaseModel], data) -> BaseModel:
    """``data`` validated by ``model``; Problem E863 (422), one diagnostic per error, each
    at its body path."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        diags = []
        for err in exc.errors()[:50]:
            where = "/".join(["body", *map(token, err.get("loc", ()))])
            msg = str(err.get("msg", "invalid"))
            diags.append(at(where, "E863", detail=Bilingual(f"请求不符合接口定义：{msg}",
                                                            f"the request does not match the API: {msg}")))
        raise Problem(diags, 422) from None


def bounded(facts, limits: Limits) -> list:
    """The facts as a list of entities, checked against the request bounds: at most
    ``limits.entities`` entities (E872) and ``limits.members`` items in any list inside
    one (E873), each located at its body path."""
    items = facts if isinstance(facts, list) else [facts]
    if len(items) > limits.entities:
        raise Problem(at("body/facts", "E872", limit=limits.entities, count=len(items)), 422)
    for i, item in enumerate(items):
        base = f"body/facts/{i}" if isinstance(facts, list) else "body/facts"
        _lists(item, base, limits.members)
    return items


def _lists(value, where: str, limit: int) -> None:
    """E873 at the first list longer than ``limit`` inside ``value`` (depth-first)."""
    stack = [(value, where)]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            stack.extend((v, f"{path}/{token(k)}") for k, v in node.items() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            if len(node) > limit:
                raise Problem(at(path, "E873", path=path.removeprefix("body/"), limit=limit, count=len(node)), 422)
            stack.extend((v, f"{path}/{i}") for i, v in enumerate(node) if isinstance(v, (dict, list)))
