"""The start-up of ``fupin batch`` with and without the cache of checked policies.

    python benchmarks/startup.py POLICY INPUT.parquet [--pairs 10] [--bytecode]

Alternating, ``--pairs`` times: ``fupin batch POLICY INPUT`` in a fresh interpreter with
``FUPIN_NO_CACHE=1`` (the policy checked: YAML, schema, parser, checker), then the same with
the policy read from the cache (engine/cache.py; written by one untimed run first, in a
folder of this run's own). A small INPUT (1,000 households) makes the wall clock the
start-up. Prints the medians (wall and CPU), the median of the per-pair ratios, the load average before
and after, and a JSON object. ``--bytecode``: fupin's modules' bytecode cached (in this
run's temporary folder), as an installed package has it.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(policy, data, out, env, cpu: list | None = None) -> float:
    """Wall seconds of one run; its CPU seconds (user + sys) appended to ``cpu``."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "fupin.cli", "batch", str(policy), str(data), "-o", str(out)],
                   check=True, capture_output=True, env=env, cwd=ROOT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if cpu is not None:
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return wall


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("policy")
    ap.add_argument("input")
    ap.add_argument("--pairs", type=int, default=10)
    ap.add_argument("--bytecode", action="store_true")
    args = ap.parse_args(argv)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, FUPIN_CACHE_DIR=str(Path(tmp) / "cache"))
        if args.bytecode:
            env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
            env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.pop("FUPIN_NO_CACHE", None)
        out = Path(tmp) / "out.parquet"
        run(args.policy, args.input, out, env)  # untimed: the entry (and the bytecode)
        checked, cached, checked_cpu, cached_cpu = [], [], [], []
        for _ in range(args.pairs):
            checked.append(run(args.policy, args.input, out, dict(env, FUPIN_NO_CACHE="1"), checked_cpu))
            cached.append(run(args.policy, args.input, out, env, cached_cpu))
    ratios = [c / n for c, n in zip(cached, checked)]
    row = {"policy": args.policy, "input": args.input, "bytecode": args.bytecode, "pairs": args.pairs,
           "checked_s": statistics.median(checked), "cached_s": statistics.median(cached),
           "cached_over_checked": statistics.median(ratios), "checked_runs": checked, "cached_runs": cached,
           "checked_cpu_s": statistics.median(checked_cpu), "cached_cpu_s": statistics.median(cached_cpu),
           "cached_over_checked_cpu": statistics.median(c / n for c, n in zip(cached_cpu, checked_cpu)),
           "loadavg_before": load_before, "loadavg_after": os.getloadavg()}
    print(f"{args.policy}: checked {row['checked_s']:.3f} s, cached {row['cached_s']:.3f} s "
          f"(× {row['cached_over_checked']:.2f}); CPU {row['checked_cpu_s']:.3f} s, {row['cached_cpu_s']:.3f} s "
          f"(× {row['cached_over_checked_cpu']:.2f}); load {load_before[0]:.2f} → {os.getloadavg()[0]:.2f}",
          file=sys.stderr)
    print(json.dumps(row, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
