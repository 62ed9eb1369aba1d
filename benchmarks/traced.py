"""One household with a trace: untraced vs traced vs the trace built, serialised, explained.

    python benchmarks/traced.py [--n 300] [--reps 9] [--json out.json] [--only small,pack_all]

On the same generated, validated households, in alternating runs so that the load of a
shared machine falls on every contender alike:

- ``untraced``: ``Program.evaluate(…)`` as a caller gets it by default (the generated code);
- ``closures``: ``Program.evaluate(…, generated=False)``, the evaluator traces run on;
- ``traced``: ``Program.evaluate(…, trace=True)``: the trace recorded (the issue's
  target, "one household, full trace": everything the trace shows is captured), as a
  caller gets it by default: by the traced generated code (scalar/tracegen.py), or by
  the traced closures for a household whose evaluation meets an unknown;
- ``traced_closures``: ``Program.evaluate(…, trace=True, generated=False)``: the same
  trace recorded by the traced closures alone (the reference, and the path before the
  traced generated code);
- ``traced_model``: the same, then the pydantic ``Trace`` built (``trace.roots`` read):
  what every traced evaluation cost when the trace was built at once;
- ``traced_json``: the same, then the ``fupin.trace/1`` JSON text written;
- ``api_traced``: ``Policy.evaluate(raw facts, trace=True)``: validation, the trace and
  the decision record (the deciding facts wait until the trace is read);
- ``api_explained``: the same, then one output's explanation rendered, which needs the
  deciding facts (reports/reasons.py re-evaluates the output without each fact).

The same script runs on the code before lazy traces (the eager builder) for the old
figures: ``git archive 8ee6efe | tar -x -C /tmp/old/fupin`` and ``PYTHONPATH=/tmp/old``.

Before timing, the traced and untraced evaluations must give the same values, unknowns
and errors. Times are this process's CPU time (``time.process_time``): other processes on a
shared machine do not count, but they still slow this one (caches, frequency), so the
load average before and after is reported. Each figure is the median over ``--reps``
runs of the time per household; each ratio the median of the per-run ratios.
docs/performance.md reports the figures.
"""
from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

from fupin import load_policy  # noqa: E402
from fupin.engine.reports.jsonout import dumps  # noqa: E402
from fupin.engine.tools.generate import generate_households, records  # noqa: E402

ON = dt.date(2020, 6, 30)
CASES = [("small", HERE / "small_policy", "contract"), ("pack_all", HERE.parent / "policy", "pack")]
SLOW = ("api_explained",)  # run on a tenth of the households: each costs milliseconds


def contenders(policy, raws, households) -> dict:
    """name -> (a function running the households once, how many it runs)."""
    program = policy.program()
    output = program.outputs("household")[-1]
    few = max(1, len(households) // 10)

    def each(fn, items):
        def run():
            for item in items:
                fn(item)
        return run, len(items)

    return {
        "untraced": each(lambda h: program.evaluate(h, ON, "household"), households),
        "closures": each(lambda h: program.evaluate(h, ON, "household", generated=False), households),
        "traced": each(lambda h: program.evaluate(h, ON, "household", trace=True), households),
        "traced_closures": each(lambda h: program.evaluate(h, ON, "household", trace=True, generated=False),
                                households),
        "traced_model": each(lambda h: program.evaluate(h, ON, "household", trace=True).trace.roots, households),
        "traced_json": each(lambda h: dumps(program.evaluate(h, ON, "household", trace=True).trace), households),
        "api_traced": each(lambda r: policy.evaluate(r, on=ON, trace=True), raws),
        "api_explained": each(lambda r: policy.evaluate(r, on=ON, trace=True).explain(output), raws[:few]),
    }


def agree(program, households) -> dict:
    """The traced evaluation gives what the untraced ones give, and the traced generated
    code records the traced closures' events, or stop. How many households the traced
    generated code recorded itself (the others: the closures)."""
    def seen(ev):
        return ev.values, ev.unknown, {k: d.code for k, d in ev.errors.items()}
    for h in households:
        fast = program.evaluate(h, ON, "household", trace=True, generated=True)
        reference = program.evaluate(h, ON, "household", trace=True, generated=False)
        assert fast.trace.log == reference.trace.log and seen(fast) == seen(reference), h
        traced = seen(program.evaluate(h, ON, "household", trace=True))
        assert traced == seen(program.evaluate(h, ON, "household", generated=False)), h
        assert traced == seen(program.evaluate(h, ON, "household", generated=True)), h
    counts = program.traced_counts.get(ON, [0, 0, 0])
    return {"recorded_by_generated_code": counts[0], "recorded_again_by_closures": counts[1]}


def measure(runs: dict, reps: int) -> dict:
    """Alternating runs: median µs per household of each, and ratios to ``closures`` and
    to ``traced_closures``."""
    times = {name: [] for name in runs}
    for run, _ in runs.values():
        run()  # warm-up (generated code, traced closures compiled on first use)
    for _ in range(reps):
        for name, (run, n) in runs.items():
            gc.collect()
            start = time.process_time()
            run()
            times[name].append((time.process_time() - start) / n * 1e6)
    out = {name: {"us_per_household": statistics.median(ts), "runs_us": ts} for name, ts in times.items()}
    for name in runs:
        out[name]["x_closures"] = statistics.median(a / b for a, b in zip(times[name], times["closures"]))
        out[name]["x_traced_closures"] = statistics.median(
            a / b for a, b in zip(times[name], times["traced_closures"]))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="households")
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="write the figures here")
    parser.add_argument("--only", default=None, help="comma-separated cases: small, pack_all")
    args = parser.parse_args(argv)
    report = {"load_before": os.getloadavg()}
    for label, path, fields in CASES:
        if args.only and label not in args.only.split(","):
            continue
        policy = load_policy(path)
        program, checker = policy.program(), policy.facts_checker()
        raws = records(generate_households(args.n, args.seed, fields=fields))
        households = [checker.validate(r, "household")[0] for r in raws]
        paths = agree(program, households)
        report[label] = measure(contenders(policy, raws, households), args.reps)
        report[label]["paths"] = paths
        print(f"{label} ({len(households)} households; {', '.join(SLOW)}: a tenth; traced generated code "
              f"recorded {paths['recorded_by_generated_code']}, the closures again {paths['recorded_again_by_closures']})")
        for name, row in report[label].items():
            if name != "paths":
                print(f"  {name:15} {row['us_per_household']:10.1f} µs   (closures ×{row['x_closures']:.2f}, "
                      f"traced_closures ×{row['x_traced_closures']:.2f})")
    report["load_after"] = os.getloadavg()
    print(f"load average before {report['load_before']}, after {report['load_after']}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
