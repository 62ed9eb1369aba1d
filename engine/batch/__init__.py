"""Batch evaluation of whole datasets: readers, validation, writers, summary, Dask.

The pipeline (docs/batch.md): ``source.py`` opens the input (``readers.py`` for Parquet
and JSON lines, ``csvjoin.py`` for CSV with joined children) and yields chunks of raw
rows (``levels.py``); ``validate.py`` (with ``columns.py``) types them into a columnar
``Frame``, deciding like ``FactsChecker``; ``pipeline.py`` evaluates each frame with
``ColumnarProgram`` and writes results and quarantine (``outputs.py``), accumulating
``summary.py``; ``distributed.py`` runs the same per-chunk function on Dask;
``dataset.py`` is the folder of Parquet parts that Dask workers write themselves
(``-o out/``); ``runrecord.py`` writes a finished run's decision record beside its results;
``unknowns.py`` encodes the ``unknown`` column (compact items, JSON text or none).
``compare.py`` is ``fupin diff``: a job of the same shape that evaluates each validated
frame under two settings (``diff.py`` compares, ``changes.py`` says what moved in the
rules, ``diffreport.py`` and ``htmlreport.py`` render).
"""
from __future__ import annotations

from .dataset import is_dataset
from .readers import spare_pandas
from .pipeline import Job, Outcome, Report, Stopped, report_lines, run_batch, settling_note, timing_lines
from .runrecord import record_path, write_record
from .source import Source, bad_argument, output_format, quarantine_path
from .summary import Summary, render as render_summary
from .unknowns import decoded as decode_unknown
from ..facts.names import folded as shown_warnings

__all__ = ["render_diff", "write_diff", "write_summary", "Job", "Outcome", "Report", "Source", "Stopped", "Summary", "bad_argument", "decode_unknown", "evaluate_dask", "is_dataset", "load",
           "output_format", "quarantine_path", "record_path", "render_summary", "report_lines", "run_batch", "run_dask_file", "settling_note", "shown_warnings", "spare_pandas", "timing_lines", "write_record"]


def load(path, cache: bool = True):
    """The policy at ``path`` (a FupinError if it has errors); ``cache=False``: checked
    again, the cache of checked policies neither read nor written (engine/cache.py)."""
    from ..api import load_policy

    return load_policy(path, cache=cache)


def evaluate_dask(policy_or_path, ddf, on=None, variant=None, entity=None, outputs=None, lang="zh"):
    """Evaluate a Dask dataframe: ``(results_ddf, quarantine_ddf)``; see distributed.py."""
    from .distributed import evaluate_dask as run

    return run(policy_or_path, ddf, on=on, variant=variant, entity=entity, outputs=outputs, lang=lang)


def run_dask_file(job, source, output, fmt, quarantine, scheduler=None, progress=None, bom=False, part_rows=None,
                  cache=True):
    """``fupin batch --engine dask``: the same run on a Dask cluster; see distributed.py."""
    from .distributed import run_file

    return run_file(job, source, output, fmt, quarantine, scheduler, progress, bom, part_rows=part_rows, cache=cache)


def write_summary(summary, checked, path, fmt=None, lang="zh"):
    """Write every figure of a summary to ``path`` (.json, .csv, .xlsx, .html); see reportfile.py."""
    from . import reportfile as rf

    fmt = rf.file_format(path, fmt)
    html = None
    if fmt == "html":
        from .htmlreport import summary_page

        html = summary_page(summary, checked, lang)
    rf.write_report(path, fmt, rf.summary_rows(summary, checked), rf.summary_json(summary, checked), html)


def write_diff(diff, job, path, fmt=None, changed_path=None, lang="zh"):
    """Write every figure of a comparison to ``path`` (.json, .csv, .xlsx, .html); see diffreport.py."""
    from . import diffreport as dr, reportfile as rf

    fmt = rf.file_format(path, fmt)
    html = None
    if fmt == "html":
        from .htmlreport import diff_page

        html = diff_page(diff, job, lang, changed_path)
    rf.write_report(path, fmt, dr.diff_rows(diff, job), dr.diff_json(diff, job), html, dr.COLUMNS)


def render_diff(diff, job, lang="zh", top=None):
    """A comparison's short screen text; see diffreport.py."""
    from .diffreport import render

    return render(diff, job, lang, top)
