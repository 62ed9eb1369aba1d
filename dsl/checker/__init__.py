"""The checker: declarations, names and types, cycles, decision tables, lints.

It is two lists of named stages, run in order (as OPA's compiler is):

* :data:`POLICY_STAGES` check the whole policy: ``CheckViews`` (the base, then every
  variant, each taking over the base's checks where re-checking could not differ),
  ``Lint`` (W901–W904 on the base and on what each variant adds) and ``Collect`` (every
  diagnostic once, sorted by place);
* :data:`~fupin.dsl.checker.stages.STAGES` check one view: ``ApplyVariant``,
  ``CheckDeclarations``, ``CheckParameters``, ``DeclareRuleTypes``, ``CheckRules``,
  ``CheckBounds``, ``FindCycles``, ``AnalyseTables``, ``BuildPolicy`` (see :mod:`.stages`).

``check(src, variant)`` checks one view and returns a :class:`CheckResult`;
``check_all(src)`` checks the base and every variant and returns every diagnostic once,
sorted, with the result of each view.
"""
from __future__ import annotations

# The names below are this package's, defined in views.py and imported on first use
# (PEP 562): importing checked.py, as reading a cached policy does, runs this file, and
# it must not import the stages, the parser and the schema (engine/cache.py).
__all__ = ["check_all", "check", "check_view", "CheckResult", "BaseChecks", "PolicyState", "ViewState",
           "STAGES", "POLICY_STAGES", "Stage", "run"]


def __getattr__(name: str):
    if name in __all__:
        from . import views

        return getattr(views, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
