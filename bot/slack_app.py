"""The Slack face of the server: a slack-bolt AsyncApp sharing the server's event loop and store.
Listeners turn clicks and commands into server calls; every approval rule lives in the server."""

from __future__ import annotations

import contextlib
import logging
import os
import pwd
import re
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import slack_prompts
from bot import slack_views as views
from bot.server import GovernanceServer
from engine.approvals import ApprovalState, Approver, Vote, VoteResult
from engine.report import build_report, to_slack_blocks
from engine.store import ApprovalRecord

log = logging.getLogger("governance.slack")

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_GROUP_CACHE_S = 300
_BREAK_GLASS = "break-glass|"  # private_metadata of the MFA modal that opens a window


@dataclass(frozen=True, slots=True)
class SlackSettings:
    bot_token: str
    app_token: str | None
    signing_secret: str | None
    api_url: str | None

    @classmethod
    def from_env(cls) -> SlackSettings | None:
        token = os.environ.get("SLACK_BOT_TOKEN")
        if not token:
            return None
        return cls(
            bot_token=token,
            app_token=os.environ.get("SLACK_APP_TOKEN"),
            signing_secret=os.environ.get("SLACK_SIGNING_SECRET"),
            api_url=os.environ.get("GOVERNANCE_SLACK_API_URL"),
        )


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
        message = views.alert_message(title, lines, audit_id=audit_id)
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


