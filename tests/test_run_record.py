"""A finished `fupin batch` writes its decision record beside the results (runrecord.py).

The record names the policy revision (the hash `fupin eval`'s records carry), the date,
variant and entity, and the sha256 of every input read and every file written, with the
accounting line's counts; a run that stops writes none.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from fupin import load_policy
from fupin.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
POLICY = str(ROOT / "policy")


def sha(path) -> str:
    return "sha256:" + hashlib.sha256(Path(path).read_bytes()).hexdigest()


def run(*args):
    return CliRunner().invoke(main, ["batch", POLICY, *map(str, args), "--lang", "en"])


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("records")
    res = CliRunner().invoke(main, ["generate", "40", "-o", str(folder / "h.csv"), "--seed", "3",
                                    "--malformed-rate", "0.1"])
    assert res.exit_code == 0, res.output
    return folder


@pytest.mark.parametrize("flags, variant, on", [([], "base", "2020-06-30"),
                                                (["--variant", "anhui-2020", "--on", "2021-03-01"], "anhui-2020",
                                                 "2021-03-01")])
def test_record_describes_the_run(data, tmp_path, flags, variant, on):
    out = tmp_path / "out.parquet"
    res = run(data / "h.csv", "--members", data / "h.members.csv", "-o", out, "--only", "monitoring_tier", *flags)
    assert res.exit_code == 0, res.output
    record = json.loads((tmp_path / "out.record.json").read_text(encoding="utf-8"))
    counts = next(line for line in res.stderr.splitlines() if line.startswith("rows in"))
    assert counts == (f"rows in {record['rows_in']} = rows out {record['rows_out']} + rows quarantined "
                      f"{record['rows_quarantined']}")
    assert record["rows_quarantined"] > 0 and record["rows_in"] == 40
    assert record["schema"] == "fupin.batch-record/1" and record["run_id"].startswith("r-")
    assert record["policy_revision"] == load_policy(POLICY).revision
    assert (record["variant"], record["on"], record["entity"], record["outputs"]) == (
        variant, on, "household", ["monitoring_tier"])
    assert [f["path"] for f in record["inputs"]] == [str(data / "h.csv"), str(data / "h.members.csv")]
    assert all(f["sha256"] == sha(f["path"]) for f in record["inputs"])
    assert record["results"]["sha256"] == sha(out)
    assert record["quarantine"]["sha256"] == sha(tmp_path / "out.quarantine.csv")


def test_a_run_that_stops_writes_no_record(tmp_path):
    (tmp_path / "in.jsonl").write_text('{"id": "A", "status": "exited", "members": []}\n', encoding="utf-8")
    out = tmp_path / "out.csv"
    res = run(tmp_path / "in.jsonl", "-o", out, "--only", "no_such_output")
    assert res.exit_code == 1
    assert not (tmp_path / "out.record.json").exists() and not out.exists()


def test_the_record_a_killed_run_left_half_written_is_removed_by_the_next(data, tmp_path):
    """A run killed while writing its record (it hashes every output first) leaves
    `.out.record.json.PID.part`; the next run to the same output removes it, as it does
    the results' own temporary files, and writes its whole record."""
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    left = tmp_path / f".out.record.json.{int(dead.stdout)}.part"
    left.write_text('{"schema": "fupin.batch-rec', encoding="utf-8")
    res = run(data / "h.csv", "--members", data / "h.members.csv", "-o", tmp_path / "out.parquet")
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.parquet", "out.quarantine.csv", "out.record.json"]
