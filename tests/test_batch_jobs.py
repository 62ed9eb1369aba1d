"""``fupin batch --jobs N``: the same run in worker processes as in one (workers.py).

Every case runs the same input with one process and with two, and compares what a user
gets: the result table (Parquet: the same table; where the chunks are the same, the
same bytes), the quarantine file byte for byte, the counts, the warnings and the
summary. Inputs: generated households with malformed rows and an undeclared column as
Parquet of many row groups (the workers read the row groups) and of one (the main
process reads the chunks and hands them over), the fixture households as JSON lines,
as CSV joined with its members file, and villages as three joined CSV files. Runs that
stop are accounted the same way (an exception in a worker, input that cannot be
decoded), and a worker that is killed stops the run with E834, leaving no file that
looks complete.
"""
from __future__ import annotations

import decimal
import os
import signal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from fupin.cli.main import main
from fupin.engine import batch as eb
from fupin.engine.batch import decode_unknown, pipeline, workers
from fupin.engine.tools.generate import generate_households

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures" / "batch"
POLICY = str(ROOT / "policy")

pytestmark = pytest.mark.skipif(not workers.can_fork(), reason="worker processes are forked")


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Generated households (5 % malformed) with an undeclared column: Parquet of six row
    groups, and of one."""
    folder = tmp_path_factory.mktemp("jobs")
    table = generate_households(1200, seed=3, malformed_rate=0.05)
    table = table.append_column("remark", pa.array([f"r{i}" for i in range(table.num_rows)]))
    many, one = folder / "many.parquet", folder / "one.parquet"
    pq.write_table(table, many, row_group_size=200)
    pq.write_table(table, one)
    return {"many": many, "one": one}


@pytest.fixture
def spy(monkeypatch):
    """The number of worker pools started, per run."""
    started = []
    real = workers.Workers

    def counted(*args, **kw):
        started.append(args[2])
        return real(*args, **kw)

    monkeypatch.setattr(workers, "Workers", counted)  # pipeline imports it when a run forks
    return started


def run(pack, path, folder, jobs, joined=None, chunk_size=64, entity="household", out="out.parquet", **kw):
    """One run: (result, quarantine text, counts, warnings, summary text); the result is
    the Parquet table read back and the file's bytes, or the CSV text."""
    job = eb.Job(pack, entity, None, None, None, "en", summary=True, **kw)
    source = eb.Source(str(path), job.layout, joined or {}, chunk_size, kept=job.carried)
    folder = Path(folder) / f"jobs{jobs}"
    folder.mkdir(exist_ok=True)
    target, qpath = folder / out, folder / "q.csv"
    report = eb.run_batch(job, source, str(target), eb.output_format(target), str(qpath), jobs=jobs)
    result = (pq.read_table(target), target.read_bytes()) if out.endswith(".parquet") else target.read_text("utf-8")
    counts = (report.rows_in, report.rows_out, report.rows_quarantined, report.orphans)
    warnings = [w.message("en") for w in report.warnings]
    summary = eb.render_summary(report.summary, job.program.checked, "en", None)
    return result, qpath.read_text("utf-8"), counts, warnings, summary


CASES = {
    # name: (input, joined files, entity, chunk size, output, same chunks as one process)
    "parquet row groups": ("many", None, "household", 64, "out.parquet", False),
    "parquet one row group": ("one", None, "household", 64, "out.parquet", True),
    "jsonl": (FIX / "households.jsonl", None, "household", 7, "out.parquet", True),
    "csv joined": (FIX / "households.csv", {"members": FIX / "members.csv"}, "household", 7, "out.csv", True),
    "csv joined, shuffled": (FIX / "households.csv", {"members": FIX / "members_shuffled.csv"}, "household", 7,
                             "out.parquet", True),
    "csv villages": (FIX / "villages.csv", {"households": FIX / "village_households.csv",
                                            "members": FIX / "village_members.csv"}, "village", 2, "out.csv", True),
}


