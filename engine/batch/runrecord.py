"""The decision record of a batch run, written beside its results (``<OUTPUT stem>.record.json``).

A row of a batch is defended by the run that made it, as a single decision is by its own
record (engine/reports/record.py): the policy revision (the same content hash of the
pack's files), the variant, the as-of date, the entity and outputs, the fupin version,
the sha256 of every input file read, and the sha256 of the results and quarantine files
written, with the accounting line's counts, the input columns ignored (undeclared: W906),
and the encoding of the ``unknown`` column
(``compact``, ``json`` or ``off``; unknowns.py). A row is cited as ``(run_id, key)``.

The record is written last, under a temporary name renamed when complete, and only for a
run that finished: a record always describes whole files, and a stopped or killed run
leaves none. Schema ``fupin.batch-record/1``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path

from ..reports.identity import file_sha256, fupin_version
from .outputs import remove_stale, temp_name, write_failed
from .source import output_format
from .unknowns import effective

SCHEMA = "fupin.batch-record/1"


def record_path(output) -> str:
    """``<OUTPUT stem>.record.json`` beside the results."""
    out = Path(output)
    return str(out.with_name(out.stem + ".record.json"))


def file_hash(path) -> str:
    """``sha256:…`` of a file's bytes, read in blocks (a dataset folder: dataset.py)."""
    if os.path.isdir(path):
        from .dataset import dataset_hash  # dataset.py imports this module

        return dataset_hash(path)
    return file_sha256(path)


def run_record(job, inputs, output, quarantine, report, ahead=None) -> dict:
    """The record of a finished run (see the module docstring). ``ahead``: input hashes
    computed during the run (identity.HashAhead), used where the file has not changed."""
    files = [{"path": str(p), "sha256": (ahead and ahead.get(p)) or file_hash(p)} for p in inputs]
    written = {"results": {"path": str(output), "sha256": file_hash(output)},
               "quarantine": {"path": str(quarantine), "sha256": file_hash(quarantine)}}
    key = "\0".join([job.revision or "", job.variant_name, job.day.isoformat(), job.entity,
                     *(f["sha256"] for f in files), written["results"]["sha256"]])
    return {
        "schema": SCHEMA,
        "run_id": "r-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:24],
        "policy_revision": job.revision,
        "variant": job.variant_name,
        "on": job.day.isoformat(),
        "entity": job.entity,
        "outputs": list(job.outputs),
        "exact": job.exact,
        # how the results file holds the facts of unknowns (unknowns.py): compact, json or off
        "unknown": effective(job.unknown, output_format(output)),
        "fupin_version": fupin_version(),
        "inputs": files,
        **written,
        "rows_in": report.rows_in,
        "rows_out": report.rows_out,
        "rows_quarantined": report.rows_quarantined,
        # the input's columns the policy does not declare, not read (W906; the screen folds them)
        "ignored_columns": [w.args["path"] for w in report.warnings if w.code == "W906"],
        "finished": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


def write_record(job, inputs, output, quarantine, report, ahead=None) -> str:
    """Write the run's record beside ``output`` (atomically; E831 if it cannot be);
    ``ahead`` as for :func:`run_record`."""
    path = record_path(output)
    remove_stale(path)  # a run killed while writing its record (hashing the outputs takes a while) left one
    temp = temp_name(path)
    try:
        with open(temp, "w", encoding="utf-8") as fh:
            json.dump(run_record(job, inputs, output, quarantine, report, ahead), fh, ensure_ascii=False, indent=2)
            fh.write("\n")
        os.replace(temp, path)
    except OSError as exc:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise write_failed(path, exc) from None
    return path
