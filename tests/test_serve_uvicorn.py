"""``fupin serve`` for real: uvicorn in a child process on a free port, called over TCP;
and the refusal to listen beyond the machine without a token."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
HH = yaml.safe_load((ROOT / "examples" / "households.yaml").read_text(encoding="utf-8"))[0]
TOKEN = "uvicorn-test-token-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fupin(*args) -> list[str]:
    return [sys.executable, "-m", "fupin.cli", *args]


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20"])  # the rule itself: test_web_core.py
def test_a_non_loopback_bind_without_a_token_is_refused_before_listening(host):
    done = subprocess.run(fupin("serve", str(ROOT / "policy"), "--host", host, "--port", str(free_port()),
                                "--lang", "en"), capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "error[E860]" in done.stderr and f"refusing to serve on {host} without a token" in done.stderr


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``fupin serve policy/ --host 0.0.0.0 --token-file …`` on a free port."""
    tmp = tmp_path_factory.mktemp("serve")
    (tmp / "token").write_text(TOKEN + "\n", encoding="utf-8")
    port = free_port()
    log = tmp / "decisions.jsonl"
    errors = open(tmp / "stderr.txt", "w", encoding="utf-8")
    proc = subprocess.Popen(fupin("serve", str(ROOT / "policy"), "--host", "0.0.0.0", "--port", str(port),
                                  "--token-file", str(tmp / "token"), "--decision-log", str(log),
                                  "--work-dir", str(tmp / "work")),
                            stdout=errors, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    base = f"http://127.0.0.1:{port}"
    healthy(base, proc, tmp / "stderr.txt")
    yield base, log, tmp / "stderr.txt", proc
    if proc.poll() is None:
        stop(proc, 10)
    errors.close()


def healthy(base: str, proc, stderr, seconds: float = 20.0) -> None:
    """Wait until ``/healthz`` answers 200; kill the server and show its output if it never does."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError(stderr.read_text(encoding="utf-8"))


def stop(proc, seconds: float) -> None:
    """Ctrl-C the server (as a person stops it), killed if it has not ended in ``seconds``."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(seconds)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_the_real_server_answers_with_the_token_only(server):
    base, log, stderr, _ = server
    auth = {"authorization": f"Bearer {TOKEN}"}
    assert httpx.post(base + "/v1/evaluate", json={"facts": HH}).status_code == 401
    with httpx.Client(base_url=base, headers=auth, timeout=30) as client:
        r = client.post("/v1/evaluate", json={"facts": {**HH, "id": "REAL-SECRET-ID-9"}, "only": ["monitoring_tier"]})
        assert r.status_code == 200 and r.json()["decisions"][0]["results"] == {"monitoring_tier": "red"}
        assert client.get("/openapi.json").json()["components"]["schemas"]["Facts_household"]
        assert client.get("/docs").status_code == 200
        assert "fupin_requests_total" in client.get("/metrics").text
        r = client.post("/v1/evaluate?lang=en", content=b'{"facts": {"id": "REAL-SECRET-ID-9", "status": NaN}}',
                        headers={"content-type": "application/json"})
        assert r.status_code == 400 and r.json()["code"] == "E871"
    lines = log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["id"] == "***"
    time.sleep(0.2)
    printed = stderr.read_text(encoding="utf-8")
    assert '"POST /v1/evaluate" 200' in printed and '"POST /v1/evaluate" 400' in printed
    assert "REAL-SECRET-ID-9" not in printed and "lang=en" not in printed and TOKEN not in printed


def test_two_workers_answer_metrics_for_the_whole_server(tmp_path):
    """``--workers 2``: a scrape reaches either worker, and each answers with every
    worker's requests; the shared metrics folder is gone when the server stops."""
    port = free_port()
    out = open(tmp_path / "stderr.txt", "w", encoding="utf-8")
    proc = subprocess.Popen(fupin("serve", str(ROOT / "policy"), "--port", str(port), "--workers", "2"),
                            stdout=out, stderr=subprocess.STDOUT,
                            env={**os.environ, "TMPDIR": str(tmp_path), "PYTHONUNBUFFERED": "1"})
    base = f"http://127.0.0.1:{port}"
    try:
        healthy(base, proc, tmp_path / "stderr.txt", 60.0)
        time.sleep(1.0)  # the second worker may still be loading the pack
        for i in range(24):  # a new connection each: the kernel may hand it to either worker
            r = httpx.post(base + "/v1/evaluate", json={"facts": {**HH, "id": f"M{i}"}, "only": ["monitoring_tier"]},
                           timeout=30)
            assert r.status_code == 200
        time.sleep(1.0)  # > the flush interval
        seen = set()
        for _ in range(8):
            text = httpx.get(base + "/metrics", timeout=10).text
            line = next(ln for ln in text.splitlines() if ln.startswith("fupin_evaluations_total "))
            seen.add(int(line.split()[1]))
        assert seen == {24}
        assert len(list(tmp_path.glob("fupin-metrics-*"))) == 1
    finally:
        stop(proc, 20)
        out.close()
    assert not list(tmp_path.glob("fupin-metrics-*")), (tmp_path / "stderr.txt").read_text(encoding="utf-8")