@pytest.mark.parametrize("name", list(CASES))
def test_two_processes_same_as_one(pack, generated, tmp_path, spy, name):
    path, joined, entity, size, out, same_chunks = CASES[name]
    path = generated.get(path, path)
    one = run(pack, path, tmp_path, 1, joined, size, entity, out)
    two = run(pack, path, tmp_path, 2, joined, size, entity, out)
    assert set(spy) == {2}  # the second run did use two workers (the first none; twice if it restarts)
    if out.endswith(".parquet"):  # the compact unknown column's dictionaries are per chunk: compared decoded
        assert decode_unknown(two[0][0]).equals(decode_unknown(one[0][0]))
        assert (two[0][1] == one[0][1]) == same_chunks  # row groups: the workers' chunks are the row groups'
    else:
        assert two[0] == one[0]
    assert two[1:] == one[1:]
    assert one[2][2] > 0 or name == "csv villages"  # rows were quarantined, with their reasons
    if name.startswith("parquet"):
        assert one[3] and "remark" in one[3][0]  # W906, once


def test_three_valued_compact_unknown(pack, generated, tmp_path, spy):
    """The benchmark's settings: three-valued, the compact unknown column."""
    one = run(pack, generated["many"], tmp_path, 1, exact=False)
    two = run(pack, generated["many"], tmp_path, 3, exact=False)
    assert spy == [3] and decode_unknown(two[0][0]).equals(decode_unknown(one[0][0])) and two[1:] == one[1:]


def test_one_chunk_runs_in_process(pack, tmp_path, spy):
    """Nothing to share: no worker is started."""
    one = run(pack, FIX / "households.jsonl", tmp_path, 1, chunk_size=1000)
    two = run(pack, FIX / "households.jsonl", tmp_path, 2, chunk_size=1000)
    assert spy == [] and two[1:] == one[1:]


def _overflow_at(row: int):
    """A Job.process that raises decimal.Overflow on the chunk holding input row ``row``."""
    real = eb.Job.process

    def process(self, chunk, settle=True):
        if row in chunk.rows:
            raise decimal.Overflow([decimal.Overflow])
        return real(self, chunk, settle)

    return process


def _stopped(pack, path, folder, jobs, joined=None, chunk_size=64):
    with pytest.raises(eb.Stopped) as caught:
        run(pack, path, Path(folder), jobs, joined, chunk_size)
    report = caught.value.report
    left = sorted(p.name for p in (Path(folder) / f"jobs{jobs}").iterdir())
    return (report.rows_in, report.rows_out, report.rows_quarantined), report.stopped, left


@pytest.mark.parametrize("name", ["many", "one", "csv"])
def test_stopped_run_accounted_the_same(pack, generated, tmp_path, monkeypatch, name):
    """An exception in a worker stops the run where one process stops it, with the same
    counts (where the chunks are the same) and reason; no result or quarantine file is
    left, complete or partial."""
    monkeypatch.setattr(eb.Job, "process", _overflow_at(30 if name == "csv" else 700))
    path, joined, size = (FIX / "households.csv", {"members": FIX / "members.csv"}, 7) if name == "csv" \
        else (generated[name], None, 64)
    one = _stopped(pack, path, tmp_path, 1, joined, size)
    two = _stopped(pack, path, tmp_path, 2, joined, size)
    assert one[0][0] > one[0][1] + one[0][2] and two[0][0] > two[0][1] + two[0][2]  # stopped part way
    if name != "many":  # the same chunks: stopped at the same row (row groups: at the row group's chunk)
        assert one[0] == two[0]
    assert (one[1].code, one[1].message("en")) == (two[1].code, two[1].message("en")) == (
        "E833", "the batch stopped early: Overflow: [<class 'decimal.Overflow'>]")
    assert one[2] == two[2] == []


def test_undecodable_input_accounted_the_same(pack, tmp_path):
    """Reading fails in the main process part way: the chunks in flight are finished first."""
    text = (FIX / "households.csv").read_bytes().split(b"\n")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\n".join(text[:30] + [text[30] + b"\xff\xfe"] + text[31:]))
    one = _stopped_csv(pack, bad, tmp_path, 1)
    two = _stopped_csv(pack, bad, tmp_path, 2)
    assert one == two and one[1][0] == "E830"


def _stopped_csv(pack, path, folder, jobs):
    report, left = _stop(pack, "household", path, {"members": FIX / "members.csv"}, 3, folder, jobs)
    return (report.rows_in, report.rows_out, report.rows_quarantined), (report.stopped.code,), left


def _stop(pack, entity, path, joined, chunk_size, folder, jobs):
    """A run that must stop: its report and the files it left named ``out<jobs>…``."""
    job = eb.Job(pack, entity, None, None, None, "en")
    source = eb.Source(str(path), job.layout, joined, chunk_size, encoding="utf-8", kept=job.carried)
    out = Path(folder) / f"out{jobs}.parquet"
    with pytest.raises(eb.Stopped) as caught:
        eb.run_batch(job, source, str(out), "parquet", str(out) + ".q.csv", jobs=jobs)
    left = [p.name for p in Path(folder).iterdir() if p.name.startswith(f"out{jobs}")]
    return caught.value.report, left


