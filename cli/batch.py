"""``fupin batch POLICY INPUT -o OUTPUT``: evaluate a whole dataset (engine/batch/).

Arguments and printing only: reading, validation, evaluation, writing and the summary
live in ``fupin.engine.batch``.
"""
from __future__ import annotations

import sys

import click

from ..dsl.errors import FupinError, render_all


class _Jobs(click.ParamType):
    """``--jobs``: ``auto`` or a whole number of processes, at least 1."""

    name = "jobs"

    def convert(self, value, param, ctx):
        if value == "auto" or isinstance(value, int):
            return value
        if isinstance(value, str) and value.isascii() and value.isdigit() and int(value) >= 1:
            return int(value)
        lang = ctx.params.get("lang", "zh") if ctx is not None else "zh"  # --lang is eager: read first
        self.fail(f"`{value}`：应为 auto 或不小于 1 的进程数" if lang == "zh"
                  else f"{value!r} is neither auto nor a number of processes ≥ 1", param, ctx)


JOBS = _Jobs()

# options that belong to one engine: given with the other, they would do nothing
ENGINE_OF = {"jobs": ("local", "--jobs"), "scheduler": ("dask", "--scheduler"),
             "part_rows": ("dask", "--partition-rows")}


def _engine_options(ctx: click.Context, engine_name: str) -> None:
    """E804 for an option given on the command line that the chosen engine does not use
    (``--jobs`` with Dask, ``--scheduler`` or ``--partition-rows`` without it): ignoring it
    would let a run look parallel, or partitioned, when it is not."""
    from ..engine import batch as eb

    for name, (engine, flag) in ENGINE_OF.items():
        if engine != engine_name and ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE:
            raise eb.bad_argument(f"{flag} 只用于 --engine {engine}，本次运行用的是 --engine {engine_name}",
                                  f"{flag} is for --engine {engine} only; this run uses --engine {engine_name}")


@click.command()
@click.argument("policy", type=click.Path())
@click.argument("input_path", metavar="INPUT", type=click.Path())
@click.option("-o", "--output", default=None, type=click.Path(),
              help="Results file (.parquet, .csv or .xlsx), or with --engine dask a folder DIR/ of Parquet parts "
                   "written by the workers / 结果文件（或 --engine dask 时的数据集文件夹 DIR/）")
@click.option("--on", "on", default=None, help="As-of date YYYY-MM-DD (default: the date the policy declares)")
@click.option("--variant", default=None, help="Variant name / 变体")
@click.option("--entity", default=None, help="Entity of the rows (default: the policy's default entity)")
@click.option("--only", default=None, help="Comma-separated outputs / 只求这些输出")
@click.option("--summary", is_flag=True, help="Print counts, totals and incidence / 打印汇总")
@click.option("--summary-file", default=None, type=click.Path(dir_okay=False),
              help="Write every figure of the summary (.json, .csv, .xlsx or .html) / 摘要文件")
@click.option("--format", "summary_fmt", type=click.Choice(["json", "csv", "xlsx", "html"]), default=None,
              help="Format of the summary file (default: from its extension; alone: <OUTPUT stem>.summary.FORMAT)")
@click.option("--top", default=None, type=click.IntRange(min=0),
              help="Groups shown on screen (default: the pack's reports.top) / 屏幕上显示的组数")
@click.option("--quarantine", default=None, type=click.Path(dir_okay=False),
              help="Invalid rows (.csv or .jsonl; default <OUTPUT stem>.quarantine.csv) / 隔离文件")
@click.option("--join", "joins", multiple=True, metavar="LIST=FILE",
              help="CSV of the children of a list field, joined on the child's parent_key / 关联子级 CSV")
@click.option("--members", default=None, type=click.Path(), help="Same as --join members=FILE")
@click.option("--households", default=None, type=click.Path(), help="Same as --join households=FILE")
@click.option("--explain", "explain_id", default=None, help="Explain the row with this id instead / 解释某一行")
@click.option("--chunk-size", default=32_768, show_default=True, type=click.IntRange(min=1), help="Rows per chunk")
@click.option("--jobs", default="1", show_default=True, type=JOBS, metavar="auto|N",
              help="Processes evaluating chunks (local engine): 1 = all in this process; auto = the usable cores; "
                   "the results are the same / 求值进程数（1：单进程；auto：可用核数）")
