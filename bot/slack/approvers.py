"""Who a Slack user is for the approval rules: policy aliases, email, user groups (cached), and
who may oversee. It names people; it must not count votes or decide a request."""

from __future__ import annotations

import time

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.server import GovernanceServer
from engine.approvals import Approver
from engine.store import ApprovalRecord

_GROUP_CACHE_S = 300


class SlackApprovers:
    """Who a Slack user is, for the approval rules: aliases from the policy and their groups."""

    def __init__(self, server: GovernanceServer, client: AsyncWebClient) -> None:
        self.server = server
        self.client = client
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}
        self._emails: dict[str, tuple[float, str | None]] = {}

    async def approver(self, user_id: str, approval: ApprovalRecord) -> Approver:
        """The clicker and every name of theirs: OS users `user_map` ties to their Slack id or
        email count as the same human (one vote, and never a vote on their own request)."""
        user_map = self.server.policy.engine.policy.slack.user_map
        names = {user_id}
        if any("@" in mapped for mapped in user_map.values()):
            email = await self._email(user_id)
            if email:
                names.add(email.lower())
        lowered = {name.lower() for name in names}
        aliases = tuple(
            dict.fromkeys(
                [name for name, mapped in user_map.items() if mapped.lower() in lowered]
                + sorted(names - {user_id})
            )
        )
        groups = []
        for member in approval.snapshot.members:
            if member.startswith("S") and user_id in await self._group_members(member):
                groups.append(member)
        return Approver(user_id, "slack", aliases, tuple(groups))

    async def may_oversee(self, user_id: str) -> bool:
        """Approvers (any approver pool) and the policy's `slack.auditors` may read pending
        requests, reports and others' audits, and flag false positives; nobody else."""
        policy = self.server.policy.engine.policy
        user_map = policy.slack.user_map
        names = {user_id, *(name for name, mapped in user_map.items() if mapped == user_id)}
        entries = [*(m for pool in policy.approver_pools.values() for m in pool)]
        entries += policy.slack.auditors
        if names & set(entries):
            return True
        for entry in entries:
            if entry.startswith("S") and user_id in await self._group_members(entry):
                return True
        return False

    async def _email(self, user_id: str) -> str | None:
        cached = self._emails.get(user_id)
        if cached and time.time() - cached[0] < _GROUP_CACHE_S:
            return cached[1]
        try:
            reply = await self.client.users_info(user=user_id)
            email = (reply.get("user") or {}).get("profile", {}).get("email")
        except SlackApiError:
            email = None
        self._emails[user_id] = (time.time(), email)
        return email

    async def _group_members(self, group: str) -> frozenset[str]:
        cached = self._groups.get(group)
        if cached and time.time() - cached[0] < _GROUP_CACHE_S:
            return cached[1]
        try:
            reply = await self.client.usergroups_users_list(usergroup=group)
            members = frozenset(reply.get("users", []))
        except SlackApiError:
            members = frozenset()
        self._groups[group] = (time.time(), members)
        return members
