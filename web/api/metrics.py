"""``GET /metrics`` in the Prometheus text format, kept in this process.

    fupin_requests_total{route,method,status}   requests answered
    fupin_request_seconds{route}                a latency histogram (cumulative buckets)
    fupin_evaluations_total                     entities evaluated (invalid ones not counted)
    fupin_errors_total{code}                    diagnostics answered, by code (problems and
                                                each invalid entity's diagnostics)
    fupin_jobs_active                           background jobs queued or running

The route label is the route's template (``/v1/policy/rules/{name}``), never the path
asked: a scan of random paths makes one label, ``<unmatched>``, not thousands. Written
here rather than with prometheus_client: four families and a lock are a few dozen lines,
and each worker process answers for itself (scrape each, or sum them).
"""
from __future__ import annotations

import bisect
import json
import threading
import time
from collections import Counter

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
_lock = threading.Lock()
_requests: Counter = Counter()
_errors: Counter = Counter()
_latency: dict[str, list] = {}  # route -> [bucket counts..., +Inf count, sum]
_totals = Counter()


def count(name: str, n: int = 1) -> None:
    with _lock:
        _totals[name] += n


def error(code: str) -> None:
    with _lock:
        _errors[code] += 1


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


def observe(route: str, method: str, status: int, seconds: float) -> None:
    with _lock:
        _requests[(route, method, status)] += 1
        row = _latency.setdefault(route, [0] * (len(BUCKETS) + 2))
        row[bisect.bisect_left(BUCKETS, seconds)] += 1
        row[-1] += seconds


def _label(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a quoted, escaped label value


def render(jobs_active: int = 0) -> str:
    """The exposition text."""
    out = ["# HELP fupin_requests_total Requests answered.", "# TYPE fupin_requests_total counter"]
    with _lock:
        for (route, method, status), n in sorted(_requests.items()):
            out.append(f"fupin_requests_total{{route={_label(route)},method={_label(method)},status=\"{status}\"}} {n}")
        out += ["# HELP fupin_request_seconds Request latency.", "# TYPE fupin_request_seconds histogram"]
        for route, row in sorted(_latency.items()):
            cumulative = 0
            for bound, n in zip((*map(str, BUCKETS), "+Inf"), row[:-1]):
                cumulative += n
                out.append(f"fupin_request_seconds_bucket{{route={_label(route)},le=\"{bound}\"}} {cumulative}")
            out.append(f"fupin_request_seconds_sum{{route={_label(route)}}} {row[-1]:.6f}")
            out.append(f"fupin_request_seconds_count{{route={_label(route)}}} {cumulative}")
        out += ["# HELP fupin_evaluations_total Entities evaluated.", "# TYPE fupin_evaluations_total counter",
                f"fupin_evaluations_total {_totals['evaluations']}",
                "# HELP fupin_errors_total Diagnostics answered, by code.", "# TYPE fupin_errors_total counter"]
        out += [f"fupin_errors_total{{code={_label(code)}}} {n}" for code, n in sorted(_errors.items())]
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
