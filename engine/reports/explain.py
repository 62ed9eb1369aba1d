"""Render a trace for a person: the decision and the facts that decided it first, then
the rule (table row, exception or expression) with its cited lines, then the tree of
conditions, parameters and the rules used, folded to a depth.

Every word comes from the chosen language: enum values and yes/no read as their labels,
children as ``家庭成员 2``, money in 元 (``yuan`` in English). The renderer only reads the
:class:`~fupin.engine.reports.trace.Trace` model (labels, quotes and reasons included by
reports/reasons.py); the tracer knows nothing of it (as in OPA, tracing and
pretty-printing are separate).
"""
from __future__ import annotations

import re
from decimal import Decimal

_WORDS = {
    "zh": {
        "entity": "实体", "on": "评估日期", "policy": "政策", "unknown": "未知", "waits": "缺少的事实", "row": "决策表第 {n} 行",
        "rows": "决策表第 {n} 行（多行可能，结论相同）", "exception": "例外", "expr": "表达式", "conditions": "判断条件", "params": "参数",
        "from": "自 {d} 起", "source": "来源", "because": "依据", "holds": "成立", "fails": "不成立", "margin": "差 {m}",
        "depends": "依据的规则", "variant": "变体", "gap": "来源未给出金额", "error": "错误", "absent": "（缺省读作此值）", "yes": "是",
        "no": "否", "cell": "满足", "cases": "分情况：{facts} 取任何值结论都相同", "reasons": "因为", "possible": "可能为 {v}",
        "no_facts": "不取决于任何事实", "tree": "推理过程", "folded": "（推理过程已折叠：用 --depth 层数 或 --full 展开）",
        "of": "{where} 的{label}", "child": "{label} {n}", "fixed": "（不可改变）", "sep": "、", "colon": "：",
        "whatif": "假如", "whynot": "为什么不是{v}", "settle": "由哪项事实定下", "up": "{f}再增加 {d}（{o} → {n}）",
        "down": "{f}减少 {d}（{o} → {n}）", "set": "{f}为 {n}", "to": "{f}改为 {n}（原为 {o}）", "gives": "{c}，即为{v}",
        "and": "，并且", "never": "改变至多 {n} 项事实都不能为{v}", "collected": "决策表第 {n} 行均命中，合并为结论", "not": "非 ", "already": "现已为{v}",
        "numeric": "假如：数值结论没有“其他取值”可列，用 --why-not 数值 询问得到某个值需改变哪些事实",
    },
    "en": {
        "entity": "entity", "on": "as of", "policy": "policy", "unknown": "unknown", "waits": "missing facts",
        "row": "decision table row {n}", "rows": "decision table rows {n} (several possible, same outcome)",
        "exception": "exception", "expr": "expression", "conditions": "conditions", "params": "parameters",
        "from": "from {d}", "source": "source", "because": "decided by", "holds": "holds", "fails": "fails",
        "margin": "margin {m}", "depends": "rules used", "variant": "variant", "gap": "no amount in source",
        "error": "error", "absent": " (absent, read as this)", "yes": "yes", "no": "no", "cell": "matches",
        "cases": "by cases: every value of {facts} gives this outcome", "reasons": "because",
        "possible": "possibly {v}", "no_facts": "it depends on no fact", "tree": "how it was decided",
        "folded": "(the details are folded: --depth N or --full shows them)", "of": "{where}: {label}",
        "child": "{label} {n}", "fixed": " (cannot be changed)", "sep": ", ", "colon": ": ",
        "whatif": "what if", "whynot": "why not {v}", "settle": "which fact settles it",
        "up": "{f} up by {d} ({o} → {n})", "down": "{f} down by {d} ({o} → {n})", "set": "{f} = {n}",
        "to": "{f} changed to {n} (now {o})", "gives": "{c} would give {v}", "and": "; and ",
        "never": "no change of at most {n} facts gives {v}",
        "collected": "decision table rows {n} all match, combined", "not": "not ", "already": "it already is {v}",
        "numeric": "what if: a number has no list of other values; ask --why-not VALUE for the changes giving one",
    },
}

