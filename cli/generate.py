"""``fupin generate N -o FILE``: write deterministic, realistic households (engine/tools/generate.py)."""
from __future__ import annotations

import sys

import click


@click.command()
@click.argument("n", type=click.IntRange(min=0))
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False),
              help="File to write (.parquet, .jsonl or .csv) / 输出文件")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0), help="Random seed: same seed, same bytes / 随机种子")
@click.option("--format", "fmt", type=click.Choice(["parquet", "jsonl", "csv"]), default=None,
              help="Output format (default: from the file suffix)")
@click.option("--unknown-rate", default=0.0, show_default=True, type=click.FloatRange(0, 1),
              help="Fraction of optional facts left null (unknown) / 未知事实比例")
@click.option("--malformed-rate", default=0.0, show_default=True, type=click.FloatRange(0, 1),
              help="Fraction of rows made invalid; listed in <stem>.expected_invalid.csv / 无效行比例")
@click.option("--villages-of", default=300, show_default=True, type=click.IntRange(min=1),
              help="Households per village (village_id) / 每村户数")
@click.option("--chunk-size", default=100_000, show_default=True, type=click.IntRange(min=1),
              help="Households generated and written at a time (bounds memory)")
@click.option("--fields", type=click.Choice(["pack", "contract"]), default="pack", show_default=True,
              help="Every fact of policy/entities.yaml, or issue 3's contract facts only")
def generate(n, output, seed, fmt, unknown_rate, malformed_rate, villages_of, chunk_size, fields):
    """Write N generated households (members nested; CSV: plus <stem>.members.csv)."""
    from ..engine.tools.generate import write_households

    show = sys.stderr.isatty()
    with click.progressbar(length=n, label="generate", file=sys.stderr) if show else _Null() as bar:
        try:
            written = write_households(n, output, fmt, seed=seed, progress=bar.update, unknown_rate=unknown_rate,
                                       malformed_rate=malformed_rate, villages_of=villages_of,
                                       chunk_size=chunk_size, fields=fields)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
    click.echo(f"{written.rows} households, {written.malformed} malformed → "
               + ", ".join(str(f) for f in written.files))


class _Null:
    """A stand-in for the progress bar when stderr is not a terminal."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, _n: int) -> None:
        pass
