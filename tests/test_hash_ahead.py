"""`fupin batch` hashes its input for the run record in a thread while it starts up
(reports/identity.py ``HashAhead``). The record must still state the hash of the file as
it is when the run ends: a hash computed ahead is used only for a file that has not
changed since, and anything else is hashed again by the record."""
from __future__ import annotations

import hashlib
import os

import pytest

from fupin.engine.reports.identity import HashAhead, file_sha256


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("size", [0, 1, (1 << 20) + 7])
def test_an_unchanged_file_has_its_hash_ahead(tmp_path, size):
    data = os.urandom(size)
    path = tmp_path / "in.parquet"
    path.write_bytes(data)
    ahead = HashAhead([str(path)])
    assert ahead.get(str(path)) == file_sha256(path) == _sha(data)
    assert ahead.get(path) == _sha(data)  # a Path names the same file


def test_a_changed_missing_or_unnamed_file_has_none(tmp_path):
    path, other = tmp_path / "in.csv", tmp_path / "other.csv"
    path.write_bytes(b"id\nH1\n")
    other.write_bytes(b"x")
    ahead = HashAhead([str(path), str(tmp_path / "absent.csv"), str(tmp_path)])
    assert ahead.get(str(path)) == _sha(b"id\nH1\n")
    path.write_bytes(b"id\nH1\nH2\n")  # changed after hashing: the record hashes it again
    assert ahead.get(str(path)) is None
    assert ahead.get(str(tmp_path / "absent.csv")) is None
    assert ahead.get(str(tmp_path)) is None  # a folder (a dataset) is hashed by the record
    assert ahead.get(str(other)) is None  # not hashed ahead


def test_the_batch_record_states_the_input_hash(tmp_path):
    """Through the command: the record's input hash is the file's, as without hashing ahead."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq
    from click.testing import CliRunner

    from fupin.cli.main import main

    src = tmp_path / "in.parquet"
    member = pa.struct([("age", pa.int64())])
    pq.write_table(pa.table({"id": ["H1"], "registered": [True], "status": ["poor"],
                             "income_per_capita": pa.array([3000], pa.decimal128(14, 2)),
                             "members": pa.array([[{"age": 30}]], pa.list_(member))}), src)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    r = CliRunner().invoke(main, ["batch", os.path.join(root, "benchmarks", "small_policy"), str(src),
                                  "-o", str(tmp_path / "out.parquet"), "--lang", "en"])
    assert r.exit_code == 0, r.output
    record = json.loads((tmp_path / "out.record.json").read_text(encoding="utf-8"))
    assert record["inputs"] == [{"path": str(src), "sha256": _sha(src.read_bytes())}]
