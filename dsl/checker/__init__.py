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


def check(src, variant: str | None = None, memo: "_Memo | None" = None) -> CheckResult:
    """Check the base policy (``variant`` None) or one variant over it.

    With ``memo``, checking the base records each rule's check, and checking a variant
    takes over the base's checked rule (the same object) wherever re-checking it could
    not say anything else: see :class:`_Memo`.
    """
    diags: list[Diagnostic] = list(src.diagnostics) if variant is None else []
    view = apply(src, variant, diags) if variant else src
    recording = memo is not None and variant is None
    reusing = memo is not None and variant is not None and memo.usable_for(view)
    if reusing and memo.decls is not None:
        decls = memo.decls.over(view, diags)  # the same documents, enums and entities, said nothing
    else:
        decls = Declarations(view, diags)
        before = len(diags)
        decls.documents()
        decls.declare_enums()
        decls.declare_entities()
        if recording and len(diags) == before:
            memo.decls = decls
    params = {}
    for name, p in view.parameters.items():
        if reusing and memo.param_defs.get(name) is p:
            params[name] = memo.params[name]
            continue
        before = len(diags)
        params[name] = decls.parameter(name, p, p.origin)
        if recording and len(diags) == before:
            memo.param_defs[name] = p
    rule_types = _rule_types(view, decls, diags)
    symbols = Symbols(decls.entities, rule_types, {n: p.type for n, p in params.items()}, decls.enums)
    checker = RuleChecker(decls, symbols, diags)
    if recording:
        memo.start(src, symbols, params)
    elif reusing:
        changed_names, changed_params = memo.changes(symbols, params)
    rules = {}
    taken: set[str] = set()
    for name, r in view.rules.items():
        if reusing:
            entry = memo.rules.get(name)
            if entry is not None and entry.holds_for(r, changed_names, changed_params):
                rules[name] = entry.crule
                checker.params_used |= entry.params
                taken.add(name)
                continue
        checker.rule_names, checker.rule_params = set(), set()
        before = len(diags)
        crule = checker.rule(name, r)
        if crule is not None:
            rules[name] = crule
            if recording:
                memo.rules[name] = _Checked(r, crule, checker.rule_names | {name}, checker.rule_params,
                                            len(diags) == before)
    has_cycle = find_cycles(rules, diags)
    fields = {e: ent.fields for e, ent in decls.entities.items()}
    for name, crule in rules.items():
        if name in taken:
            continue  # analysed with the base: the same table and parameter values, no finding
        before = len(diags)
        analyse_table(crule, crule.table, decls.enums, fields, params, diags)
        if recording and len(diags) != before:
            memo.rules[name].clean = False
    vlabels = src.variants[variant].labels if variant else None
    checked = CheckedPolicy(variant or "base", vlabels, dict(src.documents), decls.enums, decls.entities,
                            params, rules)
    result = CheckResult(checked, diags, checker.params_used)
    if has_cycle or result.errors:
        result.policy = None
    result._checked = checked  # kept for lint even when errors stop compilation
    result._view = view  # the variant's declarations, located where the variant wrote them
    return result


@dataclass
class _Checked:
    """The base's check of one rule: its definition, result, and what the result read."""

    rule: object  # the RuleDef checked (a variant that keeps the rule keeps this object)
    crule: CRule
    names: set  # every name its expressions looked up, and its own name
    params: set  # the parameters it uses
    clean: bool  # no diagnostic from checking it or analysing its table

    def holds_for(self, rule, changed_names: set, changed_params: set) -> bool:
        if not self.clean or rule is not self.rule or not self.names.isdisjoint(changed_names):
            return False
        return self.crule.table is None or self.params.isdisjoint(changed_params)


class _Memo:
    """Rules checked in the base, for the variants of the same source.

    A variant changes parameters, rules and exceptions; most rules it leaves alone. A
    rule the variant keeps (the same definition object) whose looked-up names mean the
    same in the variant (same rule and parameter types for every entity) resolves to
    the same typed IR; if it has a table, the parameters it uses must also have the same
    values, as the gap and overlap analysis reads them. Only rules whose base check said
    nothing are taken over, so a variant reports exactly what re-checking would report.
    Likewise the parameters a variant keeps (same definition object) and the documents,
    enums and entities (variants cannot change them).
    """

    def __init__(self):
        self.rules: dict[str, _Checked] = {}
        self.param_defs: dict = {}  # name -> the ParameterDef whose check said nothing
        self.decls: Declarations | None = None  # the base's, if documents, enums and entities said nothing
        self.src = None

    def start(self, src, symbols: Symbols, params: dict) -> None:
        self.src, self.symbols, self.params = src, symbols, params

    def usable_for(self, view) -> bool:
        src = self.src
        return (src is not None and view.entities is src.entities and view.enums is src.enums
                and view.documents is src.documents)

    def changes(self, symbols: Symbols, params: dict) -> tuple[set, set]:
        """Names whose meaning differs from the base, parameters whose type or values do."""
        base = self.symbols
        changed_names = _changed(base.params, symbols.params)
        for e in set(base.rule_types) | set(symbols.rule_types):
            changed_names |= _changed(base.rule_types.get(e, {}), symbols.rule_types.get(e, {}))
        changed_params = set(self.params.keys() ^ params.keys())
        for x in self.params.keys() & params.keys():
            a, b = self.params[x], params[x]
            if a is not b and (a.type != b.type or a.periods != b.periods):
                changed_params.add(x)
        return changed_names, changed_params


def _changed(a: dict, b: dict) -> set:
    """The keys whose value differs between two dicts (present in one only included)."""
    out = set(a.keys() ^ b.keys())
    out.update(x for x in a.keys() & b.keys() if a[x] != b[x])
    return out


def _rule_types(view, decls, diags) -> dict:
    out: dict[str, dict[str, Type]] = {e: {} for e in decls.entities}
    for name, r in view.rules.items():
        if r.entity not in out:
            continue
        ent = decls.entities[r.entity]
        if name in ent.fields:
            diags.append(error("E104", r.loc.key_span(), name=name, first=str(ent.fields[name].span)))
            continue
        out[r.entity][name] = decls.type_of(r.type, r.loc, "type")
    return out


def check_all(src) -> tuple[list[Diagnostic], dict[str, CheckResult]]:
    """Check the base and every variant; every diagnostic once, sorted by place."""
    memo = _Memo()
    results = {"base": check(src, memo=memo)}
    for name in src.variants:
        results[name] = check(src, name, memo)
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
