"""The /governance command's replies (help, pending, report) and the App Home tab as blocks.
Pure: no I/O, no Slack calls, no clock of its own; output always fits Slack's limits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from slack_sdk.models.blocks import Block, DividerBlock, SectionBlock
from slack_sdk.models.views import View

from bot.slack.blocks import (
    MAX_FIELD_TEXT,
    MAX_FIELDS,
    MAX_MESSAGE_BLOCKS,
    MAX_SECTION_TEXT,
    MAX_VIEW_BLOCKS,
    Message,
    _clip,
    _context,
    _dicts,
    _fallback,
    _flat,
    _header,
    _md,
    _plain,
    _section,
    _units,
    _who,
    escape,
)
from bot.slack.views import _approval_list, _title
from engine.store import ApprovalRecord


def help_message() -> Message:
    """The /governance help text."""
    text = "\n".join(
        [
            "`/governance report [days]` — totals, block rate, top block reasons, approval "
            "latency (default: the last 7 days)",
            "`/governance pending` — requests waiting for approval, with Approve/Deny buttons",
            "`/governance audit @user [days]` — what one person's agents did and what was decided",
            "`/governance help` — this message",
        ]
    )
    glass = (
        "*Break-glass* (on the server machine, allowed users only): "
        '`governance break-glass --reason "…" --minutes N` skips approvals for N minutes; '
        "every action in the window is audited as an override and announced to the security "
        "channel."
    )
    blocks: list[Block] = [
        _header("Governance commands"),
        _section(text),
        _section(glass),
        _context("Approval requests appear in the approvals channel and in your App Home."),
    ]
    return Message(
        "Governance commands: report [days], pending, audit @user [days], help, break-glass",
        _dicts(blocks, MAX_MESSAGE_BLOCKS),
    )


def pending_message(approvals: Sequence[ApprovalRecord], viewer: str | None) -> Message:
    """/governance pending: each request with its buttons, as many as one message holds."""
    count = len(approvals)
    header = _header(f"Pending approvals ({count})")
    if not approvals:
        blocks: list[Block] = [header, _section("Nothing is waiting for approval. 🎉")]
        return Message("Nothing is waiting for approval.", _dicts(blocks, MAX_MESSAGE_BLOCKS))
    intro = f"{count} request{'s' if count != 1 else ''} waiting"
    if viewer:
        intro += f" · asked by {_who(viewer)}"
    blocks = [header, _context(intro)]
    blocks += _approval_list(approvals, MAX_MESSAGE_BLOCKS - len(blocks))
    fallback = f"{count} pending approval{'s' if count != 1 else ''}: " + ", ".join(
        f"{_flat(a.id, 40)} {_title(a)}" for a in approvals[:10]
    )
    return Message(_fallback(fallback), _dicts(blocks, MAX_MESSAGE_BLOCKS))


def _format_figure(value: int | float | str) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    return _flat(value, 300)


def _figure_blocks(figures: Mapping[str, int | float | str], max_sections: int) -> list[Block]:
    items = list(figures.items())
    limit = max_sections * MAX_FIELDS
    blocks: list[Block] = []
    for start in range(0, min(len(items), limit), MAX_FIELDS):
        chunk = items[start : start + MAX_FIELDS]
        blocks.append(
            SectionBlock(
                fields=[
                    _md(_clip(f"*{_flat(k, 150)}*\n{_format_figure(v)}", MAX_FIELD_TEXT))
                    for k, v in chunk
                ]
            )
        )
    if len(items) > limit:
        blocks.append(_context(f"…and {len(items) - limit} more figures"))
    return blocks


def app_home(
    pending: Sequence[ApprovalRecord], week_figures: Mapping[str, int | float | str]
) -> dict:
    """The views.publish Home tab: the viewer's pending approvals and the week's figures."""
    figures: list[Block] = [DividerBlock(), _header("This week")]
    figures += _figure_blocks(week_figures, 4) or [_section("No activity recorded this week.")]
    blocks: list[Block] = [_header("Your pending approvals")]
    if pending:
        blocks += _approval_list(pending, MAX_VIEW_BLOCKS - len(blocks) - len(figures) - 1)
    else:
        blocks.append(_section("Nothing is waiting for you. 🎉"))
    blocks += figures
    blocks.append(_context("Type `/governance help` for commands."))
    return View(type="home", blocks=_dicts(blocks, MAX_VIEW_BLOCKS)).to_dict()


def report_message(
    title: str,
    figures: Mapping[str, int | float | str],
    top: Sequence[tuple[str, int]] = (),
    *,
    top_title: str = "Top block reasons",
) -> Message:
    """A report as blocks: figures as fields, then the ranked `top` list."""
    blocks: list[Block] = [_header(title)]
    blocks += _figure_blocks(figures, 4)
    if top:
        lines: list[str] = []
        used = _units(top_title) + 4
        for rank, (label, count) in enumerate(top, 1):
            line = f"{rank}. {_flat(label, 300)} — *{count:,}*"
            if used + _units(line) + 1 > MAX_SECTION_TEXT - 40:
                lines.append(f"_…and {len(top) - rank + 1} more_")
                break
            lines.append(line)
            used += _units(line) + 1
        blocks.append(_section(f"*{_flat(top_title, 100)}*\n" + "\n".join(lines)))
    if len(blocks) == 1:
        blocks.append(_section("No data for this period."))
    fallback = f"{escape(_plain(title, 200))}: " + "; ".join(
        f"{_flat(k, 80)}: {_format_figure(v)}" for k, v in list(figures.items())[:20]
    )
    return Message(_fallback(fallback), _dicts(blocks, MAX_MESSAGE_BLOCKS))
