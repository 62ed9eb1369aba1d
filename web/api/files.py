"""``POST /v1/check``, ``/v1/batch``, ``/v1/diff``; ``GET /v1/jobs``, ``/v1/jobs/{id}`` and
``/v1/jobs/{id}/files/{name}``.

Uploads are multipart forms. A rule file to check names the pack file it replaces or
adds (``path``; the checker refuses anything outside the pack, E863). A dataset to run
is stored in a new job's folder under a name the service makes (``input.csv``; the
client's file name only gives the format), its child tables (``joins``: ``members.csv``
gives the ``members`` list) likewise; the job runs in the background (web/runs.py) and
the answer is 202 with the job and its ``Location``. A job's files are downloaded by
the names the job lists (``results``, ``quarantine``, ``summary.json`` …), never by a path.
"""
from __future__ import annotations

import time
from pathlib import Path

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response

from ...dsl.errors import Bilingual, FupinError
from .. import runs
from ..checking import check_file
from ..config import ServeConfig
from ..jobs import Job, JobStore
from ..problems import Problem, at
from ..state import Loaded
from . import context
from .evaluate import problem

router = APIRouter(prefix="/v1", tags=["files"])
MEDIA = {".parquet": "application/vnd.apache.parquet", ".csv": "text/csv; charset=utf-8",
         ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         ".json": "application/json", ".html": "text/html; charset=utf-8"}


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Problem(at("body/file", "E871", detail=Bilingual(f"第 {exc.start} 字节不是 UTF-8",
                                                               f"byte {exc.start} is not UTF-8")), 400) from None


@router.post("/check", summary="检查一个规则文件（新的或改过的）/ Check a rule file, new or changed")
async def check(request: Request, file: UploadFile = File(..., description="规则文件（YAML）/ the rule file"),
                path: str | None = Form(None, description="它在包中的路径（默认：文件名）/ its path in the pack (default: its name)",
                                        max_length=1000),
                tests: bool = Form(False, description="无错误时再运行提到该文件规则的用例 / when it checks clean, "
                                   "also run the pack's cases that name its rules"),
                loaded: Loaded = Depends(context.snapshot), served=Depends(context.served),
                lang: str = Depends(context.lang), run=Depends(context.runner)):
    """The checker's diagnostics on the served pack with this file in place of the one at
    ``path`` (or added there): every error the edit causes, in this file or elsewhere.
    ``tests``: when there is no error, the pack's cases that name a rule of the file run
    against the edited pack in a child process (one at a time, 503 E866 meanwhile; at
    most 120 s), and ``tests`` in the answer says how they went."""
    try:
        text = _text(await file.read())
        relpath = path or Path(file.filename or "").name
        report = await run.run(lambda: check_file(served.root, relpath, text))
        ran = None
        if tests and report.errors == 0:
            import anyio

            from ..checking import run_file_tests

            ran = await anyio.to_thread.run_sync(lambda: run_file_tests(served.root, relpath, text, lang))
    except (Problem, FupinError) as exc:
        return problem(exc, lang, request)
    return JSONResponse({**report.to_json(lang), "revision": loaded.policy.revision,
                         **({"tests": ran.to_json()} if ran is not None else {})})


def _only(text: str | None) -> list[str] | None:
    names = [n.strip() for n in (text or "").split(",") if n.strip()]
    return names or None


async def _uploads(job: Job, loaded: Loaded, config: ServeConfig, file: UploadFile, joins: list[UploadFile],
                   entity: str | None, variant: str | None) -> tuple[Path, dict]:
    """The dataset and its child tables saved in the job's folder; E863 for a child table
    whose name is no list field of the entity."""
    limit = config.limits.upload_bytes
    dataset = await runs.save_upload(job, file, "input", limit)
    policy = loaded.policy
    ent = policy.program(variant).checked.entities[policy.entity(entity, variant)]
    lists = [name for name, f in ent.fields.items() if f.child]
    saved = {}
    for upload in joins:
        field = Path(upload.filename or "").stem
        if field not in lists:
            raise Problem(at("body/joins", "E863", detail=Bilingual(
                f"子表 `{field[:80]}` 应以列表字段命名（{'、'.join(lists)}）",
                f"a child table `{field[:80]}` must be named after a list field ({', '.join(lists)})")), 422)
        saved[field] = await runs.save_upload(job, upload, f"join-{field}", limit)
    return dataset, saved


