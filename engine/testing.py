"""Run YAML test cases against a policy and measure what they exercised.

A case gives facts, an as-of date, a variant, expected outputs, expected unknowns
(with the facts they wait on) or an expected error code. Coverage counts every rule,
decision-table row and exception of the base and of each variant, and reports those no
case ever exercised.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from ..dsl.errors import FupinError
from ..dsl.yamlsrc import load_yaml_file


@dataclass
class Case:
    """One test case, with the file and place it came from."""

    name: str
    file: str
    line: int
    entity: str
    on: str | None
    variant: str | None
    facts: dict
    expect: dict
    unknown: dict | list | None
    error: str | None


@dataclass
class Outcome:
    case: Case
    failures: list[str] = field(default_factory=list)
    covered: set = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return not self.failures


def load_cases(path: Path) -> list[Case]:
    """Every case in a YAML file or a folder of them."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*.y*ml"))
    cases = []
    for f in files:
        data, pos = load_yaml_file(os.path.relpath(f))
        if not isinstance(data, dict):
            continue
        for i, raw in enumerate(data.get("cases") or []):
            span = pos.span(("cases", i))
            cases.append(Case(str(raw.get("name", f"case {i + 1}")), span.file, span.line,
                              raw.get("entity", data.get("entity", "household")),
                              _text(raw.get("on", data.get("on"))), raw.get("variant", data.get("variant")),
                              raw.get("facts") or {}, raw.get("expect") or {}, raw.get("unknown"), raw.get("error")))
    return cases


def _text(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def run_case(policy, case: Case) -> Outcome:
    """Evaluate one case with a trace; compare; collect coverage."""
    out = Outcome(case)
    try:
        result = policy.evaluate(case.facts, on=case.on, variant=case.variant, entity=case.entity, trace=True)
    except FupinError as exc:
        if case.error and exc.code == case.error:
            return out
        out.failures.append(f"error {exc.code}: {exc.diagnostics[0].message('zh')}")
        return out
    _compare(out, result)
    out.covered = covered_items(result.trace)
    return out


def _compare(out: Outcome, result) -> None:
    case = out.case
    codes = {e.code for e in result.errors.values()}
    if case.error:
        if case.error not in codes:
            out.failures.append(f"expected error {case.error}, got {sorted(codes) or 'none'}")
    else:
        for name, err in result.errors.items():
            out.failures.append(f"{name}: error {err.code}: {err.message}")
    for name, want in case.expect.items():
        if name not in result.values:
            out.failures.append(f"{name}: no such output")
        elif not same(result.values[name], want):
            got = result.values[name]
            detail = f" (unknown: {result.unknown[name]})" if name in result.unknown else ""
            out.failures.append(f"{name}: expected {want!r}, got {got!r}{detail}")
    wanted = case.unknown or {}
    if isinstance(wanted, list):
        wanted = {name: None for name in wanted}
    for name, facts in wanted.items():
        if name not in result.unknown:
            out.failures.append(f"{name}: expected unknown, got {result.values.get(name)!r}")
        elif facts is not None and sorted(facts) != result.unknown[name]:
            out.failures.append(f"{name}: expected to wait on {sorted(facts)}, waits on {result.unknown[name]}")


def same(actual, expected) -> bool:
    """Compare an output with an expected YAML value (numbers exactly, as Decimals)."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected
    if expected is None:
        return actual is None
    if isinstance(actual, (int, Decimal)) and isinstance(expected, (int, Decimal, str)):
        try:
            from ..dsl.coerce import to_decimal

            return Decimal(actual) == to_decimal(expected)
        except ValueError:
            return False
    return actual == expected


def covered_items(trace) -> set:
    items = set()
    stack = list(trace.roots) if trace else []
    while stack:
        node = stack.pop()
        items.add(("rule", node.origin, node.rule))
        d = node.decided_by or {}
        if d.get("kind") == "row":
            for index in d.get("rows") or [d.get("row")]:
                items.add(("row", node.origin, node.rule, index))
        elif d.get("kind") == "exception":
            items.add(("exception", d.get("origin", "base"), node.rule, d["id"]))
        stack.extend(node.children)
    return items


def coverage_universe(policy) -> set:
    """Every rule, row and exception of the base and of each variant (by origin)."""
    items = set()
    for variant in policy.variants:
        checked = policy.program(None if variant == "base" else variant).checked
        for rule in checked.rules.values():
            items.add(("rule", rule.origin, rule.name))
            if rule.table:
                items |= {("row", rule.origin, rule.name, r.index) for r in rule.table.rows}
            items |= {("exception", e.origin, rule.name, e.id) for e in rule.exceptions}
    return items


def describe_item(item) -> str:
    kind, origin, rule, *rest = item
    where = f"{origin}:" if origin != "base" else ""
    if kind == "rule":
        return f"rule {where}{rule}"
    if kind == "row":
        return f"row {where}{rule}#{rest[0]}"
    return f"exception {where}{rule}/{rest[0]}"
