"""Background batch and diff runs over an uploaded dataset (``fupin batch`` / ``fupin diff``
as jobs of :mod:`fupin.web.jobs`).

A job's folder holds what was uploaded (``input.<ext>``, joined child files) and, when
the run succeeds, what it wrote: ``results.<fmt>`` (or ``changed.<fmt>`` for a diff),
``quarantine.csv``, ``summary.json`` and ``summary.html`` (``report.json`` and
``report.html`` for a diff) and the run record ``results.record.json``. Results are
written to ``.part`` files and renamed by the batch itself, so a failed job leaves no
file that looks complete. ``job.result`` holds the accounting counts and the summary's
JSON; ``job.files`` the downloads.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from ..dsl.errors import Bilingual, FupinError
from ..engine import batch as eb
from ..engine.api import Policy
from .jobs import Job, JobStore
from .problems import Problem, at

INPUTS = (".parquet", ".csv", ".jsonl", ".xlsx")
FORMATS = ("parquet", "csv", "xlsx")


def upload_name(filename: str | None, stem: str = "input") -> str:
    """The name an uploaded dataset is stored under: ``stem`` plus its (checked) extension;
    422 (E863) for a format batch cannot read. The client's name is never used as a path."""
    suffix = Path(str(filename or "")).suffix.lower()
    if suffix not in INPUTS:
        raise Problem(at("<request>", "E863", detail=Bilingual(
            f"上传的文件应为 {'、'.join(INPUTS)} 之一", f"an uploaded dataset must be one of {', '.join(INPUTS)}")), 422)
    return stem + suffix


async def save_upload(job: Job, upload, stem: str = "input", limit: int | None = None) -> Path:
    """Stream a starlette ``UploadFile`` into the job's folder (bounded by ``limit``
    bytes: 413 beyond, and the partial file is removed)."""
    path = job.folder / upload_name(upload.filename, stem)
    written = 0
    with open(path, "wb") as fh:
        while chunk := await upload.read(1 << 20):
            written += len(chunk)
            if limit is not None and written > limit:
                fh.close()
                path.unlink(missing_ok=True)
                raise Problem(at("<request>", "E862", detail=Bilingual(f"上限 {limit} 字节", f"the limit is {limit} bytes")), 413)
            fh.write(chunk)
    return path


def _files(job: Job, names: dict) -> None:
    for key, path in names.items():
        if Path(path).is_file():
            job.files[key] = Path(path)


def start_batch(store: JobStore, job: Job, policy: Policy, input_path: Path, *, on=None, variant=None,
                entity=None, only=None, joins: dict | None = None, encoding=None, fmt: str = "parquet",
                lang: str = "zh", exact: bool = True) -> Job:
    """Run ``fupin batch`` on ``input_path`` in the background (``job`` from
    :meth:`JobStore.create`, holding the upload). Argument errors (an unknown output,
    variant, date) are raised now, as a 422, before the job is queued."""
    if fmt not in FORMATS:
        raise Problem(at("<request>", "E863", detail=Bilingual(f"结果格式应为 {'、'.join(FORMATS)}",
                                                               f"the results format must be one of {', '.join(FORMATS)}")), 422)
    run = eb.Job(policy, entity, variant, on, list(only) if only else None, lang, True, exact=exact)
    output = job.folder / f"results.{fmt}"
    qpath = job.folder / "quarantine.csv"
    job.meta.update(kind="batch", on=run.day.isoformat(), variant=run.variant_name, entity=run.entity,
                    revision=policy.revision, format=fmt)

    def work(job: Job) -> None:
        source = eb.Source(str(input_path), run.layout, {k: str(v) for k, v in (joins or {}).items()}, 32_768,
                           encoding=encoding, kept=run.carried)
        job.total = source.total()
        try:
            report = eb.run_batch(run, source, str(output), fmt, str(qpath), job.progress)
        except eb.Stopped as exc:
            job.result = _counts(exc.report, lang)
            raise _stopped(exc.report) from None
        record = eb.write_record(run, source.input_files(), str(output), str(qpath), report)
        summary_json, summary_html = job.folder / "summary.json", job.folder / "summary.html"
        eb.write_summary(report.summary, run.program.checked, str(summary_json), "json", lang)
        eb.write_summary(report.summary, run.program.checked, str(summary_html), "html", lang)
        job.result = {**_counts(report, lang), "summary": _read_json(summary_json)}
        _files(job, {"results": output, "quarantine": qpath, "summary.json": summary_json,
                     "summary.html": summary_html, "record": record})

    store.start(job, work)
    return job


def start_diff(store: JobStore, job: Job, policy: Policy, input_path: Path, *, other: Policy | None = None,
               on=None, vs_on=None, variant=None, vs_variant=None, entity=None, only=None,
               joins: dict | None = None, encoding=None, fmt: str = "csv", lang: str = "zh",
               exact: bool = True) -> Job:
    """Run ``fupin diff`` on ``input_path`` in the background: the same dataset under two
    settings (``on``/``vs_on``, ``variant``/``vs_variant`` or ``other``: a second pack, such
    as the served one with an edited file, ``load_policy(root, texts)``). E852 now when
    the two settings are the same; E850/E851 when the packs' entities or facts differ."""
    from ..engine.batch import compare

    diff = compare.DiffJob(policy, other, entity, variant, vs_variant, on, vs_on, list(only) if only else None,
                           lang, exact=exact)
    output = job.folder / f"changed.{fmt}"
    qpath = job.folder / "quarantine.csv"
    job.meta.update(kind="diff", on=diff.a.day.isoformat(), vs_on=diff.b.day.isoformat(),
                    variant=diff.a.checked.variant, vs_variant=diff.b.checked.variant, a=diff.a.name, b=diff.b.name,
                    revision=policy.revision, vs_revision=(other or policy).revision, format=fmt)

    def work(job: Job) -> None:
        source = eb.Source(str(input_path), diff.layout, {k: str(v) for k, v in (joins or {}).items()}, 32_768,
                           encoding=encoding, kept=diff.first.carried)
        job.total = source.total()
        roots = (str(policy.source.root), str(other.source.root) if other is not None else None)
        try:
            report = compare.run(diff, source, str(output), fmt, str(qpath), job.progress, roots=roots)
        except eb.Stopped as exc:
            job.result = _counts(exc.report, lang)
            raise _stopped(exc.report) from None
        report_json, report_html = job.folder / "report.json", job.folder / "report.html"
        eb.write_diff(report.summary, diff, str(report_json), "json", str(output), lang)
        eb.write_diff(report.summary, diff, str(report_html), "html", str(output), lang)
        job.result = {**_counts(report, lang), "report": _read_json(report_json),
                      "warnings": [w.to_json(lang) for w in report.warnings]}
        _files(job, {"changed": output, "quarantine": qpath, "report.json": report_json, "report.html": report_html})

    store.start(job, work)
    return job


def _counts(report, lang: str) -> dict:
    """The accounting of a run: rows in, out, quarantined (and the lines fupin prints,
    with the note I933 when settling unknowns by cases took most of the run)."""
    lines = eb.report_lines(report, lang)
    note = eb.settling_note(report)
    if note is not None:
        lines.append(f"info[{note.code}]: {note.message(lang)} — {note.hint(lang)}")
    return {"rows_in": report.rows_in, "rows_out": report.rows_out, "rows_quarantined": report.rows_quarantined,
            "seconds": round(report.seconds, 3), "lines": lines}


def _stopped(report) -> FupinError:
    return FupinError([report.stopped])


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def safe_download(name: str) -> str:
    """A download name as sent in Content-Disposition (letters, digits, dot, dash)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:100]