_NUMERIC = ("integer", "money", "decimal", "ratio", "date")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def render_text(result, output: str, lang: str = "zh", depth: int = 1, extra: list | None = None) -> str:
    """The explanation of ``output`` in ``result``, read from its trace alone: the decision
    and its reasons, the rule and its sources, ``extra`` lines (what-if answers), then the
    tree to ``depth`` levels (None: all of it)."""
    w = _WORDS[lang]
    trace = result.trace
    roots = trace.roots if trace else []
    at = next((i for i, n in enumerate(roots) if n.rule == output), None)
    if at is None:
        return f"{output}{w['colon']}{w['unknown']}"
    node = _as_if_alone(roots[at], _computed(roots[:at]), set())
    ctx = _Ctx(trace, lang)
    lines = [f"{_label(node, lang)} = {ctx.node_value(node)}{_possible(node, ctx)}", f"  {_heading(trace, lang)}"]
    lines += _reasons(node, ctx, (getattr(result, "errors", None) or {}).get(output))
    lines += _decided(node, ctx, "  ")
    lines += _sources(node, ctx, "  ")
    lines += extra or []
    lines += _tree(node, ctx, depth)
    return "\n".join(line.rstrip() for line in lines)


def parts(result, output: str, lang: str = "zh") -> dict | None:
    """The pieces of an explanation for renderers other than text (reports/html.py): the
    decision line, the heading, the reasons, the rule and the sources (lines without
    their indentation), and the output's node for :func:`node_parts`; None when the
    result has no trace of ``output``."""
    trace = result.trace
    roots = trace.roots if trace else []
    at = next((i for i, n in enumerate(roots) if n.rule == output), None)
    if at is None:
        return None
    node = _as_if_alone(roots[at], _computed(roots[:at]), set())
    ctx = _Ctx(trace, lang)
    error = (getattr(result, "errors", None) or {}).get(output)
    return {"title": f"{_label(node, lang)} = {ctx.node_value(node)}{_possible(node, ctx)}",
            "heading": _heading(trace, lang), "reasons": [line.strip() for line in _reasons(node, ctx, error)],
            "rule": [line.strip() for line in _decided(node, ctx, "")],
            "sources": [line.strip() for line in _sources(node, ctx, "")], "node": node}


def node_parts(node, trace, lang: str = "zh") -> tuple:
    """One node of the tree: its line (``label = value``), its own details (the rule,
    cells, conditions, parameters) and its children (used once each, cached left out)."""
    ctx = _Ctx(trace, lang)
    details = [line.strip() for line in _decided(node, ctx, "") + _body(node, ctx, 1, "")]
    details = [d for d in details if not d.startswith(ctx.w["depends"])]
    children = _unique([c for c in node.children if (c.decided_by or {}).get("kind") != "cached"])
    return f"{_label(node, lang)}{_where(node)} = {ctx.node_value(node)}", details, children


class _Ctx:
    """The language and the trace's vocabulary (enum labels, quotes, titles)."""

    def __init__(self, trace, lang):
        self.lang, self.w = lang, _WORDS[lang]
        self.enums = getattr(trace, "enums", None) or {}
        self.quotes = getattr(trace, "quotes", None) or {}
        self.documents = getattr(trace, "documents", None) or {}

    def pick(self, labels):
        return _pick(labels, self.lang)

    def enum_label(self, typ, value):
        labels = (self.enums.get(typ) or {}).get(value)
        return self.pick(labels) if labels else None

    def value(self, value, typ=None, value_label=None) -> str:
        """A value as a person reads it: yes/no, an enum's label, a number with its unit."""
        if value is None:
            return "?"
        if isinstance(value, bool):
            return self.w["yes"] if value else self.w["no"]
        if isinstance(value, str) and typ:
            label = self.pick(value_label) if value_label else self.enum_label(typ, value)
            if label:
                return label
        if isinstance(value, list):
            return "[" + self.w["sep"].join(self.value(v, typ) for v in value) + "]"
        return number(value, typ, self.lang)

    def node_value(self, node) -> str:
        if node.value is None:
            return self.w["unknown"] if node.unknown_facts or not node.error else self.w["error"]
        return self.value(node.value, node.type, node.value_label)

    def words(self, text: str, typ) -> str:
        """A condition as written, its enum values read as their labels (``{poor, edge}``)."""
        return _WORD.sub(lambda m: self.enum_label(typ, m.group(0)) or (self.w["not"].strip() if m.group(0) == "not" else m.group(0)), text)