@pytest.mark.parametrize("name", ["many", "one"])
def test_killed_worker_stops_the_run(pack, generated, tmp_path, monkeypatch, name):
    """A worker killed (as the kernel's OOM killer would) stops the run with E834; the
    other worker is ended and no file that looks complete is left."""
    parent, real = os.getpid(), eb.Job.process

    def process(self, chunk, settle=True):
        if os.getpid() != parent and 700 in chunk.rows:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(self, chunk, settle)

    monkeypatch.setattr(eb.Job, "process", process)
    counts, stopped, left = _stopped(pack, generated[name], tmp_path, 2)
    assert stopped.code == "E834" and left == []
    assert stopped.message("en") == "the batch worker process fupin-batch-1 ended unexpectedly (signal 9)" \
        or stopped.message("en") == "the batch worker process fupin-batch-0 ended unexpectedly (signal 9)"
    assert 700 <= counts[0] <= 1200 and counts[0] > counts[1] + counts[2]  # the lost rows: read, not processed
    lines = pipeline.stopped_lines(Report(counts, stopped), "zh")
    assert "批处理工作进程 fupin-batch-" in lines[0] and "意外结束（信号 9）" in lines[0] and "signal" not in lines[0]


def Report(counts, stopped):
    report = pipeline.Report(*counts)
    report.stopped = stopped
    return report


@pytest.mark.parametrize("given, jobs", [("auto", workers.usable_cores()), (None, workers.usable_cores()),
                                         ("1", 1), (1, 1), (2, min(2, workers.usable_cores())),
                                         (100000, workers.usable_cores())])
def test_jobs_of(given, jobs):
    assert workers.jobs_of(given) == jobs


@pytest.mark.parametrize("given, cores, capped", [(3, 2, 2), (2, 2, None), (1, 2, None), ("auto", 2, None),
                                                  (None, 2, None), (100000, 1, 1), ("5", 4, 4)])
def test_jobs_capped_at_cores(given, cores, capped, monkeypatch):
    """An explicit N above the usable cores runs that many and says so (W932); never more."""
    monkeypatch.setattr(workers, "usable_cores", lambda: cores)
    monkeypatch.setattr(workers, "can_fork", lambda: True)
    jobs = workers.jobs_of(given)
    assert jobs == (capped or (cores if given in ("auto", None) else int(given)))
    warning = workers.capped(given, jobs)
    assert (warning is None) == (capped is None)
    if warning is not None:
        assert warning.render("en") == (
            f"<arguments>:0:0: warning[W932]: --jobs {int(given)} is more than the {cores} core(s) this process "
            f"may use: running {cores} process(es)\n"
            "  = hint: processes beyond the cores only take memory; --jobs auto uses the cores there are")
        assert warning.render("zh").splitlines()[0] == (
            f"<arguments>:0:0: warning[W932]: --jobs {int(given)} 多于本进程可用的 {cores} 个核：按 {cores} 个进程运行")


@pytest.mark.parametrize("lang, first", [("zh", "warning[W932]: --jobs 9999 多于本进程可用的"),
                                         ("en", "warning[W932]: --jobs 9999 is more than the")])
def test_jobs_capped_on_the_command_line(lang, first, tmp_path):
    """The CLI prints W932 once, in one language, and the run completes with the cores there are."""
    out = tmp_path / "o.csv"
    result = CliRunner().invoke(main, ["batch", POLICY, str(FIX / "households.jsonl"), "-o", str(out),
                                       "--jobs", "9999", "--lang", lang])
    assert result.exit_code == 0, result.output
    if workers.can_fork():
        assert result.output.count("warning[W932]") == 1 and first in result.output
        assert ("提示" in result.output) == (lang == "zh") and ("hint" in result.output) == (lang == "en")
    assert out.exists()


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5", "²"])
@pytest.mark.parametrize("lang_args, lang_first", [(["--lang", "en"], False), (["--lang", "en"], True),
                                                   (["--lang", "zh"], False), ([], False)])
