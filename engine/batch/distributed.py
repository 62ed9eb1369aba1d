"""The batch job on Dask: each partition goes through the same ``Job.process`` as a chunk.

:func:`evaluate_dask` is the Python API: it takes a Dask dataframe of one entity (nested
children as ``list<struct>`` columns; read with ``dtype_backend="pyarrow"`` so types stay
exact) and returns ``(results_ddf, quarantine_ddf)``. Quarantine row numbers are global
input row numbers: the partition lengths are computed first (one pass over the data),
and each partition numbers its rows from its offset.

:func:`run_file` is ``fupin batch --engine dask``. A Parquet input is split into
partitions of whole row groups, cut so the cluster's workers finish together
(:func:`balanced_parts`; ``--partition-rows``: :func:`parquet_parts`), offsets from the
footer: no pass over the data; each task opens the file *on the worker* and reads its row
groups with the local path's reader (readers.parquet_chunks: declared and carried columns
only) in a read-ahead thread, so the input never travels through the client and never
becomes pandas. With a single output
file, results come back as Arrow tables and are written in input order by the same
writers as the local run, under temporary names. With a dataset folder (``-o out/``,
dataset.py), each task writes its partition as a part file on its worker (in a
write-behind thread) and returns
only counts, quarantine entries and summary: result rows never travel through the
client. Either way the accounting line and the quarantine are the local run's, including
a run that stops early. The path must be readable by the workers at the same name (a
shared filesystem for a multi-machine cluster; docs/batch.md). A CSV input goes through
``dask.dataframe.read_csv`` partitions (CSV cannot be split by byte ranges safely: a
quoted field may hold a newline).

Workers load the policy from its folder (the path must be readable on the workers; through
their cache of checked policies unless the run says ``--no-cache``) and keep the compiled
job between partitions and runs of the same arguments and pack revision (:class:`JobSpec`).
"""
from __future__ import annotations

import bisect
import heapq
import itertools
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from ...dsl.errors import FupinError
from .dataset import DatasetWriter, is_dataset, write_part
from .outputs import QUARANTINE_COLUMNS, QuarantineWriter
from .overlap import WriteBehind, read_ahead
from .pipeline import Job, Report, Stopped, conclude, finish_run, open_writers, stop_reason, timed_reads
from .readers import DEFAULT_CHUNK, footer, parquet_chunks, table_chunk
from .source import bad_argument
from .summary import Summary

PART_ROWS = 131_072  # rows per Parquet partition at least (whole row groups), at the default
# --chunk-size; a partition is that many chunks (4), so --chunk-size scales it

_JOBS: dict = {}  # per process (each worker): JobSpec -> Job, compiled once


@dataclass(frozen=True)
class JobSpec:
    """What a worker needs to rebuild the job: the policy folder and the arguments.

    ``cache``: whether the worker loads the policy through the cache of checked policies
    (``fupin batch --no-cache`` turns it off on the workers too; so does
    ``FUPIN_NO_CACHE=1`` in a worker's environment). ``revision``: the pack's content hash
    as the client loaded it, part of the key under which a worker keeps the compiled job,
    so a pack edited between two runs is loaded again rather than served from memory."""

    root: str
    entity: str | None = None
    variant: str | None = None
    on: str | None = None
    outputs: tuple | None = None
    lang: str = "zh"
    summary: bool = False
    exact: bool = True
    unknown: str = "json"  # the Python API's dataframes keep the JSON text (unknowns.py)
    cache: bool = True
    revision: str | None = None

    def job(self) -> Job:
        """The compiled job, made once per process (the time it took: its ``load`` stage)."""
        if self not in _JOBS:
            from ..api import load_policy

            started = time.perf_counter()
            policy = same_pack(load_policy(self.root, cache=self.cache), self.revision, self.root)
            _JOBS[self] = Job(policy, self.entity, self.variant, self.on,
                              list(self.outputs) if self.outputs else None, self.lang, self.summary, self.exact,
                              self.unknown)
            _JOBS[self].timings["load"] = time.perf_counter() - started
        return _JOBS[self]


def same_pack(policy, expected: str | None, root: str):
    """``policy`` when it is the revision the client loaded (or the client named none);
    E835 at the pack's folder otherwise: a worker reading other files than the client
    (another machine's copy, or an edit during the run) must not evaluate by other rules."""
    found = getattr(policy, "revision", None)
    if expected is not None and found is not None and found != expected:
        from ...dsl.errors import FupinError, Span, error

        raise FupinError(error("E835", Span(str(root), 0, 0), path=str(root), expected=_short(expected),
                               found=_short(found)))
    return policy


