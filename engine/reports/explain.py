"""Render a trace for a person: the decision, what decided it, actual against threshold
values with the margin, the parameters with their dates and sources, the sources.

The renderer only reads the :class:`~fupin.engine.reports.trace.Trace` model; the tracer knows
nothing of it (as in OPA, tracing and pretty-printing are separate).
"""
from __future__ import annotations

from decimal import Decimal

_WORDS = {
    "zh": {"entity": "户", "on": "评估日期", "policy": "政策", "unknown": "未知", "waits": "尚缺事实",
           "row": "决策表第 {n} 行", "rows": "决策表第 {n} 行（多行可能，结论相同）", "exception": "例外",
           "expr": "表达式", "conditions": "判断条件", "params": "参数", "from": "自 {d} 起",
           "source": "来源", "because": "依据", "holds": "成立", "fails": "不成立", "margin": "差 {m}",
           "depends": "依据的规则", "variant": "变体", "gap": "来源未给出金额", "error": "错误",
           "absent": "（缺省读作此值）", "yes": "是", "no": "否", "cell": "满足",
           "cases": "分情况：{facts} 取任何值结论都相同"},
    "en": {"entity": "entity", "on": "as of", "policy": "policy", "unknown": "unknown", "waits": "waiting on",
           "row": "decision table row {n}", "rows": "decision table rows {n} (several possible, same outcome)",
           "exception": "exception", "expr": "expression", "conditions": "conditions", "params": "parameters",
           "from": "from {d}", "source": "source", "because": "decided by", "holds": "holds", "fails": "fails",
           "margin": "margin {m}", "depends": "rules used", "variant": "variant", "gap": "no amount in source",
           "error": "error", "absent": " (absent, read as this)", "yes": "yes", "no": "no",
           "cell": "matches", "cases": "by cases: every value of {facts} gives this outcome"},
}


def render_text(result, output: str, lang: str = "zh", depth: int = 2) -> str:
    """The explanation of ``output`` in ``result``, read from its trace alone."""
    w = _WORDS[lang]
    roots = result.trace.roots if result.trace else []
    at = next((i for i, n in enumerate(roots) if n.rule == output), None)
    if at is None:
        return f"{output}: {w['unknown']}"
    node = _as_if_alone(roots[at], _computed(roots[:at]), set())
    head = [f"{_label(node, lang)} = {_value(node.value, node, lang)}{_possible(node, lang)}",
            f"  {w['entity']} {result.id or '—'} · {w['on']} {result.on} · {w['policy']} {result.variant}"]
    return "\n".join(head + _body(node, lang, depth, "  "))


def _possible(node, lang) -> str:
    """`` ∈ {red, yellow}``: the values an unknown output may still take (core/exact.py)."""
    if node.value is not None or not node.possible:
        return ""
    labels = node.possible_labels or [None] * len(node.possible)
    return " ∈ {" + ", ".join(_value(v, node, lang, label) for v, label in zip(node.possible, labels)) + "}"


def _computed(roots) -> dict:
    """The nodes computed under earlier outputs, by (rule, path). When every output is
    traced, a rule used again shows as ``cached``; its reasons stand where it was first
    computed, and the explanation of a later output brings them back from there."""
    index, stack = {}, list(reversed(roots))
    while stack:
        node = stack.pop()
        if (node.decided_by or {}).get("kind") != "cached":
            index.setdefault((node.rule, node.path), node)
        stack.extend(reversed(node.children))
    return index


def _as_if_alone(node, earlier: dict, seen: set):
    """The node's tree as evaluating its output alone would have recorded it: the first
    use of a rule that an earlier output computed takes that computation's node."""
    if (node.decided_by or {}).get("kind") == "cached" and (node.rule, node.path) not in seen:
        node = earlier.get((node.rule, node.path), node)
    if (node.decided_by or {}).get("kind") == "cached":
        return node
    seen.add((node.rule, node.path))
    children = [_as_if_alone(c, earlier, seen) for c in node.children]
    return node.model_copy(update={"children": children}) if children != node.children else node


