"""``fupin diff POLICY INPUT -o CHANGED``: one dataset under two settings (engine/batch/compare.py).

Arguments and printing only: reading, validation, the two evaluations, the comparison
and the report files live in ``fupin.engine.batch``.
"""
from __future__ import annotations

import sys

import click

from ..dsl.errors import FupinError, render_all
from .batch import Progress, joined, print_stopped


@click.command()
@click.argument("policy", type=click.Path())
@click.argument("input_path", metavar="INPUT", type=click.Path())
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Changed rows: key, each changed output before/after, why (.parquet, .csv, .xlsx) / 变化明细")
@click.option("--on", "on", default=None, help="As-of date of the first setting (default: the policy's)")
@click.option("--vs-on", "vs_on", default=None, help="As-of date of the second setting (default: --on)")
@click.option("--variant", default=None, help="Variant of the first setting / 第一个设置的变体")
@click.option("--vs-variant", "vs_variant", default=None, help="Variant of the second setting / 第二个设置的变体")
@click.option("--vs-policy", "vs_policy", default=None, type=click.Path(),
              help="Pack folder of the second setting (default: POLICY) / 第二个设置的政策包")
@click.option("--entity", default=None, help="Entity of the rows (default: the policy's default entity)")
@click.option("--only", default=None, help="Comma-separated outputs to compare (default: all both have)")
@click.option("--by", "by", default=None, help="Key columns to group by (default: the pack's reports.levels)")
@click.option("--report", "report_path", default=None, type=click.Path(dir_okay=False),
              help="Every figure (.json, .csv, .xlsx or .html) / 报告文件")
@click.option("--format", "report_fmt", type=click.Choice(["json", "csv", "xlsx", "html"]), default=None,
              help="Format of the report (default: its extension; alone: <OUTPUT stem>.report.FORMAT)")
@click.option("--top", default=None, type=click.IntRange(min=0), help="Groups shown on screen / 屏幕上显示的组数")
@click.option("--quarantine", default=None, type=click.Path(dir_okay=False),
              help="Invalid rows (.csv or .jsonl; default <OUTPUT stem>.quarantine.csv) / 隔离文件")
@click.option("--join", "joins", multiple=True, metavar="LIST=FILE", help="CSV of the children of a list field")
@click.option("--members", default=None, type=click.Path(), help="Same as --join members=FILE")
@click.option("--households", default=None, type=click.Path(), help="Same as --join households=FILE")
@click.option("--chunk-size", default=32_768, show_default=True, type=click.IntRange(min=1), help="Rows per chunk")
@click.option("--engine", "engine_name", type=click.Choice(["local", "dask"]), default="local", show_default=True)
@click.option("--scheduler", default=None, help="Dask scheduler address (default: a local cluster)")
@click.option("--traced", default=10, show_default=True, type=click.IntRange(min=0),
              help="Changed rows per chunk whose deciding table row or exception is traced (decided column)")
@click.option("--three-valued", "three_valued", is_flag=True, help="Skip settling unknown outputs by cases")
@click.option("--timings", is_flag=True, help="Print the seconds spent in each stage / 打印各阶段用时")
@click.option("--no-cache", "no_cache", is_flag=True,
              help="Check the packs again, without the cache of checked policies (on Dask workers too) / "
                   "不用已检查政策的缓存")
@click.option("--encoding", default=None, help="Encoding of CSV input (default: detected)")
@click.option("--bom", is_flag=True, help="CSV output starts with a UTF-8 BOM, for Excel")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
def diff(policy, input_path, output, on, vs_on, variant, vs_variant, vs_policy, entity, only, by, report_path,
         report_fmt, top, quarantine, joins, members, households, chunk_size, engine_name, scheduler, traced,
         three_valued, timings, no_cache, encoding, bom, lang):
    """Evaluate a dataset under two settings (dates, variants or packs) and report what changed.

    Facts are read and validated once; invalid rows are quarantined as in `fupin batch`."""
    from ..engine import batch as eb
    from ..engine.batch import compare

    outputs = _names(only)
    try:
        first = eb.load(policy, cache=not no_cache)
        other = eb.load(vs_policy, cache=not no_cache) if vs_policy else None
        job = compare.DiffJob(first, other, entity, variant, vs_variant, on, vs_on, outputs, lang,
                              exact=not three_valued, levels=tuple(_names(by)) if by else None, traced=traced)
        source = eb.Source(input_path, job.layout, joined(joins, members=members, households=households),
                           chunk_size, encoding=encoding, kept=job.first.carried)
        fmt, qpath = eb.output_format(output), eb.quarantine_path(output, quarantine)
        path = _report_path(report_path, report_fmt, output)
        with Progress(source.total(), lang) as progress:
            report = compare.run(job, source, output, fmt, qpath, progress, bom, engine_name, scheduler,
                                 (policy, vs_policy), cache=not no_cache)
        click.echo(eb.render_diff(report.summary, job, lang, top))
        if path is not None:
            eb.write_diff(report.summary, job, path, report_fmt, output, lang)
    except eb.Stopped as exc:
        print_stopped(exc.report, lang)
        sys.exit(1)
    except FupinError as exc:
        click.echo(render_all(exc.diagnostics, lang), err=True)
        sys.exit(1)
    for w in eb.shown_warnings(report.warnings):
        click.echo(f"warning[{w.code}]: {w.message(lang)}", err=True)
    for line in eb.report_lines(report, lang):
        click.echo(line, err=True)
    if timings:
        for line in eb.timing_lines(job.timings, report.rows_in, report.seconds, lang):
            click.echo(line, err=True)


def _names(text):
    return [s.strip() for s in text.split(",") if s.strip()] if text else None


def _report_path(path, fmt, output):
    """The report file: ``--report``, or ``<OUTPUT stem>.report.FMT`` for ``--format`` alone."""
    from pathlib import Path

    if path is None and fmt is not None:
        out = Path(output)
        path = str(out.with_name(f"{out.stem}.report.{fmt}"))
    return path
