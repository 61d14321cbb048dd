"""The team service's side of edge mode: approval requests an edge judged with its own engine,
and the grants their retries spend. It creates and spends; it never votes or judges a call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.server import GovernanceServer, Peer
from engine.decide import Risk
from engine.events import CallContext, ToolEvent
from engine.state.hosts import HOST_NAME


class ApprovalAsk(BaseModel):
    """POST /v1/approvals: a call an edge judged `approve` with its own engine and files,
    its input already redacted there. The service creates the request as a local ask would."""

    model_config = ConfigDict(extra="forbid")

    action_key: str = Field(min_length=1, max_length=200)
    session_id: str = Field(default="", max_length=500)
    tool_name: str = Field(min_length=1, max_length=500)
    tool_input: dict[str, Any]
    cwd: str | None = Field(default=None, max_length=4096)
    rule: str | None = Field(default=None, max_length=500)
    reason: str = Field(max_length=5000)
    risk: Risk
    # The approval rule the edge's copy of the policy matched; the service's own choice wins.
    approval_rule: str | None = Field(default=None, max_length=200)
    policy_version: str | None = Field(default=None, max_length=100)
    context: CallContext = Field(default_factory=CallContext)
    os_user: str = Field(
        pattern=f"^{HOST_NAME.pattern}$", description="the agent's OS user on the edge"
    )


class GrantUse(BaseModel):
    """POST /v1/grants/use: spend the single-use grant of an approved action, if there is one."""

    model_config = ConfigDict(extra="forbid")

    action_key: str = Field(min_length=1, max_length=200)


@dataclass(frozen=True, slots=True)
class EdgeJudgement:
    rule: str | None
    reason: str
    risk: Risk


async def create_judged_approval(
    server: GovernanceServer, asked: ApprovalAsk, host: str
) -> dict[str, Any] | None:
    """Create (or find, for the same action) the request as a local ask would: Slack message,
    quorum, escalation. The requester of record is the token's host and the edge's OS user,
    so neither can approve it. The edge then long-polls /v1/approvals/{id}/wait."""
    event = ToolEvent(
        session_id=asked.session_id,
        cwd=asked.cwd,
        hook_event_name="PreToolUse",
        tool_name=asked.tool_name,
        tool_input=asked.tool_input,
    )
    peer = Peer(0, -1, asked.os_user, host=host)
    judged = EdgeJudgement(asked.rule, asked.reason, asked.risk)
    key = f"{host}:{asked.action_key}"
    approval = await server._request_approval(event, asked.context, peer, judged, key)
    if approval is None:
        return None
    rule = approval.snapshot
    return {
        "approval_id": approval.id,
        "state": str(approval.state),
        "approval_rule": rule.name,
        # Nobody can decide it while the service has no Slack and its roles are Slack's.
        "waitable": not (server._console_only and not rule.open_to_console),
        "reply": server._pending_reply(approval),
    }


def spend_grant(server: GovernanceServer, action_key: str, host: str) -> dict[str, Any]:
    """Spend this host's grant for the action, once: the answer names the approval, or null."""
    key = f"{host}:{action_key}"
    server._audit_expired_grants(key)
    granted = server.store.use_grant(key)
    approval = server.store.approval(granted) if granted else None
    if approval is not None:
        server.store.append_approval_audit("grant_used", approval, decision="allow", host=host)
    return {"approval_id": granted, "note": approval.decided_note if approval else None}
