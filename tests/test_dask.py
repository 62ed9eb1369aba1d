"""`fupin batch --engine dask` gives the local run's files, byte for byte.

One LocalCluster of two worker processes serves the module (starting one costs seconds).
Generated households with malformed rows, a `village_id` key to carry, and row groups of
7 rows read with `--chunk-size 3`, so a Parquet file is cut into several partitions of
whole row groups (12 rows at least: four chunks each), read on the workers. The same run
locally is the reference: results, quarantine (global row numbers), the accounting line,
`--bom`, and a run that stops early (no file left that looks complete). A dataset folder
(`-o out/`, each task writing its part on the worker) read in name order is the local run
too, and a run that stops leaves no part and no `_SUCCESS` where a reader would look.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from fupin.cli.main import main
from fupin.engine import batch as eb
from fupin.engine.batch import decode_unknown
from fupin.dsl.errors import FupinError
from fupin.engine.batch.dataset import DatasetWriter, dataset_hash, write_part
from fupin.engine.batch.distributed import balanced_parts, parquet_parts

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


# --- a dataset folder (`-o out/`): each task writes its part on the worker (dataset.py)


@pytest.mark.parametrize("flags", [[], ["--unknown", "json", "--summary"]])
def test_dataset_parts_read_in_name_order_are_the_local_run(cluster, households, tmp_path, flags):
    local = run(households, "-o", tmp_path / "local.parquet", "--chunk-size", "3", *flags)
    dask = run(households, "-o", f"{tmp_path / 'out'}/", "--chunk-size", "3", "--engine", "dask",
               "--scheduler", cluster, *flags)
    assert local.exit_code == 0 and dask.exit_code == 0, (local.output, dask.output)
    assert [ln for ln in local.stderr.splitlines() if "rows in" in ln] == \
        [ln for ln in dask.stderr.splitlines() if "rows in" in ln]
    assert local.stdout == dask.stdout  # the summary, merged from the parts' counts
    out = tmp_path / "out"
    names = sorted(p.name for p in out.iterdir())
    count = len(balanced_parts(str(households), 2, 12))  # cut for the cluster's 2 workers
    assert names == ["_SUCCESS", *(f"part-{i:05d}.parquet" for i in range(count))]  # one part per partition
    a = pq.read_table(tmp_path / "local.parquet")
    b = pq.read_table(out)  # pyarrow reads the parts in name order and skips _SUCCESS
    assert a.schema == b.schema
    assert decode_unknown(a).equals(decode_unknown(b))
    assert (tmp_path / "local.quarantine.csv").read_bytes() == (tmp_path / "out.quarantine.csv").read_bytes()
    record = json.loads((tmp_path / "out.record.json").read_text())
    assert record["results"]["sha256"] == dataset_hash(out)
    assert record["rows_in"] == 60
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left


def _corrupt_row_group(path, group: int) -> None:
    """Overwrite a row group's column chunks with garbage: the footer still reads, the group does not."""
    meta = pq.ParquetFile(path).metadata.row_group(group)
    data = bytearray(path.read_bytes())
    for j in range(meta.num_columns):
        col = meta.column(j)
        start = min(o for o in (col.dictionary_page_offset, col.data_page_offset) if o is not None)
        data[start:start + col.total_compressed_size] = b"\xff" * col.total_compressed_size
    path.write_bytes(bytes(data))


def test_a_dataset_run_that_stops_leaves_nothing_that_looks_complete(cluster, households, tmp_path):
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(households.read_bytes())
    _corrupt_row_group(broken, 6)  # a later partition: the others write their parts
    res = run(broken, "-o", f"{tmp_path / 'out'}/", "--chunk-size", "3", "--engine", "dask", "--scheduler", cluster)
    assert res.exit_code == 1, res.output
    assert "error[E804]" in res.stderr and "stopped early" in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == ["broken.parquet"]
    assert not list(tmp_path.rglob("_SUCCESS")) and not list(tmp_path.rglob("part-*.parquet"))


