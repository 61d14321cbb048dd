"""The report as a self-contained HTML page for auditors: inline CSS and SVG charts, no
scripts, nothing fetched. Pure rendering of a `Report`: it must not compute figures."""

from __future__ import annotations

import html
import math
import time
from typing import Any

from engine.report.model import LENIENT_BELOW, STRICT_ABOVE, Report
from engine.report.text import clip, figures, period, when

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2rem;color:#1f2328}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}
th,td{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.health{font-weight:bold}.chart{margin:.5rem 0}
.legend span{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem 0 1rem}
"""
_ALLOWED_COLOUR = "#54aeff"
_BLOCKED_COLOUR = "#cf222e"


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _bar_chart(rows: list[tuple[str, int, int]], label: str) -> str:
    """Horizontal stacked bars (not blocked / blocked) as inline SVG."""
    if not rows:
        return "<p>No decisions in this period.</p>"
    bar_h, gap, label_w, plot_w = 18, 6, 180, 520
    height = len(rows) * (bar_h + gap) + gap
    peak = max(total for _, total, _ in rows) or 1
    parts = [
        f'<svg class="chart" role="img" aria-label="{_e(label)}" '
        f'width="{label_w + plot_w + 90}" height="{height}">'
    ]
    for index, (name, total, blocked) in enumerate(rows):
        y = gap + index * (bar_h + gap)
        rest_w = (total - blocked) / peak * plot_w
        blocked_w = blocked / peak * plot_w
        parts.append(
            f'<text x="{label_w - 6}" y="{y + bar_h - 4}" text-anchor="end" font-size="12">'
            f"{_e(clip(name, 28))}</text>"
            f'<rect x="{label_w}" y="{y}" width="{rest_w:.1f}" height="{bar_h}" '
            f'fill="{_ALLOWED_COLOUR}"><title>{_e(name)}: {total - blocked:,} not blocked'
            f"</title></rect>"
            f'<rect x="{label_w + rest_w:.1f}" y="{y}" width="{blocked_w:.1f}" '
            f'height="{bar_h}" fill="{_BLOCKED_COLOUR}"><title>{_e(name)}: {blocked:,} blocked'
            f"</title></rect>"
            f'<text x="{label_w + rest_w + blocked_w + 4:.1f}" y="{y + bar_h - 4}" '
            f'font-size="12">{total:,}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _column_chart(rows: list[tuple[str, int, int]], label: str) -> str:
    """Vertical stacked columns per day as inline SVG."""
    if not rows:
        return "<p>No decisions in this period.</p>"
    plot_h, base, left = 200, 40, 50
    step = max(3.0, min(24.0, 900 / len(rows)))
    width = left + step * len(rows) + 10
    peak = max(total for _, total, _ in rows) or 1
    parts = [
        f'<svg class="chart" role="img" aria-label="{_e(label)}" '
        f'width="{width:.0f}" height="{plot_h + base}">',
        f'<text x="{left - 6}" y="12" text-anchor="end" font-size="11">{peak:,}</text>',
        f'<text x="{left - 6}" y="{plot_h}" text-anchor="end" font-size="11">0</text>',
        f'<line x1="{left}" y1="{plot_h}" x2="{width - 10:.0f}" y2="{plot_h}" stroke="#888"/>',
    ]
    label_every = max(1, math.ceil(len(rows) / 12))
    for index, (day, total, blocked) in enumerate(rows):
        x = left + index * step
        rest_h = (total - blocked) / peak * (plot_h - 10)
        blocked_h = blocked / peak * (plot_h - 10)
        parts.append(
            f'<rect x="{x:.1f}" y="{plot_h - rest_h:.1f}" width="{step * 0.8:.1f}" '
            f'height="{rest_h:.1f}" fill="{_ALLOWED_COLOUR}"><title>{_e(day)}: '
            f"{total:,} decisions</title></rect>"
            f'<rect x="{x:.1f}" y="{plot_h - rest_h - blocked_h:.1f}" width="{step * 0.8:.1f}" '
            f'height="{blocked_h:.1f}" fill="{_BLOCKED_COLOUR}"><title>{_e(day)}: '
            f"{blocked:,} blocked</title></rect>"
        )
        if index % label_every == 0:
            parts.append(
                f'<text x="{x:.1f}" y="{plot_h + 14}" font-size="10" '
                f'transform="rotate(30 {x:.1f} {plot_h + 14})">{_e(day[5:])}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _table(headers: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{value:,}</td>' if isinstance(value, int) else f"<td>{_e(value)}</td>"
            for value in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def to_html(report: Report, title: str = "Claude Code governance report") -> str:
    """A self-contained page for auditors: inline CSS and SVG, no scripts, nothing fetched."""
    legend = (
        f'<p class="legend"><span style="background:{_ALLOWED_COLOUR}"></span>not blocked'
        f'<span style="background:{_BLOCKED_COLOUR}"></span>blocked</p>'
    )
    reasons = (
        _table(("Rule", "Example reason", "Count"), list(report.top_block_reasons))
        if report.top_block_reasons
        else "<p>No blocks in this period.</p>"
    )
    sections = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f"<p>Period: {_e(period(report))} ({report.days:g} days). Generated "
        f"{_e(when(time.time()))}.</p>",
        f'<p class="health">Block rate {report.block_rate:.1%}: {_e(report.health)} '
        f"(healthy between {LENIENT_BELOW:.0%} and {STRICT_ABOVE:.0%}). "
        f"Risk in the last hour: {_e(report.risk_last_hour)}.</p>",
        "<h2>Summary</h2>",
        _table(("Figure", "Value"), figures(report)),
        "<h2>Decisions per day (UTC)</h2>",
        legend,
        _column_chart(report.per_day, "Decisions per day"),
        _table(("Date", "Decisions", "Blocked"), list(report.per_day)),
        "<h2>Decisions by tool</h2>",
        _bar_chart(report.by_tool, "Decisions by tool"),
        _table(("Tool", "Decisions", "Blocked"), list(report.by_tool)),
        "<h2>Decisions by user</h2>",
        _bar_chart(report.by_user, "Decisions by user"),
        _table(("User", "Decisions", "Blocked"), list(report.by_user)),
        "<h2>Decisions by host</h2>",
        _bar_chart(report.by_host, "Decisions by host"),
        _table(("Host", "Decisions", "Blocked"), list(report.by_host)),
        "<h2>Top block reasons</h2>",
        reasons,
        "</body></html>",
    ]
    return "\n".join(sections) + "\n"
