"""web/deps.py's dependencies as coroutines, for the routes of the API.

FastAPI runs a plain ``def`` dependency in a worker thread: one thread hop per
dependency per request, four or five per evaluate, which under load cost more than the
service's own work (profiled: ~16 hops per request with the sync forms). These read the
same things on the event loop; what they read is in web/deps.py.
"""
from __future__ import annotations

from fastapi import Request

from .. import deps
from ..config import ServeConfig
from ..jobs import JobStore
from ..state import Loaded, Served


async def snapshot(request: Request) -> Loaded:
    return deps.snapshot(request)


async def served(request: Request) -> Served:
    return deps.served(request)


async def config(request: Request) -> ServeConfig:
    return deps.config(request)


async def jobs(request: Request) -> JobStore:
    return deps.jobs(request)


async def lang(request: Request) -> str:
    return deps.lang(request)


async def runner(request: Request):
    """The application's bounded evaluator (running.py)."""
    return request.app.state.runner
