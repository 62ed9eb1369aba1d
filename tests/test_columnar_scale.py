"""Columnar = scalar on 100,000 generated households (issue 4's CI comparison).

The generator (engine/tools/generate.py) draws realistic households with 2% of the facts
missing; the batch reader types them; both evaluators then give every household the
same six contract outputs, undecided rows included, and every unknown output the
same facts it waits on. A smaller sample checks every
output of the pack.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from fupin.engine.api import as_date, load_policy
from fupin.engine.batch import Job
from fupin.engine.batch.readers import table_chunk
from fupin.engine.columnar.frame import take
from fupin.engine.tools.generate import generate_households

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = ["guarantees_met", "exit_eligible", "monitoring_tier", "monitoring_measure", "education_aid_once",
            "public_welfare_job_subsidy_monthly"]


def _frame(job, n, seed):
    table = generate_households(n, seed=seed, unknown_rate=0.02)
    checked = job.validator.validate(table_chunk(job.layout, table, 0).level)
    assert not checked.bad.any()
    return checked.frame


def _same(ref, got, names):
    for name in names:
        want = ref.unknown[name] | ref.error[name]
        have = got.unknown[name] | got.error[name]
        assert np.array_equal(want, have), (name, np.flatnonzero(want != have)[:5])
        a, b = ref.decode(name), got.decode(name)
        bad = [i for i in range(len(a)) if a[i] != b[i]]
        assert not bad, (name, bad[:5], [a[i] for i in bad[:3]], [b[i] for i in bad[:3]])
        waits = [i for i in np.flatnonzero(ref.unknown[name]).tolist() if got.facts(name, i) != ref.facts(name, i)]
        assert not waits, (name, waits[:5], [(ref.facts(name, i), got.facts(name, i)) for i in waits[:3]])


def test_contract_outputs_agree_on_100k_generated_households():
    job = Job(load_policy(ROOT / "policy"))
    frame = _frame(job, 100_000, seed=7)
    on = as_date("2020-06-30")
    got = job.columnar.evaluate(frame, on, CONTRACT, why="rows")
    ref = job.columnar.reference(frame, on, CONTRACT)
    _same(ref, got, CONTRACT)
    assert 0 < len(got.undecided_rows()) < frame.n  # the sample does have unknowns


def test_every_pack_output_agrees_on_a_generated_sample():
    job = Job(load_policy(ROOT / "policy"))
    frame = take(_frame(job, 2_000, seed=11), np.arange(2_000))
    for day in ("2020-06-30", "2016-06-30"):
        on = as_date(day)
        _same(job.columnar.reference(frame, on), job.columnar.evaluate(frame, on), job.outputs)