@click.option("--engine", "engine_name", type=click.Choice(["local", "dask"]), default="local", show_default=True)
@click.option("--scheduler", default=None, help="Dask scheduler address (default: a local cluster)")
@click.option("--partition-rows", "part_rows", default=None, type=click.IntRange(min=1),
              help="Dask: rows per Parquet partition at least, whole row groups (default: 4 x --chunk-size) / 每个分区的最少行数")
@click.option("--three-valued", "three_valued", is_flag=True,
              help="Skip settling unknown outputs by cases: faster where unknowns are common; some outputs "
                   "fupin eval decides stay unknown / 不按情形穷举未知输出（更快，部分输出保持未知）")
@click.option("--unknown", "unknown", type=click.Choice(["compact", "json", "off"]), default="compact",
              show_default=True,
              help="The unknown column in Parquet: compact (per row the ids of dictionary-encoded \"output\": "
                   "[facts] items), json (one JSON text per row, as CSV and .xlsx always hold), or off (no column; "
                   "with --three-valued the facts of unknowns are not tracked) / 未知列的编码")
@click.option("--timings", is_flag=True, help="Print the seconds spent in each stage / 打印各阶段用时")
@click.option("--no-cache", "no_cache", is_flag=True,
              help="Check the policy again, without the cache of checked policies (also FUPIN_NO_CACHE=1) / "
                   "不用已检查政策的缓存")
@click.option("--encoding", default=None,
              help="Encoding of CSV input (e.g. gb18030, utf-8; default: detected) / CSV 输入的编码（默认自动识别）")
@click.option("--bom", is_flag=True, help="CSV output starts with a UTF-8 BOM, for Excel / CSV 输出带 BOM（供 Excel 打开）")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, is_eager=True,
              help="Language of messages / 消息语言")
def batch(policy, input_path, output, on, variant, entity, only, summary, summary_file, summary_fmt, top, quarantine, joins, members, households,
          explain_id, chunk_size, jobs, engine_name, scheduler, part_rows, three_valued, unknown, timings, no_cache, encoding, bom, lang):
    """Evaluate every row of a Parquet, CSV, JSONL or .xlsx dataset; quarantine invalid rows.

    INPUT may name a sheet of a workbook (`book.xlsx#农户`); a joined file may be a CSV,
    a workbook (sheet) or `#SHEET` of the input workbook."""
    from ..engine.reports.identity import HashAhead

    # the run record hashes the input: done meanwhile on the other core, while the batch
    # modules are imported and the policy is loaded on this one (docs/performance.md)
    ahead = HashAhead([input_path]) if output is not None and explain_id is None else None
    from ..engine import batch as eb

    outputs = [s.strip() for s in only.split(",") if s.strip()] if only else None
    try:
        _engine_options(click.get_current_context(), engine_name)
        pol = eb.load(policy, cache=not no_cache)
        summary_path = _summary_path(summary_file, summary_fmt, output)
        job = eb.Job(pol, entity, variant, on, outputs, lang, summary or summary_path is not None,
                     exact=not three_valued, unknown=unknown)
        given = joined(joins, members=members, households=households)
        source = eb.Source(input_path, job.layout, given, chunk_size, encoding=encoding, kept=job.carried)
        if explain_id is not None:
            _explain(pol, job, source, explain_id, variant, on, lang)
            return
        if output is None:
            raise eb.bad_argument("缺少 -o OUTPUT", "missing -o OUTPUT")
        fmt, qpath = eb.output_format(output), eb.quarantine_path(output, quarantine)
        if engine_name != "dask" and eb.is_dataset(output):
            raise eb.bad_argument(f"输出文件夹 `{output}`（Parquet 数据集）由 Dask 工作进程写出：需要 --engine dask",
                                  f"an output folder `{output}` (a Parquet dataset) is written by Dask workers: "
                                  f"it needs --engine dask")
        with Progress(source.total(), lang) as progress:
            if engine_name == "dask":
                report = eb.run_dask_file(job, source, output, fmt, qpath, scheduler, progress, bom, part_rows,
                                          cache=not no_cache)
            else:
                eb.spare_pandas()  # this process is ours: pyarrow need not import pandas
                report = eb.run_batch(job, source, output, fmt, qpath, progress, bom, _jobs(jobs, lang))
        eb.write_record(job, source.input_files(), output, qpath, report, ahead)  # written last: whole files only
    except eb.Stopped as exc:
        print_stopped(exc.report, lang)
        sys.exit(1)
    except FupinError as exc:
        click.echo(render_all(exc.diagnostics, lang), err=True)
        sys.exit(1)
    for w in eb.shown_warnings(report.warnings):
        click.echo(f"warning[{w.code}]: {w.message(lang)}", err=True)
    if report.summary is not None:
        click.echo(eb.render_summary(report.summary, job.program.checked, lang, top))
    if summary_path is not None:
        try:
            eb.write_summary(report.summary, job.program.checked, summary_path, summary_fmt, lang)
        except FupinError as exc:
            click.echo(render_all(exc.diagnostics, lang), err=True)
            sys.exit(1)
    click.echo((f"评估日期 {job.day}" if lang == "zh" else f"as of {job.day}") + ("" if on else (
        "（政策声明的默认日期）" if lang == "zh" else " (the policy's default date)")), err=True)
    for line in eb.report_lines(report, lang):
        click.echo(line, err=True)
    note = eb.settling_note(report)
    if note is not None:
        click.echo(f"info[{note.code}]: {note.message(lang)}\n  = {'提示' if lang == 'zh' else 'hint'}: {note.hint(lang)}",
                   err=True)
    if timings:
        for line in eb.timing_lines(job.timings, report.rows_in, report.seconds, lang):
            click.echo(line, err=True)


