"""One tool call judged and recorded: the engine's verdict, a grant's use, break-glass, the edge's
upstream, and the audit row of each decision. It must not wait on an approval."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

from bot.server.internals import ServerParts
from bot.server.protocol import Peer, _reply
from engine.approvals import action_key
from engine.decide import Decision, Outcome, Risk
from engine.events import CallContext, ToolEvent
from engine.redact import Redaction

_MAX_OUTCOME_CHARS = 2000


class Decisions(ServerParts):
    """Decide a call, and audit each decision and tool outcome."""

    async def decide(
        self,
        event: ToolEvent,
        context: CallContext,
        peer: Peer,
        wait_s: float,
        reader: asyncio.StreamReader | None = None,
        large: bool = False,
    ) -> dict[str, Any]:
        fields = self._audit_fields(event, context, peer)
        parts = (event.session_id, event.tool_name, event.tool_input, event.cwd)
        key = await self._in_helper(action_key, *parts) if large else action_key(*parts)
        if peer.host is not None:  # a host's grants and pending requests are its own
            key = f"{peer.host}:{key}"
        # From here on only redacted copies are used: every sink sees the same redaction.
        carried = [event.tool_input, event.prompt]
        redaction = (
            await self._in_helper(Redaction.learn, carried) if large else Redaction.learn(carried)
        )
        engine = self.policy.engine
        verdict = (
            await asyncio.to_thread(engine.evaluate, event, context)
            if large
            else engine.evaluate(event, context)
        )
        # A grant matters only to a call the policy would not allow by itself: the calls it
        # allows (nearly all) are spared the lookup, a round trip on PostgreSQL.
        if (
            verdict.outcome is not Outcome.ALLOW
            and event.hook_event_name == "PreToolUse"
            and await self._query(self.store.has_live_grant, key)
        ):
            self._audit_expired_grants(key)
            granted = self.store.use_grant(key)
            if granted is not None:
                return await self.record_grant(granted, redaction.redacted[0], fields, large)
        event, decision = _redacted_call(redaction, event, verdict)
        overridden = self._break_glass(event, decision, fields)
        if overridden is not None:
            return overridden
        if self.edge is not None and self.edge.asks_upstream(event, decision):
            return await self.edge.ask(self, event, context, peer, decision, key, wait_s, reader)
        seq = await self.record_decision(event, decision, fields, large)
        if decision.outcome is Outcome.ALLOW:
            return _reply("allow", decision.reason, decision.rule, risk=str(decision.risk))
        if decision.outcome is Outcome.DENY or event.hook_event_name != "PreToolUse":
            if decision.risk is Risk.CRITICAL:
                self._background(
                    self.notifier.alert(
                        f"Critical action blocked: {decision.rule}",
                        [
                            f"{fields['user']} on {fields['host'] or '?'}, {fields['repo'] or '?'}",
                            f"{event.tool_name}: {json.dumps(event.tool_input)[:300]}",
                            decision.reason,
                        ],
                        seq,
                    )
                )
            return _reply(
                "deny",
                f"blocked by policy rule {decision.rule}: {decision.reason}",
                decision.rule,
                risk=str(decision.risk),
            )
        approval = await self._request_approval(event, context, peer, decision, key, large)
        if approval is None:
            return _reply("deny", "could not create an approval request", decision.rule)
        return await self._wait_for(approval, wait_s, reader)

    async def record_grant(
        self, granted: str, tool_input: Any, fields: dict[str, Any], large: bool = False
    ) -> dict[str, Any]:
        """Audit and answer a retry that used the single-use grant of approval `granted`."""
        reason = f"approved in {granted}; this retry used its single-use grant"
        await self.audit.append(
            "decision",
            decision="allow",
            rule="approval.grant",
            reason=reason,
            approval_id=granted,
            payload=await self._prepared(self._versioned({"tool_input": tool_input}), large),
            **fields,
        )
        return _reply("approved", reason, "approval.grant", granted)

    async def record_decision(
        self, event: ToolEvent, decision: Decision, fields: dict[str, Any], large: bool = False
    ) -> int:
        return await self.audit.append(
            "decision" if event.hook_event_name == "PreToolUse" else "prompt",
            decision=str(decision.outcome),
            would_be=str(decision.would_be),
            mode=str(decision.mode),
            rule=decision.rule,
            risk=str(decision.risk),
            reason=decision.reason,
            payload=await self._prepared(
                self._versioned(_decision_payload(event, decision)), large
            ),
            **fields,
        )

    async def _record_outcome(
        self, event: ToolEvent, context: CallContext, peer: Peer, large: bool = False
    ) -> dict[str, Any]:
        extra = event.model_extra or {}
        carried = [event.tool_input]
        redaction = (
            await self._in_helper(Redaction.learn, carried) if large else Redaction.learn(carried)
        )
        # Redacted before clipping, so a cut never leaves half a secret unrecognisable.
        response = json.dumps(redaction(extra.get("tool_response")), default=str)
        await self.audit.append(
            "tool_outcome",
            decision="recorded",
            payload=await self._prepared(
                {
                    "tool_input": redaction.redacted[0],
                    "tool_response": response[:_MAX_OUTCOME_CHARS],
                },
                large,
            ),
            **self._audit_fields(event, context, peer),
        )
        return _reply("recorded", "outcome recorded", None)


def _redacted_call(
    redaction: Redaction, event: ToolEvent, decision: Decision
) -> tuple[ToolEvent, Decision]:
    """The event and decision as every sink may see them: the input redacted, and the call's
    secrets scrubbed from the reasons and fragments that quote it."""
    redacted_input = redaction.redacted[0]
    if not redaction.secrets and redacted_input == event.tool_input:
        return event, decision  # nothing to hide (the common case); each sink still redacts
    findings = tuple(
        replace(f, reason=redaction(f.reason), fragment=redaction(f.fragment))
        for f in decision.findings
    )
    return (
        event.model_copy(update={"tool_input": redacted_input}),
        replace(decision, findings=findings, commands=tuple(redaction(list(decision.commands)))),
    )


def _decision_payload(event: ToolEvent, decision: Decision) -> dict[str, Any]:
    return {
        "tool_input": event.tool_input
        if event.hook_event_name == "PreToolUse"
        else {"prompt_chars": len(event.prompt or "")},
        "cwd": event.cwd,
        "findings": [
            {"rule": f.rule, "outcome": str(f.outcome), "risk": str(f.risk), "fragment": f.fragment}
            for f in decision.findings
        ],
        "egress_hosts": list(decision.egress_hosts),
    }
