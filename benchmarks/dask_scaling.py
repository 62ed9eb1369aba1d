"""`fupin batch` locally and on Dask (1 and 2 workers; single file or dataset folder;
partition sizes; threads per worker), side by side, Parquet → Parquet.

    python benchmarks/dask_scaling.py --households 1000000 --reps 2

Generates the households once (`fupin generate`, row groups of ``--row-group`` rows,
``village_id`` carried), starts the clusters once (their start-up is reported apart: a
long-lived cluster pays it once), then runs every configuration in turn, ``--reps``
rounds (alternating, so that a change of load hits all of them), each a fresh
`fupin batch` process: policy loading and cluster connection are in every figure.

Printed per configuration: the median wall time, households/s, the ratio to the local
run of the same round (median of the per-round ratios), the client's CPU seconds (the
`fupin batch` process: user + sys), the 1-minute load average at the start of each run,
and for Dask runs the workers' CPU seconds (user + sys of the worker processes, summed)
and seconds per stage (summed over workers, last round; reading and writing run in
threads of their own beside the other stages, so stages overlap;
the first round also pays each worker's policy load, ``load``, in the printed round lines). Every output (a file, or a
dataset's parts in name order) must hold the same rows as the local one.
"""
from __future__ import annotations

import argparse
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def batch(args: list) -> tuple:
    """Wall seconds and CPU seconds (user + sys) of one `fupin batch` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "fupin.cli.main", "batch", *args], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def configurations(opts) -> list:
    """(name, workers, threads per worker, output kind, partition rows) of each run."""
    runs = [("local", 0, 0, "file", None)]
    for workers in (1, 2):
        runs += [(f"dask×{workers} file", workers, 1, "file", None),
                 (f"dask×{workers} dataset", workers, 1, "dataset", None)]
    for rows in opts.partitions:  # no comma in a name: --runs lists names separated by commas
        runs.append((f"dask×2 dataset ≥{rows} rows a partition", 2, 1, "dataset", rows))
    if opts.threads > 1:
        runs.append((f"dask×2 dataset, {opts.threads} threads", 2, opts.threads, "dataset", None))
    if opts.runs:
        wanted = [w.strip() for w in opts.runs.split(",")]
        runs = [r for r in runs if r[0] == "local" or r[0] in wanted]
    return runs


def worker_cpu() -> float:
    """This process's CPU seconds so far (user + sys, every thread): run on each worker."""
    return time.process_time()


