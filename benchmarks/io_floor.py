"""The I/O floor of a ``fupin batch`` run: pyarrow alone reading the input and writing an
output of the same shape, beside ``fupin batch`` itself, Parquet → Parquet.

    python benchmarks/io_floor.py benchmarks/data/households_1000000_seed0.parquet \
        --run small:benchmarks/small_policy --run pack:policy:--three-valued --reps 3

For each ``--run LABEL:POLICY[:FLAG,FLAG…]``: one untimed ``fupin batch`` writes the
result file; then, alternating, ``--reps`` times each:

- *floor*: in a fresh interpreter (``import pyarrow`` only), read the columns fupin
  decodes for that policy (engine/batch/projection.py: its declared fields and carried
  keys) batch by batch, as the batch reader does: the declared enums' text columns as
  dictionary arrays, row group by row group (``dictionary_paths``; since session 17,
  which made the reader read them so; pyarrow reads nested dictionaries no other way, and
  decodes them faster than text, so the floor is lower than before; the batch reader's
  joining of the groups' batches into the same chunks is fupin's own cost, not in the
  floor), then write the rows of fupin's own
  result file (read before the timer) with the batch writer's settings (zstd, dictionary
  pages for the text columns), chunk by chunk; plus ``import pyarrow`` (fupin's wall
  time has its imports too);
- *fupin cold*: ``fupin batch`` in a subprocess, wall clock, start-up included, with the
  cache of checked policies emptied first (engine/cache.py): the first run after an edit,
  which checks the policy and writes the cache;
- *fupin*: the same run again, the policy read from the cache (every later run of an
  unchanged pack). The cache is a folder of the run's own (``FUPIN_CACHE_DIR``), never the
  user's.

Reports medians, the ratios fupin / floor and fupin cold / floor (the median of per-pair
ratios, from alternating runs), the CPU time (user + sys) of each subprocess and fupin's per million
households (what the work costs, which the wall clock hides on shared cores: threads
overlap, other processes wait), the load average before and after, and writes ``--json``.

``--bytecode``: run fupin with its modules' bytecode cached (``PYTHONPYCACHEPREFIX`` in
the run's temporary folder, filled by the untimed run), as an installed package has it.
Without it fupin runs as the environment says: where ``PYTHONDONTWRITEBYTECODE`` is set
(as on the benchmark machine) every run compiles fupin's ~90 modules from source again,
~0.5 s of start-up that pyarrow, installed with its bytecode, does not pay.
Issue 17's targets: small ruleset ≤ 1.15× the floor; the whole pack, every output and
the unknown column, ≤ 2× the floor and ≥ 150,000 households/s.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

FLOOR = r'''
import sys, time, json
t0 = time.perf_counter()
import pyarrow as pa, pyarrow.parquet as pq
imported = time.perf_counter() - t0
source, result, target, columns, chunk = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4]), int(sys.argv[5])
dictionary = json.loads(sys.argv[6])  # the leaves the batch reader reads as dictionary arrays
out = pq.read_table(result)
unknown = [f"{f.name}.list.element" for f in out.schema if pa.types.is_list(f.type) and pa.types.is_dictionary(f.type.value_type)]
repetitive = [f.name for f in list(out.schema)[1:] if f.type == pa.string()] + unknown
batches = out.to_batches(max_chunksize=chunk)
start = time.perf_counter()
pf = pq.ParquetFile(source, pre_buffer=False, read_dictionary=dictionary or None)
if dictionary:  # as the batch reader: row group by row group (nested dictionaries are read no other way)
    reading = (b for g in range(pf.num_row_groups)
               for b in pf.iter_batches(batch_size=chunk, columns=columns, row_groups=[g]))
else:
    reading = pf.iter_batches(batch_size=chunk, columns=columns)
rows = 0
for batch in reading:
    rows += batch.num_rows
read = time.perf_counter() - start
writer = pq.ParquetWriter(target, out.schema, compression="zstd", use_dictionary=repetitive)
for b in batches:
    writer.write_table(pa.Table.from_batches([b], schema=out.schema))
writer.close()
total = time.perf_counter() - start
print(json.dumps({"import": imported, "read": read, "write": total - read, "seconds": imported + total, "rows": rows}))
'''


def main(argv=None) -> int:
    args = _args(argv)
    data = Path(args.input)
    out = {"input": str(data), "reps": args.reps, "runs": {}, "loadavg_before": os.getloadavg(),
           "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["FUPIN_CACHE_DIR"] = args.cache = str(Path(tmp) / "policy-cache")  # ours, for the children too
        args.env = dict(os.environ)
        if args.bytecode:
            args.env = dict(os.environ, PYTHONPYCACHEPREFIX=str(Path(tmp) / "pycache"))
            args.env.pop("PYTHONDONTWRITEBYTECODE", None)
        out["bytecode"] = args.bytecode
        for spec in args.run:
            label, policy, *rest = spec.split(":")
            flags = [f for f in (rest[0].split(",") if rest else []) if f]
            out["runs"][label] = _measure(label, Path(policy), flags, data, Path(tmp), args)
    out["loadavg_after"] = os.getloadavg()
    print(json.dumps(out, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2), encoding="utf-8")
    return 0


def _measure(label, policy, flags, data, tmp, args) -> dict:
    result = tmp / f"{label}.parquet"
    _fupin(policy, data, result, flags, args.env)  # untimed: the output whose shape the floor writes
    columns, dictionary = _columns(policy, data)
    floors, runs, cpu, colds, cold_cpu = [], [], [], [], []
    for _ in range(args.reps):
        floors.append(_floor(data, result, tmp / f"{label}.floor.parquet", columns, dictionary, args.chunk_size))
        shutil.rmtree(args.cache, ignore_errors=True)  # a miss: checks the policy, writes the cache
        colds.append(_fupin(policy, data, tmp / f"{label}.cold.parquet", flags, args.env, cold_cpu))
        runs.append(_fupin(policy, data, tmp / f"{label}.again.parquet", flags, args.env, cpu))
    ratios = [r / f["seconds"] for r, f in zip(runs, floors)]
    cold_ratios = [r / f["seconds"] for r, f in zip(colds, floors)]
    import pyarrow.parquet as pq

    n = pq.ParquetFile(data).metadata.num_rows
    row = {"policy": str(policy), "flags": flags, "households": n,
           "floor_s": statistics.median(f["seconds"] for f in floors),
           "floor_read_s": statistics.median(f["read"] for f in floors),
           "floor_write_s": statistics.median(f["write"] for f in floors),
           "fupin_s": statistics.median(runs), "ratio": statistics.median(ratios),
           "fupin_cold_s": statistics.median(colds), "ratio_cold": statistics.median(cold_ratios), "fupin_cold_runs": colds,
           "fupin_cold_cpu_s": statistics.median(cold_cpu),
           "households_per_s": n / statistics.median(runs), "floors": floors, "fupin_runs": runs,
           "floor_cpu_s": statistics.median(f["cpu"] for f in floors), "fupin_cpu_s": statistics.median(cpu),
           "fupin_cpu_per_million_s": statistics.median(cpu) * 1e6 / n, "fupin_cpu_runs": cpu,
           "output_mib": result.stat().st_size / 2 ** 20, "floor_dictionary": dictionary, "loadavg": os.getloadavg()}
    print(f"{label}: floor {row['floor_s']:.2f} s (read {row['floor_read_s']:.2f}, write {row['floor_write_s']:.2f}), "
          f"fupin {row['fupin_s']:.2f} s = {row['ratio']:.2f}× the floor (cold, checking the policy: "
          f"{row['fupin_cold_s']:.2f} s = {row['ratio_cold']:.2f}×), {row['households_per_s']:,.0f} households/s; "
          f"CPU floor {row['floor_cpu_s']:.2f} s, fupin {row['fupin_cpu_s']:.2f} s "
          f"({row['fupin_cpu_per_million_s']:.2f} s per million); load {os.getloadavg()[0]:.2f}",
          file=sys.stderr)
    return row


def _columns(policy: Path, data: Path) -> tuple:
    """The Parquet leaves fupin decodes for this policy (its projection), and those of them
    it reads as dictionary arrays (the declared enums' text columns)."""
    import pyarrow.parquet as pq

    from fupin.engine import batch as eb
    from fupin.engine.batch.projection import dictionary_paths, project

    job = eb.Job(eb.load(str(policy)))
    pf = pq.ParquetFile(data)
    job.use_columns(pf.schema_arrow.names)
    kept = tuple(job.layout.kept) + tuple(k for k in job.carried if k not in job.layout.kept)
    columns = project(pf.schema, job.layout, kept).columns
    return columns, dictionary_paths(pf.schema, job.layout, kept, columns)


def _floor(data, result, target, columns, dictionary, chunk) -> dict:
    before = _children_cpu()
    res = subprocess.run([sys.executable, "-c", FLOOR, str(data), str(result), str(target), json.dumps(columns),
                          str(chunk), json.dumps(dictionary)], capture_output=True, text=True, check=True)
    return dict(json.loads(res.stdout.strip().splitlines()[-1]), cpu=_children_cpu() - before)


def _fupin(policy, data, target, flags, env=None, cpu: list | None = None) -> float:
    start, before = time.perf_counter(), _children_cpu()
    subprocess.run([sys.executable, "-m", "fupin.cli", "batch", str(policy), str(data), "-o", str(target),
                    "--quarantine", str(target.with_suffix(".q.csv")), *flags], check=True, cwd=ROOT,
                   capture_output=True, env=env)
    if cpu is not None:
        cpu.append(_children_cpu() - before)
    return time.perf_counter() - start


def _children_cpu() -> float:
    """User + system CPU seconds of the waited-for subprocesses (and theirs) so far."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _args(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input", help="a Parquet file of households (fupin generate)")
    ap.add_argument("--run", action="append", required=True, metavar="LABEL:POLICY[:FLAGS]",
                    help="a fupin batch run; FLAGS comma-separated, e.g. pack:policy:--three-valued,--unknown,json")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--chunk-size", type=int, default=32_768)
    ap.add_argument("--json", default=None, help="write the figures here too")
    ap.add_argument("--bytecode", action="store_true",
                    help="run fupin with its bytecode cached, as an installed package (see above)")
    args = ap.parse_args(argv)
    args.env = None
    return args


if __name__ == "__main__":
    sys.exit(main())
