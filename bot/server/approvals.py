"""Approval requests: created with their deadlines, escalated and expired by them, their unused
grants aged out; who requests and who votes. It must not answer a waiting hook (grant_path)."""

from __future__ import annotations

import contextlib
import time
from typing import Protocol

from bot.server.internals import ServerParts
from bot.server.protocol import LOCAL_HOST, Peer
from engine.approvals import (
    ApprovalState,
    Approver,
    Requester,
    choose_rule,
    escalation_timers,
    new_approval_id,
)
from engine.decide import Risk
from engine.events import CallContext, ToolEvent
from engine.store import ApprovalRecord


class Judgement(Protocol):
    """What an approval request needs of a verdict: the engine's Decision, or an edge's."""

    @property
    def rule(self) -> str | None: ...

    @property
    def reason(self) -> str: ...

    @property
    def risk(self) -> Risk: ...


class Approvals(ServerParts):
    """Create approval requests and act on their deadlines."""

    async def _request_approval(
        self,
        event: ToolEvent,
        context: CallContext,
        peer: Peer,
        decision: Judgement,
        key: str,
        large: bool = False,
    ) -> ApprovalRecord | None:
        existing = self.store.pending_for_action(key)
        if existing is not None:
            return existing
        tool_input = await self._prepared(event.tool_input, large)
        rule = choose_rule(self.policy.engine.policy, decision.risk)
        now = time.time()
        approval_id = new_approval_id()
        while self.store.approval(approval_id) is not None:
            approval_id = new_approval_id()
        timers = escalation_timers(rule, now)
        self.store.create_approval(
            {
                "id": approval_id,
                "created_at": now,
                "expires_at": timers[-1][2],
                "requester": context.user or peer.user,
                "peer_user": peer.user,
                "requester_uid": peer.uid if peer.uid >= 0 else None,
                "requester_host": peer.host or LOCAL_HOST,
                "host": context.host,
                "repo": context.repo,
                "branch": context.git_branch,
                "session_id": event.session_id,
                "tool_name": event.tool_name,
                "tool_input": tool_input,
                "cwd": event.cwd,
                "action_key": key,
                "rule": decision.rule,
                "reason": decision.reason,
                "risk": str(decision.risk),
                "snapshot": rule,
            }
        )
        for deadline in self.store.add_deadlines(approval_id, timers):
            self.scheduler.schedule(deadline)
        approval = self.store.approval(approval_id)
        assert approval is not None
        self.store.append_audit(
            "approval_requested",
            approval_id=approval_id,
            rule=decision.rule,
            risk=str(decision.risk),
            reason=decision.reason,
            decision="pending",
            payload=await self._prepared(
                {
                    "approval_rule": rule.model_dump(mode="json"),
                    "tool_input": event.tool_input,
                    "requester_uid": approval.requester_uid,
                    "requester_host": approval.requester_host,
                },
                large,
            ),
            **self._audit_fields(event, context, peer),
        )
        self._background(self.notifier.request_created(approval))
        return approval

    def _audit_expired_grants(self, key: str | None = None) -> None:
        """Expire grants older than the policy's `grant_expiry_minutes` (of one action, or all)
        so no retry uses them, and audit each expiry once."""
        ttl_s = self.policy.engine.policy.grant_expiry_minutes * 60
        for approval_id in self.store.expire_grants(time.time() - ttl_s, key):
            approval = self.store.approval(approval_id)
            self.store.append_audit(
                "grant_expired",
                approval_id=approval_id,
                decision="expired",
                reason=f"the approved action was not retried within {ttl_s / 60:g} min",
                session_id=approval.session_id if approval else None,
                tool_name=approval.tool_name if approval else None,
                user=approval.requester if approval else None,
            )

    async def _expire_grants(self) -> None:
        self._audit_expired_grants()

    async def _fire_deadline(self, deadline_id: int) -> None:
        """Act on a due deadline row, at most once even if its job runs twice."""
        # A second of slack: the job may wake a hair before the row's timestamp.
        deadline = self.store.claim_deadline(deadline_id, time.time() + 1.0)
        if deadline is None:
            return
        if deadline.kind == "close_break_glass":
            await self._close_break_glass(deadline.approval_id)
            return
        approval = self.store.approval(deadline.approval_id)
        if approval is None or approval.state is not ApprovalState.PENDING:
            return
        audit = {
            "approval_id": approval.id,
            "session_id": approval.session_id,
            "tool_name": approval.tool_name,
            "user": approval.requester,
        }
        if deadline.kind == "escalate":
            level = approval.snapshot.escalation[deadline.level]
            notify = self._resolve_people(level.notify)
            self.store.append_audit(
                "approval_escalated",
                decision="pending",
                reason=f"escalated to level {deadline.level + 1}",
                payload={"notify": notify},
                **audit,
            )
            with contextlib.suppress(Exception):
                await self.notifier.request_escalated(approval, deadline.level, notify)
            return
        if self.store.finish_approval(approval.id, ApprovalState.EXPIRED, "timed out"):
            self.scheduler.cancel(self.store.cancel_deadlines(approval.id))
            self.store.append_audit(
                "approval_expired",
                decision="expired",
                reason="no decision before the deadline",
                **audit,
            )
            self.store.announce_finished(approval.id, ApprovalState.EXPIRED)
            self._resolve(approval.id, ApprovalState.EXPIRED)
            expired = self.store.approval(approval.id) or approval
            with contextlib.suppress(Exception):
                await self.notifier.request_expired(expired)

    def _resolve_people(self, names: list[str]) -> list[str]:
        """Escalation targets: a role from approver_pools stands for its members."""
        pools = self.policy.engine.policy.approver_pools
        return list(dict.fromkeys(person for name in names for person in pools.get(name, [name])))

    def requester_of(self, approval: ApprovalRecord) -> Requester:
        """The requester as a set of names: the uid's OS user, the label the hook reported (a
        label only ever takes votes away), and the Slack ids or emails `user_map` ties to them."""
        local = {approval.peer_user, approval.requester} - {None, ""}
        user_map = self.policy.engine.policy.slack.user_map
        mapped = {user_map[name] for name in local if name in user_map}
        return Requester(approval.requester_uid, frozenset(local | mapped))

    def console_approver(self, peer: Peer) -> Approver:
        """A console voter is the kernel's uid; `user_map` says who they are on Slack."""
        mapped = self.policy.engine.policy.slack.user_map.get(peer.user)
        uid = peer.uid if peer.uid >= 0 else None
        return Approver(peer.user, "console", (mapped,) if mapped else (), uid=uid)
