"""What leaves the server towards people: every notifier is reached through redaction, and
the security channel doubles as a witness of the audit chain's head. No decision is made here."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from engine.anchors import Anchor
from engine.approvals import VoteResult
from engine.redact import redact
from engine.store import ApprovalRecord

if TYPE_CHECKING:
    from bot.server import GovernanceServer, Notifier


class RedactingNotifier:
    """Every notifier, console or Slack, is reached through this: what it is handed is redacted
    first, so a secret that slipped into a title, a line or a stored request never leaves."""

    def __init__(self, inner: Notifier) -> None:
        self.inner = inner

    async def request_created(self, approval: ApprovalRecord) -> None:
        await self.inner.request_created(_redacted_approval(approval))

    async def request_updated(
        self, approval: ApprovalRecord, result: VoteResult, actor: str
    ) -> None:
        await self.inner.request_updated(_redacted_approval(approval), result, actor)

    async def request_escalated(
        self, approval: ApprovalRecord, level: int, notify: list[str]
    ) -> None:
        await self.inner.request_escalated(_redacted_approval(approval), level, notify)

    async def request_expired(self, approval: ApprovalRecord) -> None:
        await self.inner.request_expired(_redacted_approval(approval))

    async def alert(self, title: str, lines: list[str], audit_id: int | None = None) -> None:
        await self.inner.alert(redact(title), redact(list(lines)), audit_id)


def _redacted_approval(approval: ApprovalRecord) -> ApprovalRecord:
    return replace(
        approval,
        tool_input=redact(approval.tool_input),
        reason=redact(approval.reason),
        decided_note=redact(approval.decided_note),
    )


class NotifierWitness:
    """The security channel as a witness: a short message per anchor, through the notifier."""

    name = "security channel"

    def __init__(self, server: GovernanceServer) -> None:
        self.server = server

    async def publish(self, anchor: Anchor) -> None:
        await self.server.notifier.alert(
            f"Audit anchor: row {anchor.seq} ({anchor.reason})",
            [
                f"{anchor.rows} rows; head {anchor.short()}",
                f"Check the trail against it: governance audit verify --anchor {anchor.short()}",
            ],
        )
