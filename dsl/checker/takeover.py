"""Taking over the base's checks in a variant, where re-checking could not differ.

A variant changes parameters, rules and exceptions; most rules it leaves alone. A rule
the variant keeps (the same definition object) whose looked-up names mean the same in
the variant (same rule and parameter types for every entity) resolves to the same typed
IR; if it has a table, the parameters it uses must also have the same values, as the gap
and overlap analysis reads them. Only checks that said nothing in the base are taken
over, so a variant reports exactly what re-checking would report. Likewise the
parameters a variant keeps (same definition object) and the documents, enums and
entities (variants cannot change them).

The stages ask :class:`BaseChecks` (one question per stage: ``declarations``,
``parameter``, ``rule``) and check for themselves whatever it does not answer.
tests/test_dsl_fastpaths.py checks that every variant's result equals checking it alone.
"""
from __future__ import annotations

from dataclasses import dataclass

from .checked import CParam, CRule
from .declarations import Declarations
from .resolve import Symbols


@dataclass(frozen=True)
class KeptRule:
    """The base's check of one rule: its definition, result, and what the result read."""

    rule: object  # the RuleDef checked (a variant that keeps the rule keeps this object)
    crule: CRule
    names: set  # every name its expressions looked up, and its own name
    params: set  # the parameters it uses

    def holds_for(self, rule, changes: "Changes") -> bool:
        """Whether re-checking ``rule`` in a view with these changes would give ``crule``."""
        if rule is not self.rule or not self.names.isdisjoint(changes.names):
            return False
        return self.crule.table is None or self.params.isdisjoint(changes.params)


@dataclass(frozen=True)
class Changes:
    """What a view changes from the base: names whose meaning differs (rule or parameter
    types), parameters whose type or values differ."""

    names: set
    params: set


class BaseChecks:
    """What checking the base found quietly, for its variants to take over.

    Built from the base's finished :class:`~fupin.dsl.checker.stages.ViewState` by
    :meth:`of`; each method answers for one stage, or returns None (check it yourself).
    """

    def __init__(self, view, decls: Declarations | None, symbols: Symbols, params: dict[str, CParam],
                 param_defs: dict, rules: dict[str, KeptRule]):
        self.view = view
        self.decls = decls  # None unless documents, enums and entities said nothing
        self.symbols = symbols
        self.params = params  # every checked parameter of the base
        self.param_defs = param_defs  # name -> the ParameterDef whose check said nothing
        self.rules = rules  # name -> the base's quiet check of that rule

    @classmethod
    def of(cls, state) -> "BaseChecks":
        """The quiet checks of a finished base ``state``."""
        view = state.view
        param_defs = {name: view.parameters[name] for name in state.quiet_params}
        rules = {name: KeptRule(view.rules[name], crule, *state.reads[name])
                 for name, crule in state.rules.items() if name in state.quiet_rules}
        decls = state.decls if state.quiet_decls else None
        return cls(view, decls, state.symbols, state.params, param_defs, rules)

    def usable_for(self, view) -> bool:
        """Whether ``view`` has the base's documents, enums and entities (the same objects)."""
        base = self.view
        return view.entities is base.entities and view.enums is base.enums and view.documents is base.documents

    def declarations(self, view, diags: list) -> Declarations | None:
        """The base's checked documents, enums and entities, for ``view``."""
        return self.decls.over(view, diags) if self.decls is not None else None

    def parameter(self, name: str, p) -> CParam | None:
        """The base's check of parameter ``name`` if the view keeps its definition ``p``."""
        return self.params[name] if self.param_defs.get(name) is p else None

    def changes(self, symbols: Symbols, params: dict[str, CParam]) -> Changes:
        """What a view with these symbols and parameters changes from the base."""
        base = self.symbols
        names = _changed(base.params, symbols.params)
        for e in set(base.rule_types) | set(symbols.rule_types):
            names |= _changed(base.rule_types.get(e, {}), symbols.rule_types.get(e, {}))
        changed_params = set(self.params.keys() ^ params.keys())
        for x in self.params.keys() & params.keys():
            a, b = self.params[x], params[x]
            if a is not b and (a.type != b.type or a.periods != b.periods):
                changed_params.add(x)
        return Changes(names, changed_params)

    def rule(self, name: str, r, changes: Changes) -> KeptRule | None:
        """The base's check of rule ``name`` if it holds for definition ``r`` under ``changes``."""
        kept = self.rules.get(name)
        return kept if kept is not None and kept.holds_for(r, changes) else None


def _changed(a: dict, b: dict) -> set:
    """The keys whose value differs between two dicts (present in one only included)."""
    out = set(a.keys() ^ b.keys())
    out.update(x for x in a.keys() & b.keys() if a[x] != b[x])
    return out
