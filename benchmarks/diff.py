"""``fupin diff`` against one ``fupin batch`` run and against two batch runs plus a join.

    python benchmarks/diff.py                        # 1M households, the six benchmark outputs
    python benchmarks/diff.py --n 200000 --outputs all --reps 3
    python benchmarks/diff.py --setting anhui       # the Anhui variant: many rows change

Each command runs in a fresh interpreter (``python -m fupin.cli``), Parquet → Parquet,
on generated households (cached in benchmarks/data/). The comparison is two dates of
one pack (``--on 2020-06-30 --vs-on 2022-09-01``: parameters dated 2021-04-20 and
2022-08-24 move in between), so the facts are read and validated once and evaluated
twice. The baseline "two batch runs + join" runs ``fupin batch`` for each date and
joins the two result files by id with pyarrow, counting the rows where an output
differs. The medians of ``--reps`` runs and the ratios are printed and written to
benchmarks/out/diff.json.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PACK = ROOT / "policy"
SIX = ["guarantees_met", "exit_eligible", "monitoring_tier", "monitoring_measure", "education_aid_once",
       "public_welfare_job_subsidy_monthly"]
ON, VS_ON = "2020-06-30", "2022-09-01"
# the second setting: another date of the pack, or the Anhui variant (many rows change)
SETTINGS = {"dates": (["--on", ON, "--vs-on", VS_ON], ["--on", VS_ON]),
            "anhui": (["--on", ON, "--vs-variant", "anhui-2020"], ["--on", ON, "--variant", "anhui-2020"])}


def fupin(*args) -> float:
    """Wall seconds of one ``fupin`` command in a fresh interpreter (its output discarded)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "fupin.cli", *map(str, args)], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def data(n: int) -> Path:
    """The generated input of ``n`` households (every field of the pack), made once."""
    path = HERE / "data" / f"households_{n}.parquet"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fupin("generate", n, "-o", path, "--seed", 0)
    return path


def joined_changes(a: Path, b: Path, outputs) -> int:
    """Rows where some output differs between two batch result files (joined by id)."""
    left = pq.read_table(a, columns=["id", *outputs])
    right = pq.read_table(b, columns=["id", *outputs]).rename_columns(["id", *(f"{o}:b" for o in outputs)])
    both = left.join(right, "id")
    changed = None
    for o in outputs:
        x, y = both[o].cast("string"), both[f"{o}:b"].cast("string")
        differ = pc.invert(pc.fill_null(pc.equal(x, y), False))
        differ = pc.and_(differ, pc.invert(pc.and_(pc.is_null(x), pc.is_null(y))))
        changed = differ if changed is None else pc.or_(changed, differ)
    return int(pc.sum(changed).as_py() or 0)


def measure(n: int, outputs, reps: int, work: Path, setting: str = "dates") -> dict:
    """Median wall seconds of batch, diff, and two batches + join."""
    src = data(n)
    only = ",".join(outputs)
    times = {"batch": [], "diff": [], "two batches + join": []}
    for _ in range(reps):
        times["batch"].append(fupin("batch", PACK, src, "-o", work / "a.parquet", "--on", ON, "--only", only))
        vs, second = SETTINGS[setting]
        times["diff"].append(fupin("diff", PACK, src, "-o", work / "changed.parquet", *vs,
                                   "--only", only, "--report", work / "report.json"))
        started = time.perf_counter()
        fupin("batch", PACK, src, "-o", work / "a.parquet", "--on", ON, "--only", only)
        fupin("batch", PACK, src, "-o", work / "b.parquet", *second, "--only", only)
        joined = joined_changes(work / "a.parquet", work / "b.parquet", outputs)
        times["two batches + join"].append(time.perf_counter() - started)
    report = json.loads((work / "report.json").read_text(encoding="utf-8"))
    assert report["changed"] == joined, (report["changed"], joined)  # the same answer both ways
    medians = {k: statistics.median(v) for k, v in times.items()}
    return {"n": n, "setting": setting, "outputs": len(outputs), "reps": reps, "changed": joined, "times": times, "medians": medians,
            "diff / batch": medians["diff"] / medians["batch"],
            "diff / (two batches + join)": medians["diff"] / medians["two batches + join"],
            "load": os.getloadavg()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--outputs", choices=["six", "all"], default="six")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--setting", choices=sorted(SETTINGS), default="dates",
                    help="the second setting: --vs-on 2022-09-01, or --vs-variant anhui-2020")
    args = ap.parse_args()
    outputs = SIX
    if args.outputs == "all":
        sys.path.insert(0, str(ROOT.parent))
        from fupin import load_policy

        outputs = load_policy(PACK).program().outputs("household")
    work = HERE / "out" / "diff"
    work.mkdir(parents=True, exist_ok=True)
    result = measure(args.n, outputs, args.reps, work, args.setting)
    print(f"{args.n:,} households, {len(outputs)} outputs, {result['changed']:,} changed "
          f"({' '.join(SETTINGS[args.setting][0])}), medians of {args.reps}:")
    for k, v in result["medians"].items():
        print(f"  {k}: {v:.2f} s")
    print(f"  diff / batch = {result['diff / batch']:.2f}; diff / (two batches + join) = "
          f"{result['diff / (two batches + join)']:.2f}; load {result['load']}")
    out = HERE / "out" / "diff.json"
    runs = json.loads(out.read_text(encoding="utf-8")) if out.exists() else []
    out.write_text(json.dumps(runs + [result], indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
