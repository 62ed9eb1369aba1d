"""Load test of ``fupin serve``: single-household evaluate over HTTP on loopback.

    python benchmarks/serve_load.py [--workers 1,2] [--clients 1,8,32] [--seconds 10]
                                    [--batch 50] [--only a,b] [--json out.json]

For each worker count it starts ``fupin serve policy/`` (uvicorn, on a free loopback
port), waits for ``/healthz``, then drives ``POST /v1/evaluate`` with one household
(examples/households.yaml's first, the README's) untraced and traced, at each number of
concurrent clients, for ``--seconds`` each (bounded: every run stops by its time), with
``wrk`` (``apt-get install wrk``) or, when wrk is missing, an httpx async client.
Reported per run: requests/s, p50 and p99 latency, non-2xx answers, and the load
average of the machine before and after (a shared machine's other work shows there).
``--batch N`` adds one separate figure: N households per request at 8 clients, in
entities/s (the issue counts it apart from single-household throughput).

The goal the issue sets for this 2-core class: ≥ 2,000 untraced evaluations/s with p99
< 20 ms at 32 clients. docs/performance.md reports the figures against it.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(workers: int, port: int) -> subprocess.Popen:
    """``fupin serve policy/`` on ``port``; returns once /healthz answers."""
    cmd = [sys.executable, "-m", "fupin.cli", "serve", str(ROOT / "policy"), "--port", str(port),
           "--workers", str(workers)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    stop(proc)
    raise SystemExit("fupin serve did not start")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


FACTS = "generated"
ONLY: list | None = None  # --only: the outputs asked for (default: every output of the entity)


def households(kind: str, n: int) -> list[dict]:
    """``generated``: households of the generator (a register's facts, nearly all known);
    ``readme``: examples/households.yaml (the README's; many facts missing, so many
    outputs unknown, whose possible values the engine works out)."""
    if kind == "readme":
        rows = yaml.safe_load((ROOT / "examples" / "households.yaml").read_text(encoding="utf-8"))
        return [rows[i % len(rows)] for i in range(n)]
    from fupin.engine.tools.generate import generate_households, records

    return records(generate_households(n, seed=1))


def body(trace: bool, batch: int = 0) -> bytes:
    rows = households(FACTS, max(batch, 1))
    facts = [dict(h, id=f"B{i}") for i, h in enumerate(rows)] if batch else rows[0]
    request = {"facts": facts, "trace": trace, **({"only": ONLY} if ONLY else {})}
    return json.dumps(request, ensure_ascii=False, default=str).encode("utf-8")


# --- wrk


def _seconds(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s|m)", text)
    value, unit = float(m.group(1)), m.group(2)
    return value * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


def with_wrk(url: str, payload: bytes | None, clients: int, seconds: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "post.lua"
        lua = ('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
               f'wrk.body = [==[{payload.decode("utf-8")}]==]\n') if payload is not None else ""
        script.write_text(lua, encoding="utf-8")
        cmd = ["wrk", "-t", str(min(clients, 2)), "-c", str(clients), "-d", f"{max(1, round(seconds))}s", "--timeout", "10s",
               "--latency", "-s", str(script), url]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    out = done.stdout
    if "requests in" not in out:
        raise SystemExit(f"wrk failed: {done.stdout}{done.stderr}")
    pct = dict(re.findall(r"^\s+(50|99)(?:\.000)?%\s+(\S+)", out, re.M))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"requests": total, "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50_ms": _seconds(pct["50"]) * 1000, "p99_ms": _seconds(pct["99"]) * 1000,
            "non_2xx": int(bad.group(1)) if bad else 0, "socket_errors": errors.group(1) if errors else None,
            "tool": "wrk"}


# --- httpx, when wrk is missing


def with_httpx(url: str, payload: bytes | None, clients: int, seconds: float) -> dict:
    async def run():
        latencies, bad = [], 0
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx.AsyncClient(limits=limits, timeout=10) as client:
            end = time.perf_counter() + seconds

            async def one():
                nonlocal bad
                while time.perf_counter() < end:
                    t = time.perf_counter()
                    r = await (client.get(url) if payload is None else
                               client.post(url, content=payload, headers={"content-type": "application/json"}))
                    latencies.append(time.perf_counter() - t)
                    bad += r.status_code >= 300
            start = time.perf_counter()
            await asyncio.gather(*(one() for _ in range(clients)))
            return latencies, bad, time.perf_counter() - start
    latencies, bad, wall = asyncio.run(run())
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [latencies[0]] * 99
    return {"requests": len(latencies), "rps": len(latencies) / wall, "p50_ms": q[49] * 1000,
            "p99_ms": q[98] * 1000, "non_2xx": bad, "socket_errors": None, "tool": "httpx"}


def measure(port: int, trace: bool, clients: int, seconds: float, batch: int = 0, route: str = "/v1/evaluate") -> dict:
    url = f"http://127.0.0.1:{port}{route}"
    payload = body(trace, batch) if route == "/v1/evaluate" else None
    drive = with_wrk if shutil.which("wrk") else with_httpx
    before = os.getloadavg()[0]
    got = drive(url, payload, clients, seconds)
    got.update(route=route, trace=trace, clients=clients, batch=batch or 1, load_before=round(before, 2),
               load_after=round(os.getloadavg()[0], 2))
    if batch:
        got["entities_per_s"] = got["rps"] * batch
    return got


def engine_alone(trace: bool, seconds: float = 3.0) -> dict:
    """The same household through ``Policy.evaluate`` in this process, no HTTP: what one
    core can do at most (the wall time of a loop, on the same loaded machine)."""
    from fupin import load_policy

    policy = load_policy(ROOT / "policy")
    facts = households(FACTS, 1)[0]
    policy.evaluate(facts, trace=trace, only=ONLY)
    times, end = [], time.perf_counter() + seconds
    while time.perf_counter() < end:
        t = time.perf_counter()
        policy.evaluate(facts, trace=trace, only=ONLY)
        times.append(time.perf_counter() - t)
    q = statistics.quantiles(times, n=100) if len(times) > 1 else times * 99
    return {"workers": 0, "route": "Policy.evaluate", "trace": trace, "clients": 1, "batch": 1,
            "requests": len(times), "rps": len(times) / sum(times), "p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000,
            "non_2xx": 0, "tool": "in-process", "load_before": round(os.getloadavg()[0], 2),
            "load_after": round(os.getloadavg()[0], 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--clients", default="1,8,32")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--batch", type=int, default=50, help="households per request for the batched figure (0: none)")
    ap.add_argument("--facts", choices=["generated", "readme"], default="generated")
    ap.add_argument("--untraced-only", action="store_true", help="skip the traced runs (they are slow)")
    ap.add_argument("--only", default=None, help="comma-separated outputs to ask for (default: all of them)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    global FACTS, ONLY
    FACTS = args.facts
    ONLY = [s.strip() for s in args.only.split(",") if s.strip()] if args.only else None
    rows = [engine_alone(False)] + ([] if args.untraced_only else [engine_alone(True)])
    for row in rows:
        print(json.dumps(row), flush=True)
    for workers in [int(w) for w in args.workers.split(",")]:
        port = free_port()
        proc = start(workers, port)
        try:
            httpx.post(f"http://127.0.0.1:{port}/v1/evaluate", content=body(True), timeout=60,
                       headers={"content-type": "application/json"})  # compile and warm every worker's caches
            row = {"workers": workers, **measure(port, False, 32, args.seconds, route="/healthz")}
            rows.append(row)  # the service's own ceiling: no evaluation at all
            print(json.dumps(row), flush=True)
            # traced runs last: requests a client gave up on are still evaluated (a
            # started evaluation cannot be stopped), and that backlog must not fall on
            # the next run
            for trace in (False,) if args.untraced_only else (False, True):
                for clients in [int(c) for c in args.clients.split(",")]:
                    row = {"workers": workers, **measure(port, trace, clients, args.seconds)}
                    rows.append(row)
                    print(json.dumps(row), flush=True)
                if args.batch and not trace:
                    row = {"workers": workers, **measure(port, False, 8, args.seconds, args.batch)}
                    rows.append(row)
                    print(json.dumps(row), flush=True)
        finally:
            stop(proc)
    print("\n| workers | route | trace | clients | households/request | requests/s | evaluations/s | p50 ms | p99 ms | non-2xx | load before→after |")
    print("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print(f"| {r['workers']} | {r['route']} | {'yes' if r['trace'] else 'no'} | {r['clients']} | {r['batch']} | {r['rps']:.0f} | "
              f"{r['rps'] * r['batch']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['non_2xx']} | "
              f"{r['load_before']}→{r['load_after']} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
