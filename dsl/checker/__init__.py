"""The checker: declarations, names and types, cycles, decision tables, lints.

``check(src, variant)`` checks one view (the base, or a variant applied over it) and
returns the :class:`CheckedPolicy` plus diagnostics; ``check_all(src)`` checks the base
and every variant, lints the base and what each variant adds (W901–W904), and returns
every diagnostic once, sorted.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import Diagnostic, error
from ..types import Type
from .checked import CheckedPolicy
from .declarations import Declarations
from .graph import find_cycles, lint
from .resolve import Symbols
from .rules import RuleChecker
from .tables import analyse_table
from .variants import apply


@dataclass
class CheckResult:
    """The checked policy (None when errors prevent building it) and diagnostics."""

    policy: CheckedPolicy | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    params_used: set = field(default_factory=set)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]


def check(src, variant: str | None = None) -> CheckResult:
    """Check the base policy (``variant`` None) or one variant over it."""
    diags: list[Diagnostic] = list(src.diagnostics) if variant is None else []
    view = apply(src, variant, diags) if variant else src
    decls = Declarations(view, diags)
    decls.documents()
    decls.declare_enums()
    decls.declare_entities()
    params = {name: decls.parameter(name, p, p._origin) for name, p in view.parameters.items()}
    rule_types = _rule_types(view, decls, diags)
    symbols = Symbols(decls.entities, rule_types, {n: p.type for n, p in params.items()}, decls.enums)
    checker = RuleChecker(decls, symbols, diags)
    rules = {}
    for name, r in view.rules.items():
        crule = checker.rule(name, r)
        if crule is not None:
            rules[name] = crule
    has_cycle = find_cycles(rules, diags)
    fields = {e: ent.fields for e, ent in decls.entities.items()}
    for crule in rules.values():
        analyse_table(crule, crule.table, decls.enums, fields, params, diags)
    vlabels = src.variants[variant].labels if variant else None
    checked = CheckedPolicy(variant or "base", vlabels, dict(src.documents), decls.enums, decls.entities,
                            params, rules)
    result = CheckResult(checked, diags, checker.params_used)
    if has_cycle or result.errors:
        result.policy = None
    result._checked = checked  # kept for lint even when errors stop compilation
    result._view = view  # the variant's declarations, located where the variant wrote them
    return result


def _rule_types(view, decls, diags) -> dict:
    out: dict[str, dict[str, Type]] = {e: {} for e in decls.entities}
    for name, r in view.rules.items():
        if r.entity not in out:
            continue
        ent = decls.entities[r.entity]
        if name in ent.fields:
            diags.append(error("E104", r._loc.key_span(), name=name, first=str(ent.fields[name].span)))
            continue
        out[r.entity][name] = decls.type_of(r.type, r._loc, "type")
    return out


def check_all(src) -> tuple[list[Diagnostic], dict[str, CheckResult]]:
    """Check the base and every variant; every diagnostic once, sorted by place."""
    results = {"base": check(src)}
    for name in src.variants:
        results[name] = check(src, name)
    used = set().union(*(r.params_used for r in results.values()))
    rules_used = set().union(*(rule.deps for r in results.values() for rule in r._checked.rules.values()))
    lint_diags: list[Diagnostic] = []
    base = results["base"]._checked
    for name, r in results.items():
        lint(r._checked, used, rules_used, r._view, lint_diags, base=None if name == "base" else base)
    seen, out = set(), []
    for d in [*lint_diags, *(d for r in results.values() for d in r.diagnostics)]:
        key = (d.code, d.span, d.message("en"))
        if key not in seen:
            seen.add(key)
            out.append(d)
    return sorted(out, key=Diagnostic.sort_key), results
