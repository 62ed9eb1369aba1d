"""``--summary``: figures accumulated chunk by chunk, exact, and merged across workers.

- counts of each value of ``monitoring_tier`` and ``monitoring_measure`` (with the
  unknown and error counts), and how many households are ``exit_eligible``;
- the total of every money output over the rows where it is decided (exact, in fen);
- per village, when the input has a ``village_id`` column: the people (listed members)
  of evaluated households whose ``status`` is ``poor``, over the people of all evaluated
  households of that village in this dataset.

Only outputs that were evaluated (``--only``) are summarised.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..columnar.frame import enum_values

COUNTED = ("monitoring_tier", "monitoring_measure", "exit_eligible")


@dataclass
class Summary:
    """Mergeable figures of a run (or of one chunk)."""

    rows: int = 0
    counts: dict = field(default_factory=dict)  # output -> Counter(value text -> n)
    totals: dict = field(default_factory=dict)  # money output -> [fen, decided rows]
    villages: dict = field(default_factory=dict)  # village id -> [poor people, people, households]

    def merge(self, other: "Summary") -> "Summary":
        """Add another summary's figures to this one."""
        self.rows += other.rows
        for name, counter in other.counts.items():
            self.counts.setdefault(name, Counter()).update(counter)
        for name, (fen, n) in other.totals.items():
            mine = self.totals.setdefault(name, [0, 0])
            mine[0] += fen
            mine[1] += n
        for vid, figures in other.villages.items():
            mine = self.villages.setdefault(vid, [0, 0, 0])
            for i, v in enumerate(figures):
                mine[i] += v
        return self


def summarise(result, frame, village_ids=None) -> Summary:
    """The figures of one evaluated frame (``village_ids``: an arrow array per row, or None)."""
    checked = result.program.program.checked
    out = Summary(rows=result.n)
    for name in result.outputs:
        rule = checked.rules[name]
        decided = ~(result.unknown[name] | result.error[name])
        if name in COUNTED:
            out.counts[name] = _count(result, name, decided, rule, checked)
        if rule.type.kind == "money":
            out.totals[name] = [int(result.values[name][decided].sum(dtype=np.int64)), int(decided.sum())]
    if village_ids is not None:
        out.villages = _villages(frame, village_ids, checked)
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


def _villages(frame, village_ids, checked) -> dict:
    """Per village: people in poor households, people, households (evaluated rows only)."""
    people = np.zeros(frame.n, dtype=np.int64)
    if "members" in frame.children:
        people = np.bincount(frame.children["members"].parent, minlength=frame.n)
    poor = np.zeros(frame.n, dtype=bool)
    status = frame.columns.get("status")
    if status is not None:
        values = enum_values(checked, checked.entities[frame.entity].fields["status"].type)
        if "poor" in values:
            poor = status.data == values.index("poor")
            if status.missing is not None:
                poor &= ~status.missing
    codes = pc.dictionary_encode(village_ids.cast(pa.string()).fill_null(""))
    keys = codes.dictionary.to_pylist()
    index = codes.indices.to_numpy(zero_copy_only=False)
    # float sums of whole numbers are exact below 2**53 people
    poor_people = np.bincount(index, weights=people * poor, minlength=len(keys))
    all_people = np.bincount(index, weights=people, minlength=len(keys))
    households = np.bincount(index, minlength=len(keys))
    return {k: [int(a), int(b), int(c)] for k, a, b, c in zip(keys, poor_people, all_people, households)}


# --- rendering

WORDS = {
    "zh": {"title": "摘要（已求值 {n} 户）", "unknown": "未知", "error": "错误", "totals": "补助合计（各金额输出在已确定的行上求和）",
           "over": "（{n} 行已确定）", "villages": "各村贫困发生率 = 状态为未脱贫（poor）的农户的人口 ÷ 本数据集中该村已求值农户的人口（人口按所列家庭成员计）",
           "households": "户"},
    "en": {"title": "Summary ({n} households evaluated)", "unknown": "unknown", "error": "error",
           "totals": "Totals (each money output summed over the rows where it is decided)", "over": " ({n} rows decided)",
           "villages": "Poverty incidence per village = people in households whose status is poor ÷ people in the "
                       "village's evaluated households in this dataset (people = listed members)",
           "households": "households"},
}


def render(summary: Summary, checked, lang: str = "zh") -> str:
    """The summary as text lines."""
    w = WORDS[lang]
    lines = [w["title"].format(n=summary.rows)]
    for name in COUNTED:
        if name in summary.counts:
            label = checked.rules[name].label(lang)
            parts = [f"{w.get(k, k)} {v}" for k, v in summary.counts[name].items() if v or k not in ("unknown", "error")]
            lines.append(f"  {label} ({name}): " + ", ".join(parts))
    if summary.totals:
        lines.append("  " + w["totals"])
        for name, (fen, n) in summary.totals.items():
            lines.append(f"    {checked.rules[name].label(lang)} ({name}): {yuan(fen)} 元" + w["over"].format(n=n))
    if summary.villages:
        lines.append("  " + w["villages"])
        for vid in sorted(summary.villages):
            poor, people, households = summary.villages[vid]
            lines.append(f"    {vid}: {poor}/{people} = {percent(poor, people)} ({households} {w['households']})")
    return "\n".join(lines)


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
