"""fupin's benchmarks, side by side in one run on the same generated households.

    python benchmarks/run.py --quick     # 100k households, no 10M stream (a few minutes)
    python benchmarks/run.py             # 100k and 1M, Parquet→Parquet at 1M, 10M streamed

Run it with an interpreter that has fupin and openfisca-core (benchmarks/README.md).
What is measured (docs/performance.md explains the method and the figures):

- ``small``: the benchmark ruleset (small_policy/) over data already in memory, fupin's
  columnar evaluator against the same rules in OpenFisca and in hand-written numpy; the
  three must give identical results before anything is timed;
- ``pack``: the whole policy pack (every household output), columnar;
- ``scalar``: ``Program.evaluate`` per household, without and with the trace;
- ``check_compile``: checking and compiling the pack, in a fresh interpreter;
- ``e2e``: ``fupin batch`` Parquet→Parquet, a subprocess timed wall-clock;
- ``stream``: 10M households through ``fupin batch``, with the child's peak RSS.

Each timing is the median of ``--reps`` runs after one untimed warm-up. Results go to
benchmarks/out/results.json and a table is printed.
"""
from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import numpy_small  # noqa: E402
from frames import table_to_frame  # noqa: E402
from fupin import load_policy  # noqa: E402
from fupin.engine.columnar.program import ColumnarProgram  # noqa: E402
from fupin.engine.tools.generate import generate_households, records, write_households  # noqa: E402

ON = dt.date(2020, 6, 30)
SMALL, PACK = HERE / "small_policy", ROOT / "policy"
BATCH_RUNS = [("pack", PACK, None), ("pack_six", PACK, numpy_small.OUTPUTS), ("small", SMALL, None)]
TARGETS = {
    "columnar_vs_openfisca": "≥ 3× faster",
    "columnar_vs_numpy": "≤ 1.5× numpy's time",
    "e2e": "≥ 2M households/s",
    "stream": "< 1 GiB peak RSS",
    "scalar": "≤ 10 µs/household, ≤ 100 µs with trace",
    "check_compile": "< 0.5 s",
}


def main(argv=None) -> int:
    args = _args(argv)
    machine = _machine()
    out = {"started": dt.datetime.now().isoformat(timespec="seconds"), "machine": machine,
           "settings": vars(args).copy(), "targets": TARGETS}
    if args.only and Path(args.out).exists():  # re-running some steps: keep the others' results
        # (each step's "when" keeps the commit it ran at; "machine" is this run's)
        out = json.loads(Path(args.out).read_text(encoding="utf-8")) | {"targets": TARGETS, "machine": machine}
    steps = [("check_compile", check_compile), ("scalar", scalar), ("small", small), ("pack", pack),
             ("e2e", e2e), ("stream", stream)]
    for name, step in steps:
        if args.only and name not in args.only.split(","):
            continue
        _say(f"== {name}")
        when = {"at": dt.datetime.now().isoformat(timespec="seconds"), "loadavg_before": os.getloadavg(),
                "commit": out["machine"].get("commit")}
        try:
            out[name] = step(args)
        except Exception as exc:  # a benchmark that breaks is reported, the others still run
            out[name] = {"error": f"{type(exc).__name__}: {exc}"}
            _say(f"   failed: {out[name]['error']}")
        out[name]["when"] = when | {"loadavg_after": os.getloadavg()}
        _save(args, out)
    out["machine"]["loadavg_end"] = os.getloadavg()
    _save(args, out)
    print(table(out))
    return 0


def _args(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="100k households only, no 10M stream")
    ap.add_argument("--sizes", default=None, help="household counts for small/pack (default 100000,1000000)")
    ap.add_argument("--reps", type=int, default=None, help="timed repetitions per measurement (default 5; quick 3)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--e2e-n", type=int, default=None, help="households for Parquet→Parquet (default 1M; quick 100k)")
    ap.add_argument("--stream-n", type=int, default=10_000_000, help="households streamed for peak RSS")
    ap.add_argument("--scalar-n", type=int, default=2000, help="households timed one by one")
    ap.add_argument("--budget", type=float, default=600, help="skip a measurement predicted to take longer (s)")
    ap.add_argument("--stream-budget", type=float, default=3600, help="the same for the 10M stream (s)")
    ap.add_argument("--only", default=None, help="comma-separated steps: check_compile,scalar,small,pack,e2e,stream")
    ap.add_argument("--out", default=str(HERE / "out" / "results.json"))
    args = ap.parse_args(argv)
    args.sizes = [int(s) for s in (args.sizes or ("100000" if args.quick else "100000,1000000")).split(",")]
    args.reps = args.reps or (3 if args.quick else 5)
    args.e2e_n = args.e2e_n or (100_000 if args.quick else 1_000_000)
    return args


