"""Block Kit views of approval requests: the channel message, lists, DMs, thread notes, the MFA
modal. Pure: no I/O, no Slack calls, no clock of its own; output always fits Slack's limits."""

from __future__ import annotations

import json
from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    InputBlock,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.slack.blocks import (
    _SLACK_GROUP,
    _SLACK_USER,
    MAX_BUTTON_VALUE,
    MAX_FIELD_TEXT,
    MAX_FIELDS,
    MAX_ID,
    MAX_MESSAGE_BLOCKS,
    MAX_SECTION_TEXT,
    Message,
    _clip,
    _context,
    _date,
    _dicts,
    _escape_fit,
    _fallback,
    _flat,
    _header,
    _inline_code,
    _md,
    _people,
    _plain,
    _section,
    _units,
    escape,
)
from engine.approvals import ApprovalState, Vote, VoteRecord
from engine.store import ApprovalRecord

APPROVE_ACTION = "governance_approve"
DENY_ACTION = "governance_deny"
MFA_CALLBACK = "governance_mfa"
MFA_BLOCK = "mfa_code_block"
MFA_INPUT = "mfa_code"

# Block ids carry the approval id so a list of requests in one message (pending, App Home, a DM)
# keeps its block ids unique; the Bolt app should read the approval id from the button `value`.
APPROVAL_BLOCK_PREFIX = "governance_approval:"

_PREVIEW = 400  # command preview in lists and DMs, where many requests share one message
_REASON = 1000
_FILE_KEYS = ("file_path", "notebook_path", "path")
_CONTENT_KEYS = ("content", "new_string", "new_source")

_OUTCOME = {
    ApprovalState.PENDING: ("⏳", "Pending"),
    ApprovalState.APPROVED: ("✅", "Approved"),
    ApprovalState.DENIED: ("⛔", "Denied"),
    ApprovalState.EXPIRED: ("⌛", "Expired"),
    ApprovalState.CANCELLED: ("🚫", "Cancelled"),
}


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