def value_words(value, typ=None, enums=None, lang: str = "zh") -> str:
    """A value as a person reads it (yes/no, an enum's label, a number with its unit)
    outside a trace; ``enums``: ``{type: {value: labels}}`` as a trace carries them."""
    ctx = _Ctx(None, lang)
    ctx.enums = enums or {}
    return ctx.value(value, typ)


def alternatives_lines(answers: dict, trace, lang: str = "zh", title: str = "whatif", limit: int = 3,
                       max_changes: int = 2) -> list[str]:
    """What-if / why-not answers (reports/whatif.py: ``value -> [Alternative]``) as lines:
    ``预估当年人均纯收入再增加 1 元（4,999 元 → 5,000 元），即为黄色``."""
    ctx = _Ctx(trace, lang)
    w = ctx.w
    out = []
    for target, alts in answers.items():
        label = ctx.value(target, _type_of(trace, alts), alts[0].value_label if alts else None)
        label = f" {label}" if lang == "zh" and label[:1].isdigit() else label  # 即为 0 元, 即为黄色
        head = w[title].format(v=label) if "{v}" in w[title] else w[title]
        if "{v}" in w[title] or not out:  # why-not: a heading per value; what-if: one
            out.append(f"  {head}{w['colon']}")
        if not alts:
            already = _current(trace, target, alts)
            out.append(f"    · {w['already' if already else 'never'].format(n=max_changes, v=label)}")
        for alt in alts[:limit]:
            changes = w["and"].join(_change_text(c, ctx) for c in alt.changes)
            out.append(f"    · {w['gives'].format(c=changes, v=label)}")
    return out


def what_if_hint(lang: str = "zh") -> str:
    """What ``--what-if`` says for an output whose values cannot be listed (a number)."""
    return _WORDS[lang]["numeric"]


def _current(trace, target, alts) -> bool:
    """Whether an output already has the value a why-not asks about."""
    node = next((n for n in (trace.roots if trace else []) if n.path == ""), None)
    return node is not None and node.value is not None and type(node.value) is type(target) and node.value == target


def _type_of(trace, alts) -> str | None:
    """The output's type as the trace names it (for an enum value's label)."""
    if trace is None:
        return None
    if not alts:  # the explained output (the trace's first)
        return next((n.type for n in trace.roots if n.path == ""), None)
    return next((n.type for n in trace.roots if n.rule == alts[0].output), None)


def _change_text(c, ctx) -> str:
    """One change in words: a number up or down by how much, a value set or changed."""
    w = ctx.w
    name = fact_name(c, ctx)
    new = ctx.value(c.new, c.type, c.new_label)
    fixed = w["fixed"] if not c.mutable else ""
    if c.old is None:
        return w["set"].format(f=name, n=new) + fixed
    old = ctx.value(c.old, c.type, c.old_label)
    numeric = all(isinstance(v, (int, Decimal)) and not isinstance(v, bool) for v in (c.old, c.new))
    if numeric:
        delta = number(abs(Decimal(c.new) - Decimal(c.old)), c.type, ctx.lang)
        return w["up" if c.new > c.old else "down"].format(f=name, d=delta, o=old, n=new) + fixed
    return w["to"].format(f=name, n=new, o=old) + fixed


def _heading(trace, lang) -> str:
    w = _WORDS[lang]
    entity = _pick(trace.entity_label, lang) or trace.entity if trace else ""
    return f"{entity} {trace.id or '—'} · {w['on']} {trace.on} · {w['policy']} {trace.policy}"


