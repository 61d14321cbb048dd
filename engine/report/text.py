"""The report as plain text pieces every renderer shares: bars, times, durations, the period
and the list of figures. Pure formatting: it must not escape for any one output format."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.report.model import Report

BAR_WIDTH = 24


def text_bars(rows: list[tuple[str, int, int]], width: int = BAR_WIDTH) -> list[str]:
    """Stacked bars in text, one line per row: `█` not blocked, `▒` blocked, scaled to the
    largest; a row with any decision shows at least one cell."""
    if not rows:
        return []
    peak = max(total for _, total, _ in rows) or 1
    names = [" ".join(name.split()) for name, _, _ in rows]
    label = min(max(len(name) for name in names), 28)
    lines = []
    for name, (_, total, blocked) in zip(names, rows, strict=True):
        cells = max(round(total / peak * width), 1 if total else 0)
        blocked_cells = min(cells, max(round(blocked / peak * width), 1 if blocked else 0))
        bar = "█" * (cells - blocked_cells) + "▒" * blocked_cells
        lines.append(f"{clip(name, label):<{label}} {bar:<{width}} {total:,} ({blocked:,} blocked)")
    return lines


def when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _seconds(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value < 120:
        return f"{value:.1f} s"
    if value < 7_200:
        return f"{value / 60:.1f} min"
    return f"{value / 3_600:.1f} h"


def period(report: Report) -> str:
    who = f" for {report.user}" if report.user else ""
    return f"{when(report.period_start)} to {when(report.period_end)}{who}"


def figures(report: Report) -> list[tuple[str, str]]:
    return [
        ("Decisions", f"{report.total_decisions:,}"),
        ("Allowed", f"{report.allowed:,}"),
        ("Blocked", f"{report.blocked:,}"),
        ("Needed approval", f"{report.needed_approval:,}"),
        ("Block rate", f"{report.block_rate:.1%} ({report.health})"),
        ("Would have blocked (audit mode)", f"{report.would_have_blocked:,}"),
        ("Approvals requested", f"{report.approvals_requested:,}"),
        (
            "Approved / denied / expired",
            f"{report.approved:,} / {report.denied:,} / {report.expired:,}",
        ),
        ("Pending", f"{report.pending:,}"),
        (
            "Approval latency p50 / p95 / max",
            f"{_seconds(report.latency_p50_s)} / "
            f"{_seconds(report.latency_p95_s)} / {_seconds(report.latency_max_s)}",
        ),
        ("Break-glass uses", f"{report.break_glass_uses:,}"),
        ("Overrides", f"{report.overrides:,}"),
        ("False-positive flags", f"{report.false_positives:,}"),
        ("Risk (last hour)", report.risk_last_hour),
    ]


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
