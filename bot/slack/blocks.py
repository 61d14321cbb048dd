"""Block Kit building blocks: Slack's documented limits, safe text (escaping, clipping, one-line
labels, mentions) and small block helpers. Pure: no I/O, no Slack calls, nothing about approvals."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

# Slack's documented Block Kit limits.
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ID = 255
MAX_CONTEXT_ELEMENTS = 10
MAX_FALLBACK_TEXT = 3000

# A short value (user, host, branch…) is a label, not content: anything longer is noise or an
# attempt to push the command out of view.
_SHORT = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,30}$")
_SLACK_GROUP = re.compile(r"^S[A-Z0-9]{2,30}$")
_ZWSP = "\u200b"
_FENCE = re.compile(r"`(?=`)")


@dataclass(frozen=True)
class Message:
    """A chat message: `text` is the notification/fallback, `blocks` what Slack renders."""

    text: str
    blocks: list[dict]

    def kwargs(self) -> dict[str, Any]:
        """For `client.chat_postMessage(channel=..., **message.kwargs())` and chat_update."""
        return {"text": self.text, "blocks": self.blocks}


def _units(text: str) -> int:
    # Slack's own counting is undocumented; UTF-16 code units are never fewer than code points,
    # so a budget kept in them also satisfies slack_sdk's len()-based validators.
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    """Slack mrkdwn escaping: only &, < and > are control characters (`<!channel>`, links)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _piece(ch: str, nxt: str, *, code: bool) -> str:
    if ch == "&":
        return "&amp;"
    if ch == "<":
        return "&lt;"
    if ch == ">":
        return "&gt;"
    # Inside a code block, a zero-width space between two backticks keeps ``` from closing the
    # fence while the approver still sees the backticks the command really contains (a look-alike
    # character such as ʼ would misstate the command). The text is display-only: nothing parses
    # the message back into a command, buttons carry just the approval id.
    if code and ch == "`" and nxt == "`":
        return "`" + _ZWSP
    return ch


def _escape_fit(raw: str, budget: int, *, code: bool = False) -> tuple[str, int]:
    """Escape `raw` keeping at most `budget` units; returns the text and raw characters kept."""
    whole = escape(raw)
    if code:
        whole = _FENCE.sub("`" + _ZWSP, whole)
    if _units(whole) <= budget:
        return whole, len(raw)
    out: list[str] = []
    used = 0
    for i, ch in enumerate(raw):
        piece = _piece(ch, raw[i + 1] if i + 1 < len(raw) else "", code=code)
        cost = _units(piece)
        if used + cost > budget:
            return "".join(out), i
        out.append(piece)
        used += cost
    return "".join(out), len(raw)


def _clip(text: str, limit: int, *, entities: bool = True) -> str:
    """Cut already-safe text to `limit` units, ending with an ellipsis when cut."""
    if _units(text) <= limit:
        return text
    out: list[str] = []
    used = 0
    for ch in text:
        cost = _units(ch)
        if used + cost > limit - 1:
            break
        out.append(ch)
        used += cost
    clipped = "".join(out)
    # Never leave half an entity (`&am…`), which Slack would show as garbage.
    amp = clipped.rfind("&") if entities else -1
    if amp != -1 and ";" not in clipped[amp:]:
        clipped = clipped[:amp]
    return clipped + "…"


def _flat(value: object, limit: int = _SHORT) -> str:
    """A user-controlled label: one line (a newline could fake a line of the message), escaped."""
    text = _CONTROL.sub(" ", str(value)).strip()
    fitted, kept = _escape_fit(text, limit - 1)
    return fitted + ("…" if kept < len(text) else "")


def _plain(value: object, limit: int) -> str:
    """Plain-text fields (headers, buttons) are not parsed by Slack, so only flatten and clip."""
    return _clip(_CONTROL.sub(" ", str(value)).strip(), limit, entities=False)


def _inline_code(value: object, limit: int = _SHORT) -> str:
    text = _CONTROL.sub(" ", str(value)).strip()
    if not text:
        return "—"
    # A backtick would end the span early; then show the value uncoded rather than altered.
    if "`" in text:
        return _flat(text, limit)
    return "`" + _flat(text, limit - 2) + "`"


def _who(identity: str) -> str:
    """A Slack id becomes a mention; anything else (OS user, email) is shown as text."""
    if _SLACK_USER.match(identity):
        return f"<@{identity}>"
    if _SLACK_GROUP.match(identity):
        return f"<!subteam^{identity}>"
    return _flat(identity, 80)


def _people(identities: Iterable[str], limit: int = 10) -> str:
    seen = list(dict.fromkeys(identities))
    shown = ", ".join(_who(i) for i in seen[:limit])
    if len(seen) > limit:
        shown += f" and {len(seen) - limit} more"
    return shown or "—"


def _date(ts: float, fmt: str = "{date_short_pretty} {time}") -> str:
    fallback = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ts))
    return f"<!date^{int(ts)}^{fmt}|{fallback}>"


def _md(text: str) -> MarkdownTextObject:
    # verbatim: Slack must not auto-link bare names like @channel or #general in user content;
    # the explicit <@U…>/<!date…> markup this module writes itself still renders.
    return MarkdownTextObject(text=text, verbatim=True)


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=_md(_clip(text, MAX_SECTION_TEXT)))


def _context(*parts: str) -> ContextBlock:
    return ContextBlock(
        elements=[_md(_clip(p, MAX_SECTION_TEXT)) for p in parts if p][:MAX_CONTEXT_ELEMENTS]
    )


def _header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=_plain(text, MAX_HEADER_TEXT), emoji=True))


def _fallback(text: str) -> str:
    return _clip(text, MAX_FALLBACK_TEXT)


def _dicts(blocks: Sequence[Block], limit: int) -> list[dict]:
    if len(blocks) > limit:  # a bug here, not user input: every builder budgets its blocks
        raise ValueError(f"{len(blocks)} blocks exceed Slack's limit of {limit}")
    return [b.to_dict() for b in blocks]
