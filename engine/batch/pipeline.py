"""The batch job: read a chunk, validate it, evaluate it, write it, drop it.

:class:`Job` holds what is fixed for a run (the program, the validator, the outputs,
the date) and turns one :class:`~.readers.Chunk` into an :class:`Outcome`: the result
rows, the quarantine entries and the counts. The local run (:func:`run_batch`) and the
Dask run (``distributed.py``) call the same :meth:`Job.process`.

Every input row ends up either in the results or in the quarantine:
``rows in = rows out + rows quarantined`` holds per chunk, hence for the run.
"""
from __future__ import annotations

import collections
import contextlib
import itertools
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from ...dsl.errors import Bilingual, FupinError, Span, error
from ..columnar.frame import take
from ..columnar.program import ColumnarProgram
from .encoding import undecodable
from .keys import carried_keys, key_column
from .levels import single
from .outputs import QuarantineWriter, ResultWriter, explanations, output_schema, result_table
from .overlap import WriteBehind, read_ahead, timed_reads
from .readers import OrderBroken
from .source import ARGUMENTS, bad_argument, unreadable
from .summary import Summary, summarise
from .unknowns import ENCODINGS
from .validate import Validator

if TYPE_CHECKING:
    from .workers import Workers


@dataclass
class Outcome:
    """One chunk done: result rows, quarantine entries and counts."""

    table: pa.Table
    quarantine: list  # (row, id, field, code, reason) tuples
    rows_in: int
    rows_out: int
    rows_quarantined: int
    summary: Summary | None = None
    unsettled: tuple | None = None  # (invalid rows, their marks) whose reasons Job.settle adds
    settling: tuple = (0, 0, 0.0)  # unknown outputs searched by cases, decided, seconds (ColumnarResult.settled)


@dataclass
class Report:
    """A whole run: counts, warnings, the summary."""

    rows_in: int = 0
    rows_out: int = 0
    rows_quarantined: int = 0
    warnings: list = field(default_factory=list)  # Diagnostics (W906 per column)
    orphans: int = 0  # child rows of a joined CSV that matched no parent
    restarted: bool = False  # a CSV child file was not in order: joined by index
    stopped: object = None  # the Diagnostic that stopped the run early (nothing was written)
    summary: Summary | None = None
    seconds: float = 0.0  # wall time of the run
    settling: tuple = (0, 0, 0.0)  # unknown outputs searched by cases, decided, seconds (summed over chunks)

    def read(self, chunk) -> None:
        """Count a chunk's rows as read (before they are processed)."""
        self.rows_in += chunk.level.n + len(chunk.broken)

    def add(self, outcome: Outcome) -> None:
        """Count a processed chunk's rows out and quarantined."""
        self.rows_out += outcome.rows_out
        self.rows_quarantined += outcome.rows_quarantined
        self.settle_add(getattr(outcome, "settling", None))
        if outcome.summary is not None:  # a Summary, or the figures of a diff (diff.py)
            self.summary = outcome.summary if self.summary is None else self.summary.merge(outcome.summary)


    def settle_add(self, settling) -> None:
        """Add a chunk's or a partition's settling by cases (searched, decided, seconds)."""
        if settling:
            self.settling = tuple(a + b for a, b in zip(self.settling, settling))


class Stopped(Exception):
    """A run that stopped early: the report so far (``report.stopped`` says why)."""

    def __init__(self, report: "Report"):
        super().__init__(report.stopped.message("en"))
        self.report = report