def _jobs(value, lang: str) -> int:
    """The processes of ``--jobs`` (workers.py ``jobs_of``; 1, the default, is always 1, and
    then the worker module is not imported); W932 printed before the run when an explicit
    number was lowered to the usable cores."""
    if value == 1:
        return 1
    from ..engine.batch.workers import capped, jobs_of

    jobs = jobs_of(value)
    warning = capped(value, jobs)
    if warning is not None:
        click.echo(warning.render(lang), err=True)
    return jobs


def _summary_path(path, fmt, output):
    """The summary file: ``--summary-file``, or ``<OUTPUT stem>.summary.FMT`` for ``--format``
    alone; None when neither is given."""
    from pathlib import Path

    if path is None and fmt is not None and output is not None:
        out = Path(output)
        path = str(out.with_name(f"{out.stem}.summary.{fmt}"))
    return path


def print_stopped(report, lang: str) -> None:
    """A run that stopped early: its diagnostic, then the accounting line with the reason."""
    from ..engine import batch as eb

    click.echo(render_all([report.stopped], lang), err=True)
    for line in eb.report_lines(report, lang):
        click.echo(line, err=True)


def joined(joins, **shorthands) -> dict:
    """(Shared with ``fupin diff``.) ``--join LIST=FILE`` (and the shorthands) as {list field: path}."""
    from ..engine import batch as eb

    out = {name: path for name, path in shorthands.items() if path}
    for text in joins:
        name, sep, path = text.partition("=")
        if not sep or not name.strip() or not path:
            raise eb.bad_argument(f"--join 应写成 LIST=FILE，而不是 `{text}`", f"--join takes LIST=FILE, not `{text}`")
        out[name.strip()] = path
    return out


def _explain(pol, job, source, ident, variant, on, lang) -> None:
    """Print the explanation of each selected output for the row with this id."""
    from ..engine.batch.explain import find_record, ids_of
    from ..engine.facts.names import no_such_id

    record = find_record(source, ident)
    if record is None:
        raise no_such_id(source.path, str(ident), ids_of(source))
    texts = [pol.explain(record, name, on=on, variant=variant, entity=job.entity, lang=lang, allow_unknown_fields=True)
             for name in job.outputs]
    click.echo("\n\n".join(texts))


class Progress:
    """Rows done on stderr, redrawn in place, only when stderr is a terminal."""

    def __init__(self, total, lang: str):
        self.total, self.lang = total, lang
        self.show = sys.stderr.isatty()
        self._bar = None

    def __enter__(self):
        if self.show and self.total:
            self._bar = click.progressbar(length=self.total, label="batch", file=sys.stderr).__enter__()
        return self

    def __call__(self, done: int) -> None:
        if self._bar is not None:
            self._bar.update(done - self._bar.pos)
        elif self.show:
            click.echo(f"\r{done} " + ("行" if self.lang == "zh" else "rows"), nl=False, err=True)

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.__exit__(*exc)
        elif self.show:
            click.echo("", err=True)
        return False