# --- timing helpers


def timed(fn, reps: int, setup=None, warmup: bool = True) -> tuple:
    """``({"median", "runs"}, last result)``: ``fn(setup())`` timed ``reps`` times, setup untimed."""
    if warmup:
        fn(setup() if setup else None)
    runs, result = [], None
    for _ in range(reps):
        arg = setup() if setup else None
        gc.collect()
        t0 = time.perf_counter()
        result = fn(arg)
        runs.append(time.perf_counter() - t0)
    return {"median": statistics.median(runs), "runs": runs}, result


def _fit(args, previous: dict | None, n: int) -> tuple[int, str | None]:
    """Repetitions that fit the budget, from a smaller size's time (None: skip)."""
    if not previous:
        return args.reps, None
    (m, t), = previous.items()
    predicted = t * n / m
    if predicted > args.budget:
        return 0, f"skipped: predicted {predicted:.0f} s from {m} households > budget {args.budget:.0f} s"
    return max(1, min(args.reps, int(args.budget // (predicted * 2 or 1)))), None


# --- steps


def check_compile(args) -> dict:
    """Check + compile the pack in fresh interpreters (so nothing is cached): medians."""
    runs = []
    for _ in range(args.reps):
        res = subprocess.run([sys.executable, str(HERE / "check_compile.py"), str(PACK)], capture_output=True,
                             text=True, check=True, cwd=ROOT)
        runs.append(json.loads(res.stdout.strip().splitlines()[-1]))
    med = {k: statistics.median(r[k] for r in runs) for k in ("import", "check", "compile", "compile_variants", "cached_load")}
    med["check_compile"] = med["check"] + med["compile"]
    return {"median": med, "runs": runs}


def scalar(args) -> dict:
    """µs per household through ``Program.evaluate`` (validated facts, one by one)."""
    out = {}
    cases = [("small", SMALL, "contract", None), ("pack_six", PACK, "pack", numpy_small.OUTPUTS),
             ("pack_all", PACK, "pack", None)]
    for label, path, fields, outputs in cases:
        policy = load_policy(path)
        program, checker = policy.program(), policy.facts_checker()
        facts = [checker.validate(r, "household")[0] for r in records(generate_households(args.scalar_n, args.seed,
                                                                                          fields=fields))]
        out[label] = {}
        # "fast": untraced, the generated code (engine/scalar/codegen.py); "closures": the same
        # without it; benchmarks/one_household.py compares them with a hand-written function
        for mode, trace, generated in (("fast", False, True), ("closures", False, False), ("trace", True, None)):
            some = facts[:max(1, len(facts) // 4)] if trace else facts  # tracing is slow; fewer households

            def run(_, some=some, trace=trace, generated=generated):
                for f in some:
                    program.evaluate(f, ON, "household", outputs=outputs, trace=trace, generated=generated)
            t, _ = timed(run, args.reps)
            us = t["median"] / len(some) * 1e6
            out[label][mode] = {"us_per_household": us, "runs": t["runs"], "households": len(some)}
            _say(f"   {label} {mode}: {us:.1f} µs/household")
    return out


def small(args) -> dict:
    """The benchmark ruleset: fupin columnar, OpenFisca, numpy on the same frames."""
    try:
        import openfisca_small
    except ImportError as exc:
        openfisca_small, missing = None, f"openfisca-core not installed ({exc}); see benchmarks/README.md"
    policy = load_policy(SMALL)
    program = ColumnarProgram(policy.program())
    _check_frames(policy, "contract", args.seed)
    out, previous = {}, {}
    system = openfisca_small.SmallSystem() if openfisca_small else None
    for n in args.sizes:
        frame = table_to_frame(policy.program().checked, "household",
                               generate_households(n, args.seed, fields="contract"))
        h, m, parent = numpy_small.columns(frame)
        row = {"households": n, "members": int(len(parent))}
        t, want = timed(lambda _: numpy_small.evaluate(h, m, parent), args.reps)
        row["numpy"] = t
        results = {"numpy": want}
        reps, note = _fit(args, previous.get("fupin"), n)
        if reps:
            t, res = timed(lambda _: program.evaluate(frame, ON, outputs=numpy_small.OUTPUTS), reps)
            row["fupin"] = t
            previous["fupin"] = {n: t["median"]}
            assert not any(res.unknown[k].any() or res.error[k].any() for k in numpy_small.OUTPUTS)
            results["fupin"] = res.values
        else:
            row["fupin"] = {"skipped": note}
        if system is not None:
            reps, note = _fit(args, previous.get("openfisca"), n)
            if reps:
                t, res = timed(openfisca_small.evaluate, reps,
                               setup=lambda: openfisca_small.simulation(system, h, m, parent))
                row["openfisca"] = t
                previous["openfisca"] = {n: t["median"]}
                results["openfisca"] = res
            else:
                row["openfisca"] = {"skipped": note}
        else:
            row["openfisca"] = {"skipped": missing}
        row["agree"] = _agree(results)
        row["ratios"] = _ratios(row)
        _say(f"   {n}: " + ", ".join(f"{k} {row[k]['median']:.4f} s" for k in ("fupin", "openfisca", "numpy")
                                      if "median" in row[k]) + f"; agree: {row['agree']}")
        out[str(n)] = row
    return out


def _agree(results: dict) -> dict:
    """Which implementations gave exactly numpy's outputs (raises if any differs)."""
    want = results["numpy"]
    for name, got in results.items():
        for k in numpy_small.OUTPUTS:
            if not np.array_equal(np.asarray(got[k]), np.asarray(want[k])):
                bad = np.flatnonzero(np.asarray(got[k]) != np.asarray(want[k]))
                raise AssertionError(f"{name} differs from numpy on {k} at rows {bad[:10].tolist()}")
    return {name: True for name in results}


def _ratios(row: dict) -> dict:
    t = {k: row[k]["median"] for k in ("fupin", "openfisca", "numpy") if "median" in row.get(k, {})}
    out = {}
    if "fupin" in t and "openfisca" in t:
        out["openfisca_over_fupin"] = t["openfisca"] / t["fupin"]
    if "fupin" in t and "numpy" in t:
        out["fupin_over_numpy"] = t["fupin"] / t["numpy"]
    if "openfisca" in t and "numpy" in t:
        out["openfisca_over_numpy"] = t["openfisca"] / t["numpy"]
    return out


def _check_frames(policy, fields: str, seed: int) -> None:
    """The fast table→frame set-up equals from_records over validated facts (on a sample)."""
    from fupin.engine.columnar.frame import from_records, to_records

    checked, checker = policy.program().checked, policy.facts_checker()
    table = generate_households(1500, seed, fields=fields, unknown_rate=0.02)
    typed = [checker.validate(r, "household")[0] for r in records(table)]
    assert to_records(checked, table_to_frame(checked, "household", table)) == \
        to_records(checked, from_records(checked, "household", typed)), "frames.py disagrees with from_records"


def pack(args) -> dict:
    """Every household output of the pack, columnar; agreement with the scalar path on a sample."""
    policy = load_policy(PACK)
    program = ColumnarProgram(policy.program())
    checked = policy.program().checked
    _check_frames(policy, "pack", args.seed)
    out, previous = {}, None
    for n in args.sizes:
        frame = table_to_frame(checked, "household", generate_households(n, args.seed))
        reps, note = _fit(args, previous, n)
        if not reps:
            out[str(n)] = {"households": n, "fupin": {"skipped": note}}
            continue
        t, res = timed(lambda _: program.evaluate(frame, ON), reps)
        # the same without settling unknowns by cases (fupin batch --three-valued): the cost
        # of exact unknowns, side by side (docs/performance.md, "Exact unknowns")
        t3, res3 = timed(lambda _: program.evaluate(frame, ON, exact=False), reps)
        previous = {n: t["median"]}
        names = res.outputs
        row = {"households": n, "outputs": len(names), "fupin": t, "fupin_three_valued": t3,
               "unknown_share_three_valued": float(np.mean([res3.unknown[k].mean() for k in names])),
               "unknown_share": float(np.mean([res.unknown[k].mean() for k in names])),
               "error_share": float(np.mean([res.error[k].mean() for k in names])),
               "scalar_mismatches_in_sample": _scalar_mismatches(policy, res, 500)}
        _say(f"   {n}: {t['median']:.3f} s for {len(names)} outputs (three-valued {t3['median']:.3f} s); "
             f"mismatches with scalar in 500 rows: {row['scalar_mismatches_in_sample']}")
        out[str(n)] = row
    return out


def _scalar_mismatches(policy, res, k: int) -> int:
    """Outputs (of ``k`` evenly spread rows) where columnar and scalar differ: value, unknown or error."""
    from fupin.engine.columnar.frame import decode_value, enum_values, to_records

    program = policy.program()
    rows = np.linspace(0, res.n - 1, min(k, res.n)).astype(np.int64)
    bad = 0
    for i, rec in zip(rows, to_records(program.checked, res.frame, rows)):
        ev = program.evaluate(rec, ON, "household", outputs=res.outputs)
        for name in res.outputs:
            col = "error" if res.error[name][i] else "unknown" if res.unknown[name][i] else "value"
            ref = "error" if name in ev.errors else "unknown" if name in ev.unknown else "value"
            if col == ref == "value":
                typ = program.checked.rules[name].type
                same = decode_value(res.values[name][i], typ.kind, enum_values(program.checked, typ)) \
                    == ev.values[name]
            else:
                same = col == ref
            bad += not same
    return bad


def e2e(args) -> dict:
    """``fupin batch`` Parquet→Parquet (a subprocess, wall-clock): the pack (every output, and
    only the six benchmark outputs) and the small ruleset.

    A run on 20k households first predicts the full run (fixed start-up cost plus a
    per-household rate); a run predicted over ``--budget`` is skipped and the probe kept.
    """
    if not _has_batch():
        return {"skipped": "fupin batch is not available in this checkout"}
    out = {}
    for label, policy, only in BATCH_RUNS:
        fixed = _fixed_cost(policy)
        probe_n = min(args.e2e_n, 20_000)
        probe = _batch(policy, _dataset(probe_n, args.seed), args, only=only)
        rate = max(probe["seconds"] - fixed, 1e-9) / probe_n  # seconds per household past start-up
        predicted = fixed + rate * args.e2e_n
        row = {"households": args.e2e_n, "startup_s": fixed, "probe": dict(probe, households=probe_n),
               "predicted_s": predicted}
        if probe_n < args.e2e_n and predicted > args.budget:
            row["skipped"] = f"predicted {predicted:.0f} s from {probe_n} households > budget {args.budget:.0f} s"
            row["households_per_s_probe"] = probe_n / probe["seconds"]
            _say(f"   {label}: {row['skipped']} ({probe_n / probe['seconds']:,.0f} households/s on the probe)")
        else:
            data = _dataset(args.e2e_n, args.seed)
            reps = 1 if predicted * 3 > args.budget else min(args.reps, 3)
            runs = [_batch(policy, data, args, only=only) for _ in range(reps)]
            best = statistics.median(r["seconds"] for r in runs)
            row |= {"median_s": best, "households_per_s": args.e2e_n / best,
                    "households_per_s_past_startup": args.e2e_n / max(best - fixed, 1e-9), "runs": runs,
                    "peak_rss_mib": max(r["peak_rss_mib"] for r in runs)}
            _say(f"   {label}: {best:.2f} s, {args.e2e_n / best:,.0f} households/s, "
                 f"peak RSS {row['peak_rss_mib']:.0f} MiB")
        args.rates = getattr(args, "rates", {}) | {label: (fixed, rate)}
        out[label] = row
    return out


def stream(args) -> dict:
    """10M households through ``fupin batch`` with its peak RSS, for each run of ``e2e``.

    Each is skipped if the Parquet→Parquet rate predicts more than ``--stream-budget``.
    """
    if args.quick:
        return {"skipped": "--quick"}
    if not _has_batch():
        return {"skipped": "fupin batch is not available in this checkout"}
    out = {}
    for label, policy, only in BATCH_RUNS:
        fixed, rate = getattr(args, "rates", {}).get(label, (0.0, 0.0))
        predicted = fixed + rate * args.stream_n
        if predicted > args.stream_budget:
            out[label] = {"households": args.stream_n, "skipped": f"predicted {predicted:.0f} s at the "
                          f"Parquet→Parquet rate > --stream-budget {args.stream_budget:.0f} s"}
            _say(f"   {label}: {out[label]['skipped']}")
            continue
        t0 = time.perf_counter()
        data = _dataset(args.stream_n, args.seed)
        made = time.perf_counter() - t0
        run = _batch(policy, data, args, timeout=max(3 * predicted, args.budget), only=only)
        run |= {"households": args.stream_n, "households_per_s": args.stream_n / run["seconds"],
                "generate_s": made, "input_mib": data.stat().st_size / 2**20}
        _say(f"   {label} {args.stream_n:,}: {run['seconds']:.1f} s, peak RSS {run['peak_rss_mib']:.0f} MiB")
        out[label] = run
    return out


def _fixed_cost(policy: Path) -> float:
    """Start-up of a fresh ``fupin`` process on a policy: import, check, compile (seconds)."""
    res = subprocess.run([sys.executable, str(HERE / "check_compile.py"), str(policy)], capture_output=True,
                         text=True, check=True, cwd=ROOT)
    t = json.loads(res.stdout.strip().splitlines()[-1])
    return t["import"] + t["check"] + t["compile"]


def _has_batch() -> bool:
    res = subprocess.run([sys.executable, "-m", "fupin.cli", "batch", "--help"], capture_output=True, cwd=ROOT)
    return res.returncode == 0


def _dataset(n: int, seed: int) -> Path:
    """A generated Parquet file in benchmarks/data/ (made once per size and seed)."""
    path = HERE / "data" / f"households_{n}_seed{seed}.parquet"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.parquet")
        _say(f"   generating {n:,} households → {path.relative_to(ROOT)}")
        write_households(n, tmp, seed=seed)
        tmp.rename(path)
    return path


def _batch(policy: Path, data: Path, args, timeout=None, only=None) -> dict:
    """One ``fupin batch`` run: wall-clock seconds, its own peak RSS (peak.py), its last lines."""
    import tempfile
    import threading

    target = HERE / "out" / f"{data.stem}.{policy.name}{'.only' if only else ''}.out.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    quarantine = target.with_suffix(".quarantine.csv")
    peak = target.with_suffix(".peak_kb")
    cmd = [sys.executable, str(HERE / "peak.py"), str(peak), "fupin.cli", "batch", str(policy), str(data),
           "-o", str(target), "--quarantine", str(quarantine)] + (["--only", ",".join(only)] if only else [])
    peak.unlink(missing_ok=True)
    with tempfile.TemporaryFile("w+") as log:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True)
        timer = threading.Timer(timeout or args.budget * 3, proc.kill)
        timer.start()
        proc.wait()
        seconds = time.perf_counter() - t0
        timer.cancel()
        log.seek(0)
        tail = log.read().strip().splitlines()[-3:]
    rss = int(peak.read_text()) / 1024 if peak.exists() else float("nan")
    res = {"seconds": seconds, "peak_rss_mib": rss, "returncode": proc.returncode, "tail": tail}
    if proc.returncode != 0:
        res["error"] = f"exit {proc.returncode}" + (" (killed: over the time limit)" if proc.returncode < 0 else "")
    return res


# --- report


def table(out: dict) -> str:
    """The results as a text table (also what docs/performance.md shows)."""
    lines = [f"fupin benchmarks — {out['started']} — {out['machine']['cpus']} CPUs, "
             f"load {out['machine']['loadavg_start'][0]:.2f}→{out['machine'].get('loadavg_end', [0])[0]:.2f}",
             f"{'measure':44} {'fupin':>11} {'OpenFisca':>11} {'numpy':>11}  ratios"]
    for n, row in (out.get("small") or {}).items():
        if not isinstance(row, dict) or "ratios" not in row:
            continue
        r = row["ratios"]
        cells = [_s(row.get(k)) for k in ("fupin", "openfisca", "numpy")]
        ratio = "  ".join(x for x in (
            f"OpenFisca/fupin {r['openfisca_over_fupin']:.1f}×" if "openfisca_over_fupin" in r else "",
            f"fupin/numpy {r['fupin_over_numpy']:.2f}×" if "fupin_over_numpy" in r else "") if x)
        lines.append(f"{'small ruleset, ' + _n(int(n)) + ' households (s)':44} {cells[0]:>11} {cells[1]:>11} "
                     f"{cells[2]:>11}  {ratio}")
    for n, row in (out.get("pack") or {}).items():
        if isinstance(row, dict) and "households" in row:
            extra = f"  {row['outputs']} outputs" if "outputs" in row else ""
            three = row.get("fupin_three_valued")
            if isinstance(three, dict) and isinstance(row.get("fupin"), dict) and three.get("median"):
                extra += (f"; three-valued {three['median']:.3f} s, exact/three-valued "
                          f"{row['fupin']['median'] / three['median']:.1f}×")
            lines.append(f"{'full pack, ' + _n(int(n)) + ' households (s)':44} {_s(row['fupin']):>11}{extra}")
    for label, row in (out.get("scalar") or {}).items():
        if isinstance(row, dict) and "fast" in row:
            lines.append(f"{'scalar ' + label + ' (µs/household, fast / traced)':44} "
                         f"{row['fast']['us_per_household']:>11.1f} {row['trace']['us_per_household']:>11.1f}"
                         + (f"  (closures, untraced: {row['closures']['us_per_household']:.1f})"
                            if "closures" in row else ""))
    cc = out.get("check_compile", {}).get("median")
    if cc:
        lines.append(f"{'check + compile pack (s)':44} {cc['check_compile']:>11.3f}  "
                     f"(check {cc['check']:.3f}, compile {cc['compile']:.3f}, import {cc['import']:.3f}, "
                     f"variants {cc['compile_variants']:.3f})")
    for label, row in (out.get("e2e") or {}).items():
        if isinstance(row, dict) and "households_per_s" in row:
            lines.append(f"{'Parquet→Parquet ' + label + ', ' + _n(row['households']) + ' (households/s)':44} "
                         f"{row['households_per_s']:>11,.0f}  ({row['median_s']:.2f} s wall, start-up "
                         f"{row['startup_s']:.1f} s, peak RSS {row['peak_rss_mib']:.0f} MiB)")
        elif isinstance(row, dict) and "households_per_s_probe" in row:
            lines.append(f"{'Parquet→Parquet ' + label + ', ' + _n(row['probe']['households']) + ' (households/s)':44} "
                         f"{row['households_per_s_probe']:>11,.0f}  ({row['probe']['seconds']:.2f} s wall; "
                         f"{_n(row['households'])} skipped: over budget)")
    for label, st in (out.get("stream") or {}).items():
        if isinstance(st, dict) and "peak_rss_mib" in st:
            lines.append(f"{'stream ' + label + ', ' + _n(st['households']) + ' (peak RSS MiB)':44} "
                         f"{st['peak_rss_mib']:>11.0f}  ({st['seconds']:.0f} s, {st['households_per_s']:,.0f} "
                         f"households/s)")
        elif isinstance(st, dict) and "skipped" in st:
            lines.append(f"stream {label}: {st['skipped']}")
    skipped = {row["openfisca"]["skipped"] for row in (out.get("small") or {}).values()
               if isinstance(row, dict) and "skipped" in row.get("openfisca", {})}
    lines += [f"OpenFisca: {note}" for note in sorted(skipped)]
    for name in ("small", "pack", "scalar", "e2e", "stream", "check_compile"):
        info = out.get(name) or {}
        note = info.get("skipped") or info.get("error")
        if note:
            lines.append(f"{name}: {note}")
    return "\n".join(lines)


def _s(cell) -> str:
    if not cell:
        return "—"
    return f"{cell['median']:.4f}" if "median" in cell else "skipped"


def _n(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else f"{n // 1000}k" if n % 1000 == 0 else str(n)


def _machine() -> dict:
    import pyarrow

    info = {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "numpy": np.__version__, "pyarrow": pyarrow.__version__, "loadavg_start": os.getloadavg()}
    try:
        import openfisca_core  # noqa: F401
        from importlib.metadata import version

        info["openfisca_core"] = version("openfisca-core")
    except ImportError:
        info["openfisca_core"] = None
    try:
        info["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                        text=True).stdout.strip()
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as fh:
            info["mem_total_gib"] = int(fh.readline().split()[1]) / 2**20
    except OSError:
        pass
    return info


def _save(args, out: dict) -> None:
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1, ensure_ascii=False, default=str), encoding="utf-8")


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