class Job:
    """What is fixed for one batch run; :meth:`process` does one chunk."""

    def __init__(self, policy, entity: str | None = None, variant=None, on=None, outputs=None,
                 lang: str = "zh", summary: bool = False, exact: bool = True, unknown: str = "compact"):
        """``exact``: settle unknown outputs by cases, as ``fupin eval`` does (False: the
        three-valued evaluation alone, much faster where unknowns are common, and some
        outputs that ``eval`` decides stay unknown; docs/performance.md). ``unknown``:
        the encoding of the ``unknown`` column (unknowns.py: ``compact``, ``json``, or
        ``off``, which also spares tracking the facts of unknowns where settling by
        cases does not need them)."""
        if unknown not in ENCODINGS:
            raise ValueError(f"unknown encoding {unknown!r}: one of {', '.join(ENCODINGS)}")
        self.exact, self.unknown = exact, unknown
        self.program = policy.program(variant)
        checked = self.program.checked
        entity = policy.entity(entity, variant)  # None: the policy's default entity
        if outputs:
            policy.check_outputs(outputs, entity, variant)
        self.entity, self.day, self.lang, self.want_summary = entity, policy.as_of(on, variant), lang, summary
        self.variant, self.policy_root = variant, str(policy.source.root)
        self.variant_name = checked.variant  # "base" when none is given
        self.revision = getattr(policy, "revision", None)  # the pack's content hash (runrecord.py)
        self.outputs = list(outputs or self.program.outputs(entity))
        self.validator = Validator(checked, entity, policy.facts_checker(variant))
        self.layout = self.validator.layout
        self.columnar = ColumnarProgram(self.program)
        self.carried = carried_keys(checked, entity)  # declared key columns, kept when the input has them
        self.carry: tuple = ()
        self.schema = output_schema(checked, self.layout.key, self.outputs, unknown=unknown)
        self.timings: dict = {}  # stage -> seconds spent, over the chunks this job processed

    def use_columns(self, names) -> None:
        """Carry to the output the declared key columns that the input has (keys.py)."""
        self.carry = tuple(k for k in self.carried if k in names and k != self.layout.key)
        self.schema = output_schema(self.program.checked, self.layout.key, self.outputs, self.carry, self.unknown)

    def why(self):
        """How the columnar evaluation tracks the facts of unknowns (ColumnarProgram.evaluate):
        as it sees fit where they are written or settling by cases needs them, not at all
        for a three-valued run without an ``unknown`` column."""
        return "auto" if self.exact or self.unknown != "off" else False

    @contextmanager
    def clock(self, stage: str):
        """Add the time spent in the block to ``timings[stage]``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - start

    def process(self, chunk, settle: bool = True) -> Outcome:
        """Validate, evaluate and tabulate one chunk. ``settle=False`` (a worker process,
        workers.py, which has no raw records): the reasons of invalid rows are left to
        :meth:`settle`, and the outcome says which rows they are."""
        frame, good, entries, quarantined, unsettled = self.validated(chunk, settle)
        table, summary, settling = self._evaluate(frame, chunk, good)
        return Outcome(table, entries, chunk.level.n + len(chunk.broken), len(good), quarantined, summary, unsettled,
                       settling)

    def settle(self, chunk, outcome: Outcome) -> Outcome:
        """Add the reasons of an outcome's invalid rows, read from the chunk's raw records."""
        if outcome.unsettled is not None:
            bad_rows, marks = outcome.unsettled
            with self.clock("quarantine"):
                outcome.quarantine = sorted(outcome.quarantine + self._quarantine(chunk, bad_rows, marks),
                                            key=lambda e: e[0])
            outcome.unsettled = None
        return outcome

    def validated(self, chunk, settle: bool = True) -> tuple:
        """``(frame, good, entries, quarantined, unsettled)``: the typed frame of a chunk's
        valid rows, their positions in the chunk, the quarantine entries, the rows
        quarantined, and (``settle=False``) the invalid rows and marks whose reasons
        are not among the entries yet (None when there are none)."""
        with self.clock("validate"):
            self.validator.note_skipped(chunk.skipped)
            checked = self.validator.validate(chunk.level)
        bad = checked.bad
        if chunk.reasons:
            bad = bad.copy()
            bad[list(chunk.reasons)] = True
        bad_rows, good = np.flatnonzero(bad), np.flatnonzero(~bad)
        entries = [(b.row, b.ident, "", b.diagnostic.code, b.diagnostic.message(self.lang)) for b in chunk.broken]
        unsettled = None
        with self.clock("quarantine"):
            if settle:
                entries += self._quarantine(chunk, bad_rows, checked.marks)
            elif len(bad_rows):
                unsettled = (bad_rows, checked.marks)
            entries.sort(key=lambda e: e[0])
            frame = take(checked.frame, good) if len(bad_rows) else checked.frame
        return frame, good, entries, len(bad_rows) + len(chunk.broken), unsettled

    def row_ids(self, chunk, good, frame):
        """The key of each valid row as text (as read when the input holds text)."""
        raw_ids = _kept(chunk.level.columns.get(self.layout.key), good, chunk.level.n)
        return raw_ids if raw_ids is not None and pa.types.is_string(raw_ids.type) \
            else frame.columns[self.layout.key].data

    def _evaluate(self, frame, chunk, good):
        """``(table, summary, settling)`` of a chunk's valid rows (settling: ColumnarResult.settled)."""
        if frame.n == 0:
            return self.schema.empty_table(), (Summary(self.entity) if self.want_summary else None), (0, 0, 0.0)
        with self.clock("evaluate"):
            result = self.columnar.evaluate(frame, self.day, self.outputs, why=self.why(), exact=self.exact)
        with self.clock("details"):
            explained = explanations(result, self.lang, self.unknown)
        with self.clock("tabulate"):
            ids = self.row_ids(chunk, good, frame)
            carried = [key_column(chunk.extra.get(k), good, chunk.level.n) for k in self.carry]
            table = result_table(result, ids, self.schema, explained, carried)
        if not self.want_summary:
            return table, None, result.settled
        with self.clock("summary"):
            groups = chunk.extra.get(self.layout.parent_key) if self.layout.parent_key else None
            summary = summarise(result, frame, _kept(groups, good, chunk.level.n), self.level_keys(chunk, good))
        return table, summary, result.settled

    def level_keys(self, chunk, good) -> dict:
        """The carried key columns of a chunk's valid rows, as text (summary and diff levels)."""
        return {k: key_column(chunk.extra.get(k), good, chunk.level.n) for k in self.carry}

    def _quarantine(self, chunk, bad_rows, marks) -> list:
        """One entry per reason of each invalid row, in row order."""
        if not len(bad_rows):
            return []
        entries = []
        for i, record in zip(bad_rows.tolist(), chunk.records(bad_rows.tolist())):
            diags = self.validator.reasons(record, marks.get(i, ())) + list(chunk.reasons.get(i, ()))
            if not diags:
                raise RuntimeError(f"internal: row {chunk.rows[i]} rejected without a reason")
            ident = record.get(self.layout.key) if isinstance(record, dict) else None
            for d in diags:
                entries.append((int(chunk.rows[i]), None if ident is None else str(ident),
                                str(d.args.get("path", "")), d.code, d.message(self.lang)))
        return entries


