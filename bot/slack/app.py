"""The Slack face of the server: a slack-bolt AsyncApp sharing the server's event loop and store.
Listeners turn clicks and commands into server calls; every approval rule lives in the server."""

from __future__ import annotations

import contextlib
import logging
import pwd
import re
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.server import GovernanceServer
from bot.slack import alerts, home, prompts, views
from bot.slack.approvers import SlackApprovers
from bot.slack.notifier import SlackNotifier
from engine.approvals import ApprovalState, Vote, VoteResult
from engine.report import build_report, to_slack_blocks

if TYPE_CHECKING:
    from bot.slack.runner import SlackSettings

log = logging.getLogger("governance.slack")
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_BREAK_GLASS = "break-glass|"  # private_metadata of the MFA modal that opens a window


def build_app(server: GovernanceServer, settings: SlackSettings) -> AsyncApp:
    client = AsyncWebClient(
        token=settings.bot_token, base_url=settings.api_url or AsyncWebClient.BASE_URL
    )
    app = AsyncApp(
        client=client, signing_secret=settings.signing_secret or "socket-mode", logger=log
    )
    notifier = SlackNotifier(server, client)
    server.notifier = notifier
    server.prompts.sender = prompts.SlackPromptSender(client, notifier._slack_user_for)
    prompts.register(app, server.prompts, client)
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

    @app.action(alerts.FLAG_ACTION)
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
            message = home.pending_message(server.store.pending_approvals(), command["user_id"])
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
            await respond(**home.help_message().kwargs(), response_type="ephemeral")

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
        await client.views_publish(user_id=user_id, view=home.app_home(mine, figures))

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
