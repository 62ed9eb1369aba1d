"""``--summary``: figures accumulated chunk by chunk, exact, and merged across workers.

What is shown comes from the entity's declarations (``parent_key`` and ``report`` in
docs/policy-language.md), never from names known here:

- the total of every money output over the rows where it is decided (exact, in fen);
- counts of each value of the outputs the report lists under ``count`` (with the unknown
  and error counts);
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
import pyarrow as pa
import pyarrow.compute as pc

from ..columnar.frame import enum_values


@dataclass
class Summary:
    """Mergeable figures of a run (or of one chunk) of one entity's rows."""

    entity: str = ""
    rows: int = 0
    counts: dict = field(default_factory=dict)  # output -> Counter(value text -> n)
    totals: dict = field(default_factory=dict)  # money output -> [fen, decided rows]
    groups: dict = field(default_factory=dict)  # parent key -> [people counted, people, rows]

    def merge(self, other: "Summary") -> "Summary":
        """Add another summary's figures to this one."""
        self.entity = self.entity or other.entity
        self.rows += other.rows
        for name, counter in other.counts.items():
            self.counts.setdefault(name, Counter()).update(counter)
        for name, (fen, n) in other.totals.items():
            mine = self.totals.setdefault(name, [0, 0])
            mine[0] += fen
            mine[1] += n
        for key, figures in other.groups.items():
            mine = self.groups.setdefault(key, [0, 0, 0])
            for i, v in enumerate(figures):
                mine[i] += v
        return self


def summarise(result, frame, group_ids=None) -> Summary:
    """The figures of one evaluated frame (``group_ids``: the parent key of each row as an
    arrow array, or None)."""
    checked = result.program.program.checked
    report = checked.entities[frame.entity].report
    counted = report.count if report is not None else ()
    out = Summary(frame.entity, rows=result.n)
    for name in result.outputs:
        rule = checked.rules[name]
        decided = ~(result.unknown[name] | result.error[name])
        if name in counted:
            out.counts[name] = _count(result, name, decided, rule, checked)
        if rule.type.kind == "money":
            out.totals[name] = [int(result.values[name][decided].sum(dtype=np.int64)), int(decided.sum())]
    if group_ids is not None and report is not None and report.incidence is not None:
        out.groups = _groups(frame, group_ids, checked, report.incidence)
    return out


def _count(result, name, decided, rule, checked) -> Counter:
    data = result.values[name]
    counter = Counter()
    if rule.type.kind == "enum":
        labels = enum_values(checked, rule.type)
        for i, n in enumerate(np.bincount(data[decided].astype(np.int64), minlength=len(labels))):
            counter[labels[i]] = int(n)
    elif rule.type.kind == "bool":
        yes = int(data[decided].sum())
        counter["true"], counter["false"] = yes, int(decided.sum()) - yes
    else:
        values, counts = np.unique(data[decided], return_counts=True)
        counter.update({_text(v): int(c) for v, c in zip(values.tolist(), counts)})
    counter["unknown"] = int(result.unknown[name].sum())
    counter["error"] = int(result.error[name].sum())
    return counter


def _text(value) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _groups(frame, group_ids, checked, incidence) -> dict:
    """Per parent key: people of counted rows, people, rows (evaluated rows only)."""
    people = np.ones(frame.n, dtype=np.int64)
    if incidence.people is not None:
        kids = frame.children.get(incidence.people)
        people = np.bincount(kids.parent, minlength=frame.n) if kids is not None else np.zeros(frame.n, dtype=np.int64)
    chosen = _chosen(frame, checked, incidence)
    codes = pc.dictionary_encode(group_ids.cast(pa.string()).fill_null(""))
    keys = codes.dictionary.to_pylist()
    index = codes.indices.to_numpy(zero_copy_only=False)
    # float sums of whole numbers are exact below 2**53 people
    counted = np.bincount(index, weights=people * chosen, minlength=len(keys))
    everyone = np.bincount(index, weights=people, minlength=len(keys))
    rows = np.bincount(index, minlength=len(keys))
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
           "people": "{label}人数", "or": "或"},
    "en": {"title": "Summary ({n} {rows} evaluated)", "rows": "rows", "unknown": "unknown", "error": "error",
           "totals": "Totals (each money output summed over the rows where it is decided)", "over": " ({n} rows decided)",
           "incidence": "{name} per {parent} = {people} of {entity} whose {field} is {values} ÷ {people} of the "
                        "{parent}'s evaluated {entity} in this dataset",
           "people": "{label}", "or": " or "},
}


def render(summary: Summary, checked, lang: str = "zh") -> str:
    """The summary as text lines, worded from the entity's declared labels."""
    w = WORDS[lang]
    ent = checked.entities.get(summary.entity)
    report = ent.report if ent is not None else None
    rows = report.rows.get(lang) if report is not None and report.rows else w["rows"]
    lines = [w["title"].format(n=summary.rows, rows=rows)]
    for name in report.count if report is not None else ():
        if name in summary.counts:
            label = checked.rules[name].label(lang)
            parts = [f"{w.get(k, k)} {v}" for k, v in summary.counts[name].items() if v or k not in ("unknown", "error")]
            lines.append(f"  {label} ({name}): " + ", ".join(parts))
    if summary.totals:
        lines.append("  " + w["totals"])
        for name, (fen, n) in summary.totals.items():
            lines.append(f"    {checked.rules[name].label(lang)} ({name}): {yuan(fen)} 元" + w["over"].format(n=n))
    if summary.groups and report is not None and report.incidence is not None:
        lines.append("  " + incidence_text(checked, ent, rows, lang))
        for key in sorted(summary.groups):
            counted, people, n = summary.groups[key]
            lines.append(f"    {key}: {counted}/{people} = {percent(counted, people)} ({n} {rows})")
    return "\n".join(lines)


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


def yuan(fen: int) -> str:
    """Exact yuan text of an amount in fen."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def percent(part: int, whole: int) -> str:
    """``part/whole`` as a percentage with two decimals (half up), or ``-`` when whole is 0."""
    if not whole:
        return "-"
    value = (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{value}%"
