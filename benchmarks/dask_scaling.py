"""`fupin batch` locally and on Dask (1 and 2 workers), side by side, Parquet → Parquet.

    python benchmarks/dask_scaling.py --households 1000000 --reps 3

Generates the households once (`fupin generate`, row groups of ``--row-group`` rows,
``village_id`` carried), starts the clusters once (their start-up is reported apart: a
long-lived cluster pays it once), then runs local, dask×1 and dask×2 in turn, ``--reps``
times, and prints the median wall time of each, the ratio to the local run, and the load
average before and after. Every run's output must be the same table as the local one.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def batch(args: list) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "fupin.cli.main", "batch", *args], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=200_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--row-group", type=int, default=65_536)
    ap.add_argument("--policy", default=str(ROOT / "policy"))
    ap.add_argument("--only", default="guarantees_met,exit_eligible,monitoring_tier,monitoring_measure,"
                    "education_aid_once,public_welfare_job_subsidy_monthly",
                    help="outputs (default: the six contract outputs; '' for all)")
    ap.add_argument("--unknown-rate", default="0", help="facts left missing (settling them by cases dominates)")
    opts = ap.parse_args()

    import pyarrow.parquet as pq
    from distributed import LocalCluster

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        raw, data = tmp / "raw.parquet", tmp / "h.parquet"
        subprocess.run([sys.executable, "-m", "fupin.cli.main", "generate", str(opts.households), "-o", str(raw),
                        "--seed", "1", "--unknown-rate", opts.unknown_rate], check=True, stdout=subprocess.DEVNULL)
        pq.write_table(pq.read_table(raw), data, row_group_size=opts.row_group, compression="zstd")
        only = ["--only", opts.only] if opts.only else []
        clusters = {}
        for workers in (1, 2):
            started = time.perf_counter()
            clusters[workers] = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                             dashboard_address=None)
            print(f"cluster of {workers} started in {time.perf_counter() - started:.1f} s")
        load_before = os.getloadavg()
        times: dict = {"local": [], "dask×1": [], "dask×2": []}
        for rep in range(opts.reps):
            times["local"].append(batch([opts.policy, str(data), "-o", str(tmp / "local.parquet"), *only]))
            for workers in (1, 2):
                times[f"dask×{workers}"].append(batch([
                    opts.policy, str(data), "-o", str(tmp / f"dask{workers}.parquet"), *only,
                    "--engine", "dask", "--scheduler", clusters[workers].scheduler_address]))
        local = pq.read_table(tmp / "local.parquet")
        for workers in (1, 2):
            assert pq.read_table(tmp / f"dask{workers}.parquet").equals(local), workers
            clusters[workers].close()
        base = statistics.median(times["local"])
        print(f"{opts.households:,} households, row groups of {opts.row_group:,}, {opts.reps} reps, "
              f"load {load_before[0]:.1f} → {os.getloadavg()[0]:.1f}")
        for name, values in times.items():
            med = statistics.median(values)
            print(f"{name:8} median {med:6.2f} s  ({opts.households / med:,.0f} households/s)  "
                  f"×{med / base:.2f} of local  runs {', '.join(f'{v:.2f}' for v in values)}")


if __name__ == "__main__":
    main()