def _accepted(job: Job, lang: str) -> JSONResponse:
    return JSONResponse(job.to_json(lang), status_code=202, headers={"Location": f"/v1/jobs/{job.id}"})


ON = Form(None, description="评估日期 / as-of date", max_length=40)
VARIANT = Form(None, description="变体 / variant", max_length=200)
ENTITY = Form(None, description="实体 / entity", max_length=200)
ONLY = Form(None, description="只计算这些输出（逗号分隔）/ outputs, comma-separated", max_length=10000)
ENCODING = Form(None, description="CSV 编码（默认自动识别）/ CSV encoding (default: guessed)", max_length=40)
JOINS = File([], description="子表，按列表字段命名（members.csv）/ child tables named after their list field")


@router.post("/batch", status_code=202, summary="批量评估一个数据集（后台任务）/ Batch-evaluate a dataset (a job)")
async def batch(request: Request, file: UploadFile = File(..., description="数据集：.parquet .csv .jsonl .xlsx"),
                joins: list[UploadFile] = JOINS, on: str | None = ON, variant: str | None = VARIANT,
                entity: str | None = ENTITY, only: str | None = ONLY, encoding: str | None = ENCODING,
                format: str = Form("parquet", description="结果格式 / results format: parquet, csv, xlsx", max_length=20),
                loaded: Loaded = Depends(context.snapshot), config: ServeConfig = Depends(context.config),
                store: JobStore = Depends(context.jobs), lang: str = Depends(context.lang)):
    """Starts ``fupin batch`` on the upload: 202 with the job; poll ``GET /v1/jobs/{id}``,
    then download ``results``, ``quarantine``, ``summary.json``, ``summary.html``, ``record``."""
    job = None
    try:
        loaded.policy.as_of(on, variant)  # a bad call is refused before anything is stored
        job = store.create("batch")
        dataset, joined = await _uploads(job, loaded, config, file, joins, entity, variant)
        runs.start_batch(store, job, loaded.policy, dataset, on=on, variant=variant, entity=entity, only=_only(only),
                         joins=joined, encoding=encoding, fmt=format, lang=lang)
    except (Problem, FupinError) as exc:
        _forget(store, job)
        return problem(exc, lang, request)
    return _accepted(job, lang)


