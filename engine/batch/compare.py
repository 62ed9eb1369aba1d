"""``fupin diff``: one dataset evaluated under two settings, read and validated once.

:class:`DiffJob` has the interface of the batch :class:`~.pipeline.Job` (``use_columns``,
``process``, ``schema``, ``validator``, ``clock``), so the batch runners drive it
unchanged: :func:`~.pipeline.run_batch` locally (the same readers, read-ahead,
write-behind, quarantine and accounting line) and :func:`~.distributed.run_file` on
Dask, where each worker rebuilds it from a :class:`DiffSpec`. Its ``process`` validates a
chunk with the first setting's validator, evaluates the frame with both settings'
``ColumnarProgram`` and compares the results (diff.py). The outcome's "results" are the
changed rows; its "summary" is the chunk's :class:`~.diff.Diff`.

Before anything is read, the two settings are checked: two packs must declare the same
entities and facts (E850, E851, changes.py), the settings must differ (E852), and an
output of one side only is left out with W930.
"""
from __future__ import annotations

import datetime as dt
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ...dsl.errors import Bilingual, FupinError, Span, error
from ..columnar.program import ColumnarProgram
from .changes import Setting, causes, check_compatible
from .diff import Diff, DiffFigures, changed_schema, compare_frame
from . import groups as gr
from .pipeline import Job, Outcome


TRACED = 10  # changed rows per chunk traced for ``decided``: each costs ~5 ms (a traced scalar evaluation per output and side)


class DiffJob:
    """What is fixed for one comparison; :meth:`process` does one chunk."""

    def __init__(self, policy, other=None, entity=None, variant=None, vs_variant=None, on=None, vs_on=None,
                 outputs=None, lang: str = "zh", exact: bool = True, levels=None, traced: int = TRACED):
        """``other``: the second pack (default: the same); ``levels``: key columns to group
        by (default: the pack's declared ``reports.levels``); ``traced``: changed rows per
        chunk whose deciding row or exception is found by tracing (``decided`` column)."""
        other = other or policy
        self.revisions = (getattr(policy, "revision", None), getattr(other, "revision", None))
        self.first = Job(policy, entity, variant, on, None, lang, False, exact)
        entity = self.first.entity
        self.second_program = other.program(vs_variant)
        day_b = other.as_of(vs_on if vs_on is not None else on, vs_variant)  # default: the same date
        self.a = Setting(self.first.program.checked, self.first.day, _name(policy, variant, self.first.day))
        self.b = Setting(self.second_program.checked, day_b, _name(other, vs_variant, day_b))
        _differ(policy, other, variant, vs_variant, self.a, self.b)
        self.warnings = check_compatible(self.a, self.b) if other is not policy else []
        other.entity(entity, vs_variant)
        self.outputs = self._outputs(policy, other, entity, variant, vs_variant, outputs)
        self.first.outputs = self.outputs
        self.second = ColumnarProgram(self.second_program)
        self.causes = causes(self.a, self.b, self.outputs)
        self.entity, self.lang, self.exact, self.traced = entity, lang, exact, traced
        self.want_levels = levels
        self.levels: tuple = ()
        self.layout, self.validator = self.first.layout, self.first.validator
        self.timings = self.first.timings
        self.want_summary = False
        self.schema = changed_schema(self.layout.key, (), self.outputs)

    def _outputs(self, policy, other, entity, variant, vs_variant, outputs) -> list:
        """The outputs compared: those asked for (E811 if either side lacks one), else
        those both sides have, in the first's order (W930 for each of one side only)."""
        if outputs:
            policy.check_outputs(outputs, entity, variant)
            other.check_outputs(outputs, entity, vs_variant)
            return list(outputs)
        mine, theirs = self.first.program.outputs(entity), self.second_program.outputs(entity)
        for name, side in [(n, self.a.name) for n in mine if n not in theirs] + \
                          [(n, self.b.name) for n in theirs if n not in mine]:
            self.warnings.append(error("W930", Span("<arguments>", 0, 0), name=name, side=side))
        return [n for n in mine if n in theirs]

    def use_columns(self, names) -> None:
        """Carry the declared key columns the input has; group by the levels among them."""
        self.first.use_columns(names)
        carry = self.first.carry
        report = self.a.checked.entities[self.entity].report
        wanted = self.want_levels if self.want_levels is not None else (report.levels if report is not None else ())
        self.levels = tuple(k for k in wanted if k in carry)
        self.schema = changed_schema(self.layout.key, carry, self.outputs)

    @contextmanager
    def clock(self, stage: str):
        """Time a stage (shared with the first setting's job)."""
        with self.first.clock(stage):
            yield

    def process(self, chunk) -> Outcome:
        """Validate once, evaluate under both settings, compare."""
        job = self.first
        frame, good, entries, quarantined, _ = job.validated(chunk)
        if frame.n == 0:
            return Outcome(self.schema.empty_table(), entries, chunk.level.n + len(chunk.broken), 0, quarantined,
                           Diff(self.entity))
        with self.clock("evaluate"):
            # the facts of unknowns are tracked only where settling by cases needs them:
            # a diff writes no unknown column
            why = "auto" if self.exact else False
            ra = job.columnar.evaluate(frame, self.a.day, self.outputs, why=why, exact=self.exact)
            rb = self.second.evaluate(frame, self.b.day, self.outputs, why=why, exact=self.exact)
        with self.clock("compare"):
            keys = job.level_keys(chunk, good)
            index_of = {k: gr.encode(keys[k]) for k in self.levels}
            carried = [keys[k] for k in job.carry]
            diff, table = compare_frame(ra, rb, self.outputs, self.causes, index_of, job.row_ids(chunk, good, frame),
                                        carried, self.schema, self.traced)
        return Outcome(table, entries, chunk.level.n + len(chunk.broken), len(good), quarantined, diff)

    def empty(self) -> Diff:
        """The figures of a comparison that evaluated no row."""
        return Diff(self.entity, DiffFigures())


