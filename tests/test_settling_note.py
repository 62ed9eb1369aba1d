"""I933: a run whose settling of unknown outputs by cases took a second or more and a
quarter of the run or more says so, with how many outputs it decided, and points to
--three-valued; the counts are the same in one process, in worker processes and on Dask."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from fupin.cli.main import main
from fupin.engine import batch as eb
from fupin.engine.batch import pipeline

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def households(tmp_path_factory):
    from conftest import generated_parquet  # the pack's facts leave outputs unknown: most rows are searched

    return generated_parquet(tmp_path_factory.mktemp("settling"), 300, 5)


def run(households, out, *flags, lang="en"):
    return CliRunner().invoke(main, ["batch", str(ROOT / "policy"), str(households), "-o", str(out), "--lang", lang,
                                     "--chunk-size", "100", *flags])


def searched_decided(text):
    found = re.search(r"and decided ([\d,]+) of ([\d,]+)", text)
    return tuple(int(g.replace(",", "")) for g in found.groups()[::-1])


def test_the_note_says_what_settling_cost_and_decided(households, tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "SETTLING_NOTED", (0.0, 0.0))  # noted however fast this machine is
    res = run(households, tmp_path / "a.parquet")
    assert res.exit_code == 0, res.output
    note = [line for line in res.stderr.splitlines() if "I933" in line or line.startswith("  = hint")]
    assert re.fullmatch(r"info\[I933\]: settling unknown outputs by cases took \d+\.\d s \(\d+% of the run\) "
                        r"and decided [\d,]+ of [\d,]+", note[0]), note
    searched, decided = searched_decided(note[0])
    assert searched > decided >= 0
    assert note[1] == (f"  = hint: where facts are often missing this step dominates; --three-valued skips it "
                       f"(those {decided:,} outputs then stay unknown, and no possible values are listed)")
    zh = run(households, tmp_path / "z.parquet", lang="zh").stderr
    assert f"个未知输出中定下 {decided:,} 个" in zh and "提示: 事实常缺时这一步最费时；--three-valued 跳过它" in zh
    assert "I933" not in run(households, tmp_path / "t.parquet", "--three-valued").stderr
    jobs = run(households, tmp_path / "j.parquet", "--jobs", "2").stderr  # worker processes add theirs up
    assert searched_decided(jobs) == (searched, decided)


def test_no_note_for_a_run_that_settled_quickly(households, tmp_path):
    """With the default thresholds (1 s and a quarter of the run) a small run says nothing."""
    assert "I933" not in run(households, tmp_path / "q.parquet", "--only", "monitoring_tier").stderr


def test_the_report_adds_up_the_chunks():
    report = eb.Report()
    for settling in [(3, 1, 0.5), None, (2, 0, 0.25)]:
        report.settle_add(settling)
    assert report.settling == (5, 1, 0.75)
