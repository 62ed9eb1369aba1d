"""One self-contained HTML page for a summary or a diff: tables and inline SVG charts.

No external assets, no script: the charts are SVG drawn here (heatmaps for transition
matrices, horizontal bars for money by group), so the page opens offline, prints, and
survives being mailed as one file. Text is HTML-escaped and the page declares UTF-8 and
a CJK-capable font stack, so labels from the pack (`红色`, `贫困发生率`) render as text,
not as drawn glyphs. The figures come from the same objects as the text and the files;
nothing here computes.
"""
from __future__ import annotations

import html

from .summary import Summary, mean, percent, yuan

# the words of a report page, in the page's language (the pack's own labels name the rest)
WORDS = {
    "zh": {"output": "输出", "yuan": "元", "rows": "行数", "mean": "平均", "people": "人口", "incidence": "发生率",
           "changed": "有变化", "before": "之前", "after": "之后", "difference": "差额", "true": "是", "false": "否",
           "unknown": "未知", "error": "出错", "moves": "行：之前的值；列：之后的值", "moved": "之前 → 之后",
           "because": "规则中的变化", "decided": "决定的事实", "explain": "说明"},
    "en": {"output": "output", "yuan": "yuan", "rows": "rows", "mean": "mean", "people": "people",
           "incidence": "incidence", "changed": "changed", "before": "before", "after": "after",
           "difference": "difference", "true": "yes", "false": "no", "unknown": "unknown", "error": "error",
           "moves": "rows: the value before; columns: the value after", "moved": "before → after",
           "because": "because", "decided": "decided by", "explain": "explain"},
}


def _pick(labels, lang: str) -> str | None:
    return (getattr(labels, lang, None) or getattr(labels, "zh", None)) if labels is not None else None


def level_name(checked, level: str, lang: str) -> str:
    """The reader's name of a group column: the entity a ``parent_key`` names
    (``village_id`` → 行政村 / administrative village), else the field's label, else the
    column itself (a carried column the pack does not declare)."""
    for ent in checked.entities.values():
        if ent.parent_key == level and ent.parent in checked.entities:
            return _pick(checked.entities[ent.parent].labels, lang) or level
    for ent in checked.entities.values():
        found = ent.fields.get(level)
        if found is not None and found.labels:
            return _pick(found.labels, lang) or level
    return level


def value_name(checked, output: str, value: str, lang: str) -> str:
    """An output's value as a page shows it: yes/no, an enum value's label, 未知/unknown."""
    words = WORDS[lang]
    rule = checked.rules.get(output)
    kind = rule.type.kind if rule is not None else None
    if value in ("unknown", "error") or (kind == "bool" and value in ("true", "false")):
        return words[value]
    if kind == "enum" and rule.type.name in checked.enums:
        return _pick(checked.enums[rule.type.name].values.get(value), lang) or value
    return value

FONT = ('"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", '
        'system-ui, sans-serif')
STYLE = f"""body{{font-family:{FONT};margin:2em;color:#222}}table{{border-collapse:collapse;margin:.5em 0 1.5em}}
td,th{{border:1px solid #ccc;padding:.2em .5em;text-align:right}}th{{background:#f3f3f3}}td.t,th.t{{text-align:left}}
h2{{margin-top:1.5em}}svg text{{font-family:{FONT};font-size:12px}}.note{{color:#666}}"""


def esc(text) -> str:
    """Text safe inside HTML."""
    return html.escape(str(text), quote=True)


def page(title: str, body: list, lang: str = "zh") -> str:
    """A whole page from its body parts."""
    return (f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8"><title>{esc(title)}</title>'
            f"<style>{STYLE}</style></head><body><h1>{esc(title)}</h1>\n" + "\n".join(body) + "\n</body></html>\n")


