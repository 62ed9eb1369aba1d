"""Inline SVG charts drawn on the server, each bar a link (to the households behind it).

No script and no external asset: a bar is an ``<a>`` around a ``<rect>`` with a
``<title>`` (the tooltip and the accessible name), so the charts work from the keyboard
and in a printed page. Colours are fixed per position, the legend names each value.
"""
from __future__ import annotations

from html import escape

PALETTE = ("#c0392b", "#e0a800", "#2e8b57", "#7f8c8d", "#2f6fb0", "#8e44ad", "#d35400", "#16a085", "#34495e")
FONT = '"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif'


def _e(text) -> str:
    return escape(str(text), quote=True)


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def stacked(rows: list, values: list, title: str, width: int = 720) -> str:
    """Horizontal stacked bars: ``rows`` of (label, {value: (count, href)}), ``values`` of
    (value, label) in legend order. Each segment links to its ``href``."""
    if not rows:
        return ""
    label_w, row_h, legend_h = 130, 24, 24
    top = max(sum(c for c, _ in parts.values()) for _, parts in rows) or 1
    scale = (width - label_w - 60) / top
    height = legend_h + row_h * len(rows) + 6
    out = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
           f'aria-label="{_e(title)}" style="font-family:{_e(FONT)};font-size:12px"><title>{_e(title)}</title>']
    x = label_w
    for i, (value, label) in enumerate(values):
        out.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{colour(i)}"/>'
                   f'<text x="{x + 16}" y="15">{_e(label)}</text>')
        x += 28 + 13 * len(str(label))
    for r, (label, parts) in enumerate(rows):
        y = legend_h + r * row_h
        out.append(f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end">{_e(label)}</text>')
        x, total = float(label_w), 0
        for i, (value, vlabel) in enumerate(values):
            count, href = parts.get(value, (0, None))
            if not count:
                continue
            w = count * scale
            rect = (f'<rect x="{x:.1f}" y="{y + 3}" width="{max(w, 1):.1f}" height="{row_h - 6}" fill="{colour(i)}">'
                    f'<title>{_e(label)} · {_e(vlabel)}: {count}</title></rect>')
            out.append(f'<a href="{_e(href)}" class="bar">{rect}</a>' if href else rect)
            x += w
            total += count
        out.append(f'<text x="{x + 4:.1f}" y="{y + 16}">{total}</text>')
    out.append("</svg>")
    return "".join(out)


def bars(items: list, title: str, unit: str = "", width: int = 720) -> str:
    """Horizontal bars: ``items`` of (label, number, text, href or None[, colour])."""
    if not items:
        return ""
    label_w, row_h = 130, 22
    top = max(abs(item[1]) for item in items) or 1
    scale = (width - label_w - 110) / top
    out = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{row_h * len(items) + 6}" '
           f'role="img" aria-label="{_e(title)}" style="font-family:{_e(FONT)};font-size:12px"><title>{_e(title)}</title>']
    for r, (label, value, text, href, *rest) in enumerate(items):
        y, w = r * row_h, abs(value) * scale
        fill = rest[0] if rest else ("#2f6fb0" if value >= 0 else "#c0392b")
        rect = (f'<rect x="{label_w}" y="{y + 3}" width="{max(w, 1):.1f}" height="{row_h - 6}" fill="{fill}">'
                f'<title>{_e(label)}: {_e(text)}{_e(unit)}</title></rect>')
        out.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{_e(label)}</text>')
        out.append(f'<a href="{_e(href)}" class="bar">{rect}</a>' if href else rect)
        out.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 15}">{_e(text)}{_e(unit)}</text>')
    out.append("</svg>")
    return "".join(out)
