"""Block Kit builders for every Slack surface: approvals, DMs, alerts, reports, modals, App Home.
Pure: no I/O, no Slack calls, no clock of its own; output always fits Slack's Block Kit limits."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from engine.approvals import ApprovalState, Vote, VoteRecord
from engine.store import ApprovalRecord

APPROVE_ACTION = "governance_approve"
DENY_ACTION = "governance_deny"
FLAG_ACTION = "governance_flag_false_positive"
MFA_CALLBACK = "governance_mfa"
MFA_BLOCK = "mfa_code_block"
MFA_INPUT = "mfa_code"

# Block ids carry the approval id so a list of requests in one message (pending, App Home, a DM)
# keeps its block ids unique; the Bolt app should read the approval id from the button `value`.
APPROVAL_BLOCK_PREFIX = "governance_approval:"
ALERT_BLOCK_PREFIX = "governance_alert:"

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
_PREVIEW = 400  # command preview in lists and DMs, where many requests share one message
_REASON = 1000

_FILE_KEYS = ("file_path", "notebook_path", "path")
_CONTENT_KEYS = ("content", "new_string", "new_source")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,30}$")
_SLACK_GROUP = re.compile(r"^S[A-Z0-9]{2,30}$")
_ZWSP = "\u200b"
_FENCE = re.compile(r"`(?=`)")

_OUTCOME = {
    ApprovalState.PENDING: ("⏳", "Pending"),
    ApprovalState.APPROVED: ("✅", "Approved"),
    ApprovalState.DENIED: ("⛔", "Denied"),
    ApprovalState.EXPIRED: ("⌛", "Expired"),
    ApprovalState.CANCELLED: ("🚫", "Cancelled"),
}


@dataclass(frozen=True)
class Message:
    """A chat message: `text` is the notification/fallback, `blocks` what Slack renders."""

    text: str
    blocks: list[dict]

    def kwargs(self) -> dict[str, Any]:
        """For `client.chat_postMessage(channel=..., **message.kwargs())` and chat_update."""
        return {"text": self.text, "blocks": self.blocks}


# ---------------------------------------------------------------------------------------------
# Text safety


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


# ---------------------------------------------------------------------------------------------
# Approval content


def _subject(approval: ApprovalRecord) -> tuple[str, str, tuple[str, str] | None]:
    """(label, exact text, optional second (label, text)) for what the agent wants to do."""
    ti = approval.tool_input if isinstance(approval.tool_input, dict) else {}
    command = ti.get("command")
    if isinstance(command, str):
        return "Command", command, None
    for key in _FILE_KEYS:
        path = ti.get(key)
        if isinstance(path, str):
            extra = next(
                ((k, ti[k]) for k in _CONTENT_KEYS if isinstance(ti.get(k), str) and ti[k]), None
            )
            return "File", path, (("Content", extra[1]) if extra else None)
    compact = json.dumps(ti, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return "Input", compact, None


def _code_block(label: str, raw: str, budget: int = MAX_SECTION_TEXT) -> str:
    """`*label*` and `raw` in a fenced code block, truncated to fit `budget` with a note."""
    head = f"*{label}*\n```\n"
    tail = "\n```"
    if not raw:
        return head + "(empty)" + tail
    room = budget - _units(head) - _units(tail)
    body, kept = _escape_fit(raw, room, code=True)
    if kept == len(raw):
        return head + body + tail
    total = len(raw)
    # Reserve the note at its widest (kept has at most as many digits as total).
    note = f"\n_… truncated: showing {total} of {total} characters_"
    body, kept = _escape_fit(raw, room - _units(note), code=True)
    return head + body + tail + f"\n_… truncated: showing {kept} of {total} characters_"


def _approval_counts(approval: ApprovalRecord, votes: Sequence[VoteRecord]) -> str:
    k = len({v.approver for v in votes if v.vote == Vote.APPROVE})
    return f"*{k} of {approval.snapshot.required_approvers} approvals*"


def _risk(approval: ApprovalRecord) -> str:
    return _plain(approval.risk or "unknown", 20)


def _title(approval: ApprovalRecord, *, md: bool = True) -> str:
    """Like "Bash (high risk)"; `md` escapes it for mrkdwn, plain text (headers) takes it as is."""
    title = f"{_plain(approval.tool_name or 'tool', 60)} ({_risk(approval)} risk)"
    return escape(title) if md else title


def _requester(approval: ApprovalRecord) -> str:
    who = _flat(approval.requester_label, 80)
    return f"{who} @ {_flat(approval.host, 80)}" if approval.host else who


def _expiry(approval: ApprovalRecord, now: float | None) -> str:
    text = f"Expires {_date(approval.expires_at)}"
    if now is not None:
        left = (approval.expires_at - now) / 60
        text += f" (in {left:.0f} min)" if left >= 1 else " (any moment now)"
    return text


def _vote_line(votes: Sequence[VoteRecord]) -> str:
    ups = [v.approver for v in votes if v.vote == Vote.APPROVE]
    downs = [v.approver for v in votes if v.vote == Vote.DENY]
    parts = []
    if ups:
        parts.append(f"✅ {_people(ups)}")
    if downs:
        parts.append(f"⛔ {_people(downs)}")
    return "Votes: " + " · ".join(parts) if parts else ""


def _buttons(approval_id: str, *, mfa: bool = False) -> ActionsBlock:
    value = approval_id[:MAX_BUTTON_VALUE]
    return ActionsBlock(
        block_id=(APPROVAL_BLOCK_PREFIX + approval_id)[:MAX_ID],
        elements=[
            ButtonElement(
                text="Approve (MFA)" if mfa else "Approve",
                action_id=APPROVE_ACTION,
                value=value,
                style="primary",
            ),
            ButtonElement(text="Deny", action_id=DENY_ACTION, value=value, style="danger"),
        ],
    )


def _deciders(
    approval: ApprovalRecord, votes: Sequence[VoteRecord], decided_by: Sequence[str]
) -> list[str]:
    if decided_by:
        return list(decided_by)
    wanted = {ApprovalState.APPROVED: Vote.APPROVE, ApprovalState.DENIED: Vote.DENY}.get(
        approval.state
    )
    return [v.approver for v in votes if wanted is None or v.vote == wanted]


def approval_message(
    approval: ApprovalRecord,
    votes: Sequence[VoteRecord],
    *,
    final: bool = False,
    decided_by: Sequence[str] = (),
    now: float | None = None,
) -> Message:
    """The channel message for one request; `final` drops the buttons and shows the outcome."""
    snapshot = approval.snapshot
    emoji, outcome = _OUTCOME.get(approval.state, ("", str(approval.state).title()))
    if final:
        header = f"{emoji} {outcome}: {_title(approval, md=False)}"
    else:
        header = f"Approval needed: {_title(approval, md=False)}"

    fields = [
        f"*Requested by*\n{_requester(approval)}",
        f"*Agent session*\n{_inline_code(approval.session_id or 'unknown', 120)}",
        f"*Repository*\n{_inline_code(approval.repo or '—')}",
        f"*Branch*\n{_inline_code(approval.branch or '—')}",
    ]
    if approval.cwd:
        fields.append(f"*Directory*\n{_inline_code(approval.cwd)}")
    blocks: list[Block] = [
        _header(header),
        SectionBlock(fields=[_md(_clip(f, MAX_FIELD_TEXT)) for f in fields[:MAX_FIELDS]]),
    ]

    label, raw, extra = _subject(approval)
    if extra:
        blocks.append(_section(_code_block(label, raw, 1000)))
        blocks.append(_section(_code_block(extra[0], extra[1])))
    else:
        blocks.append(_section(_code_block(label, raw)))

    rule = f"*Rule* {_inline_code(approval.rule or snapshot.name)}"
    if approval.reason:
        rule += f" — {_flat(approval.reason, _REASON)}"
    rule += f"\n*Risk* {escape(_risk(approval))} · approval rule {_inline_code(snapshot.name)}"
    blocks.append(_section(rule))

    context = [_approval_counts(approval, votes)]
    if snapshot.require_mfa:
        context.append("🔐 Approving needs an MFA code")
    if not final:
        context.append(_expiry(approval, now))
        if snapshot.members:
            context.append(f"Approvers: {_people(snapshot.members, 5)}")
    context.append(_vote_line(votes))
    context.append(f"Request {_inline_code(approval.id, 60)}")
    blocks.append(_context(*context))

    if final:
        who = _people(_deciders(approval, votes, decided_by))
        when = approval.decided_at or (
            approval.expires_at if approval.state == ApprovalState.EXPIRED else None
        )
        text = f"{emoji} *{outcome}*"
        if approval.state in (ApprovalState.APPROVED, ApprovalState.DENIED) or decided_by:
            text += f" by {who}"
        if when is not None:
            text += f" on {_date(when)}"
        if approval.decided_note:
            text += f"\n*Note:* {_flat(approval.decided_note, _REASON)}"
        blocks.append(_section(text))
        fallback = f"{outcome}: {_title(approval)} requested by {_requester(approval)}"
    else:
        blocks.append(_buttons(approval.id, mfa=snapshot.require_mfa))
        fallback = (
            f"Approval needed: {_title(approval)} requested by {_requester(approval)} — "
            f"{label.lower()}: {_flat(raw, 300)}"
        )
    return Message(_fallback(fallback), _dicts(blocks, MAX_MESSAGE_BLOCKS))


def _summary_blocks(approval: ApprovalRecord, *, buttons: bool = True) -> list[Block]:
    """A compact request: one section and its buttons, for lists, DMs and App Home."""
    label, raw, _ = _subject(approval)
    text = (
        f"*{_title(approval)}* · {_requester(approval)}"
        f" · {_inline_code(approval.repo or '—', 80)} {_inline_code(approval.branch or '—', 80)}\n"
        + _code_block(label, raw, _PREVIEW + 40)
        + f"\nNeeds {approval.snapshot.required_approvers} approval(s)"
        + (" · 🔐 MFA" if approval.snapshot.require_mfa else "")
        + f" · {_expiry(approval, None)} · {_inline_code(approval.id, 60)}"
    )
    blocks: list[Block] = [_section(text)]
    if buttons and approval.state == ApprovalState.PENDING:
        blocks.append(_buttons(approval.id, mfa=approval.snapshot.require_mfa))
    return blocks


def _approval_list(approvals: Sequence[ApprovalRecord], room: int) -> list[Block]:
    """As many requests as fit in `room` blocks, then a line saying how many were left out."""
    per_item = 3  # section, actions, divider
    fits = len(approvals) * per_item <= room
    # When they don't all fit, one block goes to the "…and K more" line.
    shown = len(approvals) if fits else max(0, (room - 1) // per_item)
    blocks: list[Block] = []
    for approval in approvals[:shown]:
        blocks.extend(_summary_blocks(approval))
        blocks.append(DividerBlock())
    if shown < len(approvals):
        blocks.append(
            _context(f"…and {len(approvals) - shown} more waiting. Oldest are shown first.")
        )
    return blocks


# ---------------------------------------------------------------------------------------------
# Other surfaces


def mfa_modal(
    approval_id: str,
    approver_note: str | None = None,
    error: str | None = None,
    *,
    prompt: str | None = None,
    submit: str = "Approve",
) -> dict:
    """The views.open modal asking for a TOTP code; the approval id (or what else the code
    unlocks, such as a break-glass window) rides in private_metadata."""
    blocks: list[Block] = [
        _section(
            prompt
            or f"Request {_inline_code(approval_id, 80)} needs a second factor. "
            "Enter the current code from your authenticator app to approve it."
        )
    ]
    if approver_note:
        blocks.append(_context(_flat(approver_note, 1000)))
    if error:
        blocks.append(_section(f"⚠️ {_flat(error, 1000)}"))
    blocks.append(
        InputBlock(
            block_id=MFA_BLOCK,
            label=PlainTextObject(text="Authentication code"),
            hint=PlainTextObject(text="6–8 digits from your authenticator app"),
            element=PlainTextInputElement(
                action_id=MFA_INPUT,
                placeholder=PlainTextObject(text="123456"),
                min_length=6,
                max_length=8,
            ),
        )
    )
    view = View(
        type="modal",
        callback_id=MFA_CALLBACK,
        private_metadata=approval_id,
        title=PlainTextObject(text=f"{submit} with MFA"[:24]),
        submit=PlainTextObject(text=submit),
        close=PlainTextObject(text="Cancel"),
        blocks=blocks,
    )
    return view.to_dict()


def decided_dm(approval: ApprovalRecord) -> Message:
    """Tells the requester what became of their request."""
    emoji, outcome = _OUTCOME.get(approval.state, ("", str(approval.state).title()))
    label, raw, _ = _subject(approval)
    text = f"{emoji} Your request was *{outcome.lower()}*: {_title(approval)}"
    if approval.decided_at is not None:
        text += f" on {_date(approval.decided_at)}"
    if approval.decided_note:
        text += f"\n*Note:* {_flat(approval.decided_note, _REASON)}"
    blocks: list[Block] = [
        _section(text),
        _section(_code_block(label, raw, 1500)),
        _context(
            f"Session {_inline_code(approval.session_id or 'unknown', 120)}",
            f"Request {_inline_code(approval.id, 60)}",
        ),
    ]
    fallback = f"Your request was {outcome.lower()}: {_title(approval)} — {_flat(raw, 300)}"
    return Message(_fallback(fallback), _dicts(blocks, MAX_MESSAGE_BLOCKS))


def duration(minutes: float) -> str:
    """How long a request has waited, for people: seconds under a minute."""
    if minutes < 1:
        seconds = round(minutes * 60)
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{minutes:.0f} minute{'s' if round(minutes) != 1 else ''}"


def escalation_dm(approval: ApprovalRecord, level: int, waited_minutes: float) -> Message:
    """DM to the on-call of escalation `level`; carries the same buttons as the channel message."""
    waited = duration(waited_minutes)
    blocks: list[Block] = [
        _header(f"⏰ Escalation level {level}: approval waiting"),
        _section(
            f"You are on call for escalation level {level}. "
            f"This request has waited *{waited}* without a decision."
        ),
        *_summary_blocks(approval),
    ]
    fallback = (
        f"Escalation level {level}: {_title(approval)} from {_requester(approval)} "
        f"has waited {waited}"
    )
    return Message(_fallback(fallback), _dicts(blocks, MAX_MESSAGE_BLOCKS))


def thread_note(text: str, *, mentions: Sequence[str] = ()) -> Message:
    """A reply in the request's thread. `text` is plain text (escaped); Slack ids in `mentions`
    are appended as real mentions, so a caller cannot let <!channel> through by mistake."""
    body = _flat(text, MAX_SECTION_TEXT - 400)
    ids = [m for m in mentions if _SLACK_USER.match(m) or _SLACK_GROUP.match(m)]
    if ids:
        body += " " + _people(ids)
    return Message(_fallback(body), _dicts([_section(body)], MAX_MESSAGE_BLOCKS))


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
