"""`fupin batch --engine dask` gives the local run's files, byte for byte.

One LocalCluster of two worker processes serves the module (starting one costs seconds).
Generated households with malformed rows, a `village_id` key to carry, and row groups of
7 rows read with `--chunk-size 3`, so a Parquet file is cut into several partitions of
whole row groups (12 rows at least: four chunks each), read on the workers. The same run
locally is the reference: results, quarantine (global row numbers), the accounting line,
`--bom`, and a run that stops early (no file left that looks complete).
"""
from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from fupin.cli.main import main
from fupin.engine import batch as eb
from fupin.engine.batch import decode_unknown
from fupin.engine.batch.distributed import parquet_parts

ROOT = Path(__file__).resolve().parent.parent
POLICY = str(ROOT / "policy")

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as c:
        yield c.scheduler_address


@pytest.fixture(scope="module")
def households(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dask")
    whole = folder / "whole.parquet"
    res = CliRunner().invoke(main, ["generate", "60", "-o", str(whole), "--seed", "5", "--malformed-rate", "0.1",
                                    "--unknown-rate", "0.05", "--villages-of", "9"])
    assert res.exit_code == 0, res.output
    path = folder / "h.parquet"
    pq.write_table(pq.read_table(whole), path, row_group_size=7)
    return path


def run(*args):
    return CliRunner().invoke(main, ["batch", POLICY, *map(str, args), "--lang", "en"])


def test_parts_are_whole_row_groups_numbered_from_the_footer(households):
    parts = parquet_parts(str(households), 12)
    assert [p.row_groups for p in parts] == [(0, 1), (2, 3), (4, 5), (6, 7), (8,)]
    assert [p.start for p in parts] == [0, 14, 28, 42, 56]


@pytest.mark.parametrize("suffix, flags", [(".csv", ["--bom"]), (".parquet", [])])
def test_dask_run_is_the_local_run(cluster, households, tmp_path, suffix, flags):
    local = run(households, "-o", tmp_path / f"local{suffix}", "--chunk-size", "3", *flags)
    dask = run(households, "-o", tmp_path / f"dask{suffix}", "--chunk-size", "3", "--engine", "dask",
               "--scheduler", cluster, *flags)
    assert local.exit_code == 0 and dask.exit_code == 0, (local.output, dask.output)
    accounting = [line for line in local.stderr.splitlines() if "rows in" in line]
    assert accounting and accounting[0].startswith("rows in 60 = ") and "quarantined 0" not in accounting[0]
    assert accounting == [line for line in dask.stderr.splitlines() if "rows in" in line]
    for name in (f"{{}}{suffix}", "{}.quarantine.csv"):
        a, b = tmp_path / name.format("local"), tmp_path / name.format("dask")
        if suffix == ".parquet" and "quarantine" not in name:
            # the same columns; the compact unknown column's dictionaries are per chunk
            # (a Dask partition holds several), so rows are compared by what they decode to
            assert pq.read_schema(a) == pq.read_schema(b)
            assert decode_unknown(pq.read_table(a)).equals(decode_unknown(pq.read_table(b)))
            assert "village_id" in pq.read_table(b).column_names  # the key is carried
        else:
            assert a.read_bytes() == b.read_bytes()
    if flags:
        assert (tmp_path / "dask.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_dask_run_that_stops_leaves_no_output(cluster, tmp_path):
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 not really a parquet file PAR1")
    res = run(broken, "-o", tmp_path / "out.csv", "--engine", "dask", "--scheduler", cluster)
    assert res.exit_code == 1
    assert "error[E804]" in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.parquet"]


def test_dask_csv_input_is_the_local_run(cluster, tmp_path):
    """CSV input (GB18030 here) goes through dask.dataframe partitions; the same files as locally."""
    lines = ["id,paired_households,fewest_visits,fewest_goods,problems_solved,township_id"]
    for i in range(40):
        visits = "很多" if i % 9 == 4 else str(i % 5)  # not an integer: quarantined
        lines.append(f"干部{i},{i % 6},{visits},{(i * 37) % 400}.5,{i % 3},乡{i // 10}")
    csv_in = tmp_path / "cadres.csv"
    csv_in.write_bytes(("\n".join(lines) + "\n").encode("gb18030"))
    common = ["--entity", "cadre", "--bom"]
    local = run(csv_in, "-o", tmp_path / "local.csv", *common)
    dask = run(csv_in, "-o", tmp_path / "dask.csv", *common, "--engine", "dask", "--scheduler", cluster)
    assert local.exit_code == 0 and dask.exit_code == 0, (local.output, dask.output)
    assert "rows in 40 = rows out 36 + rows quarantined 4" in local.stderr
    assert (tmp_path / "local.csv").read_bytes() == (tmp_path / "dask.csv").read_bytes()
    assert (tmp_path / "local.quarantine.csv").read_bytes() == (tmp_path / "dask.quarantine.csv").read_bytes()
    assert "干部0" in (tmp_path / "dask.csv").read_text(encoding="utf-8-sig")