def _kept(column, good, n: int):
    """An arrow column of a chunk restricted to its valid rows (None if not arrow)."""
    column = single(column)
    if not isinstance(column, pa.Array):
        return None
    return column if len(good) == n else column.take(pa.array(good, pa.int64()))


def run_batch(job: Job, source, output: str, output_fmt: str, quarantine: str, progress=None,
              bom: bool = False, jobs: int = 1) -> Report:
    """Run the job over the source, writing results and quarantine; the report of the run.

    Both files are written under temporary names and renamed only when every row is
    done. A run that stops early (bad input that stops reading, a write failure, any
    exception) removes them and raises :class:`Stopped` with the counts so far and the
    reason. If a CSV child file turns out not to be in the order of its parents,
    everything is started again with the child file indexed in memory (see csvjoin.py).
    ``jobs``: processes evaluating chunks (workers.py); more than one only when the
    input has more than one chunk. The results, quarantine, counts, warnings and
    summary are the same whatever the number.
    """
    try:
        return _run(job, source, output, output_fmt, quarantine, progress, bom, jobs)
    except OrderBroken:
        source.join_mode = "index"
        report = _run(job, source, output, output_fmt, quarantine, progress, bom, jobs)
        report.restarted = True
        return report


def _run(job, source, output, output_fmt, quarantine, progress, bom, jobs) -> Report:
    report = Report()
    started = time.perf_counter()
    try:
        job.use_columns(source.columns())
    except FupinError as exc:  # the input's header cannot be read: nothing read, nothing written
        report.stopped = exc.diagnostics[0]
        raise Stopped(report) from None
    writer, quarantined = open_writers(job, output, output_fmt, quarantine, bom)
    helpers = Helpers(lambda outcome: _write(job, writer, quarantined, outcome))
    done = False
    try:
        groups = source.row_groups() if jobs > 1 else None
        if _by_groups(groups, jobs, source.chunk_size):  # the workers read the row groups
            pool = helpers.fork(job, source, jobs)
            _process_groups(pool, groups, helpers.writing(), report, progress)
        else:
            _process_read(job, source, jobs, helpers, report, progress)
        helpers.behind.close()
        report.orphans = source.finish()
        done = True
    except OrderBroken:
        raise
    except Exception as exc:  # whatever stops the run: the counts so far, and why
        report.stopped = stop_reason(exc, source)
    finally:
        helpers.close(done)
        finish_run(report, done, writer, quarantined)
    return conclude(report, job, started)


