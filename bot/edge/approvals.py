"""An edge's approval path: spend a grant the team service holds, else create the request
there and wait on the long-poll. It never votes; offline it denies at once (fail closed)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from bot.edge.upstream import Upstream, UpstreamError, UpstreamRefused
from bot.server.protocol import Peer, _reply
from engine.approvals import choose_rule
from engine.decide import Decision
from engine.events import CallContext, ToolEvent

if TYPE_CHECKING:
    from bot.server import GovernanceServer

# One long-poll lasts at most this long; the hook's own wait may span several.
POLL_S = 300.0
RECONNECT_MAX_S = 5.0
FINAL_STATES = {"approved", "denied", "expired", "cancelled"}


class EdgeApprovals:
    def __init__(self, upstream: Upstream) -> None:
        self.upstream = upstream

    async def ask(
        self,
        server: GovernanceServer,
        event: ToolEvent,
        context: CallContext,
        peer: Peer,
        decision: Decision,
        key: str,
        wait_s: float,
        reader: asyncio.StreamReader | None,
    ) -> dict[str, Any]:
        """The answer to a call this edge judged `approve` (its input already redacted)."""
        fields = server._audit_fields(event, context, peer)
        try:
            granted = await self._spend_grant(key)
        except UpstreamError as error:
            await server.record_decision(event, decision, fields)
            return self._unreachable(server, decision, fields, error)
        if granted is not None:
            return await server.record_grant(granted, event.tool_input, fields)
        await server.record_decision(event, decision, fields)
        body = {
            "action_key": key,
            "session_id": event.session_id,
            "tool_name": event.tool_name,
            "tool_input": event.tool_input,
            "cwd": event.cwd,
            "rule": decision.rule,
            "reason": decision.reason,
            "risk": str(decision.risk),
            "approval_rule": choose_rule(server.policy.engine.policy, decision.risk).name,
            "policy_version": server.policy.version,
            "context": {
                "user": context.user,
                "host": context.host,
                "git_branch": context.git_branch,
                "repo": context.repo,
            },
            "os_user": peer.user,
        }
        try:
            created = (await self.upstream.call("POST", "/v1/approvals", body)).body
            if not isinstance(created, dict) or not isinstance(created.get("approval_id"), str):
                raise UpstreamError(f"unexpected answer to an approval request: {created!r:.200}")
        except UpstreamError as error:
            return self._unreachable(server, decision, fields, error)
        approval_id = created["approval_id"]
        server.store.append_audit(
            "approval_forwarded",
            approval_id=approval_id,
            decision="pending",
            rule=decision.rule,
            risk=str(decision.risk),
            reason=decision.reason,
            payload={"upstream": self.upstream.url, "approval_rule": created.get("approval_rule")},
            **fields,
        )
        pending: dict[str, Any] = created.get("reply") or _reply(
            "approval_pending",
            f"needs approval {approval_id} on the team service; retry the same command after "
            "it is approved",
            decision.rule,
            approval_id,
            str(decision.risk),
        )
        if wait_s <= 0 or not created.get("waitable", True):
            return pending
        state, note = await self._wait(server, approval_id, wait_s, reader)
        if state is None:
            return pending
        if state == "gone":
            server.store.append_audit(
                "client_gone",
                approval_id=approval_id,
                decision="pending",
                reason="the waiting hook closed its connection; the request stays pending",
                **fields,
            )
            return pending
        if state == "stopping":
            reason = (
                f"the governance server is shutting down; {approval_id} stays pending on the "
                "team service. Retry the same command after it is approved"
            )
            risk = str(decision.risk)
            return _reply("approval_pending", reason, decision.rule, approval_id, risk)
        return await self._final(server, approval_id, state, note, key, decision, fields)

    async def _final(
        self,
        server: GovernanceServer,
        approval_id: str,
        state: str,
        note: str | None,
        key: str,
        decision: Decision,
        fields: dict[str, Any],
    ) -> dict[str, Any]:
        risk = str(decision.risk)
        if state == "approved":
            try:
                granted = await self._spend_grant(key)
            except UpstreamError:
                granted = None
            if granted != approval_id:
                reason = (
                    f"{approval_id} was approved but its single-use grant could not be spent "
                    "now (used by another call, or the service went away); retry the same command"
                )
                return _reply("approval_pending", reason, decision.rule, approval_id, risk)
        server.store.append_audit(
            "approval_answered",
            approval_id=approval_id,
            decision=state,
            rule=decision.rule,
            reason=note,
            **fields,
        )
        if state == "approved":
            reason = f"approved in {approval_id}: {note}"
            return _reply("approved", reason, decision.rule, approval_id, risk)
        if state == "denied":
            reason = (
                f"{approval_id} was denied: {note}. Do not retry this action; ask the approver "
                "what to do instead"
            )
            return _reply("denied", reason, decision.rule, approval_id, risk)
        reason = (
            f"{approval_id} {state} without approval ({note or 'no decision'}); retry to ask "
            "again, or ask a human to approve it"
        )
        return _reply("expired", reason, decision.rule, approval_id, risk)

    async def _spend_grant(self, key: str) -> str | None:
        answer = await self.upstream.call("POST", "/v1/grants/use", {"action_key": key})
        granted = answer.body.get("approval_id") if isinstance(answer.body, dict) else None
        return granted if isinstance(granted, str) else None

    async def _wait(
        self,
        server: GovernanceServer,
        approval_id: str,
        wait_s: float,
        reader: asyncio.StreamReader | None,
    ) -> tuple[str | None, str | None]:
        """(final state, note) as soon as the service has one; ("gone", None) if the hook hung
        up, ("stopping", None) if this server stops, (None, None) when wait_s ran out."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        watchers = {asyncio.ensure_future(server._stopping.wait()): "stopping"}
        if reader is not None:
            watchers[asyncio.ensure_future(reader.read(1))] = "gone"
        delay = 0.2
        try:
            while (remaining := deadline - loop.time()) > 0:
                poll = asyncio.ensure_future(self._poll(approval_id, min(remaining, POLL_S)))
                done, _ = await asyncio.wait(
                    {poll, *watchers}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
                )
                if poll not in done:
                    poll.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await poll
                    stopped = [watchers[w] for w in done if w in watchers]
                    return (stopped[0], None) if stopped else (None, None)
                try:
                    state, note = poll.result()
                except UpstreamRefused as error:
                    return "cancelled", f"the team service refused the wait: {error}"
                except UpstreamError:
                    # The service restarts or the network drops: reconnect, the request lives on.
                    await asyncio.sleep(min(delay, max(0.0, deadline - loop.time())))
                    delay = min(delay * 2, RECONNECT_MAX_S)
                    continue
                delay = 0.2
                if state in FINAL_STATES:
                    return state, note
            return None, None
        finally:
            for watcher in watchers:
                watcher.cancel()

    async def _poll(self, approval_id: str, timeout_s: float) -> tuple[str, str | None]:
        answer = await self.upstream.call(
            "GET",
            f"/v1/approvals/{approval_id}/wait",
            params={"timeout": f"{timeout_s:.1f}"},
            timeout_s=timeout_s + 30,
        )
        if not isinstance(answer.body, dict) or "state" not in answer.body:
            raise UpstreamError(f"unexpected answer to a wait: {answer.body!r:.200}")
        return str(answer.body["state"]), answer.body.get("note")

    def _unreachable(
        self,
        server: GovernanceServer,
        decision: Decision,
        fields: dict[str, Any],
        error: UpstreamError,
    ) -> dict[str, Any]:
        """Without the team service nobody can approve: deny now (fail closed), unless the
        approval rule for this risk says `when_unreachable: allow`."""
        what = "refused the request" if isinstance(error, UpstreamRefused) else "is unreachable"
        policy = server.policy.engine.policy
        rule_name = choose_rule(policy, decision.risk).name
        rule = policy.approval_rules.get(rule_name)
        # A refusal is the service's answer, not its absence: never a reason to let it through.
        fail_open = (
            rule is not None
            and rule.when_unreachable == "allow"
            and not isinstance(error, UpstreamRefused)
        )
        outcome = (
            f"allowed by approval_rules.{rule_name}.when_unreachable"
            if fail_open
            else "denied (fail closed). Retry the same command once the service is back"
        )
        reason = (
            f"needs approval ({decision.rule}: {decision.reason}), but the approval service at "
            f"{self.upstream.url} {what} ({error}); {outcome}"
        )
        server.store.append_audit(
            "approval_unreachable",
            decision="allow" if fail_open else "deny",
            rule=decision.rule,
            risk=str(decision.risk),
            reason=reason,
            **fields,
        )
        return _reply(
            "allow" if fail_open else "deny", reason, decision.rule, risk=str(decision.risk)
        )
