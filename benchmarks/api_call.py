"""One ``Policy.evaluate`` call, stage by stage: what a service request or an explain costs
besides the evaluation itself.

    python benchmarks/api_call.py [--n 1000] [--reps 7] [--json out.json]

On ``--n`` generated households of the pack (every field, ``fupin generate``'s seed 1),
raw as a JSON body gives them, in alternating runs (so that a shared machine's load falls
on every contender alike), this process's CPU time per household, medians over ``--reps``:

- ``validate``: ``FactsChecker.validate`` (engine/facts/validate.py) as it is, with the
  fast readers of plain values;
- ``validate_reference``: the same with no fast reader (every value through
  ``check_value``, the general path the readers are held equal to);
- ``record``: the decision record (reports/record.py ``make``: the canonical JSON of the
  facts and its hash);
- ``evaluate_six`` / ``evaluate_all``: ``Policy.evaluate`` whole (validation, the
  generated code, the record, the result) for the six contract outputs / every output.

Ratios are medians of per-run ratios (one_household.py's ``measure``). docs/performance.md reports the figures.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from numpy_small import OUTPUTS as SIX  # noqa: E402
from one_household import measure  # noqa: E402  (alternating runs, medians, ratios)

from fupin import load_policy  # noqa: E402
from fupin.engine.facts.validate import FactsChecker  # noqa: E402
from fupin.engine.reports import record  # noqa: E402
from fupin.engine.tools.generate import generate_households, records  # noqa: E402


class Reference(FactsChecker):
    """Validation without fast readers: every value through ``check_value``."""

    def _plan(self, entity):
        _, required, label = super()._plan(entity)
        plan = self._plans[entity] = ({}, required, label)
        return plan


def contenders(policy, households) -> dict:
    checked = policy.program().checked
    fast, slow = FactsChecker(checked), Reference(checked)
    for h in households:  # the two agree before anything is timed
        assert fast.validate(h, "household") == slow.validate(h, "household")
    return {
        "validate": lambda: [fast.validate(h, "household") for h in households],
        "validate_reference": lambda: [slow.validate(h, "household") for h in households],
        "record": lambda: [record.make("r", "base", "2020-06-30", "household", h) for h in households],
        "evaluate_six": lambda: [policy.evaluate(h, only=SIX) for h in households],
        "evaluate_all": lambda: [policy.evaluate(h) for h in households],
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    policy = load_policy(ROOT / "policy")
    households = list(records(generate_households(args.n, 1, fields="pack")))
    load_before = os.getloadavg()
    report = measure(contenders(policy, households), len(households), args.reps)
    report["loadavg"] = [load_before, os.getloadavg()]
    for name, row in report.items():
        if isinstance(row, dict):
            ratio = row.get("x_validate_reference") if name == "validate" else None
            extra = f"  (× reference {ratio:.2f})" if ratio is not None else ""
            print(f"{name:20} {row['us_per_household']:9.1f} µs{extra}")
    print(f"load average {load_before[0]:.1f} → {os.getloadavg()[0]:.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