def test_jobs_option_refuses(value, lang_args, lang_first, tmp_path):
    """One language per message, --lang's wherever it is written (it is read first); zh by default."""
    rest = [POLICY, str(FIX / "households.jsonl"), "-o", str(tmp_path / "o.csv"), "--jobs", value]
    args = ["batch", *lang_args, *rest] if lang_first else ["batch", *rest, *lang_args]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    if lang_args[-1:] == ["en"]:
        assert f"'{value}' is neither auto nor a number of processes ≥ 1" in result.output
        assert "进程数" not in result.output
    else:
        assert f"`{value}`：应为 auto 或不小于 1 的进程数" in result.output
        assert "neither" not in result.output


@pytest.mark.parametrize("args, lang, text", [
    (["--jobs", "2", "--engine", "dask"], "en", "invalid input: --jobs is for --engine local only; this run uses --engine dask"),
    (["--engine", "dask", "--jobs", "1"], "zh", "输入无效：--jobs 只用于 --engine local，本次运行用的是 --engine dask"),
    (["--scheduler", "tcp://127.0.0.1:1"], "en", "invalid input: --scheduler is for --engine dask only; this run uses --engine local"),
    (["--partition-rows", "5"], "zh", "输入无效：--partition-rows 只用于 --engine dask，本次运行用的是 --engine local"),
])
def test_an_option_of_the_other_engine_is_refused(args, lang, text, tmp_path):
    """An option the chosen engine would ignore stops the run before anything is read (E804
    at <arguments>, one language): a run must not look parallel or partitioned when it is not."""
    result = CliRunner().invoke(main, ["batch", POLICY, str(FIX / "households.jsonl"), "-o", str(tmp_path / "o.csv"),
                                       "--lang", lang, *args])
    assert result.exit_code == 1 and f"<arguments>:0:0: error[E804]: {text}" in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("group_rows", [30, 100])
def test_first_chunk_lists_checked_as_one_process_reads_it(pack, tmp_path, group_rows):
    """E816 is decided on the run's first chunk: with row groups smaller than a chunk the
    workers do not read them (their first chunk would be another), so the households'
    missing ``members`` stop the run with --jobs 2 as with one process."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"id": f"V{i}", "population": 100,
             "households": [] if i < 30 else [{"id": f"H{i}", "registered": True, "status": "poor"}]}
            for i in range(200)]
    path = tmp_path / "villages.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=group_rows)
    got = []
    for jobs in (1, 2):
        report, left = _stop(pack, "village", path, {}, 100, tmp_path, jobs)
        got.append((report.stopped.code, report.stopped.message("en"), report.rows_in, report.rows_out))
        assert not left, "no result file after E816"
    assert got[0] == got[1] and got[0][0] == "E816" and "households[].members" in got[0][1]


def test_task_that_cannot_be_pickled_stops_the_run(pack, tmp_path, monkeypatch):
    """A chunk that cannot be pickled for its worker (memory) stops the run with E833 at
    once; it is never dropped silently, which would pair later outcomes with other chunks."""
    real, calls = workers.pickle.dumps, []

    def dumps(obj, *args):
        calls.append(1)
        if len(calls) == 3:
            raise MemoryError("no room for this chunk")
        return real(obj, *args)

    monkeypatch.setattr(workers.pickle, "dumps", dumps)
    job = eb.Job(pack, "household", None, None, None, "en")
    source = eb.Source(str(FIX / "households.jsonl"), job.layout, {}, 2, kept=job.carried)
    with pytest.raises(eb.Stopped) as caught:
        eb.run_batch(job, source, str(tmp_path / "out.csv"), "csv", str(tmp_path / "q.csv"), jobs=2)
    stopped = caught.value.report.stopped
    assert stopped.code == "E833" and "MemoryError: no room for this chunk" in stopped.message("en")
    assert not list(tmp_path.glob("out*"))


def test_another_entity_seen_across_chunks_as_one_process_sees_it(pack, tmp_path):
    """E817 weighs a chunk's columns with the undeclared ones of the chunks before it: a
    worker is told them, so JSON lines whose fields change from row to row stop with
    --jobs 2 as with one process (and the warnings keep their order when they do not)."""
    rows = ['{"id":"H1","registered":true,"members":[],"population":100}',
            '{"id":"H2","registered":true,"members":[],"road_hardened":true,"broadband_village":true}']
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    got = []
    for jobs in (1, 2):
        report, _ = _stop(pack, "household", path, {}, 1, tmp_path, jobs)
        got.append((report.stopped.code, report.stopped.message("en"), report.rows_in, report.rows_out,
                    [w.message("en") for w in report.warnings]))
    assert got[0] == got[1] and got[0][0] == "E817"
