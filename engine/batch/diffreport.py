"""A comparison's figures as text (a short screen), long rows (CSV/xlsx), JSON and HTML.

The screen shows each output that changed (with its transitions, its money before and
after, and what moved in the rules it depends on) and the groups with the most changed
rows; the files hold every figure, for the whole run and for every group.
"""
from __future__ import annotations

from .diff import Diff, DiffFigures
from .summary import mean, yuan

COLUMNS = ("level", "group", "output", "measure", "before", "after", "difference", "rows")

WORDS = {
    "zh": {"title": "比较 {a} → {b}：{n} {rows}，{changed} {rows}有变化", "changed": "{n} {rows}变化",
           "total": "合计 {a} → {b} 元（{d}）", "decided": "（仅计已定的 {a} → {b} {rows}，其余未知）", "because": "规则中的变化", "groups": "按 {level}：变化最多的 {n} 组（共 {all} 组）", "mean": "平均 {a} → {b}",
           "group": "{key}：{changed}/{rows} {unit}变化", "nothing": "没有输出变化", "rows": "行"},
    "en": {"title": "Comparing {a} → {b}: {n} {rows}, {changed} changed", "changed": "{n} {rows} changed",
           "total": "total {a} → {b} yuan ({d})", "decided": " (over the {a} → {b} {rows} decided; the rest unknown)",
           "mean": "mean {a} → {b}", "because": "what moved in the rules", "groups":
               "by {level}: the {n} groups with the most changes (of {all})", "group": "{key}: {changed}/{rows} {unit} changed",
           "nothing": "no output changed", "rows": "rows"},
}


def rows_word(checked, entity: str, lang: str) -> str:
    """What a row is called (the entity report's ``rows``: 户 / households)."""
    report = checked.entities[entity].report
    return report.rows.get(lang) if report is not None and report.rows else WORDS[lang]["rows"]


def render(diff: Diff, job, lang: str = "zh", top: int | None = None) -> str:
    """The comparison on screen: each changed output, then the most changed groups."""
    w, checked = WORDS[lang], job.a.checked
    unit = rows_word(checked, diff.entity, lang)
    whole = diff.whole
    lines = [w["title"].format(a=job.a.name, b=job.b.name, n=whole.rows, changed=whole.changed, rows=unit)]
    changed = [n for n in job.outputs if whole.outputs.get(n)]
    if not changed:
        lines.append("  " + w["nothing"])
    for name in changed:
        lines += output_lines(name, whole, job, lang, unit)
    report = checked.entities[diff.entity].report
    top = top if top is not None else (report.top if report is not None else 10)
    for level, groups in diff.levels.items():
        ranked = [k for k in ranked_groups(groups) if groups[k].changed][:top]
        if not ranked:
            continue
        lines.append("  " + w["groups"].format(level=level, n=len(ranked), all=len(groups)))
        for key in ranked:
            g = groups[key]
            lines.append("    " + w["group"].format(key=key or "∅", changed=g.changed, rows=g.rows, unit=unit)
                         + _group_money(g))
    return "\n".join(lines)


def output_lines(name: str, fig: DiffFigures, job, lang: str, unit: str) -> list:
    """One output's lines: changed rows, transitions, money, causes."""
    w, rule = WORDS[lang], job.a.checked.rules[name]
    head = f"  {rule.label(lang)} ({name}): " + w["changed"].format(n=fig.outputs[name], rows=unit)
    moves = [f"{a} → {b} {n}" for (a, b), n in sorted(fig.moves.get(name, {}).items(), key=lambda kv: -kv[1])
             if a != b]
    if moves:
        head += "; " + ", ".join(moves)
    if name in fig.money:
        before, nb, after, na = fig.money[name]
        head += "; " + w["total"].format(a=yuan(before), b=yuan(after), d=_signed(after - before))
        if nb != na:  # a total over fewer decided rows is no saving: say so
            head += w["decided"].format(a=nb, b=na, rows=unit)
    if name in fig.sums:
        before, nb, after, na = fig.sums[name]
        kind = rule.type.kind
        head += "; " + w["mean"].format(a=mean(before, nb, kind), b=mean(after, na, kind))
    lines = [head]
    for cause in job.causes.get(name, ()):
        lines.append(f"      {w['because']}: {cause.text(lang)}")
    return lines


def ranked_groups(groups: dict) -> list:
    """Group keys, most changed rows first (then by key)."""
    return sorted(groups, key=lambda k: (-groups[k].changed, k))


def _group_money(g: DiffFigures) -> str:
    moved = [(n, f[2] - f[0]) for n, f in g.money.items() if f[2] != f[0]]
    return "".join(f"; {n} {_signed(d)}" for n, d in moved[:3])


def _signed(fen) -> str:
    return ("+" if fen >= 0 else "") + yuan(fen)


def figures_rows(fig: DiffFigures, level: str = "", group: str = "") -> list:
    """The long rows of one :class:`DiffFigures`."""
    rows = [(level, group, "", "rows", "", "", "", str(fig.rows)), (level, group, "", "changed", "", "", "", str(fig.changed))]
    for name, n in fig.outputs.items():
        if n or not level:
            rows.append((level, group, name, "changed", "", "", "", str(n)))
    for name, counter in fig.moves.items():
        rows += [(level, group, name, "move", a, b, "", str(n)) for (a, b), n in counter.items()]
    for name, (before, nb, after, na) in fig.money.items():
        rows.append((level, group, name, "total", yuan(before), yuan(after), _signed(after - before), f"{nb}/{na}"))
    for name, (before, nb, after, na) in fig.sums.items():
        rows.append((level, group, name, "sum", str(before), str(after), str(after - before), f"{nb}/{na}"))
    return rows


def diff_rows(diff: Diff, job) -> list:
    """Every figure of a comparison as long rows, with the causes per output first."""
    rows = [("", "", name, f"because: {c.kind} {c.name}", c.before, c.after, "", "")
            for name in job.outputs for c in job.causes.get(name, ())]
    rows += figures_rows(diff.whole)
    for level, groups in diff.levels.items():
        for key in sorted(groups):
            rows += figures_rows(groups[key], level, key)
    return rows


def _in(text, lang: str) -> str:
    """A cause's side as text in ``lang`` (a parameter's value is written in both)."""
    return text.get(lang, text["en"]) if isinstance(text, dict) else text


def diff_json(diff: Diff, job) -> dict:
    """The comparison as JSON-ready data (money in yuan text)."""
    def one(fig: DiffFigures) -> dict:
        return {"rows": fig.rows, "changed": fig.changed, "outputs": dict(fig.outputs),
                "moves": {n: [{"from": a, "to": b, "rows": v} for (a, b), v in c.items()] for n, c in fig.moves.items()},
                "money": {n: {"before": yuan(b), "after": yuan(a), "difference": _signed(a - b), "decided_before": nb,
                              "decided_after": na} for n, (b, nb, a, na) in fig.money.items()},
                "sums": {n: {"before": str(b), "after": str(a), "decided_before": nb, "decided_after": na}
                         for n, (b, nb, a, na) in fig.sums.items()}}

    return {"entity": diff.entity, "before": job.a.name, "after": job.b.name,
            "because": {n: [{"kind": c.kind, "name": c.name, "before": _in(c.before, job.lang), "after": _in(c.after, job.lang)}
                            for c in job.causes.get(n, ())] for n in job.outputs if job.causes.get(n)},
            **one(diff.whole),
            "levels": {level: {k: one(g[k]) for k in sorted(g)} for level, g in diff.levels.items()}}