def _body(node, lang, depth, pad) -> list[str]:
    w = _WORDS[lang]
    lines = []
    if node.unknown_facts:
        lines.append(f"{pad}{w['waits']}: {', '.join(node.unknown_facts)}")
    if node.error:
        lines.append(f"{pad}{w['error']}: {node.error}")
    lines += _decided(node, lang, pad)
    if node.comparisons:
        lines.append(f"{pad}{w['conditions']}:")
        for c in node.comparisons:
            lines.append(f"{pad}  {_comparison(c, lang)}")
    for r in node.reads:
        if r.when_absent:
            lines.append(f"{pad}{_read_label(r, lang)} = {format_number(r.value)}{w['absent']}")
    if node.params:
        lines.append(f"{pad}{w['params']}:")
        for p in node.params:
            lines.append(f"{pad}  {_param(p, lang)}")
    if node.sources:
        origin = f" · {w['variant']} {node.origin}" if node.origin != "base" else ""
        lines.append(f"{pad}{w['source']}: {', '.join(node.sources)}{origin}")
    children = [c for c in node.children if not (c.decided_by or {}).get("kind") == "cached"]
    if children and depth > 0:
        lines.append(f"{pad}{w['depends']}:")
        for child in _unique(children):
            lines.append(f"{pad}  · {_label(child, lang)}{_where(child)} = {_value(child.value, child, lang)}")
            lines += _body(child, lang, depth - 1, pad + "    ")
    return lines


def _unique(children):
    seen, out = set(), []
    for c in children:
        key = (c.rule, c.path)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def _where(node) -> str:
    return f" [{node.path.rstrip('.')}]" if node.path else ""


def _decided(node, lang, pad) -> list[str]:
    w = _WORDS[lang]
    d = node.decided_by
    if not d:
        return []
    if d["kind"] == "row":
        rows = d.get("rows")
        title = w["rows"].format(n=", ".join(map(str, rows))) if rows and len(rows) > 1 else w["row"].format(n=d["row"])
        reason = _pick(d.get("reason"), lang)
        src = _paren(f"{w['source']} {', '.join(d['sources'])}", lang) if d.get("sources") else ""
        out = [f"{pad}{w['because']}: {title}" + (f" — {reason}" if reason else "") + src]
        for cell in d.get("cells", []):
            if cell["condition"] == "any":
                continue
            margin = _cell_margin(cell)
            label = _pick(cell.get("label"), lang) or cell["expr"]
            value = "?" if cell["value"] is None else format_number(cell["value"], cell.get("type"))
            out.append(f"{pad}  {cell['input']}: {label} {value} {w['cell']} {_cell_condition(cell)}"
                       + (_paren(w["margin"].format(m=margin), lang) if margin else ""))
        return out
    if d["kind"] == "cases":
        return [f"{pad}{w['because']}: {w['cases'].format(facts=', '.join(d.get('facts', [])))}"]
    if d["kind"] == "exception":
        label = _pick(d.get("labels"), lang) or d.get("id")
        src = _paren(f"{w['source']} {', '.join(d['sources'])}", lang) if d.get("sources") else ""
        origin = f" · {w['variant']} {d['origin']}" if d.get("origin", "base") != "base" else ""
        return [f"{pad}{w['because']}: {w['exception']} {d['id']} — {label}: {d['text']}{src}{origin}"]
    return [f"{pad}{w['because']}: {w['expr']} `{d.get('text', '')}`"]


def _comparison(c, lang) -> str:
    w = _WORDS[lang]
    parts = []
    for i, operand in enumerate(c.operands):
        parts.append(_operand(operand, lang))
        if i < len(c.ops):
            parts.append(c.ops[i])
    verdict = w["holds"] if c.result is True else w["fails"] if c.result is False else w["unknown"]
    margin = _margin(c)
    tail = _paren(w["margin"].format(m=margin), lang) if margin else ""
    return f"{' '.join(parts)} → {verdict}{tail}"


def _operand(o: dict, lang: str) -> str:
    if o.get("kind") in ("field", "rule", "parameter"):
        label = _pick(o.get("label"), lang) or o.get("name")
        value = "?" if o.get("value") is None else format_number(o.get("value"), o.get("type"))
        return f"{label} {value}"
    if o.get("kind") == "literal":
        return format_number(o.get("value"), o.get("type"))
    value = o.get("value")
    return o.get("text", "") if value is None else f"{o.get('text')} = {format_number(value, o.get('type'))}"


