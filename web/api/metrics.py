"""``GET /metrics`` in the Prometheus text format, kept in this process.

    fupin_requests_total{route,method,status}   requests answered
    fupin_request_seconds{route}                a latency histogram (cumulative buckets)
    fupin_evaluations_total                     entities evaluated (invalid ones not counted)
    fupin_errors_total{code}                    diagnostics answered, by code (problems and
                                                each invalid entity's diagnostics)
    fupin_jobs_active                           background jobs queued or running

The route label is the route's template (``/v1/policy/rules/{name}``), never the path
asked: a scan of random paths makes one label, ``<unmatched>``, not thousands. Written
here rather than with prometheus_client: four families and a lock are a few dozen lines.

Several worker processes (``fupin serve --workers N``) share one port, so a scrape reaches
whichever worker the kernel picks: each worker then writes its counters to its own file in
a folder of the server's (:func:`share`; at most ``FLUSH_SECONDS`` after a change) and
``/metrics`` sums every worker's file with its own live counters. A worker that died keeps
its file, so the service's counters never go back when uvicorn replaces it.
"""
from __future__ import annotations

import bisect
import json
import os
import threading
import time
from collections import Counter
from pathlib import Path

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
_lock = threading.Lock()
_requests: Counter = Counter()
_errors: Counter = Counter()
_latency: dict[str, list] = {}  # route -> [bucket counts..., +Inf count, sum]
_totals = Counter()
_shared: dict = {"folder": None, "dirty": False}  # set by share(): the workers' folder
FLUSH_SECONDS = 0.2


def count(name: str, n: int = 1) -> None:
    with _lock:
        _totals[name] += n
        _shared["dirty"] = True


def error(code: str) -> None:
    with _lock:
        _errors[code] += 1
        _shared["dirty"] = True


def evaluated(items) -> None:
    """Count the evaluated entities and the codes of the invalid ones."""
    done = 0
    with _lock:
        for item in items:
            if item.result is not None:
                done += 1
            for d in item.invalid:
                _errors[d.code] += 1
        _totals["evaluations"] += done
        _shared["dirty"] = True


def observe(route: str, method: str, status: int, seconds: float) -> None:
    with _lock:
        _requests[(route, method, status)] += 1
        row = _latency.setdefault(route, [0] * (len(BUCKETS) + 2))
        row[bisect.bisect_left(BUCKETS, seconds)] += 1
        row[-1] += seconds
        _shared["dirty"] = True


def _label(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a quoted, escaped label value


def share(folder) -> None:
    """Count for a service of several worker processes: this process's counters go to
    ``folder/<pid>.json`` (a thread writes them at most ``FLUSH_SECONDS`` after a change)
    and :func:`render` sums the files of every worker, so any worker answers for all.
    ``None`` counts this process alone again."""
    if folder is None:  # back to this process alone (its flusher thread ends)
        _shared["folder"] = None
        return
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    _shared["folder"] = path
    _write()
    threading.Thread(target=_flusher, args=(path,), name="fupin-metrics", daemon=True).start()


def _flusher(path: Path) -> None:
    while _shared["folder"] == path:
        time.sleep(FLUSH_SECONDS)
        if _shared["dirty"] and _shared["folder"] == path:
            _write()


def _snapshot() -> dict:
    """This process's counters as plain JSON data (called under the lock)."""
    return {"requests": [[*key, n] for key, n in _requests.items()], "errors": dict(_errors),
            "latency": {route: list(row) for route, row in _latency.items()}, "totals": dict(_totals)}


def _write() -> None:
    """This process's counters into its file, replaced whole: a reader never sees half."""
    with _lock:
        data, _shared["dirty"] = _snapshot(), False
    folder = _shared["folder"]
    if folder is None:
        return
    tmp = folder / f".{os.getpid()}.tmp"
    try:
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, folder / f"{os.getpid()}.json")
    except OSError:  # the folder went away (the server is stopping): nothing to count into
        _shared["dirty"] = True


