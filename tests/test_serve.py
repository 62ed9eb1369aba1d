"""The HTTP API (web/api/) with httpx against the real application: every route, the
problem details, the bounds, the decision and access logs, metrics, docs and jobs."""
from __future__ import annotations

import asyncio
import json
import logging
import shutil
import threading
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import yaml

from fupin.engine.api import load_policy
from fupin.engine.reports.jsonout import dumps
from fupin.web.app import create_app
from fupin.web.config import Limits, ServeConfig
from fupin.web.state import Served

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policy"
HOUSEHOLDS = yaml.safe_load((ROOT / "examples" / "households.yaml").read_text(encoding="utf-8"))
HH = HOUSEHOLDS[0]
TOKEN = "a-token-of-twenty-four-c"
LOOP = asyncio.Runner()  # one event loop for the module: the apps' limiters live on it


@pytest.fixture(scope="module")
def served():
    return Served(POLICY)


def make(served, **config):
    limits = config.pop("limits", Limits())
    return create_app(ServeConfig(policy=str(POLICY), limits=limits, **config), served)


@pytest.fixture(scope="module")
def app(served):
    return make(served)


def call(app, method: str, url: str, **kw) -> httpx.Response:
    async def go():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://fupin") as client:
            return await client.request(method, url, **kw)
    return LOOP.run(go())


def post(app, url, body, **kw) -> httpx.Response:
    return call(app, "POST", url, content=dumps(body, indent=None).encode("utf-8"),
                headers={"content-type": "application/json", **kw.pop("headers", {})}, **kw)