def record_line(record: dict, lang: str = "zh") -> str:
    """The line that heads a re-explained decision record: its id, revision and version."""
    rev = record["policy_revision"].split(":")[-1][:12]
    if lang == "zh":
        return f"决策记录 {record['decision_id']} · 政策修订 {rev} · fupin {record['fupin_version']}"
    return f"decision record {record['decision_id']} · policy revision {rev} · fupin {record['fupin_version']}"


def _possible(node, ctx) -> str:
    """``，可能为 红色、黄色``: the values an unknown output may still take (core/exact.py)."""
    if node.value is not None or not node.possible:
        return ""
    labels = node.possible_labels or [None] * len(node.possible)
    shown = ctx.w["sep"].join(ctx.value(v, node.type, label) for v, label in zip(node.possible, labels))
    return ("，" if ctx.lang == "zh" else "; ") + ctx.w["possible"].format(v=shown)


def _reasons(node, ctx, error=None) -> list[str]:
    """The deciding facts (a decided output), or the facts it waits on (an unknown one),
    or the error (its message in the language, when the result has it)."""
    w = ctx.w
    if node.error:
        text = (error.message if ctx.lang == "zh" else error.message_en) if error is not None else ""
        return [f"  {w['error']}{w['colon']}{node.error}" + (f" {text}" if text else "")]
    if node.value is None:
        reads = _reads(node)
        missing = [_fact_label(reads.get(f), f, ctx) for f in node.unknown_facts]
        return [f"  {w['waits']}{w['colon']}{w['sep'].join(missing)}"] if missing else []
    if node.reasons is None:
        return []
    if not node.reasons:
        return [f"  {w['reasons']}{w['colon']}{w['no_facts']}"]
    return [f"  {w['reasons']}{w['colon']}"] + [f"    · {reason_text(r, ctx, node)}" for r in node.reasons]


def reason_text(r, ctx, node=None) -> str:
    """``预估当年人均纯收入 = 4,999 元（< 红色监测收入线 5,000 元，差 1 元）``."""
    text = f"{fact_name(r, ctx)} = {ctx.value(r.value, r.type, r.value_label)}"
    test = _test_of(r, node, ctx) if node is not None else None
    via = _via(r, node, ctx) if node is not None else ""
    return text + (_paren(test, ctx.lang) if test else "") + via


def _via(r, node, ctx) -> str:
    """`` → 两不愁三保障及饮水安全均达标 = 否``: the rule through which a fact read below the
    output decided it (the outermost rule under the output that read it)."""
    for child in node.children:
        for n in _walk(child):
            if any(read.path == r.path for read in n.reads):
                return f" → {_pick(child.label, ctx.lang) or child.rule} = {ctx.node_value(child)}"
    return ""


def fact_name(r, ctx) -> str:
    """A fact's label, with the children it belongs to (``家庭成员 2的年龄``)."""
    label = ctx.pick(r.label) or r.path
    if not r.where:
        return label
    where = " ".join(ctx.w["child"].format(label=ctx.pick(x["label"]), n=x["number"])
                     + (_paren(ctx.pick(x["title"]), ctx.lang) if x.get("title") else "") for x in r.where)
    if ctx.lang == "zh" and where.endswith("）"):
        return f"{where}的{label}"  # 家庭成员 2（12 岁）的年龄
    return ctx.w["of"].format(where=where, label=label)


def _test_of(r, node, ctx) -> str | None:
    """The threshold a deciding number was compared with, and the margin."""
    if r.where or r.type.split("(")[0] not in _NUMERIC:
        return None
    for n in _walk(node):
        for cell in (n.decided_by or {}).get("cells", []):
            if cell.get("expr") == r.path and cell["condition"] != "any":
                margin = _cell_margin(cell, ctx.lang)
                shown = _cell_condition(cell, n, ctx)
                return shown + (("，" if ctx.lang == "zh" else ", ") + ctx.w["margin"].format(m=margin) if margin else "")
        for c in n.comparisons:
            for i, o in enumerate(c.operands):
                if o.get("kind") == "field" and o.get("name") == r.path and len(c.operands) == 2:
                    other = c.operands[1 - i]
                    op = _op(c.ops[0] if i == 0 else _flip(c.ops[0]), ctx.lang)
                    margin = _margin(c, ctx.lang)
                    verdict = "" if c.result is not False else f" → {ctx.w['fails']}"
                    return f"{op} {_operand(other, ctx)}{verdict}" + (
                        ("，" if ctx.lang == "zh" else ", ") + ctx.w["margin"].format(m=margin) if margin else "")
    return None


