"""The batch job on Dask: each partition goes through the same ``Job.process`` as a chunk.

:func:`evaluate_dask` is the Python API: it takes a Dask dataframe of one entity (nested
children as ``list<struct>`` columns; read with ``dtype_backend="pyarrow"`` so types stay
exact) and returns ``(results_ddf, quarantine_ddf)``. Quarantine row numbers are global
input row numbers: the partition lengths are computed first (one pass over the data),
and each partition numbers its rows from its offset.

Each partition is evaluated once, by a task returning both its results and its
quarantine; the two dataframes are views on those tasks, so computing them together
(``dask.compute(results, quarantine)``) evaluates every partition once. Workers load the
policy from its folder (the path must be readable on the workers) and keep the
compiled job between partitions.

:func:`run_file` is ``fupin batch --engine dask``: it reads the input with
``dask.dataframe.read_parquet`` / ``read_csv``, computes a few partitions ahead on the
cluster and writes them in input order with the same writers as the local run.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from .outputs import QUARANTINE_COLUMNS
from .pipeline import Job, Report, finish_writers, open_writers
from .readers import table_chunk
from .source import bad_argument, unreadable
from .summary import Summary

_JOBS: dict = {}  # per process (each worker): JobSpec -> Job, compiled once


@dataclass(frozen=True)
class JobSpec:
    """What a worker needs to rebuild the job: the policy folder and the arguments."""

    root: str
    entity: str | None = None
    variant: str | None = None
    on: str | None = None
    outputs: tuple | None = None
    lang: str = "zh"
    summary: bool = False
    exact: bool = True

    def job(self) -> Job:
        """The compiled job, made once per process."""
        if self not in _JOBS:
            from ..api import load_policy

            _JOBS[self] = Job(load_policy(self.root), self.entity, self.variant, self.on,
                              list(self.outputs) if self.outputs else None, self.lang, self.summary, self.exact)
        return _JOBS[self]


@dataclass
class PartOutcome:
    """A partition done: results and quarantine as pandas, counts, summary, warnings."""

    results: pd.DataFrame
    quarantine: pd.DataFrame
    rows_in: int
    rows_out: int
    rows_quarantined: int
    summary: Summary | None
    undeclared: list


def process_partition(spec: JobSpec, pdf: pd.DataFrame, start: int) -> PartOutcome:
    """One partition through ``Job.process``, its first row being input row ``start + 1``."""
    job = spec.job()
    job.use_columns(list(pdf.columns))  # carry the declared key columns the input has, as locally
    table = pa.Table.from_pandas(pdf, preserve_index=False)
    outcome = job.process(table_chunk(job.layout, table, start))
    return PartOutcome(outcome.table.to_pandas(types_mapper=pd.ArrowDtype), quarantine_frame(outcome.quarantine),
                       outcome.rows_in, outcome.rows_out, outcome.rows_quarantined, outcome.summary,
                       list(job.validator.undeclared))


def quarantine_frame(entries: list) -> pd.DataFrame:
    """Quarantine entries as a dataframe (row, id, field, code, reason)."""
    types = [pa.int64(), pa.string(), pa.string(), pa.string(), pa.string()]
    columns = list(zip(*entries)) if entries else [[] for _ in QUARANTINE_COLUMNS]
    table = pa.table({name: pa.array(list(col), t) for name, col, t in zip(QUARANTINE_COLUMNS, columns, types)})
    return table.to_pandas(types_mapper=pd.ArrowDtype)


def _results(outcome: PartOutcome) -> pd.DataFrame:
    return outcome.results


def _quarantine(outcome: PartOutcome) -> pd.DataFrame:
    return outcome.quarantine


def spec_of(policy_or_path, entity=None, variant=None, on=None, outputs=None, lang="zh",
            summary=False, exact=True) -> JobSpec:
    """A JobSpec from a Policy (its folder) or a policy path."""
    source = getattr(policy_or_path, "source", None)
    root = str(source.root) if source is not None else str(policy_or_path)
    on_text = on.isoformat() if hasattr(on, "isoformat") else on
    return JobSpec(str(Path(root).resolve()), entity, variant, on_text, tuple(outputs) if outputs else None, lang,
                   summary, exact)


def partition_tasks(spec: JobSpec, ddf) -> list:
    """One delayed PartOutcome per partition, numbered from its global offset."""
    from dask import delayed

    lengths = ddf.map_partitions(len).compute()
    starts = np.concatenate(([0], np.cumsum(np.asarray(lengths, dtype=np.int64))[:-1]))
    process = delayed(process_partition, pure=True)
    return [process(spec, part, int(start)) for part, start in zip(ddf.to_delayed(), starts)]


def evaluate_dask(policy_or_path, ddf, on=None, variant=None, entity=None, outputs=None, lang="zh"):
    """``(results_ddf, quarantine_ddf)`` of a Dask dataframe of one entity; see the module docstring."""
    import dask.dataframe as dd
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


def read_ddf(source):
    """The input as a Dask dataframe (Parquet, or CSV without joined files)."""
    import dask.dataframe as dd

    if source.fmt == "parquet":
        return dd.read_parquet(source.text_path, dtype_backend="pyarrow")
    if source.fmt == "csv" and not source.joins():
        return dd.read_csv(source.text_path, dtype=str, keep_default_na=False, na_values=[""], on_bad_lines="error",
                           encoding="utf-8-sig" if source.encoding == "utf-8" else source.encoding)
    raise bad_argument("--engine dask 读取 Parquet 或（不带 --join 的）CSV",
                       "--engine dask reads Parquet, or CSV without --join")


def run_file(job: Job, source, output, fmt, quarantine, scheduler=None, progress=None, spec=None) -> Report:
    """Run a file's batch on a Dask cluster, writing in input order like the local run
    (``spec``: what the workers rebuild the job from, default the batch job's; any object
    with a ``job()`` method whose job has ``process``, like ``fupin diff``'s)."""
    ddf = read_ddf(source)
    job.use_columns(source.columns())  # the output's columns, as the local run has them
    spec = spec or spec_of(job.policy_root, job.entity, job.variant, job.day, job.outputs, job.lang,
                           job.want_summary, job.exact)
    client, cluster = _client(scheduler)
    try:
        return _gather(client, spec, ddf, job, output, fmt, quarantine, progress)
    except (OSError, pa.ArrowException, ValueError) as exc:
        raise unreadable(source.path, exc) from None
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _client(scheduler):
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler), None
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    return Client(cluster), cluster


