"""fupin: a rules engine for poverty-alleviation policy.

The public API::

    from fupin import load_policy
    policy = load_policy("policy/")
    result = policy.evaluate(household, on="2020-06-30")
    result["monitoring_tier"], result.unknown, result.explain("monitoring_tier")
"""
from __future__ import annotations

__all__ = ["load_policy", "Policy", "Result", "FupinError", "Diagnostic", "Span"]
__version__ = "0.1.0"

_EXPORTS = {
    "load_policy": ("fupin.engine.api", "load_policy"),
    "Policy": ("fupin.engine.api", "Policy"),
    "Result": ("fupin.engine.reports.result", "Result"),
    "FupinError": ("fupin.dsl.errors", "FupinError"),
    "Diagnostic": ("fupin.dsl.errors", "Diagnostic"),
    "Span": ("fupin.dsl.errors", "Span"),
}


def __getattr__(name: str):
    # Imported on first use so that `fupin --help` and `import fupin.dsl` stay light.
    if name in _EXPORTS:
        import importlib

        module, attr = _EXPORTS[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'fupin' has no attribute {name!r}")