def _margin(c) -> str | None:
    values = [o.get("value") for o in c.operands]
    if len(values) != 2 or not all(isinstance(v, (int, Decimal)) and not isinstance(v, bool) for v in values):
        return None
    diff = abs(Decimal(values[0]) - Decimal(values[1]))
    unit_type = next((o.get("type") for o in c.operands if o.get("type")), None)
    return format_number(diff, unit_type if unit_type != "integer" else None) if diff else None


def _cell_margin(cell) -> str | None:
    """How far the input is from the nearest threshold of its cell (the trace's bounds)."""
    value = cell.get("value")
    if not isinstance(value, (int, Decimal)) or isinstance(value, bool):
        return None
    bounds = [Decimal(b) for b in cell.get("bounds") or [] if isinstance(b, (int, Decimal)) and not isinstance(b, bool)
              and abs(Decimal(b)) != Decimal("Infinity")]
    if not bounds:
        return None
    diff = min(abs(Decimal(value) - b) for b in bounds)
    return format_number(diff, cell.get("type")) if diff else None


def _cell_condition(cell) -> str:
    """The cell as written, with the values of named thresholds (`< red_line = 5,000`)."""
    text = cell["condition"]
    bounds = [b for b in cell.get("bounds") or [] if b is not None]
    named = any(ch.isalpha() or ord(ch) > 127 for ch in text.replace("inf", ""))
    if not bounds or not named:
        return text
    shown = ", ".join(format_number(b, cell.get("type")) if not hasattr(b, "isoformat") else b.isoformat() for b in bounds)
    return f"{text} = {shown}"


def _paren(text: str, lang: str) -> str:
    return f"（{text}）" if lang == "zh" else f" ({text})"


def _param(p, lang) -> str:
    w = _WORDS[lang]
    label = _pick(p.label, lang) or p.name
    value = w["gap"] if p.gap else format_number(p.value) + (f" {p.unit}" if p.unit else "")
    when = w["from"].format(d=p.effective_from) if p.effective_from else ""
    src = f"，{w['source']} {', '.join(p.sources)}" if lang == "zh" else f", {w['source']} {', '.join(p.sources)}"
    origin = f" · {w['variant']} {p.origin}" if p.origin != "base" else ""
    return f"{label} ({p.name}) = {value}，{when}{src if p.sources else ''}{origin}" if lang == "zh" else \
        f"{label} ({p.name}) = {value}, {when}{src if p.sources else ''}{origin}"


def _label(node, lang) -> str:
    label = _pick(node.label, lang)
    return f"{label}（{node.rule}）" if label and lang == "zh" else f"{label} ({node.rule})" if label else node.rule


def _read_label(r, lang) -> str:
    return _pick(r.label, lang) or r.path


def _pick(labels, lang):
    if not labels:
        return None
    if isinstance(labels, dict):
        return labels.get(lang) or labels.get("zh")
    return labels.get(lang)


def _value(value, node, lang, value_label=None) -> str:
    """A value as a person reads it; an enum value with its label (``value_label``, else
    the node's own, that of its decided value)."""
    w = _WORDS[lang]
    value_label = value_label or node.value_label
    if value is None:
        return w["unknown"] if node.unknown_facts or not node.error else w["error"]
    if isinstance(value, bool):
        return w["yes"] if value else w["no"]
    if value_label and isinstance(value, str):
        label = value_label.get(lang) or value_label.get("zh")
        return f"{value}（{label}）" if lang == "zh" else f"{value} ({label})"
    return format_number(value, node.type)


def format_number(value, typ=None) -> str:
    """A number as a person reads it: thousands separated, money in 元, ratios in %."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, Decimal)):
        d = Decimal(value)
        if typ == "ratio":
            return f"{(d * 100).normalize():f}%"
        text = f"{d.normalize():,f}" if d == d.to_integral_value() else f"{d:,f}"
        return f"{text} 元" if typ and typ.startswith("money") else text
    if isinstance(value, str) and value.replace(".", "", 1).isdigit():
        return format_number(Decimal(value), typ)
    return "?" if value is None else str(value)