def table(head: list, rows: list, left: int = 1) -> str:
    """An HTML table; the first ``left`` columns are text (left-aligned)."""
    def cells(tag, row):
        return "".join(f'<{tag}{" class=t" if i < left else ""}>{esc(v)}</{tag}>' for i, v in enumerate(row))

    return "<table><tr>" + cells("th", head) + "</tr>" + "".join(f"<tr>{cells('td', r)}</tr>" for r in rows) + "</table>"


def bars(items: list, unit: str = "", width: int = 640) -> str:
    """Horizontal bars: ``items`` of (label, value, text); negative values drawn leftwards."""
    if not items:
        return ""
    top = max(abs(float(v)) for _, v, _ in items) or 1.0
    label_w, row_h, half = 150, 20, (width - 150) / 2
    any_negative = any(float(v) < 0 for _, v, _ in items)
    zero = label_w + (half if any_negative else 0)
    scale = (half if any_negative else width - label_w - 80) / top
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width + 80}" height="{row_h * len(items) + 10}" '
             f'role="img">']
    for i, (label, value, text) in enumerate(items):
        y, length = 5 + i * row_h, float(value) * scale
        x = zero if length >= 0 else zero + length
        colour = "#4a7ebb" if length >= 0 else "#c0504d"
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{esc(label)}</text>'
                     f'<rect x="{x:.1f}" y="{y + 3}" width="{abs(length):.1f}" height="{row_h - 6}" fill="{colour}">'
                     f'<title>{esc(label)}: {esc(text)}{esc(unit)}</title></rect>'
                     f'<text x="{max(zero, x + abs(length)) + 4:.1f}" y="{y + 14}">{esc(text)}</text>')
    parts.append(f'<line x1="{zero}" y1="0" x2="{zero}" y2="{row_h * len(items) + 10}" stroke="#888"/></svg>')
    return "".join(parts)


def heatmap(rows: list, cols: list, matrix: list, title: str = "") -> str:
    """A transition matrix as a heatmap: ``matrix[i][j]`` entities from ``rows[i]`` to ``cols[j]``."""
    cell, left, head = 64, 120, 40
    top = max((v for r in matrix for v in r), default=0) or 1
    w, h = left + cell * len(cols) + 10, head + cell * len(rows) // 2 + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img">'
             f'<title>{esc(title)}</title>']
    for j, c in enumerate(cols):
        parts.append(f'<text x="{left + j * cell + cell / 2}" y="{head - 8}" text-anchor="middle">{esc(c)}</text>')
    for i, r in enumerate(rows):
        y = head + i * cell // 2
        parts.append(f'<text x="{left - 6}" y="{y + 20}" text-anchor="end">{esc(r)}</text>')
        for j, v in enumerate(matrix[i]):
            shade = 255 - int(200 * (v / top) ** 0.5) if v else 255
            fill = f"rgb({shade},{shade},255)" if i != j else f"rgb({shade},{shade},{shade})"
            ink = "#fff" if shade < 140 else "#000"
            parts.append(f'<rect x="{left + j * cell}" y="{y}" width="{cell - 2}" height="{cell // 2 - 2}" '
                         f'fill="{fill}" stroke="#ccc"><title>{esc(r)} → {esc(c)}: {v}</title></rect>'
                         f'<text x="{left + j * cell + cell / 2 - 1}" y="{y + 20}" text-anchor="middle" '
                         f'fill="{ink}">{v}</text>')
    parts.append("</svg>")
    return "".join(parts)


