"""The security channel's alert message, with its false-positive button.
Pure: no I/O, no Slack calls; output always fits Slack's Block Kit limits."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.slack.blocks import (
    MAX_ID,
    MAX_MESSAGE_BLOCKS,
    MAX_SECTION_TEXT,
    Message,
    _context,
    _dicts,
    _fallback,
    _flat,
    _header,
    _plain,
    _section,
    _units,
    escape,
)

FLAG_ACTION = "governance_flag_false_positive"
ALERT_BLOCK_PREFIX = "governance_alert:"


def alert_message(title: str, lines: Sequence[str], *, audit_id: int | None = None) -> Message:
    """A security-channel alert; `lines` are plain text (escaped), at most what fits one section."""
    shown: list[str] = []
    used = 0
    for line in lines:
        item = f"• {_flat(line, 500)}"
        if used + _units(item) + 1 > MAX_SECTION_TEXT - 60:
            break
        shown.append(item)
        used += _units(item) + 1
    body = "\n".join(shown) or "(no details)"
    if len(shown) < len(lines):
        body += f"\n_…and {len(lines) - len(shown)} more_"
    blocks: list[Block] = [_header(f"🚨 {title}"), _section(body)]
    if audit_id is not None:
        blocks.append(_context(f"Audit event #{audit_id}"))
        blocks.append(
            ActionsBlock(
                block_id=f"{ALERT_BLOCK_PREFIX}{audit_id}"[:MAX_ID],
                elements=[
                    ButtonElement(
                        text="Flag as false positive", action_id=FLAG_ACTION, value=str(audit_id)
                    )
                ],
            )
        )
    fallback = f"🚨 {escape(_plain(title, 200))}: " + "; ".join(_flat(x, 200) for x in lines[:5])
    return Message(_fallback(fallback), _dicts(blocks, MAX_MESSAGE_BLOCKS))
