"""``--summary``: figures accumulated chunk by chunk, exact, and merged across workers.

What is shown comes from the entity's declarations (``parent_key`` and ``report`` in
docs/policy-language.md), never from names known here:

- the total of each money output the pack's ``reports:`` section lists under ``total``
  (money that is paid, not a standard), over the rows where it is decided (exact, in
  fen); without that section, of every money output;
- counts of each value of the outputs the report lists under ``count`` (with the unknown
  and error counts), and the mean of those listed under ``average``;
- the same figures per group of each key column the section lists under ``levels`` (the
  carried ``parent_key`` columns: village, township), with the incidence per group;
- per parent (rows grouped by the ``parent_key`` column, when the input has it) the
  report's ``incidence``: the people of evaluated rows whose ``field`` is one of its
  ``values``, over the people of all evaluated rows of that parent in this dataset
  (people: the children of the ``people`` list field, or one per row).

Only outputs that were evaluated (``--only``) are summarised. A policy whose entity
declares no report gets the totals alone.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from ..columnar.frame import enum_values
from . import groups as gr


@dataclass
class Figures:
    """The figures of some rows: how many, value counts, money totals, sums to average,
    and (for a group) the people of its incidence, counted and all."""

    rows: int = 0
    counts: dict = field(default_factory=dict)  # output -> Counter(value text -> n)
    totals: dict = field(default_factory=dict)  # money output -> [fen, decided rows]
    sums: dict = field(default_factory=dict)  # averaged output -> [exact sum, decided rows]
    people: list = field(default_factory=lambda: [0, 0])  # incidence: [people counted, people]

    def merge(self, other: "Figures") -> "Figures":
        """Add another's figures to these."""
        self.rows += other.rows
        for name, counter in other.counts.items():
            self.counts.setdefault(name, Counter()).update(counter)
        for mine, theirs in ((self.totals, other.totals), (self.sums, other.sums)):
            for name, (value, n) in theirs.items():
                pair = mine.setdefault(name, [0, 0])
                pair[0] += value
                pair[1] += n
        self.people = [a + b for a, b in zip(self.people, other.people)]
        return self


@dataclass
class Summary:
    """Mergeable figures of a run (or of one chunk) of one entity's rows."""

    entity: str = ""
    rows: int = 0
    counts: dict = field(default_factory=dict)  # output -> Counter(value text -> n)
    totals: dict = field(default_factory=dict)  # money output -> [fen, decided rows]
    groups: dict = field(default_factory=dict)  # parent key -> [people counted, people, rows]
    averages: dict = field(default_factory=dict)  # averaged output -> [exact sum, decided rows]
    levels: dict = field(default_factory=dict)  # key column -> {key text -> Figures}

    def merge(self, other: "Summary") -> "Summary":
        """Add another summary's figures to this one."""
        self.entity = self.entity or other.entity
        self.rows += other.rows
        for name, counter in other.counts.items():
            self.counts.setdefault(name, Counter()).update(counter)
        for mine_all, theirs in ((self.totals, other.totals), (self.averages, other.averages)):
            for name, (value, n) in theirs.items():
                mine = mine_all.setdefault(name, [0, 0])
                mine[0] += value
                mine[1] += n
        for key, figures in other.groups.items():
            mine = self.groups.setdefault(key, [0, 0, 0])
            for i, v in enumerate(figures):
                mine[i] += v
        for level, groups in other.levels.items():
            mine = self.levels.setdefault(level, {})
            for key, figures in groups.items():
                mine.setdefault(key, Figures()).merge(figures)
        return self


def declared(checked, entity: str, outputs) -> tuple:
    """``(count, total, average)``: the outputs the entity's report counts, totals and
    averages, among ``outputs``. Without a ``reports:`` declaration every money output
    is totalled (as before the section existed) and nothing is averaged."""
    report = checked.entities[entity].report
    money = [n for n in outputs if checked.rules[n].type.kind == "money"]
    if report is None:
        return (), tuple(money), ()
    total = [n for n in report.total if n in outputs] if report.declared else money
    return (tuple(n for n in report.count if n in outputs), tuple(total),
            tuple(n for n in report.average if n in outputs))


