"""One household at a time, untraced: closures vs generated code vs hand-written Python.

    python benchmarks/one_household.py [--n 2000] [--reps 15] [--json out.json] [--only small,pack_six]

On the same generated households (all facts known), in alternating runs so that the
load of a shared machine falls on every contender alike:

- ``closures``: ``Program.evaluate(…, generated=False)``, the reference evaluator;
- ``generated``: ``Program.evaluate(h, on, entity)``, the call a user writes, which runs
  the generated code (engine/scalar/codegen.py) once the date's code is made (it is
  made before timing; ``outputs=…, generated=True`` where outputs are named), result
  object included;
- ``generated_only``: the generated code alone, without ``Program.evaluate`` around it:
  the entity's known-facts function (scalar/knowngen.py) where it has one and the
  outputs are all the entity's, else the generated rule functions one by one into a dict
  (an output the generated code leaves to the closures is None here, not computed);
- ``plain``: benchmarks/plain_small.py, the same rules written by hand (small ruleset).

Every contender runs the same loop (``for h in households: f(h)``, the result dropped),
so that none pays for a loop shape or for keeping results the others do not. The
results must agree before anything is timed. Times are this process's CPU time
(``time.process_time``), so that other processes on a shared machine do not count;
each figure is the median over ``--reps`` runs of the time per household; each ratio
is the median of the per-run ratios. docs/performance.md reports the figures.
"""
from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy_small  # noqa: E402
import plain_small  # noqa: E402
from fupin import load_policy  # noqa: E402
from fupin.engine.scalar import program as scalar_program  # noqa: E402
from fupin.engine.tools.generate import generate_households, records  # noqa: E402

ON = dt.date(2020, 6, 30)
CASES = [("small", HERE / "small_policy", "contract", None, True),
         ("pack_six", HERE.parent / "policy", "pack", numpy_small.OUTPUTS, False),
         ("pack_all", HERE.parent / "policy", "pack", None, False)]


def contenders(program, outputs, households, with_plain: bool) -> dict:
    """name -> a function running every household once."""
    fast = program.generated_on(ON)
    names = outputs or program.outputs("household")

    def closures():
        evaluate = program.evaluate
        for h in households:
            evaluate(h, ON, "household", outputs=outputs, generated=False)

    def generated():
        evaluate = program.evaluate
        if outputs is None:  # the plain call: the date's code is made (above), so it runs it
            for h in households:
                evaluate(h, ON, "household")
            return
        for h in households:
            evaluate(h, ON, "household", outputs=outputs, generated=True)

    known = None if outputs else getattr(fast, "known", {}).get("household")

    def generated_only():  # an output left at an unknown or an error counts as None here
        if known is not None:
            for h in households:
                try:
                    known(h)
                except Exception:  # noqa: BLE001 — an unknown or an error: not this contender's business
                    pass
            return
        rule = fast.rule
        for h in households:
            env, got = fast.env(h), {}
            for name in names:
                try:
                    got[name] = rule(env, name)
                except Exception:  # noqa: BLE001 — Missing or EvalError: not this contender's business
                    got[name] = None

    def plain():
        evaluate = plain_small.evaluate
        for h in households:
            evaluate(h)

    out = {"closures": closures, "generated": generated, "generated_only": generated_only}
    if with_plain:
        out["plain"] = plain
    return out


def agree(program, outputs, households, with_plain: bool) -> int:
    """Check the contenders give the same outputs; how many households have an unknown."""
    unknown = 0
    for h in households:
        a = program.evaluate(h, ON, "household", outputs=outputs, generated=False)
        b = program.evaluate(h, ON, "household", outputs=outputs, generated=True)
        assert scalar_program.GENERATED, "the plain call would not run the generated code"
        assert (a.values, a.unknown, {k: d.code for k, d in a.errors.items()}) == \
            (b.values, b.unknown, {k: d.code for k, d in b.errors.items()}), h
        unknown += bool(a.unknown)
        if with_plain:
            assert plain_small.evaluate(h) == a.values, (h, a.values)
    return unknown


def measure(runs: dict, n: int, reps: int) -> dict:
    """Alternating runs: median µs per household of each, and ratios to the first."""
    times = {name: [] for name in runs}
    for run in runs.values():
        run()  # warm-up (the generated code is compiled on first use)
    for _ in range(reps):
        for name, run in runs.items():
            gc.collect()
            start = time.process_time()
            run()
            times[name].append((time.process_time() - start) / n * 1e6)
    out = {name: {"us_per_household": statistics.median(ts)} for name, ts in times.items()}
    for name in runs:
        for other in runs:
            if other != name:
                ratios = [a / b for a, b in zip(times[name], times[other])]
                out[name][f"x_{other}"] = statistics.median(ratios)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="households")
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="write the figures here")
    parser.add_argument("--only", default=None, help="comma-separated cases: small, pack_six, pack_all")
    args = parser.parse_args(argv)
    report = {}
    for label, path, fields, outputs, with_plain in CASES:
        if args.only and label not in args.only.split(","):
            continue
        policy = load_policy(path)
        program, checker = policy.program(), policy.facts_checker()
        households = [checker.validate(r, "household")[0]
                      for r in records(generate_households(args.n, args.seed, fields=fields))]
        unknown = agree(program, outputs, households, with_plain)
        report[label] = measure(contenders(program, outputs, households, with_plain), len(households), args.reps)
        report[label]["households_with_an_unknown_output"] = unknown
        print(f"{label} ({len(households)} households, {unknown} with an unknown output)")
        for name, row in report[label].items():
            if isinstance(row, dict):
                ratios = ", ".join(f"{k[2:]} ×{v:.2f}" for k, v in row.items() if k.startswith("x_"))
                print(f"  {name:15} {row['us_per_household']:8.2f} µs   ({ratios})")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