def same_rows(path: Path, reference) -> bool:
    import pyarrow.parquet as pq
    from fupin.engine.batch import decode_unknown

    return decode_unknown(pq.read_table(path)).equals(reference)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=200_000)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--row-group", type=int, default=65_536)
    ap.add_argument("--partitions", default="65536,262144",
                    help="partition sizes (rows, at least: --partition-rows) swept with 2 workers and a dataset; "
                         "'' for none (the default cuts the row groups for the workers, near 131,072 rows a "
                         "partition; 131072 gives the cut of sessions 12-16)")
    ap.add_argument("--threads", type=int, default=2, help="also run 2 workers of this many threads (1: skip)")
    ap.add_argument("--runs", default="", help="only these configurations besides local, comma-separated names "
                    "(e.g. 'dask×2 file,dask×2 dataset')")
    ap.add_argument("--policy", default=str(ROOT / "policy"))
    ap.add_argument("--only", default="guarantees_met,exit_eligible,monitoring_tier,monitoring_measure,"
                    "education_aid_once,public_welfare_job_subsidy_monthly",
                    help="outputs (default: the six contract outputs; '' for all)")
    ap.add_argument("--unknown-rate", default="0", help="facts left missing (settling them by cases dominates)")
    ap.add_argument("--data", default=None, help="an existing input Parquet file (skips generating)")
    ap.add_argument("--tmp", default=None, help="folder for the data and outputs (default: the system's)")
    opts = ap.parse_args()
    opts.partitions = [int(x) for x in opts.partitions.split(",") if x.strip()]

    import pyarrow.parquet as pq
    from distributed import Client, LocalCluster
    from fupin.engine.batch import decode_unknown
    from fupin.engine.batch.distributed import worker_timings

    with tempfile.TemporaryDirectory(dir=opts.tmp) as tmp:
        tmp = Path(tmp)
        data = Path(opts.data) if opts.data else tmp / "h.parquet"
        if not opts.data:
            raw = tmp / "raw.parquet"
            subprocess.run([sys.executable, "-m", "fupin.cli.main", "generate", str(opts.households), "-o", str(raw),
                            "--seed", "1", "--unknown-rate", opts.unknown_rate], check=True, stdout=subprocess.DEVNULL)
            pq.write_table(pq.read_table(raw), data, row_group_size=opts.row_group, compression="zstd")
            raw.unlink()
        else:  # the rows and row groups the file has, not the options' defaults, label the table
            meta = pq.ParquetFile(data).metadata
            opts.households, opts.row_group = meta.num_rows, meta.row_group(0).num_rows
        only = ["--only", opts.only] if opts.only else []
        runs = configurations(opts)
        clusters, clients = {}, {}
        for shape in sorted({(w, t) for _, w, t, _, _ in runs if w}):
            started = time.perf_counter()
            clusters[shape] = LocalCluster(n_workers=shape[0], threads_per_worker=shape[1], processes=True,
                                           dashboard_address=None, silence_logs=logging.WARNING)
            clients[shape] = Client(clusters[shape])
            print(f"cluster of {shape[0]}×{shape[1]} threads started in {time.perf_counter() - started:.1f} s")
        figures: dict = {name: [] for name, *_ in runs}
        reference = None
        for rep in range(opts.reps):
            for name, workers, threads, kind, rows in runs:
                out = tmp / ("out" if kind == "dataset" else "out.parquet")
                args = [opts.policy, str(data), "-o", f"{out}/" if kind == "dataset" else str(out), *only]
                if workers:
                    args += ["--engine", "dask", "--scheduler", clusters[(workers, threads)].scheduler_address]
                if rows:
                    args += ["--partition-rows", str(rows)]
                load = os.getloadavg()[0]
                before = clients[(workers, threads)].run(worker_cpu) if workers else {}
                wall, cpu = batch(args)
                stages = {}
                if workers:
                    after = clients[(workers, threads)].run(worker_cpu)
                    stages["CPU"] = sum(after[w] - before.get(w, 0.0) for w in after)
                    per_worker = clients[(workers, threads)].run(worker_timings)
                    for timings in per_worker.values():
                        for stage, s in timings.items():
                            stages[stage] = stages.get(stage, 0.0) + s
                if reference is None:
                    reference = decode_unknown(pq.read_table(out))
                else:
                    assert same_rows(out, reference), name
                figures[name].append((wall, cpu, load, stages))
                workers_cpu = f"  workers' cpu {stages['CPU']:5.2f} s" if workers else ""
                print(f"  round {rep + 1} {name:34} {wall:6.2f} s  client cpu {cpu:5.2f} s{workers_cpu}  load {load:.2f}",
                      flush=True)
        for shape in clusters:
            clients[shape].close()
            clusters[shape].close()
        report(opts, figures)


def report(opts, figures: dict) -> None:
    base = [wall for wall, *_ in figures["local"]]
    print(f"\n{opts.households:,} households, row groups of {opts.row_group:,}, {opts.reps} rounds")
    print("| run | median s | households/s | × local (per round) | client CPU s | load at start | workers' CPU s, then stages (s, summed) |")
    print("|---|---|---|---|---|---|---|")
    for name, runs in figures.items():
        walls = [w for w, *_ in runs]
        med = statistics.median(walls)
        ratios = [w / b for w, b in zip(walls, base)]
        cpu = statistics.median(c for _, c, _, _ in runs)
        loads = ", ".join(f"{lo:.1f}" for _, _, lo, _ in runs)
        last = runs[-1][3]
        stages = ", ".join(f"{k} {v:.1f}" for k, v in last.items() if v >= 0.05) or "-"
        print(f"| {name} | {med:.2f} ({', '.join(f'{w:.2f}' for w in walls)}) | {opts.households / med:,.0f} | "
              f"{statistics.median(ratios):.2f} ({', '.join(f'{r:.2f}' for r in ratios)}) | {cpu:.2f} | {loads} | "
              f"{stages} |")


if __name__ == "__main__":
    main()
