"""The report's published JSON form (docs/report.schema.json) and its Markdown page. Pure
rendering of a `Report`: it must not compute figures."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from engine.report.model import Report
from engine.report.text import figures, period, text_bars

REPORT_SCHEMA_ID = "https://github.com/claude-governance/schemas/report-1.json"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def report_document(report: Report) -> dict[str, Any]:
    """The published JSON form (docs/report.schema.json): named fields, ISO 8601 UTC times."""
    document = report.model_dump(
        exclude={
            "period_start",
            "period_end",
            "by_tool",
            "by_user",
            "by_host",
            "per_day",
            "top_block_reasons",
        }
    )
    return {
        "$schema": REPORT_SCHEMA_ID,
        "period_start": _iso(report.period_start),
        "period_end": _iso(report.period_end),
        **document,
        "by_tool": [{"tool": t, "decisions": n, "blocked": b} for t, n, b in report.by_tool],
        "by_user": [{"user": u, "decisions": n, "blocked": b} for u, n, b in report.by_user],
        "by_host": [{"host": h, "decisions": n, "blocked": b} for h, n, b in report.by_host],
        "per_day": [{"date": d, "decisions": n, "blocked": b} for d, n, b in report.per_day],
        "top_block_reasons": [
            {"rule": rule, "reason": reason, "count": n}
            for rule, reason, n in report.top_block_reasons
        ],
    }


def to_json(report: Report) -> str:
    return json.dumps(report_document(report), indent=2, ensure_ascii=False)


def _md(text: str) -> str:
    # Table cells break on pipes and newlines; emphasis, code, links and raw HTML would let a
    # rule or user name restyle the page. Other syntax only matters at a line start.
    text = " ".join(str(text).split())
    return "".join("\\" + c if c in "\\`*_[]<>|" else c for c in text)


def to_markdown(report: Report) -> str:
    lines = [
        "# Claude Code governance report",
        "",
        f"Period: {_md(period(report))} ({report.days:g} days)",
        "",
        "| Figure | Value |",
        "| --- | --- |",
        *(f"| {_md(name)} | {_md(value)} |" for name, value in figures(report)),
    ]
    for title, rows in (
        ("By tool", report.by_tool),
        ("By user", report.by_user),
        ("By host", report.by_host),
    ):
        lines += ["", f"## {title}", "", "| Name | Decisions | Blocked |", "| --- | ---: | ---: |"]
        lines += [f"| {_md(name)} | {total:,} | {blocked:,} |" for name, total, blocked in rows]
    if report.by_host:  # an indented code block: no name can close it
        lines += ["", *("    " + line for line in text_bars(report.by_host))]
    lines += ["", "## Top block reasons", ""]
    if report.top_block_reasons:
        lines += ["| Rule | Example reason | Count |", "| --- | --- | ---: |"]
        lines += [
            f"| {_md(rule)} | {_md(reason)} | {count:,} |"
            for rule, reason, count in report.top_block_reasons
        ]
    else:
        lines.append("No blocks in this period.")
    lines += ["", "## Per day (UTC)", "", "| Date | Decisions | Blocked |", "| --- | ---: | ---: |"]
    lines += [f"| {day} | {total:,} | {blocked:,} |" for day, total, blocked in report.per_day]
    return "\n".join(lines) + "\n"
