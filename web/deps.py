"""What a route takes from the application: the pack snapshot, the jobs, the language.

Routes declare these as FastAPI dependencies; none reaches into ``app.state`` itself.
They are coroutines: FastAPI runs a plain ``def`` dependency in a worker thread, one
thread hop per dependency per request (profiled: 12 hops for ``/healthz`` with the sync
forms, most of its CPU time); these only read attributes, on the event loop.
"""
from __future__ import annotations

from fastapi import Request

from .config import ServeConfig
from .jobs import JobStore
from .problems import request_lang
from .state import Loaded, Served


async def served(request: Request) -> Served:
    return request.app.state.served


async def snapshot(request: Request) -> Loaded:
    """The pack as loaded when the request arrived; the same one to its end."""
    return request.app.state.served.current


async def jobs(request: Request) -> JobStore:
    return request.app.state.jobs


async def config(request: Request) -> ServeConfig:
    return request.app.state.config


async def lang(request: Request) -> str:
    """The request's language: ``?lang=``, Accept-Language, else the service's default."""
    return language(request)


def language(request: Request) -> str:
    """:func:`lang` for code that is not a dependency."""
    return request_lang(request, request.app.state.config.lang)


async def runner(request: Request):
    """The application's bounded evaluator (api/running.py)."""
    return request.app.state.runner