def test_a_dataset_output_needs_dask(households, tmp_path):
    res = run(households, "-o", f"{tmp_path / 'out'}/")
    assert res.exit_code == 1
    assert "error[E804]" in res.stderr and "needs --engine dask" in res.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_dataset_replaces_only_a_dataset(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "part-00000.parquet").write_bytes(b"old")
    (out / "_SUCCESS").touch()
    writer = DatasetWriter(f"{out}/")
    write_part(writer.folder, 0, 1, pa.schema([("id", pa.string())]), lambda sink: sink(pa.table({"id": ["a"]})))
    writer.parts = 1
    writer.commit()
    assert pq.read_table(out).column("id").to_pylist() == ["a"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    (out / "notes.txt").write_text("mine")
    with pytest.raises(FupinError) as exc:
        DatasetWriter(out)
    assert exc.value.diagnostics[0].code == "E804" and "notes.txt" in exc.value.diagnostics[0].message("en")


def test_a_killed_runs_staging_folder_is_removed_by_the_next_run(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".out.{int(dead.stdout)}.part"
    stale.mkdir()
    (stale / "part-00000.parquet").write_bytes(b"half")
    writer = DatasetWriter(tmp_path / "out")
    assert not stale.exists()
    writer.parts = 1
    with pytest.raises(FupinError) as exc:  # part 0 was never written: not committed
        writer.commit()
    assert exc.value.diagnostics[0].code == "E831"
    writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_partition_rows_sets_the_parts(cluster, households, tmp_path):
    res = run(households, "-o", f"{tmp_path / 'out'}/", "--engine", "dask", "--scheduler", cluster,
              "--partition-rows", "20")
    assert res.exit_code == 0, res.output
    # row groups of 7 rows: partitions of 21, 21 and 18 rows
    assert sorted(p.name for p in (tmp_path / "out").glob("part-*")) == [f"part-{i:05d}.parquet" for i in range(3)]


@pytest.fixture(scope="module")
def bad_last(households, tmp_path_factory):
    """The fixture's valid rows in row groups of 7, then a group holding one invalid row
    (the input's last), then an empty group: 9 groups that 2 workers cannot share evenly."""
    folder = tmp_path_factory.mktemp("bad_last")
    assert run(households, "-o", folder / "probe.parquet").exit_code == 0
    bad = [int(line.split(",")[0]) - 1 for line in (folder / "probe.quarantine.csv").read_text().splitlines()[1:]]
    table = pq.read_table(households)
    good = table.take([i for i in range(table.num_rows) if i not in bad][:49])
    path = folder / "bad_last.parquet"
    with pq.ParquetWriter(path, table.schema) as writer:
        for start in range(0, 49, 7):
            writer.write_table(good.slice(start, 7))
        writer.write_table(table.take([bad[0]]))
        writer.write_table(table.slice(0, 0))
    return path


@pytest.mark.parametrize("flags, parts", [([], None), (["--partition-rows", "1"], 9)])
def test_a_bad_last_row_and_an_empty_partition(cluster, bad_last, tmp_path, flags, parts):
    """The default cut, and one partition per row group (the last holding no row): the
    quarantine, accounting line and rows of the local run."""
    local = run(bad_last, "-o", tmp_path / "local.parquet")
    dask = run(bad_last, "-o", f"{tmp_path / 'out'}/", "--engine", "dask", "--scheduler", cluster, *flags)
    assert local.exit_code == 0 and dask.exit_code == 0, (local.output, dask.output)
    accounting = [ln for ln in local.stderr.splitlines() if "rows in" in ln]
    assert accounting == ["rows in 50 = rows out 49 + rows quarantined 1"]
    assert accounting == [ln for ln in dask.stderr.splitlines() if "rows in" in ln]
    quarantine = (tmp_path / "local.quarantine.csv").read_text()
    assert quarantine.splitlines()[1].startswith("50,")  # the last row, numbered as locally
    assert quarantine == (tmp_path / "out.quarantine.csv").read_text()
    assert decode_unknown(pq.read_table(tmp_path / "local.parquet")).equals(decode_unknown(pq.read_table(tmp_path / "out")))
    names = sorted((tmp_path / "out").glob("part-*"))
    if parts is not None:
        assert len(names) == parts and pq.read_metadata(names[-1]).num_rows == 0  # the empty partition's part
        assert pq.read_metadata(names[-2]).num_rows == 0  # the invalid row's: no result row


def test_workers_leave_the_cache_alone_with_no_cache(households, tmp_path):
    """`--no-cache` reaches the workers (the job spec carries it): a worker whose cache
    folder is its own stores no checked policy; without the flag it does."""
    stored = tmp_path / "worker-cache"
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                                  env={"FUPIN_CACHE_DIR": str(stored)}) as single:
        common = ["--engine", "dask", "--scheduler", single.scheduler_address, "--only", "monitoring_tier"]
        res = run(households, "-o", tmp_path / "a.parquet", *common, "--no-cache")
        assert res.exit_code == 0, res.output
        assert not stored.exists() or not list(stored.iterdir())
        res = run(households, "-o", tmp_path / "b.parquet", *common)
        assert res.exit_code == 0, res.output
        assert list(stored.iterdir())  # the same worker, through its cache this time


def test_a_pack_edited_between_runs_is_loaded_again_by_the_workers(cluster, households, tmp_path):
    """Workers keep the compiled job between runs, under the pack's revision: an edit
    (the exit income line raised) gives the edited pack's results, not the kept ones."""
    pack = tmp_path / "pack"
    shutil.copytree(ROOT / "benchmarks" / "small_policy", pack)
    results = []
    for n in range(2):
        if n:
            rules = pack / "household.yaml"
            rules.write_text(rules.read_text(encoding="utf-8").replace("2016-01-01: 4000\n", "2016-01-01: 400000\n"),
                             encoding="utf-8")
        common = [str(pack), str(households), "--lang", "en", "-o"]
        local = CliRunner().invoke(main, ["batch", *common, str(tmp_path / f"local{n}.parquet")])
        dask = CliRunner().invoke(main, ["batch", *common, str(tmp_path / f"dask{n}.parquet"), "--engine", "dask",
                                         "--scheduler", cluster])
        assert local.exit_code == 0 and dask.exit_code == 0, (local.output, dask.output)
        results.append(decode_unknown(pq.read_table(tmp_path / f"local{n}.parquet")))
        assert results[-1].equals(decode_unknown(pq.read_table(tmp_path / f"dask{n}.parquet")))
    assert not results[0].equals(results[1])  # the edit changed some household's results


BOGUS = "sha256:" + "0" * 64


@pytest.mark.parametrize("lang, text", [
    ("en", "error[E835]: the pack `{root}` a Dask worker read differs from this run's (this run: revision "
           "000000000000; the worker: revision {found})"),
    ("zh", "error[E835]: Dask 工作节点读到的政策包 `{root}` 与本次运行不同（本次运行：修订 000000000000，工作节点：修订 {found}）"),
])
def test_a_worker_reading_another_pack_refuses_it(lang, text):
    """What a worker runs (JobSpec.job, DiffSpec.job): a pack whose revision is not the
    client's is E835 at its folder, never evaluated."""
    from fupin.engine.batch.compare import DiffSpec
    from fupin.engine.batch.distributed import JobSpec

    found = eb.load(POLICY).revision.removeprefix("sha256:")[:12]
    for spec in (JobSpec(POLICY, revision=BOGUS), DiffSpec(POLICY, None, revisions=(BOGUS, BOGUS))):
        with pytest.raises(FupinError) as caught:
            spec.job()
        assert text.format(root=POLICY, found=found) in caught.value.render(lang)


def test_a_run_whose_worker_reads_another_pack_stops_accounted(cluster, households, tmp_path):
    """On a cluster: the run stops with E835 and the accounting line, and leaves no result."""
    from fupin.engine.batch.distributed import JobSpec, run_file

    pack = eb.load(POLICY)
    job = eb.Job(pack, "household", None, None, ["monitoring_tier"], "en")
    source = eb.Source(str(households), job.layout, {}, 32768, kept=job.carried)
    out = tmp_path / "out.parquet"
    with pytest.raises(eb.Stopped) as caught:
        run_file(job, source, str(out), "parquet", str(tmp_path / "out.quarantine.csv"), scheduler=cluster,
                 spec=JobSpec(POLICY, "household", None, job.day.isoformat(), ("monitoring_tier",), "en",
                              revision=BOGUS))
    assert caught.value.report.stopped.code == "E835"
    assert not out.exists() and not (tmp_path / "out.quarantine.csv").exists()