@router.post("/diff", status_code=202, summary="对比两种设置下的结果（后台任务）/ Diff a dataset under two settings (a job)")
async def diff(request: Request, file: UploadFile = File(..., description="数据集：.parquet .csv .jsonl .xlsx"),
               joins: list[UploadFile] = JOINS, on: str | None = ON, variant: str | None = VARIANT,
               vs_on: str | None = Form(None, description="第二个日期 / the second date", max_length=40),
               vs_variant: str | None = Form(None, description="第二个变体 / the second variant", max_length=200),
               entity: str | None = ENTITY, only: str | None = ONLY, encoding: str | None = ENCODING,
               format: str = Form("csv", description="结果格式 / format of the changed rows: parquet, csv, xlsx",
                                  max_length=20),
               edited: UploadFile | None = File(None, description="第二个设置：改过的规则文件（YAML），或改过的文件的 zip（整包或部分）"
                                                "/ the second setting: an edited rule file of the pack, or a zip of "
                                                "edited files (the whole pack or some)"),
               edited_path: str | None = Form(None, description="改过的文件在包中的路径（默认：文件名）/ its path in "
                                              "the pack (default: its name)", max_length=1000),
               loaded: Loaded = Depends(context.snapshot), config: ServeConfig = Depends(context.config),
               served=Depends(context.served), store: JobStore = Depends(context.jobs),
               lang: str = Depends(context.lang)):
    """Starts ``fupin diff`` on the upload: two dates, two variants, or the served pack
    against itself with one rule file, or a zip of them, replaced by ``edited`` (a pack version not yet saved;
    its errors are a 422 before anything runs): 202 with the job; then download
    ``changed``, ``quarantine``, ``report.json``, ``report.html``."""
    job = None
    try:
        loaded.policy.as_of(on, variant)
        other = await _edited_pack(served.root, edited, edited_path) if edited is not None else None
        job = store.create("diff")
        dataset, joined = await _uploads(job, loaded, config, file, joins, entity, variant)
        runs.start_diff(store, job, loaded.policy, dataset, other=other, on=on, vs_on=vs_on, variant=variant,
                        vs_variant=vs_variant, entity=entity, only=_only(only), joins=joined, encoding=encoding,
                        fmt=format, lang=lang)
    except (Problem, FupinError) as exc:
        _forget(store, job)
        return problem(exc, lang, request)
    return _accepted(job, lang)


async def _edited_pack(root: Path, upload: UploadFile, relpath: str | None):
    """The served pack with the uploaded edit: one rule file (at ``edited_path``, default
    its name) or a zip of edited files (web/editedpack.py), loaded and checked
    (FupinError with the checker's diagnostics when it has errors)."""
    import anyio

    from ...engine.api import load_policy
    from ..editedpack import edited_texts

    texts = edited_texts(root, upload.filename or "", await upload.read(), relpath)
    return await anyio.to_thread.run_sync(lambda: load_policy(root, texts))


def _forget(store: JobStore, job: Job | None) -> None:
    """A job refused before it was started ends failed at once (its files are removed by
    the store's expiry like any finished job's)."""
    if job is not None and job.status == "queued":
        job.status, job.finished = "failed", time.time()
        job.save()


@router.get("/jobs", summary="任务列表 / Jobs")
def jobs(store: JobStore = Depends(context.jobs), lang: str = Depends(context.lang)):
    """The jobs this process knows, newest first."""
    return JSONResponse([j.to_json(lang) for j in store.all()])


@router.get("/jobs/{ident}", summary="任务状态与进度 / A job's status and progress")
def job(request: Request, ident: str, store: JobStore = Depends(context.jobs), lang: str = Depends(context.lang)):
    """Status (queued, running, succeeded, failed), rows done of the total, the result's
    counts and summary, the files to download, and the diagnostics of a failed job."""
    try:
        return JSONResponse(store.get(ident).to_json(lang))
    except Problem as exc:
        return problem(exc, lang, request)


@router.get("/jobs/{ident}/files/{name}", summary="下载任务文件 / Download a job's file",
            responses={200: {"description": "the file", "content": {"application/octet-stream": {}}}})
def job_file(request: Request, ident: str, name: str, store: JobStore = Depends(context.jobs),
             lang: str = Depends(context.lang)) -> Response:
    """One of the files the job lists (``results``, ``quarantine``, …); 409 (E874) before
    the job has succeeded, 404 for a name it does not list."""
    try:
        found = store.get(ident)
        if found.status != "succeeded":
            raise Problem(at("<request>", "E874", name=ident, status=found.status), 409)
        path = found.files.get(name)
        if path is None or not path.is_file():
            raise Problem(at("<request>", "E867", kind=Bilingual("文件", "file"), name=name[:100]), 404)
    except Problem as exc:
        return problem(exc, lang, request)
    filename = runs.safe_download(f"{found.kind}-{found.id}-{path.name}")
    return FileResponse(path, media_type=MEDIA.get(path.suffix, "application/octet-stream"), filename=filename)
