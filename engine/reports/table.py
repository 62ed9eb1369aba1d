"""``fupin eval --format text``: every output of each entity, one line each, for a person.

Renders the JSON shape of :meth:`Result.to_dict` (and invalid entities) with the
policy's labels; it reads the checked policy's declarations, never evaluates.
"""
from __future__ import annotations

from .explain import format_number

_WORDS = {"zh": {"invalid": "事实数据无效", "unknown": "未知，缺 ", "error": "错误", "yes": "是", "no": "否",
                 "param": "参数 "},
          "en": {"invalid": "invalid facts", "unknown": "unknown, needs ", "error": "error", "yes": "yes", "no": "no",
                 "param": "parameter "}}


def render_results(outputs: list[dict], checked, lang: str = "zh") -> str:
    """One block per entity: ``[id]`` then ``label (name): value`` per output."""
    w = _WORDS[lang]
    lines = []
    for out in outputs:
        lines.append(f"[{out['id']}]")
        if out.get("results") is None:
            lines.append("  " + w["invalid"])
            continue
        for name, value in out["results"].items():
            rule = checked.rules[name]
            if name in out["unknown"]:
                shown = w["unknown"] + ", ".join(f.replace("parameter:", w["param"], 1) for f in out["unknown"][name])
            elif value is None:
                shown = w["error"]
            else:
                shown = format_value(value, rule, checked, lang)
            lines.append(f"  {rule.label(lang)} ({name}): {shown}")
    return "\n".join(lines)


def format_value(value, rule, checked, lang: str = "zh") -> str:
    """An output's value as a person reads it: yes/no, an enum value with its label, a number."""
    w = _WORDS[lang]
    if isinstance(value, bool):
        return w["yes"] if value else w["no"]
    if rule.type.kind == "enum":
        label = checked.enums[rule.type.name].values.get(value)
        return f"{value} ({label.get(lang)})" if label else str(value)
    return format_number(value, str(rule.type))
