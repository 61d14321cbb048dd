"""The grant path: a hook waiting on its approval request, the vote that settles it, and the
reply that spends the single-use grant. It must not judge calls or create requests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from bot.server.internals import ServerParts
from bot.server.protocol import _reply
from engine.approvals import ApprovalState, Approver, Vote, VoteResult, cast_vote
from engine.store import ApprovalRecord

log = logging.getLogger("governance.server")


class GrantPath(ServerParts):
    """Wait for a request's outcome, take votes, and answer the waiting hooks."""

    async def _wait_for(
        self, approval: ApprovalRecord, wait_s: float, reader: asyncio.StreamReader | None
    ) -> dict[str, Any]:
        pending = self._pending_reply(approval)
        if self._stopping.is_set():
            return self._stopping_reply(approval)
        if wait_s <= 0 or (self._console_only and not approval.snapshot.open_to_console):
            # Nobody can decide it here (its roles are Slack-only and Slack is off): holding the
            # agent for minutes would only delay the answer the reply already gives.
            return pending
        future: asyncio.Future[ApprovalState] = asyncio.get_running_loop().create_future()
        self.waiters[approval.id].add(future)
        hung_up = asyncio.ensure_future(reader.read(1)) if reader is not None else None
        try:
            watched = {future} | ({hung_up} if hung_up else set())
            await asyncio.wait(watched, timeout=wait_s, return_when=asyncio.FIRST_COMPLETED)
            # A hook gone at the moment of approval must not spend the grant its retry needs.
            gone = hung_up is not None and hung_up.done()
        finally:
            self.waiters[approval.id].discard(future)
            if not self.waiters[approval.id]:
                self.waiters.pop(approval.id, None)
            if hung_up is not None:
                hung_up.cancel()
        if gone:
            self._client_gone(approval)
            return pending
        if future.cancelled():
            return self._stopping_reply(approval)
        if not future.done():
            return pending
        return self._final_reply(approval, future.result())

    def _stopping_reply(self, approval: ApprovalRecord) -> dict[str, Any]:
        reason = (
            f"the governance server is shutting down; {approval.id} stays pending and survives "
            "the restart. Retry the same command after it is approved"
        )
        return _reply("approval_pending", reason, approval.rule, approval.id, approval.risk)

    def _client_gone(self, approval: ApprovalRecord) -> None:
        """The hook hung up (Esc, or its own timeout): the request stays pending and its grant,
        once approved, stays unused for the agent's retry."""
        log.warning("hook waiting on %s hung up; the request stays pending", approval.id)
        self.store.append_approval_audit(
            "client_gone",
            approval,
            decision="pending",
            reason="the waiting hook closed its connection; the request stays pending",
        )

    def _pending_reply(self, approval: ApprovalRecord) -> dict[str, Any]:
        rule = approval.snapshot
        if not self._console_only:
            where = f"in {rule.channel}"
            who = (
                f"{rule.required_approvers} approver(s) from {', '.join(rule.roles) or 'the pool'}"
            )
        elif rule.open_to_console:
            where = "on the governance server's console"
            who = (
                f"{rule.required_approvers} user(s) other than {approval.requester_label} must run "
                f"`governance approve {approval.id}`"
                + (" --code <TOTP>" if rule.require_mfa else "")
                + " on this machine"
            )
        else:
            where = "in Slack, which this server does not run"
            who = (
                f"its approvers ({', '.join(rule.roles)}) are Slack users: start "
                "`governance serve` with Slack tokens, or map no Slack ids to these roles"
            )
        reason = (
            f"needs approval {approval.id} {where} ({approval.reason}); {who}. "
            "Retry the same command after it is approved"
        )
        return _reply("approval_pending", reason, approval.rule, approval.id, approval.risk)

    def _final_reply(self, approval: ApprovalRecord, state: ApprovalState) -> dict[str, Any]:
        record = self.store.approval(approval.id) or approval
        if state is ApprovalState.APPROVED:
            if self.store.use_grant(approval.action_key) == approval.id:
                self.store.append_approval_audit("grant_used", approval, decision="allow")
                return _reply(
                    "approved",
                    f"approved in {approval.id}: {record.decided_note}",
                    approval.rule,
                    approval.id,
                    approval.risk,
                )
            return _reply(
                "approval_pending",
                f"{approval.id} was approved but its single-use grant was already "
                "used by another call; retry to ask again",
                approval.rule,
                approval.id,
            )
        if state is ApprovalState.DENIED:
            return _reply(
                "denied",
                f"{approval.id} was denied: {record.decided_note}. Do not "
                "retry this action; ask the approver what to do instead",
                approval.rule,
                approval.id,
                approval.risk,
            )
        return _reply(
            "expired",
            f"{approval.id} expired without a decision; retry to ask "
            "again, or ask a human to approve it",
            approval.rule,
            approval.id,
        )

    def _resolve(self, approval_id: str, state: ApprovalState) -> None:
        for future in list(self.waiters.get(approval_id, ())):
            if not future.done():
                future.set_result(state)

    async def vote(
        self,
        approval_id: str,
        approver: Approver,
        vote: Vote,
        note: str | None = None,
        mfa_verified: bool = False,
    ) -> VoteResult:
        """The one path every approver takes, console or Slack: rules, store, audit, waiters."""
        approval = self.store.approval(approval_id)
        if approval is None:
            return VoteResult(
                False, ApprovalState.CANCELLED, f"no approval request {approval_id}", 0, 0
            )
        result = cast_vote(
            state=approval.state,
            rule=approval.snapshot,
            requester=self.requester_of(approval),
            votes=self.store.votes(approval_id),
            approver=approver,
            vote=vote,
            mfa_verified=mfa_verified,
        )
        if result.accepted and not self.store.add_vote(approval_id, approver, vote, note):
            result = VoteResult(
                False,
                approval.state,
                "you already voted on this request",
                result.approvals,
                result.required,
                duplicate=True,
            )
        self.store.append_audit(
            "vote" if result.accepted else "vote_refused",
            approval_id=approval_id,
            user=approver.identity,
            decision=str(vote),
            reason=result.message,
            session_id=approval.session_id,
            tool_name=approval.tool_name,
            payload={"via": approver.via, "note": note, "approver_uid": approver.uid},
        )
        if result.accepted and result.state is not ApprovalState.PENDING:
            summary = f"{result.state} by {approver.identity}" + (f": {note}" if note else "")
            if self.store.finish_approval(approval_id, result.state, summary):
                self.scheduler.cancel(self.store.cancel_deadlines(approval_id))
                if result.state is ApprovalState.APPROVED:
                    self.store.add_grant(approval_id, approval.action_key)
                self.store.append_approval_audit(
                    f"approval_{result.state}", approval, decision=str(result.state), reason=summary
                )
                self.store.announce_finished(approval_id, result.state)
                self._resolve(approval_id, result.state)
        if result.accepted:
            updated = self.store.approval(approval_id) or approval
            with contextlib.suppress(Exception):
                await self.notifier.request_updated(updated, result, approver.identity)
        return result
