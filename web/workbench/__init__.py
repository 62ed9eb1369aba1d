"""The workbench: server-rendered pages for officers and analysts, every asset in the package.

    i18n.py       the pages' words (zh, en) and a page's language (?lang=, cookie, default)
    render.py     Jinja2 templates and render(): language, switch link, revision on every page
    policydoc.py  the policy as a literate document (rules, parameters, citations, timelines)
    household.py  the household form from the entity declarations; facts ↔ form; decisions
    charts.py     inline SVG bar charts whose bars link to the households behind them
    pages.py      the routes of /, /login, /policy and /household
    jobpages.py   /dataset and /impact: uploads as background jobs, progress, linked charts
    editor.py     /edit: a rule file checked as typed, its tests, download, save (--allow-edit)
    templates/    the pages (Jinja2);  static/  workbench.css, workbench.js (no CDN, no build)
"""
from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from .render import HERE

STATIC = "/static/wb"


def mount(app: FastAPI) -> None:
    """Add the pages and their static assets to ``app``."""
    from . import editor, jobpages, pages

    app.mount(STATIC, StaticFiles(directory=str(HERE / "static")), name="workbench-static")
    for module in (pages, jobpages, editor):
        app.include_router(module.router)