def _gather(client, spec, ddf, job, output, fmt, quarantine, progress) -> Report:
    """Compute partitions a few ahead, write each in order, merge the counts."""
    tasks = partition_tasks(spec, ddf)
    ahead = 2 * max(1, len(client.scheduler_info().get("workers", {})))
    report, undeclared = Report(), []
    started = time.perf_counter()
    writer, quarantined = open_writers(job, output, fmt, quarantine)
    done = False
    try:
        futures = [client.compute(t) for t in tasks[:ahead]]
        for i in range(len(tasks)):
            outcome = futures[i].result()
            futures[i] = None
            if i + ahead < len(tasks):
                futures.append(client.compute(tasks[i + ahead]))
            writer.write(pa.Table.from_pandas(outcome.results, schema=job.schema, preserve_index=False))
            entries = pa.Table.from_pandas(outcome.quarantine, preserve_index=False).to_pylist()
            quarantined.write([tuple(e.values()) for e in entries])
            report.rows_in += outcome.rows_in
            report.rows_out += outcome.rows_out
            report.rows_quarantined += outcome.rows_quarantined
            if outcome.summary is not None:  # a Summary, or a diff's figures
                report.summary = outcome.summary if report.summary is None else report.summary.merge(outcome.summary)
            undeclared += [p for p in outcome.undeclared if p not in undeclared]
            if progress is not None:
                progress(report.rows_in)
        done = True
    finally:
        finish_writers(done, writer, quarantined)
    if job.want_summary and report.summary is None:
        report.summary = Summary(job.entity)
    job.validator.undeclared = undeclared
    report.warnings = job.validator.warnings()
    report.seconds = time.perf_counter() - started
    return report