def _by_groups(groups, jobs: int, chunk_size: int) -> bool:
    """Whether the workers may read a Parquet input's row groups themselves: enough of
    them to share, and a first row group with rows that holds a whole chunk, so that the
    first chunk (on which the lists a row must give are checked, E816) is the one a run
    in one process reads; otherwise the main process reads the chunks."""
    if groups is None or len(groups) < 2 * jobs:
        return False
    first = next((rows for _, _, rows in groups if rows), 0)
    return first >= chunk_size


class Helpers:
    """The helpers a run starts (the write-behind thread, the worker processes), so that
    they are ended however the run ends."""

    def __init__(self, write):
        self.write, self.behind, self.pool = write, None, None

    def fork(self, job, source, jobs: int) -> Workers:
        """Start the worker processes (before any thread of ours: they are forked)."""
        from .workers import Workers  # imported by a run with workers only (start-up)

        self.pool = Workers(job, source, jobs)
        return self.pool

    def writing(self) -> WriteBehind:
        """Start the write-behind thread."""
        self.behind = WriteBehind(self.write)
        return self.behind

    def close(self, done: bool) -> None:
        """End the workers (asked to stop if the run is done, else terminated) and the writer thread."""
        if self.pool is not None:
            self.pool.close(done)
        if self.behind is not None:
            _close(self.behind)


def _peek(chunks, count: int) -> tuple:
    """The first ``count`` chunks, and the exception that reading them raised (to be
    raised after the chunks read before it are done, as a run without peeking would)."""
    head = []
    try:
        for chunk in itertools.islice(chunks, count):
            head.append(chunk)
    except OrderBroken:
        raise
    except Exception as exc:
        return head, exc
    return head, None


def _raising(exc):
    raise exc
    yield  # a generator: raises when the chunks before it are done


def conclude(report: Report, job, started: float) -> Report:
    """A run's last step, local or on Dask: warnings, wall time, and :class:`Stopped` if
    it stopped early; an empty summary where one was asked for and no row gave one."""
    report.warnings = job.validator.warnings()
    report.seconds = time.perf_counter() - started
    if report.stopped is not None:
        raise Stopped(report)
    if job.want_summary and report.summary is None:
        report.summary = Summary(job.entity)
    return report


def _process_read(job, source, jobs, helpers: Helpers, report, progress) -> None:
    """Read every chunk here; process them here, or in ``jobs`` worker processes when
    there are two chunks or more."""
    chunks = timed_reads(job, source.chunks())
    head, failure = _peek(chunks, 2 if jobs > 1 else 0)
    pool = helpers.fork(job, source, jobs) if len(head) > 1 and failure is None else None
    behind = helpers.writing()
    rest = _raising(failure) if failure is not None else read_ahead(chunks)
    if pool is None:
        _process_all(job, itertools.chain(head, rest), behind, report, progress)
    else:
        _process_parallel(job, pool, itertools.chain(head, rest), behind, report, progress)


