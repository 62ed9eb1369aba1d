"""A three-valued batch evaluates a few chunks as one frame and writes each chunk's part.

``frame.concat`` puts the validated frames of consecutive chunks one after another
(children re-pointed at their parents' new rows) and ``ColumnarResult.part`` cuts the
result of that frame back into each chunk's result; pipeline.py's ``Job.process_group``
then writes each chunk as it would have written it alone. Checked here: on generated
pack households (facts left out, so that outputs are unknown and wait on facts),
evaluating parts of random sizes (empty ones included) as one frame gives each part the
values, masks, facts and compact ``unknown`` column of its own evaluation; and whole
``fupin batch`` runs with invalid rows, small chunks and each output format write the
same bytes grouped as chunk by chunk.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fupin.cli.main import main
from fupin.engine.api import as_date, load_policy
from fupin.engine.batch import pipeline
from fupin.engine.batch.outputs import explanations
from fupin.engine.columnar.frame import concat, from_records
from fupin.engine.columnar.program import ColumnarProgram
from fupin.engine.tools.generate import generate_households, records, write_households

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = int(os.environ.get("FUPIN_EXAMPLES", "6"))
ON = as_date("2020-06-30")
_PACK: dict = {}


def _pack():
    if not _PACK:
        p = load_policy(ROOT / "policy")
        checker = p.facts_checker(None)
        raws = records(generate_households(60, 5, unknown_rate=0.3))
        typed = [checker.validate(r, "household")[0] for r in raws]
        _PACK.update(policy=p, columnar=ColumnarProgram(p.program()), checked=p.program().checked,
                     typed=[t for t in typed if t is not None])
    return _PACK


def _same_result(got, alone) -> None:
    for name in alone.outputs:
        assert np.array_equal(got.unknown[name], alone.unknown[name]), name
        assert np.array_equal(got.error[name], alone.error[name]), name
        ok = ~(alone.unknown[name] | alone.error[name])
        assert list(got.values[name][ok]) == list(alone.values[name][ok]), name
        for row in np.flatnonzero(alone.unknown[name]).tolist():
            assert got.facts(name, row) == alone.facts(name, row), (name, row)
    for mine, theirs in zip(explanations(got, "en", "compact"), explanations(alone, "en", "compact")):
        assert mine.equals(theirs)


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(st.integers(0, 25), min_size=2, max_size=4))
def test_parts_of_one_evaluation_are_each_frames_own(sizes):
    pack = _pack()
    typed, checked, program = pack["typed"], pack["checked"], pack["columnar"]
    frames, at = [], 0
    for size in sizes:  # consecutive households, wrapping around the sample
        frames.append(from_records(checked, "household", [typed[(at + k) % len(typed)] for k in range(size)]))
        at += size
    joined = concat(frames)
    assert joined is not None and joined.n == sum(sizes)
    if not joined.n:
        return
    result = program.evaluate(joined, ON, why=True, exact=False)
    start = 0
    for frame in frames:
        part = result.part(start, start + frame.n, frame)
        start += frame.n
        if frame.n:
            _same_result(part, program.evaluate(frame, ON, why=True, exact=False))


def test_frames_of_other_fields_are_not_joined():
    checked = _pack()["checked"]
    a = from_records(checked, "household", _pack()["typed"][:3])
    b = from_records(checked, "household", _pack()["typed"][3:5])
    b.columns.pop(next(iter(b.columns)))
    assert concat([a, b]) is None


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("groups")
    made = {}
    for fmt in ("parquet", "jsonl"):
        path = folder / f"h.{fmt}"
        write_households(300, path, seed=7, unknown_rate=0.2, malformed_rate=0.03)
        made[fmt] = path
    return folder, made


@pytest.mark.parametrize("source, out, args", [
    ("parquet", "r.parquet", []),
    ("parquet", "r.parquet", ["--unknown", "json", "--quarantine", "{dir}/q.jsonl"]),
    ("jsonl", "r.csv", []),
    ("jsonl", "r.parquet", ["--summary-file", "{dir}/s.json"]),
])
def test_a_grouped_run_writes_what_a_run_chunk_by_chunk_writes(inputs, monkeypatch, source, out, args):
    folder, made = inputs
    written = {}
    for label, rows in (("grouped", pipeline.GROUP_ROWS), ("alone", 1)):
        monkeypatch.setattr(pipeline, "GROUP_ROWS", rows)
        target = folder / label
        target.mkdir(exist_ok=True)
        argv = ["batch", str(ROOT / "policy"), str(made[source]), "-o", str(target / out), "--three-valued",
                "--chunk-size", "16", *[a.replace("{dir}", str(target)) for a in args]]
        res = CliRunner().invoke(main, argv)
        assert res.exit_code == 0, res.output
        written[label] = {p.name: p.read_bytes() for p in sorted(target.iterdir()) if not p.name.endswith(".record.json")}
    assert written["grouped"].keys() == written["alone"].keys()
    assert len(written["grouped"]) >= 2  # results and quarantine
    for name, data in written["grouped"].items():
        assert data == written["alone"][name], name
