"""The /v1 routes (evaluate, explain, whatif, policy, check, batch, diff, jobs), /metrics
and the interactive docs.

    bodies.py     reading a JSON body: exact decimals, no NaN, typed options, bounds
    running.py    evaluation off the event loop, bounded in time (E865) and number (E866)
    context.py    the dependencies (web/deps.py) as coroutines: no thread hop per request
    evaluate.py   POST /v1/evaluate, /v1/explain, /v1/whatif
    policy.py     GET /v1/policy, /v1/policy/rules/{name}, /v1/policy/parameters/{name}
    files.py      POST /v1/check, /v1/batch, /v1/diff; GET /v1/jobs/{id}[/files/{name}]
    metrics.py    GET /metrics (Prometheus text) and the middleware that measures
    openapi.py    /openapi.json typed from the pack (web/schemas.py), /docs from the package
"""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse


def mount(app: FastAPI) -> None:
    """Add the API's routes, its metrics and its docs to ``app``."""
    from . import evaluate, files, metrics, openapi, policy
    from .running import Runner

    app.state.runner = Runner(app.state.config.limits)
    app.add_middleware(metrics.Measure)
    if app.state.config.metrics_dir:
        metrics.share(app.state.config.metrics_dir)
    app.include_router(evaluate.router)
    app.include_router(policy.router)
    app.include_router(files.router)

    @app.get("/metrics", tags=["service"], summary="Prometheus 指标 / Prometheus metrics",
             response_class=PlainTextResponse)
    def metrics_text(request: Request) -> PlainTextResponse:
        jobs = request.app.state.jobs.all()
        active = sum(j.status in ("queued", "running") for j in jobs)
        return PlainTextResponse(metrics.render(active), media_type="text/plain; version=0.0.4; charset=utf-8")

    openapi.mount_docs(app)
    openapi.install(app)
