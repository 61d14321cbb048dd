"""The report as Slack Block Kit for `/governance report`, clipped to Slack's limits and
escaped for mrkdwn. Pure rendering of a `Report`: it must not compute figures."""

from __future__ import annotations

from typing import Any

from engine.report.model import Report
from engine.report.text import clip, figures, period, text_bars

# Slack Block Kit limits (api.slack.com/reference/block-kit).
SLACK_MAX_BLOCKS = 50
SLACK_MAX_SECTION_TEXT = 3_000
SLACK_MAX_FIELD_TEXT = 2_000
SLACK_MAX_FIELDS = 10
SLACK_MAX_HEADER_TEXT = 150


def _slack_escape(text: str) -> str:
    # Slack treats only these three as control characters in mrkdwn.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mrkdwn(text: str, limit: int) -> dict[str, str]:
    return {"type": "mrkdwn", "text": clip(text, limit)}


def _ranked_section(title: str, lines: list[str]) -> dict[str, Any]:
    text = f"*{title}*"
    for index, line in enumerate(lines):
        more = f"\n_…and {len(lines) - index} more_"
        if len(text) + 1 + len(line) + len(more) > SLACK_MAX_SECTION_TEXT:
            text += more
            break
        text += "\n" + line
    return {"type": "section", "text": _mrkdwn(text, SLACK_MAX_SECTION_TEXT)}


def _chart_section(title: str, lines: list[str]) -> dict[str, Any]:
    """A text chart in a code block (Slack draws no charts), cut at a whole line to fit."""
    shown: list[str] = []
    for index, line in enumerate(lines):
        more = f"…and {len(lines) - index} more"
        if len(title) + 10 + sum(len(x) + 1 for x in (*shown, line, more)) > SLACK_MAX_SECTION_TEXT:
            shown.append(more)
            break
        shown.append(line)
    body = "\n".join(shown)
    return {"type": "section", "text": _mrkdwn(f"*{title}*\n```{body}```", SLACK_MAX_SECTION_TEXT)}


def to_slack_blocks(report: Report) -> list[dict[str, Any]]:
    """Block Kit for `/governance report`, clipped to Slack's limits."""
    header = "Governance report" + (f": {report.user}" if report.user else "")
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": clip(header, SLACK_MAX_HEADER_TEXT)},
        },
        {
            "type": "context",
            "elements": [_mrkdwn(_slack_escape(period(report)), SLACK_MAX_FIELD_TEXT)],
        },
    ]
    fields = [
        _mrkdwn(f"*{_slack_escape(name)}*\n{_slack_escape(value)}", SLACK_MAX_FIELD_TEXT)
        for name, value in figures(report)
    ]
    for offset in range(0, len(fields), SLACK_MAX_FIELDS):
        blocks.append({"type": "section", "fields": fields[offset : offset + SLACK_MAX_FIELDS]})
    if report.top_block_reasons:
        blocks.append({"type": "divider"})
        blocks.append(
            _ranked_section(
                "Top block reasons",
                [
                    f"{rank}. `{_slack_escape(clip(rule, 200))}` — *{count:,}*\n"
                    f"     _{_slack_escape(clip(' '.join(reason.split()), 300))}_"
                    for rank, (rule, reason, count) in enumerate(report.top_block_reasons, 1)
                ],
            )
        )
    if report.by_host:
        safe = [(_slack_escape(name.replace("`", "'")), t, b) for name, t, b in report.by_host]
        blocks.append(_chart_section("By host", text_bars(safe)))
    for title, rows in (("By tool", report.by_tool), ("By user", report.by_user)):
        if rows:
            blocks.append(
                _ranked_section(
                    title,
                    [
                        f"{_slack_escape(clip(name, 200))}: {total:,} ({blocked:,} blocked)"
                        for name, total, blocked in rows
                    ],
                )
            )
    return blocks[:SLACK_MAX_BLOCKS]
