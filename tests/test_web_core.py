"""The service's core (web/): the bind rule, the token, the guard, reloads, checking an
edited rule file, background batch and diff jobs. The routes have their own tests."""
from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import httpx
import pytest

from fupin.dsl.errors import FupinError
from fupin.dsl.loader import load_source
from fupin.engine.api import load_policy
from fupin.web import runs
from fupin.web.app import create_app
from fupin.web.checking import check_file, pack_path, run_file_tests, save_file
from fupin.web.config import Limits, ServeConfig, check_bind, is_local, read_token
from fupin.web.jobs import JobStore
from fupin.web.problems import Problem
from fupin.web.security import token_ok

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "fixtures" / "mini"
TOKEN = "t0ken-of-twenty-chars"


@pytest.mark.parametrize("host, local", [
    ("127.0.0.1", True), ("localhost", True), ("::1", True), ("[::1]", True), ("127.1.2.3", True),
    ("0.0.0.0", False), ("192.168.1.10", False), ("::", False), ("fupin.example", False), ("", False)])
def test_only_loopback_goes_without_a_token(host, local):
    assert is_local(host) is local
    config = ServeConfig(policy=str(MINI), host=host)
    if local:
        check_bind(config)
    else:
        with pytest.raises(FupinError) as exc:
            check_bind(config)
        assert exc.value.code == "E860"
        assert exc.value.render("en").startswith(f"<arguments>:0:0: error[E860]: refusing to serve on {host} without a token")
    check_bind(ServeConfig(policy=str(MINI), host=host, token=TOKEN))


@pytest.mark.parametrize("text, ok", [(TOKEN, True), (f"  {TOKEN}\n", True), ("short", False), ("", False),
                                      ("has a space inside it!!", False)])
def test_token_file(tmp_path, text, ok):
    path = tmp_path / "token"
    path.write_text(text, encoding="utf-8")
    if ok:
        assert read_token(str(path)) == TOKEN
    else:
        with pytest.raises(FupinError) as exc:
            read_token(str(path))
        assert "E861" in exc.value.render("en")


def test_token_comparison():
    assert token_ok(None, None) and token_ok(TOKEN, TOKEN)
    assert not token_ok(TOKEN, None) and not token_ok(TOKEN, TOKEN[:-1]) and not token_ok(TOKEN, "é" * 21)


def _client(config: ServeConfig) -> httpx.AsyncClient:
    app = create_app(config)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def _get(config, path, **kw):
    async def go():
        async with _client(config) as client:
            return await client.request(kw.pop("method", "GET"), path, **kw)
    return asyncio.run(go())


@pytest.mark.parametrize("headers, status", [
    ({}, 401), ({"Authorization": "Bearer wrong-token-of-20-chars"}, 401), ({"Authorization": f"Bearer {TOKEN}"}, 404),
    ({"Cookie": f"fupin_token={TOKEN}"}, 404), ({"Cookie": "fupin_token=x; other=1"}, 401), ({"Cookie": "=;;=\x7f"}, 401)])
def test_every_path_needs_the_token(headers, status):
    r = _get(ServeConfig(policy=str(MINI), token=TOKEN), "/no-such-page?lang=en", headers=headers)
    assert r.status_code == status
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == ("E864" if status == 401 else "E867")


def test_healthz_is_open_and_names_the_revision():
    r = _get(ServeConfig(policy=str(MINI), token=TOKEN), "/healthz")
    assert r.status_code == 200 and r.json()["revision"] == load_policy(MINI).revision


