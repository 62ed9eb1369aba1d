"""Hostile requests never make the service fail: every one is a 4xx problem (or a 200
that reports what was wrong), never a 500 and never a stack trace."""
from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fupin.web.app import create_app
from fupin.web.config import Limits, ServeConfig
from fupin.web.state import Served

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policy"
LOOP = asyncio.Runner()
EXAMPLES = int(os.environ.get("FUPIN_FUZZ_EXAMPLES", "60"))
JSON = "application/json"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    config = ServeConfig(policy=str(POLICY), work_dir=str(tmp_path_factory.mktemp("work")),
                         limits=Limits(body_bytes=256 * 1024, upload_bytes=512 * 1024, jobs=100))
    return create_app(config, Served(POLICY))


def send(app, method: str, url: str, **kw) -> httpx.Response:
    async def go():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://fupin") as client:
            return await client.request(method, url, **kw)
    return LOOP.run(go())


def refused(r: httpx.Response, *statuses: int) -> dict:
    """A 4xx problem in one of ``statuses``, with no trace of Python in it."""
    assert r.status_code in statuses, (r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "Traceback" not in r.text and 'File "' not in r.text
    return r.json()


def deep(n: int) -> str:
    return '{"facts": ' + "[" * n + "]" * n + "}"


HH = '{"id": "H1", "status": "poor"'


@pytest.mark.parametrize("body, ctype, statuses, code", [
    (b"", JSON, (400,), "E871"),
    (b"{", JSON, (400,), "E871"),
    (b"\xff\xfe{\x00}", JSON, (400,), "E871"),
    ('{"facts": {"id": "\u00e9"}}'.encode("latin-1"), JSON, (400,), "E871"),
    (b'{"facts": {"id": "H1", "income_per_capita": NaN}}', JSON, (400,), "E871"),
    (b'{"facts": {"id": "H1", "income_per_capita": -Infinity}}', JSON, (400,), "E871"),
    (b'{"facts": {"id": "H1", "income_per_capita": 1' + b"0" * 5000 + b"}}", JSON, (400,), "E871"),
    (deep(100_000).encode(), JSON, (400,), "E871"),
    (b'{"facts": {"id": "H1"}}', "text/plain", (415,), "E870"),
    (b"facts=1", "application/x-www-form-urlencoded", (415,), "E870"),
    (b'{"facts": {"id": "H1"}}', "", (415,), "E870"),
    (b"[1, 2, 3]", JSON, (422,), "E863"),
    (b'"facts"', JSON, (422,), "E863"),
    (b"null", JSON, (422,), "E863"),
    (b"{}", JSON, (422,), "E863"),
    (b'{"facts": {}, "only": "monitoring_tier"}', JSON, (422,), "E863"),
    (b'{"facts": {}, "on": 20200630}', JSON, (422,), "E863"),
    (b'{"facts": {}, "lang": "fr"}', JSON, (422,), "E863"),
    (b'{"facts": "household"}', JSON, (422,), "E802"),
    (b'{"facts": 5}', JSON, (422,), "E802"),
    (b'{"facts": {"id": {"$gt": ""}}}', JSON, (422,), "E802"),
    ((HH + ', "income_per_capita": 1e400}').encode().join([b'{"facts": ', b"}"]), JSON, (422,), "E820"),
    ((HH + ', "income_per_capita": 1' + "0" * 400 + "}").encode().join([b'{"facts": ', b"}"]), JSON, (422,), "E820"),
    ((HH + ', "income_per_capita": 1e-400}').encode().join([b'{"facts": ', b"}"]), JSON, (422,), "E820"),
    ((HH + ', "members": [[[[[[]]]]]]}').encode().join([b'{"facts": ', b"}"]), JSON, (422,), "E802"),
    ((HH + ', "members": [' + ",".join(["{}"] * 250) + "]}").encode().join([b'{"facts": ', b"}"]), JSON, (422,), "E873"),
    (b'{"facts": [' + b",".join([b"{}"] * 1001) + b"]}", JSON, (422,), "E872"),
    (b'{"facts": {"id": "H1"}, "variant": "../../etc/passwd"}', JSON, (422,), "E812"),
    (b'{"facts": {"id": "H1"}, "entity": "__class__"}', JSON, (422,), "E302"),
    (b'{"facts": {"id": "H1", "__proto__": {"x": 1}}}', JSON, (422,), "E815"),
])
def test_hostile_evaluate_bodies_are_refused_with_a_problem(app, body, ctype, statuses, code):
    headers = {"content-type": ctype} if ctype else {}
    got = refused(send(app, "POST", "/v1/evaluate", content=body, headers=headers), *statuses)
    assert got["code"] == code, got


def test_a_key_from_the_body_cannot_add_steps_to_a_location(app):
    body = b'{"facts": {"id": "H1", "a\\u0000/../../etc/passwd": 1}}'
    got = refused(send(app, "POST", "/v1/evaluate", content=body, headers={"content-type": JSON}), 422)
    assert got["code"] == "E815" and got["diagnostics"][0]["file"] == "body/facts/a\\u0000~1..~1..~1etc~1passwd"


def test_a_huge_body_is_413_by_its_length_and_by_its_bytes(app):
    big = b'{"facts": "' + b"x" * (300 * 1024) + b'"}'
    assert refused(send(app, "POST", "/v1/evaluate", content=big, headers={"content-type": JSON}), 413)["code"] == "E862"

    async def chunks():
        for _ in range(300):
            yield b" " * 1024
    got = send(app, "POST", "/v1/evaluate", content=chunks(), headers={"content-type": JSON})
    assert refused(got, 413)["code"] == "E862"


@pytest.mark.parametrize("route", ["/v1/explain", "/v1/whatif"])
@pytest.mark.parametrize("body", [b'{"facts": {"id": "H1"}, "output": 7}', b'{"facts": {"id": "H1"}}',
                                  b'{"facts": {"id": "H1"}, "output": "monitoring_tier", "max_changes": 99}',
                                  b'{"facts": {"id": "H1"}, "output": "monitoring_tier", "depth": -1}',
                                  b'{"facts": {"id": "H1"}, "output": "../../x"}'])
def test_hostile_explain_and_what_if_bodies(app, route, body):
    refused(send(app, "POST", route, content=body, headers={"content-type": JSON}), 422)


@pytest.mark.parametrize("name", ["../../../etc/passwd", "..\\..\\x.csv", "/etc/passwd.csv", "a\x00.csv", "CON.csv",
                                  "x.csv/../../y.csv", "输入.CSV", "." * 300 + ".csv"])
def test_upload_names_never_reach_the_disk(app, tmp_path, name):
    r = send(app, "POST", "/v1/batch", files={"file": (name, b"id,status\nH1,poor\n")})
    assert r.status_code < 500, r.text
    work = Path(app.state.jobs.root)
    assert all(p.resolve().is_relative_to(work.resolve()) for p in work.rglob("*"))
    assert not (ROOT / "etc").exists() and not (tmp_path.parent / "y.csv").exists()


@pytest.mark.parametrize("path", ["../../../etc/passwd", "..%2F..%2Fsecrets.yaml", "policy/../../x.yaml", "a\x00.yaml",
                                  "tests/x.yaml", "", " ", "x" * 2000])
def test_check_never_reads_or_names_a_file_outside_the_pack(app, path):
    r = send(app, "POST", "/v1/check", files={"file": ("x.yaml", b"rules: {}\n")}, data={"path": path})
    assert r.status_code in (200, 404, 422), r.text
    assert "root:" not in r.text


@pytest.mark.parametrize("upload", [b"", b"\x00" * 1000, b"PK\x03\x04garbage", b"PAR1" + b"\x00" * 100 + b"PAR1",
                                    b'{"id": "H1"}\n{"id": \n', "id,status\n\"H1,poor\n".encode()])
@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx", ".jsonl"])
def test_a_broken_dataset_fails_its_job_not_the_service(app, upload, suffix):
    r = send(app, "POST", "/v1/batch", files={"file": ("x" + suffix, upload)})
    assert r.status_code in (202, 422), r.text
    if r.status_code == 202:
        ident = r.json()["id"]
        for _ in range(200):
            got = send(app, "GET", f"/v1/jobs/{ident}").json()
            if got["status"] in ("succeeded", "failed"):
                break
            import time
            time.sleep(0.02)
        assert got["status"] in ("succeeded", "failed") and all(d["code"] != "E869" for d in got["diagnostics"])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=25)
FIELDS = st.sampled_from(["id", "status", "income_per_capita", "members", "housing_grade", "registered", "age",
                          "labor", "assessed_on", "relocation_loan_year", "inpatient_selfpay_share"])


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(facts=st.one_of(json_values, st.dictionaries(FIELDS, json_values, max_size=6),
                       st.lists(st.dictionaries(FIELDS, json_values, max_size=5), max_size=3)),
       extra=st.dictionaries(st.sampled_from(["on", "variant", "only", "trace", "entity", "lang", "output", "value"]),
                             json_values, max_size=3),
       route=st.sampled_from(["/v1/evaluate", "/v1/explain", "/v1/whatif"]))
def test_any_json_body_is_answered_without_a_server_error(app, facts, extra, route):
    body = json.dumps({"facts": facts, "output": "monitoring_tier", **extra})
    r = send(app, "POST", route, content=body.encode(), headers={"content-type": JSON})
    assert r.status_code < 500 or (r.status_code == 503 and r.json()["code"] in ("E865", "E866")), r.text[:500]
    if r.status_code >= 400:
        refused(r, r.status_code)