def summarise(result, frame, group_ids=None, keys=None) -> Summary:
    """The figures of one evaluated frame (``group_ids``: the parent key of each row as an
    arrow array, or None; ``keys``: {declared level column: its arrow text array})."""
    checked = result.program.program.checked
    report = checked.entities[frame.entity].report
    counted, totalled, averaged = declared(checked, frame.entity, result.outputs)
    out = Summary(frame.entity, rows=result.n)
    whole = _figures(result, np.zeros(result.n, dtype=np.int64), 1, counted, totalled, averaged)[0]
    out.counts, out.totals, out.averages = whole.counts, whole.totals, whole.sums
    if group_ids is not None and report is not None and report.incidence is not None:
        out.groups = _groups(frame, group_ids, checked, report.incidence)
    for level, column in (keys or {}).items():
        if column is None or report is None or level not in report.levels:
            continue
        names, index = gr.encode(column)
        figures = _figures(result, index, len(names), counted, totalled, averaged)
        if report.incidence is not None:
            people, chosen = _people(frame, checked, report.incidence)
            for i, (a, b) in enumerate(zip(gr.total(index, len(names), people * chosen, np.ones(result.n, bool)),
                                           gr.total(index, len(names), people, np.ones(result.n, bool)))):
                figures[i].people = [a, b]
        out.levels[level] = dict(zip(names, figures))
    return out


def _figures(result, index, size: int, counted, totalled, averaged) -> list:
    """One :class:`Figures` per group of ``index``."""
    out = [Figures(int(n)) for n in gr.count(index, size)]
    checked = result.program.program.checked
    for name in counted:
        decided = ~(result.unknown[name] | result.error[name])
        codes, labels = value_codes(result.values[name], decided, checked.rules[name].type, checked)
        table = gr.pairs(index, size, codes, len(labels), decided)
        unknown = gr.count(index, size, result.unknown[name])
        errors = gr.count(index, size, result.error[name])
        for i, fig in enumerate(out):
            fig.counts[name] = Counter(dict(zip(labels, table[i].tolist())))
            fig.counts[name]["unknown"], fig.counts[name]["error"] = int(unknown[i]), int(errors[i])
    for names, attr in ((totalled, "totals"), (averaged, "sums")):
        for name in names:
            decided = ~(result.unknown[name] | result.error[name])
            sums, ns = gr.total(index, size, result.values[name], decided), gr.count(index, size, decided)
            for i, fig in enumerate(out):
                getattr(fig, attr)[name] = [sums[i], int(ns[i])]
    return out


def value_codes(data: np.ndarray, decided: np.ndarray, rtype, checked) -> tuple:
    """``(codes, labels)``: each row's value as a position among ``labels`` (value texts)."""
    if rtype.kind == "enum":
        return data.astype(np.int64), list(enum_values(checked, rtype))
    if rtype.kind == "bool":
        return np.where(data.astype(bool), 0, 1), ["true", "false"]
    values, inverse = np.unique(data[decided], return_inverse=True)
    codes = np.zeros(len(data), dtype=np.int64)
    codes[decided] = inverse
    return codes, [_text(v) for v in values.tolist()]


def _text(value) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _people(frame, checked, incidence) -> tuple:
    """Per row: its people (children of the ``people`` list, or 1) and whether it is counted."""
    people = np.ones(frame.n, dtype=np.int64)
    if incidence.people is not None:
        kids = frame.children.get(incidence.people)
        people = np.bincount(kids.parent, minlength=frame.n) if kids is not None else np.zeros(frame.n, dtype=np.int64)
    return people.astype(np.int64), _chosen(frame, checked, incidence).astype(np.int64)


def _groups(frame, group_ids, checked, incidence) -> dict:
    """Per parent key: people of counted rows, people, rows (evaluated rows only)."""
    people, chosen = _people(frame, checked, incidence)
    keys, index = gr.encode(group_ids)
    everywhere = np.ones(frame.n, dtype=bool)
    counted = gr.total(index, len(keys), people * chosen, everywhere)
    everyone = gr.total(index, len(keys), people, everywhere)
    rows = gr.count(index, len(keys))
    return {k: [int(a), int(b), int(c)] for k, a, b, c in zip(keys, counted, everyone, rows)}


def _chosen(frame, checked, incidence) -> np.ndarray:
    """Rows whose incidence field is known and one of the declared values."""
    column = frame.columns.get(incidence.field)
    if column is None:
        return np.zeros(frame.n, dtype=bool)
    values = enum_values(checked, checked.entities[frame.entity].fields[incidence.field].type)
    chosen = np.isin(column.data, [values.index(v) for v in incidence.values])
    if column.missing is not None:
        chosen &= ~column.missing
    return chosen


# --- rendering