def _short(revision: str) -> str:
    """A revision as people compare it: the hash's first 12 digits."""
    return revision.removeprefix("sha256:")[:12]


def worker_timings(reset: bool = True) -> dict:
    """Seconds per stage spent by this process's jobs (``client.run(worker_timings)`` asks
    each worker; benchmarks/dask_scaling.py), then zeroed if ``reset``."""
    total: dict = {}
    for job in _JOBS.values():
        for stage, seconds in job.timings.items():
            total[stage] = total.get(stage, 0.0) + seconds
        if reset:
            job.timings.clear()
    return total


@dataclass
class PartOutcome:
    """A partition done: results as Arrow, quarantine entries, counts, summary, warnings."""

    results: pa.Table
    quarantine: list  # (row, id, field, code, reason) tuples
    rows_in: int
    rows_out: int
    rows_quarantined: int
    summary: Summary | None
    undeclared: list
    settling: tuple = (0, 0, 0.0)  # unknown outputs searched by cases, decided, seconds


def process_chunks(spec, chunks, columns=None, sink=None) -> PartOutcome:
    """Chunks of one partition through the job's ``process``, gathered into one outcome.
    ``spec``: a :class:`JobSpec` or any object whose ``job()`` has ``process`` (``fupin
    diff``'s); ``columns``: the input's columns, so the job carries the same keys as the
    local run (``use_columns``); ``sink``: where each chunk's result table goes (a part
    file's writer, dataset.py) instead of into the outcome (whose ``results`` is then None)."""
    job = spec.job()
    if columns is not None:
        job.use_columns(list(columns))
    tables, entries, counts = [], [], Report()
    keep = tables.append if sink is None else sink
    for chunk in chunks:
        counts.read(chunk)
        outcome = job.process(chunk)
        counts.rows_out += outcome.rows_out
        counts.rows_quarantined += outcome.rows_quarantined
        counts.summary = _merged(counts.summary, outcome.summary)
        counts.settle_add(getattr(outcome, "settling", None))
        keep(outcome.table)
        entries += outcome.quarantine
    results = None if sink is not None else pa.concat_tables(tables) if tables else job.schema.empty_table()
    return PartOutcome(results, entries, counts.rows_in, counts.rows_out, counts.rows_quarantined, counts.summary,
                       list(job.validator.undeclared), counts.settling)


def _merged(total, more):
    """Two partial summaries (a batch Summary, or a diff's figures) as one."""
    if more is None:
        return total
    return more if total is None else total.merge(more)


def process_partition(spec, pdf, start: int, kept=None, target=None) -> PartOutcome:
    """One dataframe partition, its first row being input row ``start + 1``; ``target``:
    a :class:`PartTarget` to write its results to."""
    table = pa.Table.from_pandas(pdf, preserve_index=False)
    return _run_part(spec, [table_chunk(spec.job().layout, table, start, kept)], list(pdf.columns), target)


@dataclass(frozen=True)
class PartTarget:
    """Where a task writes its results itself: part ``index`` of ``count`` in ``folder``."""

    folder: str
    index: int
    count: int


def _run_part(spec, chunks, columns, target) -> PartOutcome:
    """A partition's chunks processed, its results kept in the outcome, or written to
    ``target`` on the worker (then only counts and quarantine travel back) by a
    write-behind thread, as the local run writes (Parquet encoding releases the GIL)."""
    if target is None:
        return process_chunks(spec, chunks, columns)
    job = spec.job()
    job.use_columns(list(columns))  # the part's schema carries the input's key columns

    def fill(write):
        def timed(table):
            with job.clock("write"):
                write(table)

        behind = WriteBehind(timed)
        try:
            outcome = process_chunks(spec, chunks, columns, behind.put)
        except BaseException:
            _close_quietly(behind)
            raise
        behind.close()  # the part's last tables written; a write's error raised here
        return outcome

    return write_part(target.folder, target.index, target.count, job.schema, fill)


def _close_quietly(behind: WriteBehind) -> None:
    try:
        behind.close()
    except Exception:  # already failing: the first error is the one raised
        pass


@dataclass(frozen=True)
class Part:
    """Whole row groups of a Parquet file, evaluated by one task."""

    path: str
    row_groups: tuple
    start: int  # input rows before the first of them


def parquet_parts(path: str, rows: int = PART_ROWS) -> list:
    """The file's row groups in partitions of at least ``rows`` rows (a larger row
    group is a partition of its own: Parquet is decoded a row group at a time)."""
    meta = footer(path)
    parts, groups, start, count = [], [], 0, 0
    for i in range(meta.num_row_groups):
        groups.append(i)
        count += meta.row_group(i).num_rows
        if count >= rows:
            parts.append(Part(path, tuple(groups), start))
            start, groups, count = start + count, [], 0
    if groups:
        parts.append(Part(path, tuple(groups), start))
    return parts