def build_app(server: GovernanceServer, settings: SlackSettings) -> AsyncApp:
    client = AsyncWebClient(
        token=settings.bot_token, base_url=settings.api_url or AsyncWebClient.BASE_URL
    )
    app = AsyncApp(
        client=client, signing_secret=settings.signing_secret or "socket-mode", logger=log
    )
    notifier = SlackNotifier(server, client)
    server.notifier = notifier
    server.prompts.sender = slack_prompts.SlackPromptSender(client, notifier._slack_user_for)
    slack_prompts.register(app, server.prompts, client)
    approvers = SlackApprovers(server, client)

    async def vote(
        body: dict[str, Any], approval_id: str, choice: Vote, mfa_verified: bool = False
    ) -> VoteResult | None:
        user_id = body["user"]["id"]
        approval = server.store.approval(approval_id)
        if approval is None:
            return None
        approver = await approvers.approver(user_id, approval)
        return await server.vote(approval_id, approver, choice, mfa_verified=mfa_verified)

    async def explain_refusal(
        body: dict[str, Any], result: VoteResult | None, approval_id: str
    ) -> None:
        if result is not None and result.accepted:
            return
        text = result.message if result else f"there is no approval request {approval_id}"
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
            "channel_id"
        )
        if channel:
            with contextlib.suppress(SlackApiError):
                await client.chat_postEphemeral(
                    channel=channel, user=body["user"]["id"], text=f"Not counted: {text}"
                )

    @app.action(views.APPROVE_ACTION)
    async def on_approve(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        approval_id = body["actions"][0]["value"]
        approval = server.store.approval(approval_id)
        if (
            approval is not None
            and approval.snapshot.require_mfa
            and approval.state is ApprovalState.PENDING
        ):
            await client.views_open(
                trigger_id=body["trigger_id"], view=views.mfa_modal(approval_id)
            )
            return
        await explain_refusal(body, await vote(body, approval_id, Vote.APPROVE), approval_id)

    @app.action(views.DENY_ACTION)
    async def on_deny(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        approval_id = body["actions"][0]["value"]
        await explain_refusal(body, await vote(body, approval_id, Vote.DENY), approval_id)

    def _aliases(user_id: str) -> tuple[str, ...]:
        user_map = server.policy.engine.policy.slack.user_map
        return tuple(name for name, mapped in user_map.items() if mapped == user_id)

    async def open_break_glass(
        user_id: str, minutes: float, reason: str, mfa_verified: bool
    ) -> tuple[bool, str]:
        aliases = _aliases(user_id)
        # The window covers the agents of the person's OS account (the first mapped name that
        # is a user on this machine); a Slack click is a human, never an agent's session.
        local = [name for name in aliases if _is_local_user(name)]
        covered = (local or list(aliases) or [user_id])[0]
        return await server.open_break_glass(
            (user_id, *aliases),
            covered,
            minutes,
            reason,
            opened_by=user_id,
            mfa_verified=mfa_verified,
        )

    async def on_break_glass_code(ack: AsyncAck, user_id: str, metadata: str, code: str) -> None:
        minutes, _, reason = metadata.removeprefix(_BREAK_GLASS).partition("|")
        check = server.verify_break_glass_code(user_id, code)
        if not check.ok:
            await ack(response_action="errors", errors={views.MFA_BLOCK: check.message})
            return
        await ack()
        _, message = await open_break_glass(user_id, _days([minutes], 0), reason, True)
        with contextlib.suppress(SlackApiError):
            channel = (await client.conversations_open(users=user_id))["channel"]["id"]
            await client.chat_postMessage(channel=channel, text=message)

    @app.view(views.MFA_CALLBACK)
    async def on_mfa(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        approval_id = view["private_metadata"]
        user_id = body["user"]["id"]
        code = view["state"]["values"][views.MFA_BLOCK][views.MFA_INPUT]["value"] or ""
        if approval_id.startswith(_BREAK_GLASS):
            await on_break_glass_code(ack, user_id, approval_id, code)
            return
        check = server.check_mfa(user_id, approval_id, code)
        if not check.ok:
            await ack(response_action="errors", errors={views.MFA_BLOCK: check.message})
            return
        await ack()
        result = await vote(body, approval_id, Vote.APPROVE, mfa_verified=True)
        if result is not None and not result.accepted:
            with contextlib.suppress(SlackApiError):
                channel = (await client.conversations_open(users=user_id))["channel"]["id"]
                await client.chat_postMessage(
                    channel=channel, text=f"Not counted: {result.message}"
                )

    async def refused(user_id: str, what: str) -> str:
        """Audit a refused look or flag; the text the user is told, only them."""
        reason = f"{what}: only approvers and the policy's slack.auditors may do this"
        server.store.append_audit("slack_refused", user=user_id, decision="refused", reason=reason)
        return f"Not allowed: {reason}."

    @app.action(views.FLAG_ACTION)
    async def on_flag(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        audit_id = body["actions"][0]["value"]
        user_id = body["user"]["id"]
        if not await approvers.may_oversee(user_id):
            text = await refused(user_id, f"flag audit row {audit_id} as a false positive")
            channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
                "channel_id"
            )
            if channel:
                with contextlib.suppress(SlackApiError):
                    await client.chat_postEphemeral(channel=channel, user=user_id, text=text)
            return
        if (
            not audit_id.isdigit()
            or server.store.flag_false_positive(
                int(audit_id), body["user"]["id"], "flagged from the Slack alert"
            )
            is None
        ):
            log.warning("false-positive flag for unknown audit row %r", audit_id)

    @app.command("/governance")
    async def on_command(ack: AsyncAck, respond: AsyncRespond, command: dict[str, Any]) -> None:
        await ack()
        words = (command.get("text") or "").split()
        verb = words[0].lower() if words else "help"
        user_id = command["user_id"]
        user_map = server.policy.engine.policy.slack.user_map
        if verb == "audit":
            mention = _MENTION.search(words[1]) if len(words) > 1 else None
            who = mention.group(1) if mention else words[1].lstrip("@") if len(words) > 1 else ""
            mine = who in ("", "me", user_id) or user_map.get(who) == user_id
            if not mine and not await approvers.may_oversee(user_id):
                text = await refused(user_id, f"read the audit of {who}")
                await respond(text=text, response_type="ephemeral")
                return
        elif verb in ("report", "pending") and not await approvers.may_oversee(user_id):
            text = await refused(user_id, f"/governance {verb}")
            await respond(text=text, response_type="ephemeral")
            return
        if verb == "report":
            days = _days(words[1:], 7)
            report = build_report(server.store.db, days=days)
            await respond(
                blocks=to_slack_blocks(report),
                text=f"Governance report, {days:g} days",
                response_type="ephemeral",
            )
        elif verb == "pending":
            message = views.pending_message(server.store.pending_approvals(), command["user_id"])
            await respond(**message.kwargs(), response_type="ephemeral")
        elif verb == "break-glass":
            minutes, reason = _days(words[1:2], 0), " ".join(words[2:])
            user_id = command["user_id"]
            if server.mfa_required() and not server.break_glass_refusal(
                (user_id, *_aliases(user_id)), minutes, reason
            ):
                # The code goes in a modal, never in the command text.
                await client.views_open(
                    trigger_id=command["trigger_id"],
                    view=views.mfa_modal(
                        f"{_BREAK_GLASS}{minutes:g}|{reason}",
                        prompt="Break-glass needs a second factor. Enter the current code "
                        "from your authenticator app to open the window.",
                        submit="Open window",
                    ),
                )
                return
            _, message = await open_break_glass(user_id, minutes, reason, False)
            await respond(text=message, response_type="ephemeral")
        elif verb == "audit":
            who = user_id if mine else who
            name = next((n for n, mapped in user_map.items() if mapped == who), who)
            report = build_report(server.store.db, days=_days(words[2:], 7), user=name)
            await respond(
                blocks=to_slack_blocks(report), text=f"Audit for {name}", response_type="ephemeral"
            )
        else:
            await respond(**views.help_message().kwargs(), response_type="ephemeral")

    @app.event("app_home_opened")
    async def on_home(event: dict[str, Any]) -> None:
        user_id = event["user"]
        mine = [
            a
            for a in server.store.pending_approvals()
            if user_id in a.snapshot.members or not a.snapshot.members
        ]
        report = build_report(server.store.db, days=7)
        figures = {
            "decisions": report.total_decisions,
            "blocked": report.blocked,
            "approvals requested": report.approvals_requested,
            "approved": report.approved,
            "block rate": f"{report.block_rate:.1%}",
            "health": report.health,
        }
        await client.views_publish(user_id=user_id, view=views.app_home(mine, figures))

    return app


def _is_local_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _days(words: list[str], default: float) -> float:
    with contextlib.suppress(ValueError, IndexError):
        return max(0.01, min(float(words[0]), 3650.0))
    return default


class SlackRunner:
    """Starts the app in HTTP mode (aiohttp on our loop) or Socket Mode, and stops it."""

    def __init__(self, app: AsyncApp, settings: SlackSettings) -> None:
        self.app = app
        self.settings = settings
        self._runner: web.AppRunner | None = None
        self._socket_mode: Any = None

    async def start_http(self, host: str, port: int, path: str = "/slack/events") -> None:
        async def handle(request: web.Request) -> web.Response:
            bolt_response = await self.app.async_dispatch(await to_bolt_request(request))
            return await to_aiohttp_response(bolt_response)

        web_app = web.Application()
        web_app.add_routes([web.post(path, handle)])
        self._runner = web.AppRunner(web_app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()

    async def start_socket_mode(self) -> None:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        self._socket_mode = AsyncSocketModeHandler(self.app, self.settings.app_token)
        await self._socket_mode.connect_async()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._socket_mode is not None:
            with contextlib.suppress(Exception):
                await self._socket_mode.close_async()


async def attach(
    server: GovernanceServer, settings: SlackSettings, http_port: int | None, host: str = "0.0.0.0"
) -> SlackRunner:
    runner = SlackRunner(build_app(server, settings), settings)
    if http_port is not None:
        if not settings.signing_secret:
            raise RuntimeError("HTTP mode needs SLACK_SIGNING_SECRET to verify Slack's requests")
        await runner.start_http(host, http_port)
    elif settings.app_token:
        await runner.start_socket_mode()
    else:
        raise RuntimeError("Socket Mode needs SLACK_APP_TOKEN (or use --http --port N)")
    return runner
