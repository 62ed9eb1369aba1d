"""A cluster as on several machines: a ``dask scheduler`` and ``dask worker`` processes
started from the command line, each worker in a folder of its own (another machine's
working directory), the data and the policy on storage every process sees at the same
path. ``fupin batch --scheduler`` must give the local run's files, whatever folder it
is started from and however the paths are written; so must a dataset folder (``-o
parts/``) whose parts the workers write themselves on the shared storage."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from fupin.engine.batch import decode_unknown

pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parent.parent
DASK = Path(sys.executable).with_name("dask")


def _start(args, cwd, log):
    return subprocess.Popen([str(DASK), *args], cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    if not DASK.exists():
        pytest.skip("the dask command is not installed beside this Python")
    home = tmp_path_factory.mktemp("cluster")
    file = home / "scheduler.json"
    log = open(home / "cluster.log", "w")
    procs = [_start(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", str(file)],
                    home, log)]
    try:
        end = time.time() + 60
        while not file.exists() and time.time() < end:
            time.sleep(0.2)
        address = json.loads(file.read_text())["address"]
        for n in range(2):  # two "machines", each started in its own folder
            machine = home / f"machine{n}"
            machine.mkdir()
            procs.append(_start(["worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
                                 "--host", "127.0.0.1"], machine, log))
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        log.close()


def _batch(cwd, *args):
    return subprocess.run([sys.executable, "-m", "fupin.cli", "batch", *map(str, args), "--lang", "en"],
                          cwd=cwd, capture_output=True, text=True, timeout=300)


def test_a_run_on_workers_started_elsewhere_is_the_local_run(scheduler, tmp_path):
    shared = tmp_path / "shared"  # what every machine mounts at the same path
    shutil.copytree(ROOT / "policy", shared / "policy", ignore=shutil.ignore_patterns("tests"))
    data = shared / "households.parquet"
    made = subprocess.run([sys.executable, "-m", "fupin.cli", "generate", "400", "-o", str(data), "--seed", "8",
                           "--malformed-rate", "0.05", "--chunk-size", "50"], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    here = tmp_path / "client"
    here.mkdir()
    # relative paths on the client: the workers, in other folders, must still find both
    local = _batch(here, "../shared/policy", "../shared/households.parquet", "-o", "local.parquet", "--chunk-size", "25")
    dask = _batch(here, "../shared/policy", "../shared/households.parquet", "-o", "dask.parquet", "--chunk-size", "25",
                  "--engine", "dask", "--scheduler", scheduler)
    assert local.returncode == 0, local.stderr
    assert dask.returncode == 0, dask.stderr
    # the compact unknown column's dictionaries are per chunk, and a Dask partition is
    # chunked apart: rows are compared by what they decode to
    assert pq.read_schema(here / "local.parquet") == pq.read_schema(here / "dask.parquet")
    assert decode_unknown(pq.read_table(here / "local.parquet")).equals(
        decode_unknown(pq.read_table(here / "dask.parquet")))
    assert (here / "local.quarantine.csv").read_bytes() == (here / "dask.quarantine.csv").read_bytes()
    lines = [ln for ln in dask.stderr.splitlines() if ln.startswith("rows in")]
    assert lines == [ln for ln in local.stderr.splitlines() if ln.startswith("rows in")]
    assert lines[0].startswith("rows in 400 = ")
    # a dataset folder on the shared storage: the workers write the parts, the client the rest
    parts = _batch(here, "../shared/policy", "../shared/households.parquet", "-o", "../shared/parts/", "--chunk-size",
                   "25", "--engine", "dask", "--scheduler", scheduler)
    assert parts.returncode == 0, parts.stderr
    assert [ln for ln in parts.stderr.splitlines() if ln.startswith("rows in")] == lines
    assert len(list((shared / "parts").glob("part-*.parquet"))) == 4 and (shared / "parts" / "_SUCCESS").exists()
    assert decode_unknown(pq.read_table(here / "local.parquet")).equals(decode_unknown(pq.read_table(shared / "parts")))
    assert (here / "local.quarantine.csv").read_bytes() == (shared / "parts.quarantine.csv").read_bytes()