def _name(policy, variant, day: dt.date) -> str:
    """How a setting is called: the pack's folder, the variant, the date."""
    return f"{Path(str(policy.source.root)).name or policy.source.root}/{variant or 'base'}@{day.isoformat()}"


def _differ(policy, other, variant, vs_variant, a: Setting, b: Setting) -> None:
    """E852 when both settings are the same pack, variant and date."""
    if other is policy and (variant or "base") == (vs_variant or "base") and a.day == b.day:
        raise FupinError(error("E852", Span("<arguments>", 0, 0), detail=Bilingual(a.name, a.name)))


@dataclass(frozen=True)
class DiffSpec:
    """What a Dask worker rebuilds a :class:`DiffJob` from: the packs' folders and the arguments.

    ``revisions``: the two packs' content hashes as the client loaded them, so a worker
    that kept the job of an earlier run rebuilds it when a pack was edited since (the
    spec is the key of the kept jobs); ``cache``: whether the worker loads the packs
    through the cache of checked policies (``fupin diff --no-cache`` turns it off)."""

    root: str
    other: str | None
    entity: str | None = None
    variant: str | None = None
    vs_variant: str | None = None
    on: str | None = None
    vs_on: str | None = None
    outputs: tuple | None = None
    lang: str = "zh"
    exact: bool = True
    levels: tuple | None = None
    traced: int = TRACED
    revisions: tuple | None = None
    cache: bool = True

    def job(self) -> DiffJob:
        """The job, built once per worker process and pack revision."""
        if self not in _JOBS:
            from ..api import load_policy
            from .distributed import same_pack

            want_first, want_other = self.revisions or (None, None)
            first = same_pack(load_policy(self.root, cache=self.cache), want_first, self.root)
            other = same_pack(load_policy(self.other, cache=self.cache), want_other, self.other) \
                if self.other else first
            _JOBS[self] = DiffJob(first, other, self.entity, self.variant, self.vs_variant, self.on, self.vs_on,
                                  list(self.outputs) if self.outputs else None, self.lang, self.exact, self.levels,
                                  self.traced)
        return _JOBS[self]


_JOBS: dict = {}


def spec_of(job: DiffJob, root: str, other: str | None, cache: bool = True) -> DiffSpec:
    """The spec of a job (dates as the job resolved them, the packs' revisions as loaded)."""
    return DiffSpec(str(Path(root).resolve()), str(Path(other).resolve()) if other else None, job.entity,
                    _variant(job.a), _variant(job.b), job.a.day.isoformat(), job.b.day.isoformat(),
                    tuple(job.outputs), job.lang, job.exact, job.want_levels, job.traced, job.revisions, cache)


def _variant(setting: Setting):
    name = setting.checked.variant
    return None if name == "base" else name


def run(job: DiffJob, source, output: str, fmt: str, quarantine: str, progress=None, bom: bool = False,
        engine: str = "local", scheduler=None, roots=("", None), cache: bool = True):
    """Run the comparison over the source (locally or on Dask): the batch Report, whose
    ``summary`` is the :class:`Diff`. ``cache=False``: Dask workers load the packs
    without the cache of checked policies."""
    from . import pipeline

    started = time.perf_counter()
    if engine == "dask":
        from .distributed import run_file

        report = run_file(job, source, output, fmt, quarantine, scheduler, progress, bom, spec=spec_of(job, *roots, cache=cache))
    else:
        report = pipeline.run_batch(job, source, output, fmt, quarantine, progress, bom)
    if report.summary is None:
        report.summary = job.empty()
    report.warnings = list(job.warnings) + list(report.warnings)
    report.seconds = time.perf_counter() - started
    return report



@dataclass
class Comparison:
    """A finished comparison: the figures, the job (settings, outputs, causes), the run's counts."""

    diff: Diff
    job: DiffJob
    report: object  # pipeline.Report: rows in, evaluated, quarantined; warnings

    def text(self, lang: str = "zh", top: int | None = None) -> str:
        """The short screen text (diffreport.render)."""
        from .diffreport import render

        return render(self.diff, self.job, lang, top)

    def to_dict(self) -> dict:
        """Every figure as JSON-ready data (diffreport.diff_json)."""
        from .diffreport import diff_json

        return diff_json(self.diff, self.job)


def compare_file(policy, input_path, output, other=None, *, on=None, vs_on=None, variant=None, vs_variant=None,
                 entity=None, only=None, by=None, quarantine=None, joins=None, chunk_size: int = 32_768,
                 engine: str = "local", scheduler=None, lang: str = "zh", exact: bool = True,
                 traced: int = TRACED) -> Comparison:
    """Compare a dataset file under two settings, writing the changed rows to ``output``
    (and invalid rows to the quarantine file); see :class:`DiffJob`."""
    from .source import Source, output_format, quarantine_path

    job = DiffJob(policy, other, entity, variant, vs_variant, on, vs_on, only, lang, exact,
                  tuple(by) if by is not None else None, traced)
    source = Source(str(input_path), job.layout, dict(joins or {}), chunk_size, kept=job.first.carried)
    roots = (str(policy.source.root), str(other.source.root) if other is not None else None)
    report = run(job, source, str(output), output_format(output), quarantine_path(output, quarantine),
                 engine=engine, scheduler=scheduler, roots=roots)
    return Comparison(report.summary, job, report)