def summary_page(summary: Summary, checked, lang: str = "zh") -> str:
    """The summary as a page: counts, totals, averages, and money and incidence by group."""
    zh, w = lang == "zh", WORDS[lang]
    label = (lambda n: checked.rules[n].label(lang))
    body = [f"<p>{esc(summary.rows)} {'行已求值' if zh else 'rows evaluated'}</p>"]
    for name, counter in summary.counts.items():
        items = [(value_name(checked, name, k, lang), v, str(v)) for k, v in counter.items()
                 if v or k not in ("unknown", "error")]
        body += [f"<h2>{esc(label(name))} ({esc(name)})</h2>", bars(items)]
    if summary.totals:
        body.append(f"<h2>{'支付金额合计' if zh else 'Amounts paid'}</h2>")
        body.append(table([w["output"], w["yuan"], w["rows"]], [(f"{label(n)} ({n})", yuan(f), k)
                                                               for n, (f, k) in summary.totals.items()]))
    if summary.averages:
        body.append(f"<h2>{'平均值' if zh else 'Averages'}</h2>")
        body.append(table([w["output"], w["mean"], w["rows"]],
                          [(f"{label(n)} ({n})", mean(v, k, checked.rules[n].type.kind), k)
                           for n, (v, k) in summary.averages.items()]))
    for level, groups in summary.levels.items():
        body += _level_section(level, groups, summary, checked, lang)
    return page(("摘要" if zh else "Summary") + f" — {summary.entity}", body, lang)


def _level_section(level: str, groups: dict, summary: Summary, checked, lang: str) -> list:
    zh, w, named = lang == "zh", WORDS[lang], level_name(checked, level, lang)
    out = [f"<h2>{'按' if zh else 'By '}{esc(named)}{'分组' if zh else ''} ({len(groups)})</h2>"]
    for name in summary.totals:
        ranked = sorted(groups, key=lambda k: (-groups[k].totals.get(name, [0])[0], k))[:20]
        items = [(k, groups[k].totals[name][0] / 100, yuan(groups[k].totals[name][0])) for k in ranked
                 if name in groups[k].totals]
        if any(v for _, v, _ in items):
            out += [f"<h3>{esc(checked.rules[name].label(lang))} ({esc(name)})</h3>", bars(items, " 元")]
    rows = [(k, g.rows, f"{g.people[0]}/{g.people[1]}", percent(*g.people)) for k, g in sorted(groups.items())]
    out.append(table([named, w["rows"], w["people"], w["incidence"]], rows))
    return out


# --- fupin diff

CHANGED_ROWS_SHOWN = 200


def diff_page(diff, job, lang: str = "zh", changed_path=None) -> str:
    """A comparison as a page: per changed output its transitions (heatmap), money and
    causes; money by group (bars); the most changed groups; the first changed rows."""
    from .diffreport import ranked_groups, rows_word

    zh, whole, w, checked = lang == "zh", diff.whole, WORDS[lang], job.a.checked
    unit = rows_word(checked, diff.entity, lang)
    body = [f"<p>{esc(job.a.name)} → {esc(job.b.name)}{'：' if zh else ': '}{whole.rows} {esc(unit)}"
            f"{'，' if zh else ', '}{whole.changed} {esc(unit) + '有变化' if zh else 'changed'}</p>"]
    for name in [n for n in job.outputs if whole.outputs.get(n)]:
        body += _output_section(name, whole, job, lang, unit)
    for level, groups in diff.levels.items():
        body += _money_bars(level, groups, whole, job, lang)
        ranked = [k for k in ranked_groups(groups) if groups[k].changed][:20]
        outputs = [n for n in job.outputs if whole.outputs.get(n)]
        rows = [(k, groups[k].rows, groups[k].changed, *(groups[k].outputs.get(n, 0) for n in outputs)) for k in ranked]
        named = level_name(checked, level, lang)
        body += [f"<h2>{'变化最多的' + esc(named) if zh else 'Most changed by ' + esc(named)}</h2>",
                 table([named, w["rows"], w["changed"], *outputs], rows)]
    if changed_path is not None:
        body += _changed_rows(changed_path, job, lang)
    return page(("政策变化影响" if zh else "Impact of the change") + f" — {diff.entity}", body, lang)


