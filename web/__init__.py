"""``fupin serve``: the HTTP interface (FastAPI on uvicorn), beside ``cli/``.

HTTP only: every answer comes from the Python API (``fupin.engine.api.Policy``) and the
checker; this package holds the routes, the problem-details errors, the token and size
guards, the background jobs and the workbench pages.

    config.py     ServeConfig (host, port, token, limits), the local-bind rule
    state.py      Served: the loaded pack, swapped whole on a reload that checks clean
    problems.py   fupin diagnostics as RFC 9457 problem details (never a stack trace)
    security.py   ASGI guard: token in constant time, body size, access log (ids only)
    jobs.py       bounded background jobs (batch, diff) with progress and files
    app.py        create_app(config) → FastAPI; /healthz; mounts api/ and workbench/
    api/          the /v1 routes
    workbench/    the pages (server-rendered, every asset in the package)
"""