def merged(snapshots) -> dict:
    """The sum of several processes' snapshots: counts, histogram buckets and sums add."""
    requests, errors, latency, totals = Counter(), Counter(), {}, Counter()
    for snap in snapshots:
        for *key, n in snap.get("requests", ()):
            requests[tuple(key)] += n
        errors.update(snap.get("errors", {}))
        totals.update(snap.get("totals", {}))
        for route, row in snap.get("latency", {}).items():
            into = latency.setdefault(route, [0] * len(row))
            for i, v in enumerate(row):
                into[i] += v
    return {"requests": requests, "errors": errors, "latency": latency, "totals": totals}


def _others() -> list:
    """The other workers' last snapshots (one unreadable file is skipped, not fatal)."""
    folder, own, found = _shared["folder"], f"{os.getpid()}.json", []
    if folder is None:
        return found
    for file in sorted(folder.glob("*.json")):
        if file.name == own:
            continue
        try:
            found.append(json.loads(file.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return found


def render(jobs_active: int = 0) -> str:
    """The exposition text: this process's counters, plus every other worker's when the
    service runs several (:func:`share`)."""
    with _lock:
        own = _snapshot()
    return _text(merged([own, *_others()]), jobs_active)


def _text(state: dict, jobs_active: int) -> str:
    """The exposition text of merged counters (see :func:`merged`)."""
    out = ["# HELP fupin_requests_total Requests answered.", "# TYPE fupin_requests_total counter"]
    for (route, method, status), n in sorted(state["requests"].items()):
        out.append(f"fupin_requests_total{{route={_label(route)},method={_label(method)},status=\"{status}\"}} {n}")
    out += ["# HELP fupin_request_seconds Request latency.", "# TYPE fupin_request_seconds histogram"]
    for route, row in sorted(state["latency"].items()):
        cumulative = 0
        for bound, n in zip((*map(str, BUCKETS), "+Inf"), row[:-1]):
            cumulative += n
            out.append(f"fupin_request_seconds_bucket{{route={_label(route)},le=\"{bound}\"}} {cumulative}")
        out.append(f"fupin_request_seconds_sum{{route={_label(route)}}} {row[-1]:.6f}")
        out.append(f"fupin_request_seconds_count{{route={_label(route)}}} {cumulative}")
    out += ["# HELP fupin_evaluations_total Entities evaluated.", "# TYPE fupin_evaluations_total counter",
            f"fupin_evaluations_total {state['totals']['evaluations']}",
            "# HELP fupin_errors_total Diagnostics answered, by code.", "# TYPE fupin_errors_total counter"]
    out += [f"fupin_errors_total{{code={_label(code)}}} {n}" for code, n in sorted(state["errors"].items())]
    out += ["# HELP fupin_jobs_active Background jobs queued or running.", "# TYPE fupin_jobs_active gauge",
            f"fupin_jobs_active {jobs_active}"]
    return "\n".join(out) + "\n"


class Measure:
    """ASGI middleware: every request's route template, status and time into the metrics;
    the code of every problem answered (``application/problem+json``) into the errors."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start, seen = time.perf_counter(), {"status": 500, "problem": False, "body": b""}

        async def sending(message):
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                seen["problem"] = any(k == b"content-type" and v.startswith(b"application/problem+json")
                                      for k, v in message.get("headers", ()))
            elif message["type"] == "http.response.body" and seen["problem"] and len(seen["body"]) < 65536:
                seen["body"] += message.get("body", b"")
            await send(message)
        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "<unmatched>"
            observe(template, scope["method"], seen["status"], time.perf_counter() - start)
            if seen["problem"]:
                _problem_codes(seen["body"])


def _problem_codes(raw: bytes) -> None:
    try:
        codes = [d["code"] for d in json.loads(raw)["diagnostics"]]
    except (ValueError, KeyError, TypeError):
        return
    for code in codes:
        error(code)