def problem(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == code and body["status"] == status and body["diagnostics"], body
    return body


# --- evaluate


def test_one_household_is_decided_as_the_python_api_decides(app):
    r = post(app, "/v1/evaluate", {"facts": HH})
    assert r.status_code == 200, r.text
    got = r.json(parse_float=Decimal)
    want = json.loads(load_policy(POLICY).evaluate(HH).to_json(), parse_float=Decimal)
    one = got["decisions"][0]
    assert (one["results"], one["unknown"], one["record"]) == (want["results"], want["unknown"], want["record"])
    assert got["policy_revision"] == call(app, "GET", "/healthz").json()["revision"] == one["record"]["policy_revision"]
    assert (got["entity"], got["on"], got["variant"]) == ("household", "2020-06-30", "base")


def test_a_list_answers_each_entity_in_its_place_and_an_invalid_one_with_its_diagnostics(app):
    bad = {**HOUSEHOLDS[1], "status": "nope", "members": [{"age": -1}]}
    r = post(app, "/v1/evaluate", {"facts": [HH, bad, HOUSEHOLDS[2]], "lang": "en", "only": ["monitoring_tier"]})
    assert r.status_code == 200, r.text
    first, second, third = r.json()["decisions"]
    assert first["results"] == {"monitoring_tier": "red"} and third["results"] is not None
    assert second["results"] is None and second["id"] == "HH02"
    where = {d["file"]: d for d in second["invalid"]}
    assert where["body/facts/1/status"]["code"] == "E802"
    assert where["body/facts/1/members/0/age"]["code"] == "E803"
    assert "should be one of" in where["body/facts/1/status"]["message"]


def test_a_single_invalid_entity_is_a_located_422(app):
    body = problem(post(app, "/v1/evaluate", {"facts": {**HH, "income_per_capita": "lots"}, "lang": "en"}), 422, "E802")
    d = body["diagnostics"][0]
    assert d["file"] == "body/facts/income_per_capita" and "income_per_capita" in d["message"]
    assert body["lang"] == "en" and body["type"] == "urn:fupin:error:E802" and body["instance"] == "/v1/evaluate"


def test_an_undeclared_field_says_did_you_mean(app):
    body = problem(post(app, "/v1/evaluate", {"facts": {**HH, "incom_per_capita": 1}, "lang": "en"}), 422, "E815")
    assert body["diagnostics"][0]["file"] == "body/facts/incom_per_capita"
    assert "income_per_capita" in (body["diagnostics"][0]["hint"] or "") + body["detail"]


@pytest.mark.parametrize("extra, code, where", [
    ({"variant": "nowhere-2099"}, "E812", "body/variant"),
    ({"only": ["monitoring_tyer"]}, "E811", "body/only"),
    ({"entity": "castle"}, "E302", "body/entity"),
    ({"on": "2020-02-30"}, "E863", "body/on"),
    ({"trace": "sometimes"}, "E863", "body/trace"),
    ({"colour": "red"}, "E863", "body/colour"),
])
def test_an_error_in_the_call_is_a_422_at_its_member(app, extra, code, where):
    body = problem(post(app, "/v1/evaluate", {"facts": [HH, HH], **extra}), 422, code)
    assert body["diagnostics"][0]["file"] == where


def test_the_request_language_comes_from_the_body_the_query_or_the_header(app):
    bad = {"facts": {**HH, "status": "nope"}}
    assert "应为" in post(app, "/v1/evaluate", bad).json()["detail"]
    assert "should be" in post(app, "/v1/evaluate", {**bad, "lang": "en"}).json()["detail"]
    assert "should be" in post(app, "/v1/evaluate?lang=en", bad).json()["detail"]
    assert "should be" in post(app, "/v1/evaluate", bad, headers={"accept-language": "en-GB,en;q=0.8"}).json()["detail"]


def test_variant_date_and_trace(app):
    r = post(app, "/v1/evaluate", {"facts": HH, "variant": "anhui-2020", "on": "2020-12-31", "trace": True,
                                   "only": ["monitoring_tier"]})
    assert r.status_code == 200, r.text
    got = r.json()
    one = got["decisions"][0]
    assert (got["variant"], got["on"], one["record"]["variant"]) == ("anhui-2020", "2020-12-31", "anhui-2020")
    assert one["trace"]["roots"][0]["rule"] == "monitoring_tier" and one["trace"]["record"] == one["record"]


@pytest.mark.parametrize("limits, facts, code, where", [
    (Limits(entities=2), [HH, HH, HH], "E872", "body/facts"),
    (Limits(members=1), HH, "E873", "body/facts/members"),
    (Limits(members=1), [HH, {**HH, "members": HH["members"][:1]}], "E873", "body/facts/0/members"),
])
def test_entities_and_members_are_bounded(served, limits, facts, code, where):
    body = problem(post(make(served, limits=limits), "/v1/evaluate", {"facts": facts, "lang": "en"}), 422, code)
    assert body["diagnostics"][0]["file"] == where


# --- explain and what-if


def test_explain_gives_the_text_its_parts_and_the_traced_decision(app):
    r = post(app, "/v1/explain", {"facts": HH, "output": "monitoring_tier", "lang": "en"})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["value"] == "red" and got["text"].startswith("monitoring tier (monitoring_tier) = red")
    assert got["parts"]["reasons"] and got["decision"]["trace"]["roots"]
    assert got["text"] == load_policy(POLICY).explain(HH, "monitoring_tier", lang="en")


def test_explain_refuses_a_list_and_an_unknown_output(app):
    problem(post(app, "/v1/explain", {"facts": [HH], "output": "monitoring_tier"}), 422, "E863")
    body = problem(post(app, "/v1/explain", {"facts": HH, "output": "nothing_like_it"}), 422, "E811")
    assert body["diagnostics"][0]["file"] == "body/only"


def test_what_if_finds_verified_changes(app):
    r = post(app, "/v1/whatif", {"facts": HH, "output": "monitoring_tier", "value": "green", "lang": "en"})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["value"] == "red" and got["answers"][0]["value"] == "green"
    alternatives = got["answers"][0]["alternatives"]
    assert alternatives and all(a["value"] == "green" and a["changes"] for a in alternatives)
    problem(post(app, "/v1/whatif", {"facts": HH, "output": "monitoring_tier", "value": "purple"}), 422, "E840")


# --- the policy


def test_the_policy_lists_variants_entities_rules_and_dated_parameters(app):
    r = call(app, "GET", "/v1/policy")
    assert r.status_code == 200, r.text
    got = r.json()
    assert [v["name"] for v in got["variants"]] == ["base", "anhui-2020", "yunnan-2016"]
    assert got["default_entity"] == "household" and got["entities"]["household"]["fields"]["id"]["pii"] is True
    assert any(r["name"] == "monitoring_tier" for r in got["rules"])
    param = next(p for p in got["parameters"] if p["values"] and p["sources"])
    assert param["values"][0]["from"] and param["sources"][0]["doc"]
    assert got["reload_errors"] is None


def test_one_rule_and_one_parameter(app):
    rule = call(app, "GET", "/v1/policy/rules/monitoring_tier").json()
    assert rule["type"] == "tier_colour" and rule["entity"] == "household" and rule["sources"]
    assert rule["file"].startswith("policy/household/monitoring.yaml:") or "monitoring.yaml" in rule["file"]
    name = call(app, "GET", "/v1/policy").json()["parameters"][0]["name"]
    assert call(app, "GET", f"/v1/policy/parameters/{name}").json()["name"] == name
    body = problem(call(app, "GET", "/v1/policy/rules/no_such_rule?lang=en"), 404, "E867")
    assert body["detail"] == "rule `no_such_rule` does not exist"
    problem(call(app, "GET", "/v1/policy/parameters/no_such?variant=atlantis"), 422, "E812")


def test_a_reload_with_errors_keeps_the_old_pack_and_reports_them(tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(ROOT / "tests" / "fixtures" / "mini", pack)
    served = Served(pack)
    app = create_app(ServeConfig(policy=str(pack)), served)
    before = call(app, "GET", "/v1/policy").json()["revision"]
    rules = next(pack.glob("rules.yaml"))
    rules.write_text(rules.read_text(encoding="utf-8") + "\n  broken_rule: {type: integer, expr: 1 +}\n", encoding="utf-8")
    assert served.reload(force=True) is False
    got = call(app, "GET", "/v1/policy?lang=en").json()
    assert got["revision"] == before and got["reload_errors"]["diagnostics"]
    assert call(app, "GET", "/openapi.json").status_code == 200


def test_a_clean_reload_serves_the_new_declarations_in_the_openapi(tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(ROOT / "tests" / "fixtures" / "mini", pack)
    served = Served(pack)
    app = create_app(ServeConfig(policy=str(pack)), served)
    before = call(app, "GET", "/openapi.json").json()["components"]["schemas"]["Facts_member"]["properties"]
    decl = pack / "declarations.yaml"
    text = decl.read_text(encoding="utf-8")
    decl.write_text(text.replace("      enrolled: {type: bool}\n", "      enrolled: {type: bool}\n      orphan: {type: bool}\n"),
                    encoding="utf-8")
    assert served.reload(force=True) is True
    after = call(app, "GET", "/openapi.json").json()["components"]["schemas"]["Facts_member"]["properties"]
    assert "orphan" not in before and "orphan" in after
    got = post(app, "/v1/evaluate", {"facts": {"id": "H1", "members": [{"age": 9, "orphan": True}]}})
    assert got.status_code == 200, got.text


# --- logs


def test_the_decision_log_masks_personal_fields_and_the_access_log_holds_no_facts(served, tmp_path, caplog):
    log = tmp_path / "decisions.jsonl"
    app = make(served, decision_log=str(log))
    secret = {**HH, "id": "ID-3301-SECRET-77", "income_per_capita": Decimal("4321.09")}
    with caplog.at_level(logging.INFO, logger="fupin.access"):
        r = post(app, "/v1/evaluate?only=x", {"facts": [secret, {**secret, "status": "nope"}, HOUSEHOLDS[1]]})
        assert r.status_code == 200
        problem(post(app, "/v1/evaluate", {"facts": {**secret, "status": "nope"}}), 422, "E802")
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 2  # one per decision; an invalid entity has none
    assert {line["id"] for line in lines} == {"***"} and lines[0]["facts"]["id"] == "***"
    assert lines[0]["record"]["decision_id"] == r.json()["decisions"][0]["record"]["decision_id"]
    assert log.stat().st_mode & 0o077 == 0  # readable by the service's user only
    text = log.read_text(encoding="utf-8")
    assert "ID-3301-SECRET-77" not in text and "HH02" not in text
    access = [rec.getMessage() for rec in caplog.records if rec.name == "fupin.access"]
    assert any('"POST /v1/evaluate" 200' in line for line in access)
    joined = "\n".join(access)
    for leaked in ("ID-3301-SECRET-77", "4321.09", "only=x", "nope", "HH02"):
        assert leaked not in joined


# --- bounds in time and number


def _slow(seconds: float):
    def decide(*args, **kwargs):
        time.sleep(seconds)
        return []
    return decide


def test_an_evaluation_past_its_time_is_a_503_and_is_abandoned(served, monkeypatch):
    from fupin.web.api import evaluate

    monkeypatch.setattr(evaluate, "decide", _slow(0.6))
    app = make(served, limits=Limits(seconds=0.1))
    started = time.perf_counter()
    body = problem(post(app, "/v1/evaluate", {"facts": HH, "lang": "en"}), 503, "E865")
    assert time.perf_counter() - started < 0.5 and "0.1 s" in body["detail"]
    assert app.state.runner.active == 1  # the abandoned evaluation still runs and still counts
    time.sleep(0.8)
    assert app.state.runner.active == 0


def test_evaluations_beyond_the_bound_are_refused_at_once(served, monkeypatch):
    from fupin.web.api import evaluate

    monkeypatch.setattr(evaluate, "decide", _slow(0.5))
    app = make(served, limits=Limits(concurrent=1))

    async def two():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://fupin") as client:
            body = {"content": dumps({"facts": HH}), "headers": {"content-type": "application/json"}}
            return await asyncio.gather(client.post("/v1/evaluate", **body), client.post("/v1/evaluate", **body))
    statuses = sorted(r.status_code for r in LOOP.run(two()))
    assert statuses == [200, 503]
    assert app.state.runner.active == 0


# --- the token


def test_every_route_but_healthz_and_the_docs_assets_needs_the_token(served):
    app = make(served, token=TOKEN, host="0.0.0.0")
    problem(post(app, "/v1/evaluate", {"facts": HH}), 401, "E864")
    problem(call(app, "GET", "/metrics"), 401, "E864")
    problem(call(app, "GET", "/openapi.json", headers={"authorization": "Bearer " + TOKEN[:-1] + "x"}), 401, "E864")
    assert post(app, "/v1/evaluate", {"facts": HH}, headers={"authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert call(app, "GET", "/healthz").status_code == 200
    assert call(app, "GET", "/static/docs/swagger-ui.css").status_code == 200


# --- metrics, OpenAPI, docs


def test_metrics_count_requests_latency_evaluations_and_errors(served):
    app = make(served)
    post(app, "/v1/evaluate", {"facts": [HH, HOUSEHOLDS[1], {**HH, "status": "nope"}]})
    post(app, "/v1/evaluate", {"facts": {**HH, "status": "nope"}})
    call(app, "GET", "/v1/policy/rules/nothing")
    call(app, "GET", "/no/such/path/" + "x" * 50)
    text = call(app, "GET", "/metrics").text
    assert 'fupin_requests_total{route="/v1/evaluate",method="POST",status="200"}' in text
    assert 'fupin_requests_total{route="/v1/policy/rules/{name}",method="GET",status="404"}' in text
    assert 'route="<unmatched>"' in text and "xxxxx" not in text
    assert 'fupin_request_seconds_bucket{route="/v1/evaluate",le="+Inf"}' in text
    assert 'fupin_errors_total{code="E802"}' in text and 'fupin_errors_total{code="E867"}' in text
    assert int(text.split("\nfupin_evaluations_total ")[1].split()[0]) >= 2


def test_openapi_types_the_bodies_from_the_pack(app):
    doc = call(app, "GET", "/openapi.json").json()
    schemas = doc["components"]["schemas"]
    household = schemas["Facts_household"]
    assert household["additionalProperties"] is False and household["required"] == ["id"]
    assert set(household["properties"]["status"]["anyOf"][0]["enum"]) >= {"poor", "exited", "已脱贫"}
    assert household["properties"]["members"]["anyOf"][0]["items"] == {"$ref": "#/components/schemas/Facts_member"}
    assert {"type": "number"} in [{"type": a.get("type")} for a in household["properties"]["income_per_capita"]["anyOf"][0]["anyOf"]]
    tier = schemas["Results_household"]["properties"]["monitoring_tier"]["anyOf"][0]
    assert tier == {"type": "string", "enum": ["red", "yellow", "green", "none"]}
    body = doc["paths"]["/v1/evaluate"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/EvaluateRequest"}
    assert "application/problem+json" in doc["paths"]["/v1/evaluate"]["post"]["responses"]["422"]["content"]
    for path in ("/v1/explain", "/v1/whatif", "/v1/policy", "/v1/check", "/v1/batch", "/v1/diff", "/v1/jobs/{ident}",
                 "/metrics", "/healthz"):
        assert path in doc["paths"]


def test_the_docs_load_nothing_from_outside(app):
    page = call(app, "GET", "/docs")
    assert page.status_code == 200 and "swagger-ui-bundle.js" in page.text
    assert "http://" not in page.text and "https://" not in page.text and "//cdn" not in page.text
    js = call(app, "GET", "/static/docs/swagger-ui-bundle.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript") and len(js.content) > 10**6
    problem(call(app, "GET", "/static/docs/..%2F..%2F__init__.py"), 404, "E867")
    problem(call(app, "GET", "/static/docs/index.html"), 404, "E867")


# --- check, batch, diff, jobs


def test_check_a_changed_rule_file_and_a_new_one(app):
    text = (POLICY / "household" / "exit.yaml").read_bytes()
    r = call(app, "POST", "/v1/check", files={"file": ("exit.yaml", text)}, data={"path": "household/exit.yaml"})
    assert r.status_code == 200 and r.json()["errors"] == 0
    broken = b"entity: household\nrules:\n  y: {type: integer, expr: 1 +}\n"
    got = call(app, "POST", "/v1/check?lang=en", files={"file": ("new.yaml", broken)}, data={"path": "household/new.yaml"}).json()
    errors = [d for d in got["diagnostics"] if d["severity"] == "error"]
    assert got["errors"] == 1 and errors[0]["file"] == "household/new.yaml" and errors[0]["line"] == 3
    for path in ("../outside.yaml", "/etc/passwd.yaml", "tests/cases.yaml", "household/exit.py"):
        problem(call(app, "POST", "/v1/check", files={"file": ("x.yaml", broken)}, data={"path": path}), 422, "E863")
    problem(call(app, "POST", "/v1/check", files={"file": ("x.yaml", b"\xff\xfe\x00bad")}), 400, "E871")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    from conftest import generated_parquet

    return generated_parquet(tmp_path_factory.mktemp("data"), 120, 7)


def _finished(app, ident: str) -> dict:
    for _ in range(300):
        got = call(app, "GET", f"/v1/jobs/{ident}").json()
        if got["status"] in ("succeeded", "failed"):
            return got
        time.sleep(0.05)
    raise AssertionError("the job did not finish")


def test_a_batch_job_runs_in_the_background_and_its_files_download(served, tmp_path, dataset):
    import pyarrow.parquet as pq

    app = make(served, work_dir=str(tmp_path / "work"))
    r = call(app, "POST", "/v1/batch?lang=en", files={"file": ("my households.parquet", dataset.read_bytes())},
             data={"only": "monitoring_tier,exit_eligible"})
    assert r.status_code == 202, r.text
    assert r.headers["location"] == f"/v1/jobs/{r.json()['id']}"
    got = _finished(app, r.json()["id"])
    assert got["status"] == "succeeded", got["diagnostics"]
    assert got["result"]["rows_in"] == 120 == got["result"]["rows_out"] + got["result"]["rows_quarantined"]
    results = call(app, "GET", f"/v1/jobs/{got['id']}/files/results")
    assert results.status_code == 200 and "attachment" in results.headers["content-disposition"]
    (tmp_path / "r.parquet").write_bytes(results.content)
    table = pq.read_table(tmp_path / "r.parquet")
    assert table.num_rows == got["result"]["rows_out"] and "monitoring_tier" in table.column_names
    quarantine = call(app, "GET", f"/v1/jobs/{got['id']}/files/quarantine").text
    assert quarantine.count("\n") >= got["result"]["rows_quarantined"]
    problem(call(app, "GET", f"/v1/jobs/{got['id']}/files/input"), 404, "E867")
    problem(call(app, "GET", f"/v1/jobs/{got['id']}/files/..%2Finput.parquet"), 404, "E867")
    problem(call(app, "GET", "/v1/jobs/..%2F..%2Fetc"), 404, "E867")
    assert [j["id"] for j in call(app, "GET", "/v1/jobs").json()] == [got["id"]]


def test_a_batch_with_child_tables_and_a_diff_job(served, tmp_path):
    app = make(served, work_dir=str(tmp_path / "work"))
    fixtures = ROOT / "tests" / "fixtures" / "batch"
    r = call(app, "POST", "/v1/batch", data={"format": "csv"},
             files=[("file", ("h.csv", (fixtures / "households.csv").read_bytes())),
                    ("joins", ("members.csv", (fixtures / "members.csv").read_bytes()))])
    assert r.status_code == 202, r.text
    got = _finished(app, r.json()["id"])
    assert got["status"] == "succeeded", got["diagnostics"]
    assert call(app, "GET", f"/v1/jobs/{got['id']}/files/results").text.startswith("id,") or got["files"]
    bad = call(app, "POST", "/v1/batch", files=[("file", ("h.csv", b"id\n1\n")), ("joins", ("castle.csv", b"x\n"))])
    problem(bad, 422, "E863")
    r = call(app, "POST", "/v1/diff", data={"vs_on": "2021-06-30"},
             files=[("file", ("h.csv", (fixtures / "households.csv").read_bytes())),
                    ("joins", ("members.csv", (fixtures / "members.csv").read_bytes()))])
    assert r.status_code == 202, r.text
    got = _finished(app, r.json()["id"])
    assert got["status"] == "succeeded", got["diagnostics"]
    assert sorted(got["files"]) == ["changed", "quarantine", "report.html", "report.json"]
    problem(call(app, "POST", "/v1/diff", files={"file": ("h.csv", b"id\n1\n")}), 422, "E852")


def test_job_refusals(served, tmp_path):
    app = make(served, work_dir=str(tmp_path / "work"), limits=Limits(jobs=1))
    problem(call(app, "POST", "/v1/batch", files={"file": ("h.exe", b"MZ")}), 422, "E863")
    problem(call(app, "POST", "/v1/batch", files={"file": ("h.csv", b"id\n")}, data={"on": "yesterday"}), 422, "E804")
    problem(call(app, "POST", "/v1/batch", files={"file": ("h.csv", b"id\n")}, data={"format": "pdf"}), 422, "E863")
    problem(call(app, "GET", "/v1/jobs/0123456789abcdef"), 404, "E867")
    started = threading.Event()
    store = app.state.jobs
    job = store.create("batch")
    store.start(job, lambda job: (started.set(), time.sleep(0.5)))
    started.wait(2)
    problem(call(app, "GET", f"/v1/jobs/{job.id}/files/results"), 409, "E874")
    problem(call(app, "POST", "/v1/batch", files={"file": ("h.csv", b"id\n1\n")}), 503, "E866")


@pytest.mark.parametrize("name, want", [("household", "Facts_household"), ("model_village", "Facts_model_village"),
                                        ("农户", "Facts____be2453f7")])
def test_component_names_are_openapi_names_and_the_same_in_every_process(name, want):
    from fupin.web.schemas import component_name

    got = component_name("Facts", name)
    assert got == want and all(c.isascii() and (c.isalnum() or c in "._-") for c in got)


def test_a_diff_against_an_edited_rule_file(served, tmp_path, dataset):
    """The second setting may be the served pack with one rule file as uploaded (a version
    not saved): raising the red line moves households; a broken edit is a 422 located in
    the edited file, before any job starts."""
    import json as _json

    app = make(served, work_dir=str(tmp_path / "work"))
    params = (POLICY / "household" / "monitoring.yaml").read_text(encoding="utf-8")
    assert "      2020-01-01: 5000\n" in params  # the red line
    edited = params.replace("      2020-01-01: 5000\n", "      2020-01-01: 6000\n", 1)
    r = call(app, "POST", "/v1/diff?lang=en", data={"only": "monitoring_tier", "edited_path": "household/monitoring.yaml"},
             files=[("file", ("h.parquet", dataset.read_bytes())), ("edited", ("monitoring.yaml", edited.encode()))])
    assert r.status_code == 202, r.text
    got = _finished(app, r.json()["id"])
    assert got["status"] == "succeeded", got["diagnostics"]
    assert got["meta"]["revision"] != got["meta"]["vs_revision"]
    report = _json.loads(call(app, "GET", f"/v1/jobs/{got['id']}/files/report.json").text)
    assert report == got["result"]["report"]
    assert report["outputs"]["monitoring_tier"] > 0  # households at 5000-5999 turn red
    assert report["because"]["monitoring_tier"] == [{"kind": "parameter", "name": "monitoring_red_income_line",
                                                     "before": "5000 (from 2020-01-01)", "after": "6000 (from 2020-01-01)"}]
    broken = params.replace("expr:", "expr: (", 1)
    body = problem(call(app, "POST", "/v1/diff?lang=en", data={"edited_path": "household/monitoring.yaml"},
                        files=[("file", ("h.parquet", dataset.read_bytes())), ("edited", ("m.yaml", broken.encode()))]),
                   422, "E202")
    assert body["diagnostics"][0]["file"].endswith("household/monitoring.yaml")
    assert call(app, "GET", "/v1/jobs").json() == [] or all(j["kind"] != "diff" or j["status"] != "queued"
                                                             for j in call(app, "GET", "/v1/jobs").json())
    problem(call(app, "POST", "/v1/diff", data={"edited_path": "../outside.yaml"},
                 files=[("file", ("h.parquet", dataset.read_bytes())), ("edited", ("m.yaml", b"rules: {}\n"))]), 422, "E863")


def test_a_diff_against_a_zip_of_edited_files(served, tmp_path, dataset):
    """The second setting may be a zip of edited files (a copy of the pack folder, its top
    folder stripped): two files changed at once both count; a zip reaching outside the
    pack is a 422 before any job starts."""
    import io
    import json as _json
    import zipfile

    app = make(served, work_dir=str(tmp_path / "work"))
    params = (POLICY / "household" / "monitoring.yaml").read_text(encoding="utf-8")
    edited = params.replace("      2020-01-01: 5000\n", "      2020-01-01: 6000\n", 1)
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(POLICY.rglob("*.yaml")):
            rel = path.relative_to(POLICY).as_posix()
            z.writestr("policy/" + rel, edited if rel == "household/monitoring.yaml" else path.read_text(encoding="utf-8"))
    r = call(app, "POST", "/v1/diff?lang=en", data={"only": "monitoring_tier"},
             files=[("file", ("h.parquet", dataset.read_bytes())), ("edited", ("policy.zip", packed.getvalue()))])
    assert r.status_code == 202, r.text
    got = _finished(app, r.json()["id"])
    assert got["status"] == "succeeded", got["diagnostics"]
    report = _json.loads(call(app, "GET", f"/v1/jobs/{got['id']}/files/report.json").text)
    assert report["because"]["monitoring_tier"] == [{"kind": "parameter", "name": "monitoring_red_income_line",
                                                     "before": "5000 (from 2020-01-01)", "after": "6000 (from 2020-01-01)"}]
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as z:
        z.writestr("../../outside.yaml", "rules: {}\n")
    body = problem(call(app, "POST", "/v1/diff?lang=en", files=[("file", ("h.parquet", dataset.read_bytes())),
                                                                 ("edited", ("e.zip", evil.getvalue()))]), 422, "E863")
    assert "is not a rule file of the pack" in body["detail"]


def test_check_can_run_the_cases_of_the_file(tmp_path):
    """``tests=true``: a clean edit's cases run against the edited pack (the mini fixture
    pack: its one case file names the edited rule); a second run meanwhile is 503 E866."""
    from fupin.web import checking

    mini = ROOT / "tests" / "fixtures" / "mini"
    app = create_app(ServeConfig(policy=str(mini)), Served(mini))
    text = (mini / "rules.yaml").read_text(encoding="utf-8")
    ok = call(app, "POST", "/v1/check?lang=en", data={"path": "rules.yaml", "tests": "true"},
              files={"file": ("rules.yaml", text.encode())}).json()
    assert ok["errors"] == 0 and ok["tests"]["passed"] and ok["tests"]["files"] == ["cases.yaml"]
    wrong = text.replace("income_per_capita < red_line", "income_per_capita > red_line")
    bad = call(app, "POST", "/v1/check?lang=en", data={"path": "rules.yaml", "tests": "true"},
               files={"file": ("rules.yaml", wrong.encode())}).json()
    assert bad["errors"] == 0 and not bad["tests"]["passed"] and "failed" in bad["tests"]["output"]
    plain = call(app, "POST", "/v1/check", data={"path": "rules.yaml"}, files={"file": ("rules.yaml", text.encode())}).json()
    assert "tests" not in plain
    assert checking.TEST_RUNS.acquire(blocking=False)
    try:
        problem(call(app, "POST", "/v1/check", data={"path": "rules.yaml", "tests": "true"},
                     files={"file": ("rules.yaml", text.encode())}), 503, "E866")
    finally:
        checking.TEST_RUNS.release()
