"""The stages that check one view of a policy (the base, or one variant over it), in order.

Like OPA's compiler, the checker is a list of named stages, :data:`STAGES`; each is a
function with one job that reads some fields of a :class:`ViewState` and sets others.
:func:`run` runs them in order; a test can run one stage alone on a state the earlier
stages prepared. A variant's state may carry the base's checks (:mod:`.takeover`): a
stage that can take one over asks for it first and checks the rest itself.

A new check of one view goes into the stage whose job it is (a declaration into
``CheckDeclarations``/``CheckParameters``, an expression into ``CheckRules`` through
:class:`~fupin.dsl.checker.rules.RuleChecker`), or into a new stage inserted in
:data:`STAGES` after the stages whose fields it reads. A check across the base and its
variants (a lint) goes into :func:`~fupin.dsl.checker.graph.lint`, run by the policy
stages in :mod:`fupin.dsl.checker`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

from ..errors import Bilingual, Diagnostic, error
from ..parser import referenceable
from ..types import Type
from .checked import CheckedPolicy, CParam, CRule
from .declarations import Declarations
from .bounds import check_bounds
from .graph import find_cycles
from .resolve import Symbols
from .rules import RuleChecker
from .tables import analyse_table
from .takeover import BaseChecks
from .variants import apply


@dataclass
class ViewState:
    """What checking one view has found so far; each field names the stage that sets it."""

    src: object  # the PolicySource as loaded
    variant: str | None = None  # None: the base
    base: BaseChecks | None = None  # the base's checks, for a variant to take over
    diags: list[Diagnostic] = field(default_factory=list)  # every stage reports here, in order
    view: object = None  # ApplyVariant: the declarations this check sees
    decls: Declarations | None = None  # CheckDeclarations
    quiet_decls: bool = False  # CheckDeclarations: documents, enums and entities said nothing
    params: dict[str, CParam] = field(default_factory=dict)  # CheckParameters
    quiet_params: set[str] = field(default_factory=set)  # CheckParameters: checked without a word
    symbols: Symbols | None = None  # DeclareRuleTypes: what names mean
    rules: dict[str, CRule] = field(default_factory=dict)  # CheckRules
    reads: dict[str, tuple] = field(default_factory=dict)  # CheckRules: rule -> (names looked up, params used)
    quiet_rules: set[str] = field(default_factory=set)  # CheckRules, AnalyseTables: checked without a word
    taken: set[str] = field(default_factory=set)  # CheckRules: rules taken over from the base
    erred: set[str] = field(default_factory=set)  # CheckRules, CheckBounds: rules with an error
    params_used: set[str] = field(default_factory=set)  # CheckRules
    has_cycle: bool = False  # FindCycles
    checked: CheckedPolicy | None = None  # BuildPolicy


def apply_variant(state: ViewState) -> None:
    """The view: the base as loaded (with the loader's diagnostics), or the variant
    applied over it. The base's checks are kept only for the same declarations."""
    if state.variant is None:
        state.diags.extend(state.src.diagnostics)
        state.view = state.src
    else:
        state.view = apply(state.src, state.variant, state.diags)
    if state.base is not None and not state.base.usable_for(state.view):
        state.base = None


def check_declarations(state: ViewState) -> None:
    """Documents (and their line counts), enums and entities with their fields, defaults."""
    taken = state.base.declarations(state.view, state.diags) if state.base else None
    if taken is not None:
        state.decls, state.quiet_decls = taken, True
        return
    decls = Declarations(state.view, state.diags)
    before = len(state.diags)
    decls.documents()
    decls.declare_enums()
    decls.declare_entities()
    decls.defaults()
    state.decls, state.quiet_decls = decls, len(state.diags) == before


def check_parameters(state: ViewState) -> None:
    """Each parameter's type, dated values and citations."""
    for name, p in state.view.parameters.items():
        if not referenceable(name) and (state.variant is None or p.origin == state.variant):
            state.diags.append(error("E110", p.loc.key_span(), kind=Bilingual("参数", "parameter"), name=name))
        taken = state.base.parameter(name, p) if state.base else None
        if taken is not None:
            state.params[name] = taken
            continue
        before = len(state.diags)
        state.params[name] = state.decls.parameter(name, p, p.origin)
        for key, code in (("reading", "I950"), ("gap", "I951")):
            declared = getattr(p, key)
            if declared is not None:
                loc = p.loc.child(key)
                state.decls.citations(declared.source, loc, "source")
                state.diags.append(error(code, loc.span(), name=name, where="", source=declared.source,
                                         reason=Bilingual(declared.text("zh"), declared.text("en"))))
        if len(state.diags) == before:
            state.quiet_params.add(name)


def declare_rule_types(state: ViewState) -> None:
    """Each rule's declared type, per entity, and with them what every name can mean."""
    decls = state.decls
    rule_types: dict[str, dict[str, Type]] = {e: {} for e in decls.entities}
    for name, r in state.view.rules.items():
        if not referenceable(name):
            state.diags.append(error("E110", r.loc.key_span(), kind=Bilingual("规则", "rule"), name=name))
        if r.entity not in rule_types:
            continue  # CheckRules reports the unknown entity
        ent = decls.entities[r.entity]
        if name in ent.fields:
            state.diags.append(error("E104", r.loc.key_span(), name=name, first=str(ent.fields[name].span)))
            continue
        rule_types[r.entity][name] = decls.type_of(r.type, r.loc, "type")
    param_types = {n: p.type for n, p in state.params.items()}
    state.symbols = Symbols(decls.entities, rule_types, param_types, decls.enums)


def check_rules(state: ViewState) -> None:
    """Each rule's expression, table and exceptions parsed, resolved and typed."""
    checker = RuleChecker(state.decls, state.symbols, state.diags)
    changes = state.base.changes(state.symbols, state.params) if state.base else None
    for name, r in state.view.rules.items():
        kept = state.base.rule(name, r, changes) if state.base else None
        if kept is not None:
            state.rules[name] = kept.crule
            checker.params_used |= kept.params
            state.taken.add(name)
            continue
        checker.rule_names, checker.rule_params = set(), set()
        before = len(state.diags)
        crule = checker.rule(name, r)
        if crule is None:
            continue
        state.rules[name] = crule
        state.reads[name] = (checker.rule_names | {name}, checker.rule_params)
        if len(state.diags) == before:
            state.quiet_rules.add(name)
        elif any(d.severity == "error" for d in state.diags[before:]):
            state.erred.add(name)
    state.params_used = checker.params_used


def check_rule_bounds(state: ViewState) -> None:
    """Arithmetic that declared ranges show can go beyond the number bounds (E703), and
    ``round`` places outside 0–20 (E208)."""
    fields = {e: ent.fields for e, ent in state.decls.entities.items()}
    for name, crule in state.rules.items():
        before = len(state.diags)
        check_bounds(crule, fields, state.params, state.diags)
        if len(state.diags) != before:
            state.quiet_rules.discard(name)
            state.erred.add(name)


def find_rule_cycles(state: ViewState) -> None:
    """Dependency cycles between rules, each reported once with its path."""
    state.has_cycle = find_cycles(state.rules, state.diags)


def analyse_tables(state: ViewState) -> None:
    """Gaps and overlaps of each decision table (not of tables taken over: the base
    analysed the same table with the same parameter values, and found nothing)."""
    decls = state.decls
    fields = {e: ent.fields for e, ent in decls.entities.items()}
    for name, crule in state.rules.items():
        if name in state.taken or name in state.erred:
            continue  # a rule with an error: its table is not what the author meant yet
        before = len(state.diags)
        analyse_table(crule, crule.table, decls.enums, fields, state.params, state.diags)
        if len(state.diags) != before:
            state.quiet_rules.discard(name)


def build_policy(state: ViewState) -> None:
    """The :class:`CheckedPolicy` of the view (built even when errors stop compiling it)."""
    src, variant, decls = state.src, state.variant, state.decls
    labels = src.variants[variant].labels if variant else None
    state.checked = CheckedPolicy(variant or "base", labels, dict(src.documents), decls.enums, decls.entities,
                                  state.params, state.rules, decls.default_on)


class Stage(NamedTuple):
    """A named step of the checker: ``metric`` names its time in a metrics dict."""

    name: str
    metric: str
    run: Callable[[ViewState], None]


STAGES: list[Stage] = [
    Stage("ApplyVariant", "check_stage_apply_variant", apply_variant),
    Stage("CheckDeclarations", "check_stage_declarations", check_declarations),
    Stage("CheckParameters", "check_stage_parameters", check_parameters),
    Stage("DeclareRuleTypes", "check_stage_rule_types", declare_rule_types),
    Stage("CheckRules", "check_stage_rules", check_rules),
    Stage("CheckBounds", "check_stage_bounds", check_rule_bounds),
    Stage("FindCycles", "check_stage_cycles", find_rule_cycles),
    Stage("AnalyseTables", "check_stage_tables", analyse_tables),
    Stage("BuildPolicy", "check_stage_build", build_policy),
]


def run(state, stages: list[Stage], metrics: dict | None = None):
    """Run ``stages`` in order on ``state``; with ``metrics``, add each stage's seconds."""
    for stage in stages:
        if metrics is None:
            stage.run(state)
            continue
        start = time.perf_counter()
        stage.run(state)
        metrics[stage.metric] = metrics.get(stage.metric, 0.0) + time.perf_counter() - start
    return state