_OPS_ZH = {"in": "属于", "not in": "不属于", "not_in": "不属于"}


def _op(op: str, lang: str) -> str:
    """An operator as the language reads it (``in`` is a word: 属于 in Chinese)."""
    return _OPS_ZH.get(op, op) if lang == "zh" else op.replace("_", " ")


def _flip(op: str) -> str:
    return {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(op, op)


def _decided(node, ctx, pad) -> list[str]:
    """The rule that gave the value: a table row (with its reason), an exception, an
    expression or cases."""
    w = ctx.w
    d = node.decided_by
    if not d:
        return []
    if d["kind"] == "row" and d.get("hit") == "collect":
        return [f"{pad}{w['because']}{w['colon']}{w['collected'].format(n=', '.join(map(str, d.get('rows') or [d['row']])))}"]
    if d["kind"] == "row":
        rows = d.get("rows")
        title = w["rows"].format(n=", ".join(map(str, rows))) if rows and len(rows) > 1 else w["row"].format(n=d["row"])
        if d.get("id"):
            title += _paren(d["id"], ctx.lang) if ctx.lang == "zh" or d["id"].isascii() else ""
        reason = ctx.pick(d.get("reason"))
        return [f"{pad}{w['because']}{w['colon']}{title}" + (f" — {reason}" if reason else "")]
    if d["kind"] == "cases":
        return [f"{pad}{w['because']}{w['colon']}{w['cases'].format(facts=', '.join(d.get('facts', [])))}"]
    if d["kind"] == "exception":
        label = ctx.pick(d.get("labels"))
        origin = f" · {w['variant']} {d['origin']}" if d.get("origin", "base") != "base" else ""
        named = f" — {label}" if label else ""
        ident = f" {d['id']}" if ctx.lang == "zh" or d["id"].isascii() else ""  # an id is a name in its own script
        return [f"{pad}{w['because']}{w['colon']}{w['exception']}{ident}{named}{w['colon']}`{d['text']}`{origin}"]
    if d["kind"] == "cached":
        return []
    return [f"{pad}{w['because']}{w['colon']}{w['expr']} `{d.get('text', '')}`"]


def _sources(node, ctx, pad) -> list[str]:
    """The cited lines: the deciding row's or exception's, else the rule's; each quoted
    when the document's text is at hand (zh), else the citation with the document's title."""
    d = node.decided_by or {}
    cites = [c.strip() for s in (d.get("sources") or node.sources) for c in s.split(",")]
    if not cites:
        return []
    w = ctx.w
    origin = f" · {w['variant']} {node.origin}" if node.origin != "base" else ""
    lines = [f"{pad}{w['source']}{w['colon']}" + (", ".join(cites) if ctx.lang == "en" else "") + origin]
    if ctx.lang == "en":
        titles = sorted({c.split(":")[0] for c in cites})
        return lines + [f"{pad}  {t}: {ctx.pick(ctx.documents.get(t)) or t}" for t in titles if ctx.documents.get(t)]
    for cite in cites:
        text = ctx.quotes.get(cite)
        lines.append(f"{pad}  {cite}" + (f"「{text}」" if text else ""))
    return lines


def _tree(node, ctx, depth) -> list[str]:
    """The details below the decision, ``depth`` levels deep (None: all); a line saying
    they are folded when ``depth`` is 0 and there are some."""
    body = _body(node, ctx, depth if depth is not None else 10 ** 6, "    ") if depth != 0 else []
    if depth == 0:
        return [f"  {ctx.w['folded']}"] if (node.children or node.comparisons or node.params) else []
    return [f"  {ctx.w['tree']}{ctx.w['colon']}"] + body if body else []


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


def _body(node, ctx, depth, pad) -> list[str]:
    w = ctx.w
    lines = []
    d = node.decided_by or {}
    for cell in d.get("cells", []):
        if cell["condition"] == "any":
            continue
        margin = _cell_margin(cell, ctx.lang)
        label = ctx.pick(cell.get("label")) or cell["expr"]
        value = ctx.value(cell["value"], cell.get("type"))
        title = f"{cell['input']}{w['colon']}" if ctx.lang == "zh" else ""
        lines.append(f"{pad}{title}{label} {value} {w['cell']} {_cell_condition(cell, node, ctx)}"
                     + (_paren(w["margin"].format(m=margin), ctx.lang) if margin else ""))
    if node.comparisons:
        lines.append(f"{pad}{w['conditions']}{w['colon']}")
        for c in node.comparisons:
            lines.append(f"{pad}  {_comparison(c, ctx)}")
    for r in node.reads:
        if r.when_absent:
            lines.append(f"{pad}{ctx.pick(r.label) or r.path} = {ctx.value(r.value)}{w['absent']}")
    if node.params:
        lines.append(f"{pad}{w['params']}{w['colon']}")
        for p in node.params:
            lines.append(f"{pad}  {_param(p, ctx)}")
    children = [c for c in node.children if not (c.decided_by or {}).get("kind") == "cached"]
    if children and depth > 1:
        lines.append(f"{pad}{w['depends']}{w['colon']}")
        for child in _unique(children):
            lines.append(f"{pad}  · {_label(child, ctx.lang)}{_where(child)} = {ctx.node_value(child)}")
            lines += _decided(child, ctx, pad + "    ")
            lines += _body(child, ctx, depth - 1, pad + "    ")
    elif children:
        shown = ctx.w["sep"].join(f"{_label(c, ctx.lang)} = {ctx.node_value(c)}" for c in _unique(children)[:6])
        lines.append(f"{pad}{w['depends']}{w['colon']}{shown}" + (" …" if len(_unique(children)) > 6 else ""))
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


def _walk(node):
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children))


