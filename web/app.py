"""``create_app(config)`` → the FastAPI application ``fupin serve`` runs.

One process holds the pack read-only (:class:`~fupin.web.state.Served`), the jobs and
nothing else: several workers or replicas need no coordination (the workers of one server
share only a folder their metrics are summed from: web/api/metrics.py).
"""
from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from . import deps, problems
from .config import ServeConfig, check_bind
from .jobs import JobStore
from .security import Guard
from .state import Loaded, Served


def create_app(config: ServeConfig, served: Served | None = None) -> FastAPI:
    """The application for ``config``; ``served`` gives an already loaded pack (tests,
    workers). Raises FupinError when the pack has errors or the bind needs a token."""
    check_bind(config)
    served = served or Served(config.policy)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if config.reload:
            served.watch()
        yield
        served.stop()
        app.state.jobs.close()

    from ..engine.reports.identity import fupin_version

    app = FastAPI(title="fupin", version=fupin_version(), lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="扶贫政策规则引擎 HTTP 接口 / fupin's HTTP API: evaluate, explain, what-if, "
                              "the policy, the checker, batch and diff jobs.")
    app.state.config, app.state.served, app.state.lang = config, served, config.lang
    app.state.jobs = JobStore(config.limits, config.work_dir)
    problems.install(app)
    app.add_middleware(Guard, config=config)

    @app.get("/healthz", tags=["service"], summary="Liveness and the served revision")
    async def healthz(loaded: Loaded = Depends(deps.snapshot)) -> dict:  # on the event loop: no thread hop
        failure = served.failure
        return {"status": "ok", "revision": loaded.policy.revision, "loaded_at": loaded.loaded_at,
                "reload_errors": len(failure.diagnostics) if failure else 0}

    from .api import mount as mount_api
    from .workbench import mount as mount_pages

    mount_api(app)
    mount_pages(app)
    return app


def from_env() -> FastAPI:
    """The factory each uvicorn worker calls (``fupin serve --workers N``)."""
    return create_app(ServeConfig.from_env())
