"""Where approval requests are shown: the Notifier interface and the console notifier.
A notifier only shows: it must not vote, decide or write the audit."""

from __future__ import annotations

import json
import sys
from typing import Any, Protocol

from engine.approvals import VoteResult
from engine.store import ApprovalRecord


class Notifier(Protocol):
    """Where approval requests are shown: the console here, Slack later."""

    async def request_created(self, approval: ApprovalRecord) -> None: ...

    async def request_updated(
        self, approval: ApprovalRecord, result: VoteResult, actor: str
    ) -> None: ...

    async def request_escalated(
        self, approval: ApprovalRecord, level: int, notify: list[str]
    ) -> None: ...

    async def request_expired(self, approval: ApprovalRecord) -> None: ...

    async def alert(self, title: str, lines: list[str], audit_id: int | None = None) -> None: ...


class ConsoleNotifier:
    """Prints each request and its outcome; decided with `governance approve|deny ID`."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stdout

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    async def request_created(self, approval: ApprovalRecord) -> None:
        rule = approval.snapshot
        what = (
            approval.tool_input.get("command")
            or approval.tool_input.get("file_path")
            or (json.dumps(approval.tool_input)[:300])
        )
        where = f"{approval.repo or approval.cwd or '?'} ({approval.branch or 'no branch'})"
        self._print(
            f"\n[governance] APPROVAL NEEDED {approval.id}  risk {approval.risk}, "
            f"{rule.required_approvers} approval(s) needed"
            f"{', MFA required' if rule.require_mfa else ''}\n"
            f"  requester: {approval.requester_label} on {approval.requester_host or approval.host}"
            f"  session {approval.session_id}\n"
            f"  where:     {where}\n"
            f"  {approval.tool_name}: {what}\n"
            f"  rule:      {approval.rule}: {approval.reason}\n"
            f"  decide:    governance approve {approval.id}   |   "
            f"governance deny {approval.id} --reason '…'"
        )

    async def request_updated(
        self, approval: ApprovalRecord, result: VoteResult, actor: str
    ) -> None:
        self._print(f"[governance] {approval.id}: {result.message} (by {actor})")

    async def request_escalated(
        self, approval: ApprovalRecord, level: int, notify: list[str]
    ) -> None:
        who = ", ".join(notify) or "nobody configured"
        self._print(
            f"[governance] {approval.id}: no decision yet, escalated to level {level + 1} ({who})"
        )

    async def request_expired(self, approval: ApprovalRecord) -> None:
        self._print(f"[governance] {approval.id}: {approval.state} without a decision")

    async def alert(self, title: str, lines: list[str], audit_id: int | None = None) -> None:
        self._print(f"[governance] ALERT: {title}\n  " + "\n  ".join(lines))