WORDS = {
    "zh": {"title": "摘要（已求值 {n} {rows}）", "rows": "行", "unknown": "未知", "error": "错误",
           "totals": "补助合计（各金额输出在已确定的行上求和）", "over": "（{n} 行已确定）",
           "incidence": "{name}（按{parent}）= {field}为{values}的{entity}的{people} ÷ 本数据集中该{parent}已求值{entity}的{people}",
           "people": "{label}人数", "or": "或", "averages": "平均值（在已确定的行上）",
           "paid": "支付金额合计（政策包声明的各项支付，在已确定的行上求和）",
           "more": "……另有 {n} 个（见 --summary-file）", "level": "按 {level} 分组：{n} 组（各组数字见 --summary-file）"},
    "en": {"title": "Summary ({n} {rows} evaluated)", "rows": "rows", "unknown": "unknown", "error": "error",
           "totals": "Totals (each money output summed over the rows where it is decided)", "over": " ({n} rows decided)",
           "incidence": "{name} per {parent} = {people} of {entity} whose {field} is {values} ÷ {people} of the "
                        "{parent}'s evaluated {entity} in this dataset",
           "people": "{label}", "or": " or ", "averages": "Averages (over the rows where each is decided)",
           "paid": "Amounts paid (each the pack declares paid, summed over the rows where it is decided)",
           "more": "… and {n} more (see --summary-file)", "level": "by {level}: {n} groups (each group's figures: --summary-file)"},
}


def render(summary: Summary, checked, lang: str = "zh", top: int | None = None) -> str:
    """The summary as text lines, worded from the entity's declared labels; groups are cut
    to the ``top`` (default: the report's declared ``top``) with the highest incidence."""
    w = WORDS[lang]
    ent = checked.entities.get(summary.entity)
    report = ent.report if ent is not None else None
    rows = report.rows.get(lang) if report is not None and report.rows else w["rows"]
    top = top if top is not None else (report.top if report is not None else 10)
    lines = [w["title"].format(n=summary.rows, rows=rows)]
    for name in report.count if report is not None else ():
        if name in summary.counts:
            label = checked.rules[name].label(lang)
            parts = [f"{w.get(k, k)} {v}" for k, v in summary.counts[name].items() if v or k not in ("unknown", "error")]
            lines.append(f"  {label} ({name}): " + ", ".join(parts))
    if summary.totals:
        lines.append("  " + w["paid" if report is not None and report.declared else "totals"])
        for name, (fen, n) in summary.totals.items():
            lines.append(f"    {checked.rules[name].label(lang)} ({name}): {yuan(fen)} 元" + w["over"].format(n=n))
    if summary.averages:
        lines.append("  " + w["averages"])
        for name, (total, n) in summary.averages.items():
            value = mean(total, n, checked.rules[name].type.kind)
            lines.append(f"    {checked.rules[name].label(lang)} ({name}): {value}" + w["over"].format(n=n))
    if summary.groups and report is not None and report.incidence is not None:
        lines.append("  " + incidence_text(checked, ent, rows, lang))
        ranked = sorted(summary.groups, key=lambda k: (-_rate(*summary.groups[k][:2]), k))
        for key in ranked[:top]:
            counted, people, n = summary.groups[key]
            lines.append(f"    {key}: {counted}/{people} = {percent(counted, people)} ({n} {rows})")
        if len(ranked) > top:
            lines.append("    " + w["more"].format(n=len(ranked) - top))
    for level, groups in summary.levels.items():
        lines.append("  " + w["level"].format(level=level, n=len(groups)))
    return "\n".join(lines)


def _rate(part, whole) -> float:
    return part / whole if whole else -1.0


def mean(total, n: int, kind: str) -> str:
    """An exact mean as text, to two decimals (money in yuan), ``-`` over no rows."""
    if not n:
        return "-"
    value = Decimal(total) / Decimal(n) / (100 if kind == "money" else 1)
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def incidence_text(checked, ent, rows: str, lang: str) -> str:
    """What the incidence figures are, in the words of the declarations."""
    w, inc = WORDS[lang], ent.report.incidence
    fld = ent.fields[inc.field]
    enum = checked.enums[fld.type.name]
    values = w["or"].join(f"{_label(enum.values.get(v), v, lang)}（{v}）" if lang == "zh" else
                          f"{_label(enum.values.get(v), v, lang)} ({v})" for v in inc.values)
    parent = checked.entities[ent.parent]
    people = w["people"].format(label=_label(ent.fields[inc.people].labels, inc.people, lang)) if inc.people else rows
    entity = rows if lang == "en" and ent.report.rows else _label(ent.labels, ent.name, lang)
    name = inc.labels.get(lang)
    return w["incidence"].format(name=name[:1].upper() + name[1:], parent=_label(parent.labels, parent.name, lang),
                                 field=_label(fld.labels, fld.name, lang), values=values, entity=entity, people=people)


def _label(labels, name: str, lang: str) -> str:
    return labels.get(lang) if labels is not None else name


def yuan(fen) -> str:
    """Exact yuan text of an amount in fen (an int; a Decimal for amounts below the fen)."""
    if not isinstance(fen, int):
        return str((Decimal(fen) / 100).normalize())
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def percent(part: int, whole: int) -> str:
    """``part/whole`` as a percentage with two decimals (half up), or ``-`` when whole is 0."""
    if not whole:
        return "-"
    value = (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{value}%"