def _reads(node) -> dict:
    """Every read of the node's tree by path (the first)."""
    out = {}
    for n in _walk(node):
        for r in n.reads:
            out.setdefault(r.path, r)
    return out


def _fact_label(read, path, ctx) -> str:
    if path.startswith("parameter:"):
        return ctx.w["params"] + " " + path[len("parameter:"):]
    label = ctx.pick(read.label) if read is not None else None
    return f"{label}（{path}）" if label and ctx.lang == "zh" else f"{label} ({path})" if label else path


def _comparison(c, ctx) -> str:
    w = ctx.w
    typ = next((o.get("type") for o in c.operands if o.get("type") in ctx.enums), None)
    parts = []
    for i, operand in enumerate(c.operands):
        parts.append(_operand(operand, ctx, typ))
        if i < len(c.ops):
            parts.append(_op(c.ops[i], ctx.lang))
    verdict = w["holds"] if c.result is True else w["fails"] if c.result is False else w["unknown"]
    margin = _margin(c, ctx.lang)
    tail = _paren(w["margin"].format(m=margin), ctx.lang) if margin else ""
    return f"{' '.join(parts)} → {verdict}{tail}"


def _operand(o: dict, ctx, typ=None) -> str:
    if o.get("kind") in ("field", "rule", "parameter"):
        label = ctx.pick(o.get("label")) or o.get("name")
        return f"{label} {ctx.value(o.get('value'), o.get('type'))}"
    if o.get("kind") == "literal":
        return ctx.value(o.get("value"), o.get("type") if o.get("type") in ctx.enums else typ)
    value = o.get("value")
    text = ctx.words(o.get("text", ""), typ) if typ else o.get("text", "")
    return text if value is None else f"{text} = {ctx.value(value, o.get('type'))}"


