"""Text fields stay Arrow text until a rule reads them (engine/columnar/frame.py TextColumn).

Making Python strings of a million keys cost ~90 ms of every batch; the output takes its
ids from the input as read, so most rulesets never need them. A rule that does read a
text field must see what the eager conversion gave: the same strings, "" where missing,
also after the frame is cut to its valid rows.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fupin import load_policy
from fupin.engine import batch as eb
from fupin.engine.columnar.frame import Column, Frame, TextColumn, take

ROOT = Path(__file__).resolve().parents[1]
TEXT = pa.array(["H1", None, "编号3", "H4"], pa.string())


@pytest.mark.parametrize("kind", [pa.string(), pa.large_string()])
def test_a_text_column_reads_as_the_eager_conversion(kind):
    col = TextColumn(TEXT.cast(kind), np.array([False, True, False, False]))
    assert col.data.tolist() == ["H1", "", "编号3", "H4"] and col.data.dtype == object
    assert col.data is col.data  # made once


@pytest.mark.parametrize("read_first", [False, True])
def test_rows_of_a_text_column_before_and_after_it_is_read(read_first):
    frame = Frame("household", 4)
    frame.columns["id"] = TextColumn(TEXT, np.array([False, True, False, False]))
    if read_first:
        frame.columns["id"].data
    cut = take(frame, np.array([3, 1, 0]))
    col = cut.columns["id"]
    assert isinstance(col, TextColumn) != read_first and isinstance(col, Column)
    assert col.data.tolist() == ["H4", "", "H1"] and col.missing.tolist() == [False, True, False]


@pytest.fixture()
def reading_policy(tmp_path):
    """The mini policy with a rule that reads the key, a text field."""
    folder = tmp_path / "mini"
    shutil.copytree(ROOT / "tests" / "fixtures" / "mini", folder)
    (folder / "tests").exists() and shutil.rmtree(folder / "tests")
    rules = folder / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8") + '''
  named_h:
    type: bool
    source: "001:78"
    expr: id in {"H1", "编号3"}
''', encoding="utf-8")
    return load_policy(folder)


def test_a_rule_reading_the_key_gets_the_strings_in_batch(reading_policy, tmp_path):
    """Row 2 is quarantined (the frame is cut to the valid rows before evaluating)."""
    rows = [{"id": "H1", "status": "poor"}, {"id": "H2", "status": "rich"}, {"id": "编号3", "status": "poor"},
            {"id": "H4", "status": "exited"}]
    src = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(rows), src)
    job = eb.Job(reading_policy, "household", None, "2020-06-30", ["named_h"], "en", False)
    source = eb.Source(str(src), job.layout, {}, 2)
    eb.run_batch(job, source, str(tmp_path / "out.parquet"), "parquet", str(tmp_path / "q.csv"))
    got = pq.read_table(tmp_path / "out.parquet").to_pylist()
    assert [(r["id"], r["named_h"]) for r in got] == [("H1", True), ("编号3", True), ("H4", False)]
    assert "H2" in (tmp_path / "q.csv").read_text(encoding="utf-8")


def test_a_batch_of_the_benchmark_ruleset_never_makes_the_keys_strings(monkeypatch, tmp_path):
    made, kept = [], []
    original, init = TextColumn.data.fget, TextColumn.__init__
    monkeypatch.setattr(TextColumn, "data", property(lambda self: made.append(1) or original(self)))
    monkeypatch.setattr(TextColumn, "__init__", lambda self, *a: kept.append(1) or init(self, *a))
    rows = [{"id": f"H{i}", "status": "poor", "income_per_capita": "3000", "members": [{"age": 40}]} for i in range(50)]
    src = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(rows), src)
    policy = load_policy(ROOT / "benchmarks" / "small_policy")
    job = eb.Job(policy, "household", None, None, None, "en", False)
    source = eb.Source(str(src), job.layout, {}, 20)
    eb.run_batch(job, source, str(tmp_path / "out.parquet"), "parquet", str(tmp_path / "q.csv"))
    assert pq.read_table(tmp_path / "out.parquet").column("id").to_pylist() == [r["id"] for r in rows]
    assert kept and made == []  # the key of each chunk kept as text (and its cuts), never read