def _process_all(job, chunks, behind, report, progress) -> None:
    """Every chunk counted, processed and queued for writing, in order."""
    for chunk in chunks:
        report.read(chunk)
        _done(job.process(chunk), behind, report, progress)


def _process_parallel(job, pool, chunks, behind, report, progress) -> None:
    """Every chunk processed by the worker processes, its outcome counted and queued for
    writing in input order. The chunks in flight when reading fails are finished
    first, so a run that stops reports the counts one process would."""
    flight: collections.deque = collections.deque()
    chunks = iter(chunks)
    while True:
        try:
            chunk = next(chunks, None)
        except Exception:  # reading failed: the chunks before it first
            while flight:
                _take(job, pool, flight, behind, report, progress)
            raise
        if chunk is None:
            break
        while pool.full:
            _take(job, pool, flight, behind, report, progress)
        pool.send_chunk(chunk)
        flight.append(chunk)
    while flight:
        _take(job, pool, flight, behind, report, progress)


def _take(job, pool, flight, behind, report, progress) -> None:
    chunk = flight.popleft()
    held = sum(c.level.n + len(c.broken) for c in (chunk, *flight))
    for outcome in _taken(pool, report, held):
        _done(job.settle(chunk, outcome), behind, report, progress)


def _process_groups(pool, groups, behind, report, progress) -> None:
    """Every row group of a Parquet input read and processed by the workers, the
    outcomes counted and queued for writing in input order."""
    pending, flight = collections.deque(groups), collections.deque()
    while pending or pool.taken < pool.sent:
        while pending and not pool.full:
            flight.append(pending[0][2])
            pool.send_group(*pending.popleft())
        held = flight.popleft() + sum(flight)
        for outcome in _taken(pool, report, held):
            _done(outcome, behind, report, progress)


def _taken(pool, report, held: int):
    """The outcomes of the pool's oldest task, counted as read. A worker's failure counts
    the rows of the chunk it failed on as read, as one process would; a worker that died
    (E834) leaves ``held`` rows (this task's and those of the tasks after it) read and
    not processed."""
    before = report.rows_in
    try:
        for outcome in pool.take():
            report.rows_in += outcome.rows_in
            yield outcome
    except Exception as exc:
        if isinstance(exc, FupinError) and exc.diagnostics[0].code == "E834":
            report.rows_in = before + held
        else:
            report.rows_in += pool.failed_rows
        raise


def _done(outcome, behind, report, progress) -> None:
    behind.put(outcome)
    report.add(outcome)
    if progress is not None:
        progress(report.rows_in)


def finish_run(report, done: bool, writer, quarantined) -> None:
    """Rename the outputs of a finished run; remove those of a stopped one (E831 stops it too)."""
    if report.stopped is not None:
        done = False
    try:
        finish_writers(done, writer, quarantined)
    except FupinError as exc:
        report.stopped = exc.diagnostics[0]


def stop_reason(exc: BaseException, source):
    """The diagnostic of what stopped a run: located fupin errors as they are, reading
    errors at the input (E830 for undecodable text, else E804), anything else E833."""
    if isinstance(exc, FupinError):
        return exc.diagnostics[0]
    if isinstance(exc, UnicodeDecodeError) or (isinstance(exc, pa.ArrowInvalid) and "UTF8" in str(exc)):
        detail = Bilingual(f"{exc}", f"{exc}")
        return undecodable(source.path, getattr(source, "encoding", "utf-8"), detail).diagnostics[0]
    if isinstance(exc, (OSError, pa.ArrowException)):
        return unreadable(source.path, exc).diagnostics[0]
    text = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
    return error("E833", Span(str(source.path), 0, 0), detail=text)


def open_writers(job, output, output_fmt, quarantine, bom: bool = False):
    """The result and quarantine writers, under temporary names (E831 if they cannot be created)."""
    writer = ResultWriter(output, job.schema, output_fmt, bom)
    try:
        return writer, QuarantineWriter(quarantine, bom)
    except FupinError:
        writer.abort()
        raise