def _margin(c, lang="zh") -> str | None:
    values = [o.get("value") for o in c.operands]
    if len(values) != 2 or not all(isinstance(v, (int, Decimal)) and not isinstance(v, bool) for v in values):
        return None
    diff = abs(Decimal(values[0]) - Decimal(values[1]))
    unit_type = next((o.get("type") for o in c.operands if o.get("type")), None)
    return number(diff, unit_type if unit_type != "integer" else None, lang) if diff else None


def _cell_margin(cell, lang="zh") -> str | None:
    """How far the input is from the nearest threshold of its cell (the trace's bounds)."""
    value = cell.get("value")
    if not isinstance(value, (int, Decimal)) or isinstance(value, bool):
        return None
    bounds = [Decimal(b) for b in cell.get("bounds") or [] if isinstance(b, (int, Decimal)) and not isinstance(b, bool)
              and abs(Decimal(b)) != Decimal("Infinity")]
    if not bounds:
        return None
    diff = min(abs(Decimal(value) - b) for b in bounds)
    return number(diff, cell.get("type"), lang) if diff else None


def _cell_condition(cell, node, ctx) -> str:
    """The cell as written, enum values as their labels and each named threshold as its
    label and value in force (``< 红色监测收入线 5,000 元``)."""
    text = cell["condition"]
    typ = cell.get("type")
    if not text.strip():  # a yes/no cell (YAML true/false): it holds, so it is the value
        return ctx.value(cell.get("value"), typ)
    params = {p.name: p for p in node.params}
    named = [m.group(0) for m in _WORD.finditer(text) if m.group(0) in params]
    if named:
        for name in named:
            p = params[name]
            text = text.replace(name, f"{ctx.pick(p.label) or name} {number(p.value, typ, ctx.lang)}")
        return text
    return ctx.words(text, typ)


def _paren(text: str, lang: str) -> str:
    return f"（{text}）" if lang == "zh" else f" ({text})"


def _param(p, ctx) -> str:
    w, lang = ctx.w, ctx.lang
    label = ctx.pick(p.label) or p.name
    value = w["gap"] if p.gap else number(p.value, None, lang) + (f" {unit(p.unit, lang)}" if p.unit else "")
    when = w["from"].format(d=p.effective_from) if p.effective_from else ""
    sep = "，" if lang == "zh" else ", "
    src = f"{sep}{w['source']} {', '.join(p.sources)}" if p.sources else ""
    origin = f" · {w['variant']} {p.origin}" if p.origin != "base" else ""
    name = f"（{p.name}）" if lang == "zh" else f" ({p.name})"
    return f"{label}{name} = {value}{sep}{when}{src}{origin}"


def _label(node, lang) -> str:
    label = _pick(node.label, lang)
    return f"{label}（{node.rule}）" if label and lang == "zh" else f"{label} ({node.rule})" if label else node.rule


def _pick(labels, lang):
    if not labels:
        return None
    if isinstance(labels, dict):
        return labels.get(lang) or labels.get("zh")
    return labels.get(lang)


_UNITS_EN = {"元": "yuan", "人": "person", "年": "year", "周岁": "years of age", "岁": "years", "天": "days",
             "日": "day", "工作日": "working days", "月": "month", "亩": "mu", "户": "family", "次": "times",
             "乡镇": "town", "生": "student", "学年": "school year", "学期": "term", "眼": "eye", "个": "item",
             "季度": "quarter", "平方米": "m²", "头": "head", "羽": "bird", "种": "kind", "·": "-"}
_UNIT_WORD = re.compile("|".join(sorted(map(re.escape, _UNITS_EN), key=len, reverse=True)))


def unit(text: str, lang: str) -> str:
    """A declared unit in a language: the pack writes units in Chinese (``元/人·年``);
    English reads their common words as English (``yuan/person-year``)."""
    return text if lang == "zh" else _UNIT_WORD.sub(lambda m: _UNITS_EN[m.group(0)], text)


def number(value, typ=None, lang="zh") -> str:
    """:func:`format_number` in a language: money in 元, or ``yuan`` in English."""
    text = format_number(value, typ)
    return text[:-2] + " yuan" if lang == "en" and text.endswith(" 元") else text


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