def _output_section(name: str, whole, job, lang: str, unit: str) -> list:
    rule = job.a.checked.rules[name]
    out = [f"<h2>{esc(rule.label(lang))} ({esc(name)}): {whole.outputs[name]} {esc(unit)}</h2>"]
    causes = job.causes.get(name, ())
    if causes:
        out.append("<ul>" + "".join(f"<li>{esc(c.text(lang))}</li>" for c in causes) + "</ul>")
    moves = whole.moves.get(name)
    w, checked = WORDS[lang], job.a.checked
    if moves:
        before = _order([a for a, _ in moves])
        after = _order([b for _, b in moves])
        matrix = [[moves.get((a, b), 0) for b in after] for a in before]
        shown = (lambda values: [value_name(checked, name, v, lang) for v in values])
        out.append(f"<p class=\"muted\">{esc(w['moves'])}</p>")
        out.append(heatmap(shown(before), shown(after), matrix, name))
    if name in whole.money:
        b, nb, a, na = whole.money[name]
        out.append(table(["", w["before"], w["after"], w["difference"]], [(w["yuan"], yuan(b), yuan(a), yuan(a - b))]))
    return out


def _order(values: list) -> list:
    """Distinct values in first-seen order, unknown and error last."""
    seen = list(dict.fromkeys(values))
    return [v for v in seen if v not in ("unknown", "error")] + [v for v in ("unknown", "error") if v in seen]


def _money_bars(level: str, groups: dict, whole, job, lang: str) -> list:
    out = []
    for name in [n for n, f in whole.money.items() if f[0] != f[2]]:
        moved = sorted(((k, g.money[name][2] - g.money[name][0]) for k, g in groups.items() if name in g.money),
                       key=lambda kv: (-abs(kv[1]), kv[0]))[:20]
        items = [(k, d / 100, yuan(d)) for k, d in moved if d]
        if items:
            label = job.a.checked.rules[name].label(lang)
            named = level_name(job.a.checked, level, lang)
            out += [f"<h2>{esc(label)} ({esc(name)}) — {esc(named)}</h2>", bars(items, " 元" if lang == "zh" else " yuan")]
    return out


def _changed_rows(path, job, lang: str) -> list:
    """The first changed rows of the changed rows' file (Parquet or CSV)."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq
    from pathlib import Path

    suffix = Path(str(path)).suffix.lower()
    if suffix == ".parquet":  # the first batch only: the file may hold millions of rows
        batch = next(pq.ParquetFile(str(path)).iter_batches(batch_size=CHANGED_ROWS_SHOWN), None)
    elif suffix == ".csv":
        names = pcsv.open_csv(str(path)).schema.names
        reader = pcsv.open_csv(str(path), convert_options=pcsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=True))
        batch = next(iter(reader), None)
    else:  # .xlsx: the page lists no rows (open the workbook)
        return []
    rows = pa.Table.from_batches([batch]).slice(0, CHANGED_ROWS_SHOWN).to_pylist() if batch is not None else []
    key = job.layout.key
    w, checked = WORDS[lang], job.a.checked
    keyed = checked.entities[job.first.entity].fields.get(key) if job.first.entity in checked.entities else None
    head = [_pick(keyed.labels, lang) if keyed is not None and keyed.labels else key,
            *(level_name(checked, c, lang) for c in job.first.carry), w["moved"], w["because"], w["decided"],
            w["explain"]]
    body = []
    for r in rows:
        names = [n.strip() for n in (r.get("changed") or "").split(",") if n.strip()]
        moved = "; ".join(f"{n}: {r.get(f'{n}:before')} → {r.get(f'{n}:after')}" for n in names)
        body.append((r.get(key), *(r.get(k) for k in job.first.carry), moved, r.get("because") or "", r.get("decided") or "",
                     f"fupin batch … --explain {r.get(key)} --only {','.join(names)}"))
    title = "有变化的行（前 {n} 行）" if lang == "zh" else "Changed rows (the first {n})"
    return [f"<h2>{title.format(n=len(body))}</h2>", table(head, body, left=len(head))]