def finish_writers(done: bool, writer, quarantined) -> None:
    """Rename both files to their final names if the run is done, else remove them."""
    if not done:
        writer.abort()
        quarantined.abort()
        return
    try:
        writer.commit()
        quarantined.commit()
    except FupinError:
        writer.abort()
        quarantined.abort()
        with contextlib.suppress(OSError):  # never a result file beside a missing quarantine
            os.unlink(writer.path)
        raise


def _write(job, writer, quarantined, outcome) -> None:
    with job.clock("write"):
        writer.write(outcome.table)
        quarantined.write(outcome.quarantine)


def _close(behind) -> None:
    try:
        behind.close()
    except Exception:  # already failing: the first error is the one reported
        pass


def timing_lines(timings: dict, rows: int, wall: float, lang: str = "zh") -> list:
    """Seconds per stage (reading and writing overlap the rest, in their own threads), the
    wall time, and the rows per second of all stages but evaluation if run one after another."""
    own = sum(v for k, v in timings.items() if k not in ("evaluate", "details"))
    lines = [f"  {stage}: {seconds:.3f} s" for stage, seconds in timings.items()]
    rate = (lambda s: f"{rows / s:,.0f}" if s > 0 else "-")
    head = "用时（秒）" if lang == "zh" else "time (s)"
    lines.append(f"  wall {wall:.3f} s: {rate(wall)} rows/s; all stages but evaluate+details, "
                 f"one after another, {own:.3f} s: {rate(own)} rows/s")
    return [head, *lines]


SETTLING_NOTED = (1.0, 0.25)  # seconds and share of the run from which settling by cases is worth a note


def settling_note(report: Report):
    """I933 when settling unknown outputs by cases took a second or more and a quarter
    of the run or more: where facts are often missing it can be nearly all of a run (the
    pack on generated data: 87 of 89 s), and ``--three-valued`` skips it; the note says
    how many outputs it decided, which is what skipping it would change."""
    searched, decided, seconds = report.settling
    if not searched or seconds < SETTLING_NOTED[0] or seconds < SETTLING_NOTED[1] * report.seconds:
        return None
    share = f"{min(seconds / report.seconds, 1.0):.0%}" if report.seconds > 0 else "-"
    return error("I933", ARGUMENTS, seconds=f"{seconds:.1f}", share=share, searched=f"{searched:,}",
                 decided=f"{decided:,}")


def report_lines(report: Report, lang: str = "zh") -> list:
    """The closing lines printed on stderr: rows in, out and quarantined."""
    if report.stopped is not None:
        return stopped_lines(report, lang)
    if lang == "zh":
        lines = [f"输入 {report.rows_in} 行 = 输出 {report.rows_out} 行 + 隔离 {report.rows_quarantined} 行"]
        if report.restarted:
            lines.insert(0, "关联文件未按上级顺序排列：已在内存中建立索引后重新运行")
        if report.orphans:
            lines.append(f"关联文件中有 {report.orphans} 行找不到对应的上级记录，已忽略")
    else:
        lines = [f"rows in {report.rows_in} = rows out {report.rows_out} + rows quarantined {report.rows_quarantined}"]
        if report.restarted:
            lines.insert(0, "a joined file was not in the order of its parents: ran again with an in-memory index")
        if report.orphans:
            lines.append(f"{report.orphans} rows of a joined file match no parent and were ignored")
    return lines


def stopped_lines(report: Report, lang: str = "zh") -> list:
    """The accounting of a run that stopped early: rows read, how far they got, why."""
    left = report.rows_in - report.rows_out - report.rows_quarantined
    reason = f"{report.stopped.code} {report.stopped.message(lang)}"
    if lang == "zh":
        return [f"输入 {report.rows_in} 行 = 已求值 {report.rows_out} 行 + 已隔离 {report.rows_quarantined} 行 "
                f"+ 未处理 {left} 行；中途停止，未写出任何结果文件：{reason}"]
    return [f"rows in {report.rows_in} = rows evaluated {report.rows_out} + rows quarantined "
            f"{report.rows_quarantined} + rows not processed {left}; stopped early, no result file written: {reason}"]
