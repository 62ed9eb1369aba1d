"""Parameter timelines as each view sees them, with who supplied each dated value.

A variant's dated values override the base's from the variant's first date on; the
base's earlier values stay (:func:`~fupin.dsl.checker.variants.merge_timeline`). For
``fupin check --show-params``, :func:`timelines` lists, for the base and for every
variant, each parameter a variant overrides: its periods in force, each with its
start, value and origin (``base`` or the variant whose file wrote it).
"""
from __future__ import annotations

from dataclasses import dataclass

from .checked import Gap
from .variants import REPLACE_KEY, chain, merge_timeline


@dataclass(frozen=True)
class Period:
    """One dated value of a parameter in a view."""

    start: object  # datetime.date
    value: object
    origin: str


@dataclass(frozen=True)
class Timeline:
    """A parameter's periods in one view (``view`` is ``base`` or a variant's name)."""

    view: str
    name: str
    unit: str | None
    periods: tuple


def timelines(src, results) -> list[Timeline]:
    """Every parameter some variant overrides, in the base and in each variant."""
    touched = sorted({p for v in src.variants.values() for p in v.parameters if p in src.parameters})
    out = []
    for view, result in results.items():
        checked = result.checked
        if checked is None:
            continue
        origins = _origins(src, None if view == "base" else view)
        for name in touched:
            param = checked.params.get(name)
            if param is None:
                continue
            periods = tuple(Period(start, value, origins.get(name, {}).get(start.isoformat(), param.origin))
                            for start, value in param.periods)
            out.append(Timeline(view, name, param.unit, periods))
    return out


def _origins(src, variant: str | None) -> dict:
    """parameter → {date text → who wrote the value in force from that date}."""
    out = {name: {_key(k): "base" for k in p.values} for name, p in src.parameters.items()}
    if variant is None:
        return out
    for v in chain(src, variant, []):
        for name, override in v.parameters.items():
            values = override.get("values")
            if name not in out or not isinstance(values, dict):
                continue
            mine = {_key(k): v.variant for k in values}
            out[name] = mine if override.get(REPLACE_KEY) is True else merge_timeline(out[name], mine)
    return out


def _key(key) -> str:
    return key.isoformat() if hasattr(key, "isoformat") else str(key)


def render(found: list[Timeline], lang: str = "zh") -> str:
    """The timelines as text, grouped by view."""
    lines = ["参数时间线（变体按日期合并）" if lang == "zh" else "parameter timelines (variants merged by date)"]
    view = None
    for tl in found:
        if tl.view != view:
            view = tl.view
            lines.append(f"[{view}]")
        unit = f" ({tl.unit})" if tl.unit else ""
        lines.append(f"  {tl.name}{unit}")
        for p in tl.periods:
            since = f"{p.start.isoformat()} 起" if lang == "zh" else f"from {p.start.isoformat()}"
            lines.append(f"    {since}  {_show(p.value, lang)}  ← {p.origin}")
    return "\n".join(lines)


def _show(value, lang: str) -> str:
    if isinstance(value, Gap):
        return ("缺口：" if lang == "zh" else "gap: ") + value.text
    if value is None:
        return "—"
    return str(value)


__all__ = ["timelines", "render", "Timeline", "Period"]
