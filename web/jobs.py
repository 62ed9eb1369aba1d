"""Background jobs (a dataset's batch run, a diff): bounded, with progress and files.

A job runs in one worker thread at a time (the evaluation holds the GIL; two at once
would only share one core). Its uploads and outputs live in its own folder under the
service's work folder; a finished job keeps its files for ``Limits.job_hours`` or until
``Limits.jobs_kept`` newer ones have finished, then the folder is removed. A job that
fails keeps its diagnostics and no output file (the batch writes ``.part`` files and
renames them only on success).
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..dsl.errors import Diagnostic, FupinError
from .config import Limits
from .problems import Problem, at

log = logging.getLogger("fupin.serve")


@dataclass
class Job:
    """One background job. ``files`` maps a download name to its path in ``folder``."""

    id: str
    kind: str
    folder: Path
    status: str = "queued"            # queued → running → succeeded | failed
    rows: int = 0                     # rows processed so far
    total: int | None = None          # rows in the input, when known before the end
    created: float = field(default_factory=time.time)
    finished: float | None = None
    files: dict[str, Path] = field(default_factory=dict)
    result: dict = field(default_factory=dict)       # what the job reports (counts, summary)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    meta: dict = field(default_factory=dict)         # what the job was asked (kind-specific)
    saved: float = field(default=0.0, compare=False)  # when job.json was last written

    def progress(self, done: int) -> None:
        """The callback a batch run calls with the rows done so far."""
        self.rows = done
        if time.time() - self.saved > 0.5:
            self.save()

    def save(self) -> None:
        """Write the job's state to ``job.json`` in its folder (atomically), so that the
        other workers of ``fupin serve --workers N`` sharing the work folder can answer
        for it."""
        self.saved = time.time()
        temp = self.folder / f".job.json.{os.getpid()}.part"
        try:
            temp.write_text(json.dumps(self.state(), ensure_ascii=False, default=str), encoding="utf-8")
            os.replace(temp, self.folder / "job.json")
        except OSError:  # the folder was expired under a late progress call
            temp.unlink(missing_ok=True)

    def state(self) -> dict:
        """Everything about the job, as JSON data (diagnostics in both languages' data)."""
        return {"id": self.id, "kind": self.kind, "status": self.status, "rows": self.rows, "total": self.total,
                "created": self.created, "finished": self.finished,
                "files": {k: v.name for k, v in self.files.items()}, "result": self.result,
                "meta": self.meta,
                "diagnostics": [{"code": d.code, "file": d.span.file, "line": d.span.line, "col": d.span.col,
                                 "args": d.args} for d in self.diagnostics]}

    @classmethod
    def load(cls, folder: Path) -> "Job":
        """A job another worker runs or ran, from its ``job.json``."""
        from ..dsl.errors import Diagnostic, Span

        data = json.loads((folder / "job.json").read_text(encoding="utf-8"))
        diags = [Diagnostic(d["code"], Span(d["file"], d["line"], d["col"]), d["args"]) for d in data["diagnostics"]]
        return cls(data["id"], data["kind"], folder, data["status"], data["rows"], data["total"], data["created"],
                   data["finished"], {k: folder / v for k, v in data["files"].items()}, data["result"], diags,
                   data["meta"])

    def to_json(self, lang: str = "zh") -> dict:
        """The job as the API answers it: its state, file names listed, diagnostics rendered."""
        return {**self.state(), "files": sorted(self.files), "diagnostics": [d.to_json(lang) for d in self.diagnostics]}


class JobStore:
    """Jobs by id; :meth:`create` a folder, then :meth:`start` the work in the worker."""

    def __init__(self, limits: Limits, work_dir: str | None = None):
        self.limits = limits
        self.root = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix="fupin-serve-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fupin-job")

    def create(self, kind: str, meta: dict | None = None) -> Job:
        """A new queued job with an empty folder; 503 (E866) when ``Limits.jobs`` are
        already queued or running."""
        self._expire()
        with self._lock:
            active = sum(j.status in ("queued", "running") for j in self._jobs.values())
            if active >= self.limits.jobs:
                raise Problem(at("<request>", "E866", limit=self.limits.jobs), 503, headers={"Retry-After": "30"})
            ident = secrets.token_hex(8)
            folder = self.root / ident
            folder.mkdir()
            job = self._jobs[ident] = Job(ident, kind, folder, meta=dict(meta or {}))
        job.save()
        return job

    def start(self, job: Job, work) -> None:
        """Run ``work(job)`` in the worker; it fills ``job.files`` and ``job.result``.
        A FupinError ends the job ``failed`` with its diagnostics; anything else is
        logged and ends it ``failed`` with E869."""
        def run():
            job.status = "running"
            job.save()
            try:
                work(job)
                job.status = "succeeded"
            except FupinError as exc:
                job.diagnostics, job.status = exc.diagnostics, "failed"
            except Problem as exc:
                job.diagnostics, job.status = exc.diagnostics, "failed"
            except Exception:
                incident = secrets.token_hex(6)
                log.exception("incident %s in job %s", incident, job.id)
                job.diagnostics, job.status = [at("<job>", "E869", incident=incident)], "failed"
            finally:
                job.finished = time.time()
                job.save()
        self._pool.submit(run)

    def get(self, ident: str) -> Job:
        """The job (this worker's, or another's from its ``job.json`` in the shared work
        folder), or 404 (E867)."""
        job = self._jobs.get(ident)
        if job is None and ident.isalnum() and (self.root / ident / "job.json").is_file():
            try:
                return Job.load(self.root / ident)
            except (OSError, ValueError, KeyError):
                pass
        if job is None:
            from ..dsl.errors import Bilingual
            raise Problem(at("<request>", "E867", kind=Bilingual("任务", "job"), name=ident), 404)
        return job

    def all(self) -> list[Job]:
        return sorted(self._jobs.values(), key=lambda j: j.created, reverse=True)

    def _expire(self) -> None:
        """Remove finished jobs past their hours, and the oldest beyond ``jobs_kept``."""
        now = time.time()
        with self._lock:
            finished = sorted((j for j in self._jobs.values() if j.finished is not None),
                              key=lambda j: j.finished, reverse=True)
            for i, job in enumerate(finished):
                if i >= self.limits.jobs_kept or now - job.finished > self.limits.job_hours * 3600:
                    shutil.rmtree(job.folder, ignore_errors=True)
                    del self._jobs[job.id]

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
