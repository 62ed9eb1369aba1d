"""Jinja2 templates of the workbench and :func:`render`, which gives every page its
language, words, the switch link and the served revision."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from .i18n import COOKIE, WORDS, page_lang, words
from .policydoc import timeline_svg

HERE = Path(__file__).parent
ENV = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=select_autoescape(["html"]),
                  trim_blocks=True, lstrip_blocks=True)
ENV.globals["timeline"] = timeline_svg


def switch_url(request: Request, lang: str) -> str:
    """This page in the other language (the query kept, ``lang`` replaced)."""
    other = "en" if lang == "zh" else "zh"
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"] + [("lang", other)]
    return f"{request.url.path}?{urlencode(query)}"


def render(request: Request, template: str, page: str, status: int = 200, **context) -> HTMLResponse:
    """The page ``template`` in the request's language; sets the language cookie when
    the request chose one with ``?lang=``."""
    lang = page_lang(request)
    loaded = request.app.state.served.current if page != "/login" else None
    html = ENV.get_template(template).render(
        lang=lang, t=words(lang), page=page, switch_url=switch_url(request, lang),
        revision=loaded.policy.revision if loaded else "", loaded_at=loaded.loaded_at if loaded else "", **context)
    response = HTMLResponse(html, status_code=status)
    remember(request, response)
    return response


def fragment(request: Request, template: str, **context) -> HTMLResponse:
    """A piece of a page (what the page's script swaps in), in the request's language."""
    lang = page_lang(request)
    return HTMLResponse(ENV.get_template(template).render(lang=lang, t=words(lang), **context))


def remember(request: Request, response) -> None:
    asked = request.query_params.get("lang")
    if asked in WORDS and request.cookies.get(COOKIE) != asked:
        response.set_cookie(COOKIE, asked, max_age=365 * 24 * 3600, samesite="strict", httponly=True)