def balanced_parts(path: str, workers: int, rows: int = PART_ROWS) -> list:
    """The file's row groups in partitions that keep ``workers`` task slots busy to the
    end (the default; ``--partition-rows`` asks for :func:`parquet_parts`).

    Each way of cutting the groups into runs (cut at the group boundary nearest an equal
    share of the rows) is tried: those whose tasks, taken in order by the first free
    slot, finish soonest and are the most even (each within 5 %) are kept, and of them
    the count nearest ``rows`` rows a partition. 10 groups of 100,000 rows on 2 workers:
    10 partitions, 5 on each (at least 131,072 rows would make 5 of 200,000: 3 on one
    worker, 2 on the other, which idles for the last one)."""
    meta = footer(path)
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    starts = [0, *itertools.accumulate(sizes)]
    return [Part(path, tuple(run), starts[run.start]) for run in balanced_cut(sizes, workers, rows)]


def balanced_cut(sizes: list, slots: int, rows: int) -> list:
    """:func:`balanced_parts` of row groups of ``sizes`` rows: the runs of group numbers
    (ranges, in order, covering every group), none for no groups."""
    if not sizes:
        return []
    goal = max(1, -(-sum(sizes) // max(rows, 1)))  # the partitions the size alone asks for
    counts = range(1, min(len(sizes), 4 * goal + slots) + 1)
    cuts = {n: _cuts(sizes, n) for n in counts}
    loads = {n: _loads(sizes, cuts[n]) for n in counts}
    count = min(_fastest(loads, max(slots, 1), lambda n: n * max(loads[n]) / max(sum(sizes), 1)),
                key=lambda n: (abs(math.log(n / goal)), n))
    bounds = [0, *cuts[count], len(sizes)]
    return [range(a, b) for a, b in zip(bounds, bounds[1:])]


def _fastest(loads: dict, slots: int, unevenness) -> list:
    """The partition counts whose tasks finish soonest on ``slots`` (within 5 %), and of
    those the most even (largest partition over the mean, within 5 %): tasks of one size
    keep every slot busy however the scheduler hands them out."""
    spans = {n: _span(parts, slots) for n, parts in loads.items()}
    fast = [n for n in loads if spans[n] <= min(spans.values()) * 1.05]
    even = min(unevenness(n) for n in fast)
    return [n for n in fast if unevenness(n) <= even * 1.05]


def _cuts(sizes: list, count: int) -> list:
    """Where ``sizes`` (rows per group) is cut into ``count`` non-empty runs: the group
    boundary nearest each equal share of the rows, in order."""
    ends = list(itertools.accumulate(sizes))
    cuts, last = [], 0
    for k in range(1, count):
        share = ends[-1] * k / count
        i = bisect.bisect_left(ends, share)  # ends[i] >= share: cut after group i, or before it
        cut = i + 1 if i == 0 or i == len(ends) or ends[i] - share <= share - ends[i - 1] else i
        last = min(max(cut, last + 1), len(sizes) - (count - k))
        cuts.append(last)
    return cuts


def _loads(sizes: list, cuts: list) -> list:
    bounds = [0, *cuts, len(sizes)]
    return [sum(sizes[a:b]) for a, b in zip(bounds, bounds[1:])]


def _span(loads: list, slots: int) -> int:
    """Rows done by the busiest of ``slots`` when each takes the next partition as it frees."""
    free = [0] * slots
    for load in loads:
        heapq.heapreplace(free, free[0] + load)
    return max(free)


def process_part(spec, part: Part, chunk_size: int, kept: tuple, columns, target=None) -> PartOutcome:
    """A Parquet partition read on the worker (declared and carried columns only), its
    results written to ``target`` (a :class:`PartTarget`) or returned. A thread reads
    ahead, as in the local run: pyarrow decodes the next chunk without the GIL while
    this one is validated and evaluated."""
    job = spec.job()
    chunks = read_ahead(timed_reads(job, parquet_chunks(part.path, job.layout, chunk_size, kept, part.row_groups,
                                                        part.start)))
    try:
        return _run_part(spec, chunks, columns, target)
    finally:
        chunks.close()  # the reading thread stopped, whether the part is done or failed


def quarantine_frame(entries: list):
    """Quarantine entries as a pandas dataframe (row, id, field, code, reason)."""
    import pandas as pd

    types = [pa.int64(), pa.string(), pa.string(), pa.string(), pa.string()]
    columns = list(zip(*entries)) if entries else [[] for _ in QUARANTINE_COLUMNS]
    table = pa.table({name: pa.array(list(col), t) for name, col, t in zip(QUARANTINE_COLUMNS, columns, types)})
    return table.to_pandas(types_mapper=pd.ArrowDtype)


def _results(outcome: PartOutcome):
    import pandas as pd

    return outcome.results.to_pandas(types_mapper=pd.ArrowDtype)


def _quarantine(outcome: PartOutcome):
    return quarantine_frame(outcome.quarantine)


def spec_of(policy_or_path, entity=None, variant=None, on=None, outputs=None, lang="zh",
            summary=False, exact=True, unknown="json", cache=True, revision=None) -> JobSpec:
    """A JobSpec from a Policy (its folder and revision) or a policy path."""
    source = getattr(policy_or_path, "source", None)
    root = str(source.root) if source is not None else str(policy_or_path)
    revision = revision or getattr(policy_or_path, "revision", None)
    on_text = on.isoformat() if hasattr(on, "isoformat") else on
    return JobSpec(str(Path(root).resolve()), entity, variant, on_text, tuple(outputs) if outputs else None, lang,
                   summary, exact, unknown, cache, revision)


def partition_tasks(spec: JobSpec, ddf, kept=None, folder=None) -> list:
    """One delayed PartOutcome per partition, numbered from its global offset (each
    writing its part of a dataset in ``folder``, if given)."""
    from dask import delayed

    lengths = ddf.map_partitions(len).compute()
    starts = np.concatenate(([0], np.cumsum(np.asarray(lengths, dtype=np.int64))[:-1]))
    process = delayed(process_partition, pure=True)
    targets = _targets(folder, len(starts))
    return [process(spec, part, int(start), kept, target)
            for part, start, target in zip(ddf.to_delayed(), starts, targets)]


def _targets(folder, count: int) -> list:
    """Each task's :class:`PartTarget` in a dataset folder (None each: results returned)."""
    return [None if folder is None else PartTarget(folder, i, count) for i in range(count)]


def evaluate_dask(policy_or_path, ddf, on=None, variant=None, entity=None, outputs=None, lang="zh"):
    """``(results_ddf, quarantine_ddf)`` of a Dask dataframe of one entity; see the module docstring."""
    import dask.dataframe as dd
    import pandas as pd
    from dask import delayed

    spec = spec_of(policy_or_path, entity, variant, on, outputs, lang)
    job = spec.job()  # checks the arguments here, before anything is sent to the cluster
    tasks = partition_tasks(spec, ddf)
    results_meta = job.schema.empty_table().to_pandas(types_mapper=pd.ArrowDtype)
    quarantine_meta = quarantine_frame([])
    results = dd.from_delayed([delayed(_results)(t) for t in tasks], meta=results_meta, verify_meta=False)
    quarantine = dd.from_delayed([delayed(_quarantine)(t) for t in tasks], meta=quarantine_meta, verify_meta=False)
    return results, quarantine


# --- fupin batch --engine dask


def read_csv_ddf(source):
    """A CSV input (without joined files) as a Dask dataframe of text columns."""
    import dask.dataframe as dd

    if source.fmt != "csv" or source.joins():
        raise bad_argument("--engine dask 读取 Parquet 或（不带 --join 的）CSV",
                           "--engine dask reads Parquet, or CSV without --join")
    return dd.read_csv(shared_path(source.text_path), dtype=str, keep_default_na=False, na_values=[""], on_bad_lines="error",
                       encoding="utf-8-sig" if source.encoding == "utf-8" else source.encoding)


def run_file(job: Job, source, output, fmt, quarantine, scheduler=None, progress=None, bom: bool = False,
             spec=None, part_rows=None, cache: bool = True) -> Report:
    """Run a file's batch on a Dask cluster, writing in input order like the local run.

    Like ``run_batch``: both files under temporary names, renamed only when every row is
    done; a run that stops early (a task that fails, an unreadable input, a write error)
    removes them and raises :class:`Stopped` with the counts so far and the reason.
    ``spec``: what the workers rebuild the job from (default the batch job's; ``fupin
    diff`` passes its own, compare.py). ``part_rows``: rows per Parquet partition at
    least (default: cut for the cluster's workers, :func:`balanced_parts`). ``output``
    may be a dataset folder (``DIR/``, dataset.py): each task then writes its part on its
    worker. ``cache=False`` (``--no-cache``): the workers load the policy without the
    cache of checked policies, as the client did."""
    report, started = Report(), time.perf_counter()
    try:
        columns = source.columns()
        job.use_columns(columns)
        if source.fmt != "parquet":
            read_csv_ddf(source)  # the arguments are checked before a cluster is started
    except FupinError as exc:
        report.stopped = exc.diagnostics[0]
        raise Stopped(report) from None
    spec = spec or spec_of(job.policy_root, job.entity, job.variant, job.day, job.outputs, job.lang,
                           job.want_summary, job.exact, job.unknown, cache, job.revision)
    writer, quarantined = _writers(job, output, fmt, quarantine, bom)
    folder = getattr(writer, "folder", None)  # a dataset: the tasks write their parts there
    done, client, cluster = False, None, None
    try:
        client, cluster = _client(scheduler)
        tasks = _tasks(spec, source, columns, folder, part_rows, _slots(client))
        if folder is not None:
            writer.parts = len(tasks)
        _gather(client, tasks, job, writer, quarantined, report, progress)
        done = True
    except Exception as exc:  # whatever stops the run: the counts so far, and why
        report.stopped = stop_reason(exc, source)
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
        finish_run(report, done, writer, quarantined)
    return conclude(report, job, started)


def _writers(job, output, fmt, quarantine, bom):
    """The results writer (a file's, or a dataset folder's: dataset.py) and the quarantine's."""
    if not is_dataset(output):
        return open_writers(job, output, fmt, quarantine, bom)
    writer = DatasetWriter(output)
    try:
        return writer, QuarantineWriter(quarantine, bom)
    except FupinError:
        writer.abort()
        raise


def part_rows_of(chunk_size: int) -> int:
    """The default partition: :data:`PART_ROWS` at the default chunk size, scaled with it."""
    return max(PART_ROWS // DEFAULT_CHUNK * chunk_size, 1)


def _tasks(spec, source, columns, folder=None, part_rows=None, slots: int = 1) -> list:
    """One delayed PartOutcome per partition of the input, in input order (each writing
    its part of a dataset in ``folder``, if given). A Parquet input is cut for ``slots``
    task slots (:func:`balanced_parts`), or in partitions of ``part_rows`` at least."""
    from dask import delayed

    kept = source.kept_columns()
    if source.fmt == "parquet":
        process = delayed(process_part, pure=True)
        path = shared_path(source.text_path)
        parts = parquet_parts(path, part_rows) if part_rows else \
            balanced_parts(path, slots, part_rows_of(source.chunk_size))
        return [process(spec, part, source.chunk_size, kept, tuple(columns), target)
                for part, target in zip(parts, _targets(folder, len(parts)))]
    return partition_tasks(spec, read_csv_ddf(source), kept, folder)


def shared_path(path: str) -> str:
    """The input as the workers must open it: absolute (a worker on another machine, or
    started in another folder, resolves a relative path against its own folder); a URL
    (``s3://…``) as it is."""
    return path if "://" in path else str(Path(path).resolve())


def _client(scheduler):
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler), None
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    return Client(cluster), cluster


def _slots(client) -> int:
    """Tasks the cluster runs at once: its workers' threads (1 while none has joined)."""
    return max(1, sum(client.nthreads().values()))


def _gather(client, tasks, job, writer, quarantined, report, progress) -> None:
    """Compute partitions a few ahead, write each in order, merge the counts. Parts of a
    dataset are written by their tasks and bring back only counts and quarantine: all
    are submitted at once."""
    ahead = 2 * max(1, len(client.scheduler_info().get("workers", {})))
    if getattr(writer, "folder", None) is not None:
        ahead = len(tasks)
    undeclared: list = []
    futures = [client.compute(t) for t in tasks[:ahead]]
    for i in range(len(tasks)):
        outcome = futures[i].result()
        futures[i] = None
        if i + ahead < len(tasks):
            futures.append(client.compute(tasks[i + ahead]))
        report.rows_in += outcome.rows_in
        for batch in outcome.results.to_batches() if outcome.results is not None else ():  # chunk by chunk, as the local run writes them:
            # each chunk's compact unknown items keep their own dictionary page (unknowns.py)
            writer.write(pa.Table.from_batches([batch], schema=outcome.results.schema))
        quarantined.write(outcome.quarantine)
        report.rows_out += outcome.rows_out
        report.rows_quarantined += outcome.rows_quarantined
        report.summary = _merged(report.summary, outcome.summary)  # a Summary, or a diff's figures
        report.settle_add(getattr(outcome, "settling", None))
        undeclared += [p for p in outcome.undeclared if p not in undeclared]
        if progress is not None:
            progress(report.rows_in)
    job.validator.undeclared = undeclared
