"""Checking a whole policy: the policy stages (``CheckViews``, ``Lint``, ``Collect``) and
the calls ``check``, ``check_view`` and ``check_all`` (the package's docstring describes them;
``fupin.dsl.checker`` re-exports this module's names).

They live here, not in the package's ``__init__``, so that importing
:mod:`fupin.dsl.checker.checked` (the checked policy's classes, which a policy read from the
cache needs, engine/cache.py) does not import every stage of the checker.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..errors import Diagnostic
from .checked import CheckedPolicy
from .graph import lint
from .stages import STAGES, Stage, ViewState, run
from .takeover import BaseChecks


@dataclass
class CheckResult:
    """One view's outcome: ``policy`` is the checked policy, or None when errors prevent
    compiling it; ``checked`` is built even then (the lints read it), and ``view`` holds
    the view's declarations, located where the base or the variant wrote them."""

    policy: CheckedPolicy | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    params_used: set = field(default_factory=set)
    checked: CheckedPolicy | None = None
    view: object = None

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @classmethod
    def of(cls, state: ViewState) -> "CheckResult":
        """The result of a view whose stages have all run."""
        result = cls(state.checked, state.diags, state.params_used, state.checked, state.view)
        if state.has_cycle or result.errors:
            result.policy = None
        return result


def check_view(src, variant: str | None = None, base: BaseChecks | None = None,
               metrics: dict | None = None) -> ViewState:
    """Run :data:`STAGES` on the base (``variant`` None) or one variant; the final state."""
    return run(ViewState(src, variant, base), STAGES, metrics)


def check(src, variant: str | None = None, base: BaseChecks | None = None) -> CheckResult:
    """Check the base policy (``variant`` None) or one variant over it.

    With ``base`` (the base's checks, :class:`BaseChecks`), a variant takes over the
    base's checked rules (the same objects) wherever re-checking could not differ.
    """
    return CheckResult.of(check_view(src, variant, base))


@dataclass
class PolicyState:
    """What checking a whole policy has found so far (the policy stages' state)."""

    src: object
    metrics: dict | None = None  # stage metric -> seconds, when asked for
    results: dict[str, CheckResult] = field(default_factory=dict)  # CheckViews: "base" first
    lint_diags: list[Diagnostic] = field(default_factory=list)  # Lint
    diagnostics: list[Diagnostic] = field(default_factory=list)  # Collect


def check_views(state: PolicyState) -> None:
    """The base, then every variant, each handed the base's checks to take over."""
    base_state = check_view(state.src, metrics=state.metrics)
    state.results["base"] = CheckResult.of(base_state)
    base = BaseChecks.of(base_state)
    for name in state.src.variants:
        state.results[name] = CheckResult.of(check_view(state.src, name, base, state.metrics))


def lint_views(state: PolicyState) -> None:
    """Unused parameters and internal rules, missing sources, gap values: in the base,
    and in what each variant supplies. A name used in any view counts as used."""
    results = state.results
    used = set().union(*(r.params_used for r in results.values()))
    rules_used = set().union(*(rule.deps for r in results.values() for rule in r.checked.rules.values()))
    base = results["base"].checked
    for name, r in results.items():
        lint(r.checked, used, rules_used, r.view, state.lint_diags, base=None if name == "base" else base)


def collect(state: PolicyState) -> None:
    """Every diagnostic once (the base's and a variant's may coincide), sorted by place;
    when one file of the policy was asked for (``src.focus``), those in that file."""
    seen, out = set(), []
    focus = getattr(state.src, "focus", None)
    for d in [*state.lint_diags, *(d for r in state.results.values() for d in r.diagnostics)]:
        if focus is not None and os.path.normpath(d.span.file) != os.path.normpath(focus):
            continue
        key = (d.code, d.span, d.message("en"))
        if key not in seen:
            seen.add(key)
            out.append(d)
    state.diagnostics = sorted(out, key=Diagnostic.sort_key)


POLICY_STAGES: list[Stage] = [
    Stage("CheckViews", "check_views", check_views),
    Stage("Lint", "check_lint", lint_views),
    Stage("Collect", "check_collect", collect),
]


def check_all(src, metrics: dict | None = None) -> tuple[list[Diagnostic], dict[str, CheckResult]]:
    """Check the base and every variant; every diagnostic once, sorted by place.

    With ``metrics`` (a dict), each stage's seconds are added under its metric name.
    """
    state = run(PolicyState(src, metrics), POLICY_STAGES, metrics)
    return state.diagnostics, state.results


__all__ = ["check_all", "check", "check_view", "CheckResult", "BaseChecks", "PolicyState", "ViewState",
           "STAGES", "POLICY_STAGES", "Stage", "run"]
