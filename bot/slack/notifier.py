"""Approval requests and alerts posted to Slack, their messages kept in step with the votes, the
requester told the outcome. It only shows: votes come back through the server, never here."""

from __future__ import annotations

import contextlib
import re
import time

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.server import GovernanceServer
from bot.slack import alerts, views
from engine.approvals import ApprovalState, VoteResult
from engine.store import ApprovalRecord


class SlackNotifier:
    """Posts approval requests and keeps their messages in step with the votes."""

    def __init__(self, server: GovernanceServer, client: AsyncWebClient) -> None:
        self.server = server
        self.client = client

    @property
    def _slack(self):  # the policy may be reloaded: always read the current one
        return self.server.policy.engine.policy.slack

    async def request_created(self, approval: ApprovalRecord) -> None:
        message = views.approval_message(approval, ())
        reply = await self.client.chat_postMessage(
            channel=approval.snapshot.channel, **message.kwargs()
        )
        self.server.store.set_slack_message(approval.id, reply["channel"], reply["ts"])

    async def request_updated(
        self, approval: ApprovalRecord, result: VoteResult, actor: str
    ) -> None:
        final = approval.state is not ApprovalState.PENDING
        await self._refresh(approval, final=final)
        if final:
            await self._tell_requester(approval)

    async def request_escalated(
        self, approval: ApprovalRecord, level: int, notify: list[str]
    ) -> None:
        waited = (time.time() - approval.created_at) / 60
        # `level` indexes the policy's escalation list; people are told levels counted from 1.
        message = views.escalation_dm(approval, level + 1, waited)
        for user in notify:
            with contextlib.suppress(SlackApiError):
                channel = (await self.client.conversations_open(users=user))["channel"]["id"]
                await self.client.chat_postMessage(channel=channel, **message.kwargs())
        posted = self.server.store.slack_message(approval.id)
        if posted is not None:
            note = views.thread_note(
                f"No decision after {views.duration(waited)}: escalated to level {level + 1}",
                mentions=notify,
            )
            await self.client.chat_postMessage(
                channel=posted[0], thread_ts=posted[1], **note.kwargs()
            )

    async def request_expired(self, approval: ApprovalRecord) -> None:
        await self._refresh(approval, final=True)
        await self._tell_requester(approval)

    async def alert(self, title: str, lines: list[str], audit_id: int | None = None) -> None:
        message = alerts.alert_message(title, lines, audit_id=audit_id)
        await self.client.chat_postMessage(channel=self._slack.security_channel, **message.kwargs())

    async def _refresh(self, approval: ApprovalRecord, *, final: bool) -> None:
        posted = self.server.store.slack_message(approval.id)
        if posted is None:
            return
        votes = self.server.store.votes(approval.id)
        message = views.approval_message(approval, votes, final=final)
        await self.client.chat_update(channel=posted[0], ts=posted[1], **message.kwargs())

    async def _tell_requester(self, approval: ApprovalRecord) -> None:
        user = await self._slack_user_for(approval.requester)
        if user is None:
            return
        with contextlib.suppress(SlackApiError):
            channel = (await self.client.conversations_open(users=user))["channel"]["id"]
            await self.client.chat_postMessage(
                channel=channel, **views.decided_dm(approval).kwargs()
            )

    async def _slack_user_for(self, requester: str | None) -> str | None:
        """The requester's Slack id: mapped in the policy, or found by email."""
        if not requester:
            return None
        mapped = self._slack.user_map.get(requester, requester)
        if re.fullmatch(r"[UW][A-Z0-9]{2,}", mapped):
            return mapped
        if "@" not in mapped:
            return None
        try:
            return (await self.client.users_lookupByEmail(email=mapped))["user"]["id"]
        except SlackApiError:
            return None
