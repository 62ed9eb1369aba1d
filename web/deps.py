"""What a route takes from the application: the pack snapshot, the jobs, the language.

Routes declare these as FastAPI dependencies; none reaches into ``app.state`` itself.
"""
from __future__ import annotations

from fastapi import Request

from .config import ServeConfig
from .jobs import JobStore
from .problems import request_lang
from .state import Loaded, Served


def served(request: Request) -> Served:
    return request.app.state.served


def snapshot(request: Request) -> Loaded:
    """The pack as loaded when the request arrived; the same one to its end."""
    return request.app.state.served.current


def jobs(request: Request) -> JobStore:
    return request.app.state.jobs


def config(request: Request) -> ServeConfig:
    return request.app.state.config


def lang(request: Request) -> str:
    """The request's language: ``?lang=``, Accept-Language, else the service's default."""
    return request_lang(request, request.app.state.config.lang)