def test_bodies_beyond_the_limit_are_413():
    config = ServeConfig(policy=str(MINI), limits=Limits(body_bytes=100))
    r = _get(config, "/healthz", method="POST", content=b"x" * 101, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == "E862"
    assert r.json()["detail"] == "请求体太大（上限 100 字节）"


def test_problem_details_in_the_asked_language():
    r = _get(ServeConfig(policy=str(MINI)), "/nowhere", headers={"Accept-Language": "en-GB,zh;q=0.5"})
    body = r.json()
    assert body == {"type": "urn:fupin:error:E867", "title": "not-found", "status": 404,
                    "detail": "path `/nowhere` does not exist", "instance": "/nowhere", "code": "E867", "lang": "en",
                    "diagnostics": [{"code": "E867", "severity": "error", "file": "<request>", "line": 0, "col": 0,
                                     "message": "path `/nowhere` does not exist", "hint": None}]}


def test_access_log_has_paths_only(caplog):
    caplog.set_level("INFO", logger="fupin.access")
    _get(ServeConfig(policy=str(MINI)), "/healthz?name=张三&id_card=110101")
    line = caplog.records[-1].getMessage()
    assert '"GET /healthz" 200' in line and "张三" not in line and "110101" not in line


# --- reload


def test_a_reload_with_errors_keeps_the_previous_pack(tmp_path):
    from fupin.web.state import Served

    pack = tmp_path / "pack"
    shutil.copytree(MINI, pack)
    served = Served(pack)
    before = served.current.policy.revision
    rules = pack / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    rules.write_text(text.replace("income_per_capita < red_line", "income_per_capita <"), encoding="utf-8")
    assert served.reload() is False
    assert served.current.policy.revision == before
    assert served.failure is not None and served.failure.diagnostics[0].code.startswith("E2")
    assert served.reload() is False  # the same mistake is not reloaded again
    rules.write_text(text + "\n# edited\n", encoding="utf-8")
    assert served.reload() is True and served.failure is None
    assert served.current.policy.revision != before


# --- checking an edited rule file


def test_check_an_edited_file_locates_the_mistake_in_it():
    text = (MINI / "rules.yaml").read_text(encoding="utf-8")
    assert check_file(MINI, "rules.yaml", text).errors == 0
    lines = text.splitlines()
    row = next(i for i, line in enumerate(lines) if "income_per_capita < red_line" in line)
    lines[row] = lines[row].replace("red_line", "red_lien")
    got = check_file(MINI, "rules.yaml", "\n".join(lines)).to_json("en")
    first = next(d for d in got["diagnostics"] if d["severity"] == "error")
    assert (got["file"], first["file"], first["line"], first["code"]) == ("rules.yaml", "rules.yaml", row + 1, "E301")
    assert "red_line" in first["hint"]


def test_check_a_new_file_beside_the_pack():
    got = check_file(MINI, "more/extra.yaml", "entity: household\nrules:\n  x: {type: integer, expr: 1 +}\n")
    assert [(d.span.file, d.code[:2]) for d in got.diagnostics if d.severity == "error"] == [("more/extra.yaml", "E2")]


@pytest.mark.parametrize("path", ["../rules.yaml", "/etc/passwd", "tests/cases.yaml", "doc001.txt", "", "a\x00.yaml",
                                  "..\\..\\x.yaml"])
def test_only_rule_files_of_the_pack(path):
    with pytest.raises(Problem) as exc:
        pack_path(MINI, path, must_exist=False)
    assert exc.value.status == 422 and exc.value.diagnostics[0].code == "E863"


def test_a_missing_file_is_404():
    with pytest.raises(Problem) as exc:
        pack_path(MINI, "nothing.yaml")
    assert exc.value.status == 404


def test_edited_texts_and_revision_are_those_of_the_text(tmp_path):
    text = (MINI / "rules.yaml").read_text(encoding="utf-8")
    same = load_policy(MINI, {str(MINI / "rules.yaml"): text})
    assert same.revision == load_policy(MINI).revision
    edited = load_policy(MINI, {str(MINI / "rules.yaml"): text + "\n# edited\n"})
    assert edited.revision != same.revision
    assert sorted(load_source(MINI, {str(MINI / "x.yaml"): "rules: {}\n"}).files)[-1].endswith("x.yaml")


def test_run_the_cases_of_an_edited_file():
    text = (MINI / "rules.yaml").read_text(encoding="utf-8")
    ok = run_file_tests(MINI, "rules.yaml", text, "en")
    assert ok.files == ["cases.yaml"] and ok.returncode == 0, ok.output
    broken = run_file_tests(MINI, "rules.yaml", text.replace("income_per_capita < red_line", "income_per_capita > red_line"), "en")
    assert broken.returncode == 1 and "failed" in broken.output


def test_save_is_atomic_and_stays_in_the_pack(tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(MINI, pack)
    save_file(pack, "rules.yaml", "entity: household\nrules: {}\n")
    assert (pack / "rules.yaml").read_text(encoding="utf-8").startswith("entity: household")
    assert not list(pack.glob(".*.part"))
    with pytest.raises(Problem):
        save_file(pack, "../outside.yaml", "x")


# --- background jobs


def _wait(job, seconds=60):
    end = time.time() + seconds
    while job.status in ("queued", "running") and time.time() < end:
        time.sleep(0.05)
    return job


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    from conftest import generated_parquet

    return generated_parquet(tmp_path_factory.mktemp("data"), 300, 4)


def _batch_job(tmp_path, dataset):
    """A finished batch job of the pack over ``dataset`` (English lines)."""
    policy = load_policy(ROOT / "policy")
    store = JobStore(Limits(), str(tmp_path))
    job = store.create("batch")
    shutil.copy(dataset, job.folder / "input.parquet")
    runs.start_batch(store, job, policy, job.folder / "input.parquet", lang="en")
    _wait(job)
    assert job.status == "succeeded", [d.render("en") for d in job.diagnostics]
    return job


def test_a_batch_job_accounts_for_every_row(tmp_path, dataset):
    job = _batch_job(tmp_path, dataset)
    r = job.result
    assert r["rows_in"] == 300 == r["rows_out"] + r["rows_quarantined"] and r["rows_quarantined"] > 0
    assert sorted(job.files) == ["quarantine", "record", "results", "summary.html", "summary.json"]
    assert r["summary"]["rows"] == r["rows_out"] if "rows" in r["summary"] else True
    assert job.rows == 300 and job.total == 300


def test_a_batch_job_says_what_settling_by_cases_cost(tmp_path, dataset, monkeypatch):
    """The job's lines (the workbench's job page, the API's result) carry I933 as the
    command prints it, when settling took most of the run (here: always)."""
    from fupin.engine.batch import pipeline

    monkeypatch.setattr(pipeline, "SETTLING_NOTED", (0.0, 0.0))
    note = _batch_job(tmp_path, dataset).result["lines"][-1]
    assert note.startswith("info[I933]: settling unknown outputs by cases took ") and \
        note.endswith("— where facts are often missing this step dominates; --three-valued skips it (those "
                      f"{note.split('decided ')[1].split(' of')[0]} outputs then stay unknown, and no possible values "
                      "are listed)"), note


def test_a_failed_job_leaves_no_results(tmp_path):
    policy = load_policy(ROOT / "policy")
    store = JobStore(Limits(), str(tmp_path))
    job = store.create("batch")
    (job.folder / "input.csv").write_bytes(b"\xff\xfe not a table \x00\x00")
    runs.start_batch(store, job, policy, job.folder / "input.csv", lang="en")
    _wait(job)
    assert job.status == "failed" and job.diagnostics and not job.files
    assert not list(job.folder.glob("results*"))


def test_diff_job_and_the_job_bound(tmp_path, dataset):
    policy = load_policy(ROOT / "policy")
    store = JobStore(Limits(jobs=1), str(tmp_path))
    job = store.create("diff")
    shutil.copy(dataset, job.folder / "input.parquet")
    runs.start_diff(store, job, policy, job.folder / "input.parquet", vs_on="2021-06-30", lang="en")
    if job.status in ("queued", "running"):
        with pytest.raises(Problem) as exc:
            store.create("batch")
        assert exc.value.status == 503 and exc.value.diagnostics[0].code == "E866"
    _wait(job)
    assert job.status == "succeeded", [d.render("en") for d in job.diagnostics]
    assert sorted(job.files) == ["changed", "quarantine", "report.html", "report.json"]
    assert job.meta["on"] == "2020-06-30" and job.meta["vs_on"] == "2021-06-30"


def test_same_settings_are_refused_before_the_job_runs(tmp_path, dataset):
    policy = load_policy(ROOT / "policy")
    store = JobStore(Limits(), str(tmp_path))
    job = store.create("diff")
    with pytest.raises(FupinError) as exc:
        runs.start_diff(store, job, policy, dataset, lang="en")
    assert exc.value.code == "E852"


@pytest.mark.parametrize("name, ok", [("a.csv", True), ("村.XLSX", True), ("x.parquet", True), ("x.exe", False),
                                      ("../../x.csv", True), (None, False), ("noext", False)])
def test_upload_names_never_come_from_the_client(name, ok):
    if ok:
        assert runs.upload_name(name) in {"input.csv", "input.xlsx", "input.parquet"}
    else:
        with pytest.raises(Problem):
            runs.upload_name(name)


def test_another_worker_answers_for_a_job_from_the_shared_folder(tmp_path, dataset):
    policy = load_policy(ROOT / "policy")
    mine, other = JobStore(Limits(), str(tmp_path)), JobStore(Limits(), str(tmp_path))
    job = mine.create("batch")
    shutil.copy(dataset, job.folder / "input.parquet")
    runs.start_batch(mine, job, policy, job.folder / "input.parquet", lang="en")
    _wait(job)
    seen = other.get(job.id)
    assert (seen.status, seen.rows, sorted(seen.files), seen.result) == (job.status, job.rows, sorted(job.files), job.result)
    assert seen.files["results"].is_file()
    with pytest.raises(Problem):
        other.get("../" + job.id)
