"""The Slack face of remote permission prompts: the DM with Allow/Deny, its update once answered,
and the button listeners. Who may answer and what is audited is bot/remote_prompts.py's job."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.remote_prompts import ALLOW, DENY, Prompt, RemotePrompts
from bot.slack import views
from engine.redact import redact

ALLOW_ACTION = "governance_prompt_allow"
DENY_ACTION = "governance_prompt_deny"
_OUTCOMES = {
    ALLOW: "✅ Allowed",
    DENY: "⛔ Denied",
    "ask": "⌛ No answer here: left to the terminal",
}


def prompt_message(
    prompt: Prompt, outcome: str | None = None, by: str | None = None
) -> views.Message:
    """What Claude Code wants to do, where, and (while open) the two buttons. Redacted."""
    tool_input = redact(prompt.event.tool_input)
    what = tool_input.get("command") or tool_input.get("file_path") or json.dumps(tool_input)
    tool = views.escape(prompt.event.tool_name or "a tool")
    where = (
        f"*Repository* {views.escape(prompt.context.repo or prompt.event.cwd or '?')}   "
        f"*Branch* {views.escape(prompt.context.git_branch or '(none)')}"
    )
    blocks: list[Any] = [
        HeaderBlock(
            text=PlainTextObject(text=f"Claude Code asks to use {prompt.event.tool_name}"[:150])
        ),
        SectionBlock(text=MarkdownTextObject(text=views._code_block(tool, str(what)))),
        ContextBlock(elements=[MarkdownTextObject(text=where)]),
    ]
    if outcome is None:
        blocks.append(
            ActionsBlock(
                block_id=f"governance_prompt:{prompt.id}",
                elements=[
                    ButtonElement(
                        text="Allow", action_id=ALLOW_ACTION, value=prompt.id, style="primary"
                    ),
                    ButtonElement(
                        text="Deny", action_id=DENY_ACTION, value=prompt.id, style="danger"
                    ),
                ],
            )
        )
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text="Your own permission prompt: the policy already allowed this call. "
                        "No answer in time leaves it to your terminal."
                    )
                ]
            )
        )
    else:
        done = _OUTCOMES.get(outcome, outcome) + (f" by <@{by}>" if by else "")
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=done)]))
    text = f"Claude Code asks to use {prompt.event.tool_name}"
    return views.Message(text=text, blocks=[block.to_dict() for block in blocks])


class SlackPromptSender:
    def __init__(self, client: AsyncWebClient, person_for: Any) -> None:
        self.client = client
        self._person_for = person_for
        self.posted: dict[str, tuple[str, str]] = {}

    async def person_for(self, requester: str | None) -> str | None:
        return await self._person_for(requester)

    async def post(self, prompt: Prompt) -> None:
        channel = (await self.client.conversations_open(users=prompt.person))["channel"]["id"]
        reply = await self.client.chat_postMessage(
            channel=channel, **prompt_message(prompt).kwargs()
        )
        self.posted[prompt.id] = (reply["channel"], reply["ts"])

    async def close(self, prompt: Prompt, outcome: str, by: str | None) -> None:
        posted = self.posted.pop(prompt.id, None)
        if posted is not None:
            await self.client.chat_update(
                channel=posted[0], ts=posted[1], **prompt_message(prompt, outcome, by).kwargs()
            )


def register(app: AsyncApp, prompts: RemotePrompts, client: AsyncWebClient) -> None:
    async def answer(body: dict[str, Any], outcome: str) -> None:
        user = body["user"]["id"]
        refusal = prompts.click(body["actions"][0]["value"], user, outcome)
        channel = (body.get("channel") or {}).get("id")
        if refusal is not None and channel:
            with contextlib.suppress(SlackApiError):
                await client.chat_postEphemeral(
                    channel=channel, user=user, text=f"Not counted: {refusal}"
                )

    @app.action(ALLOW_ACTION)
    async def on_allow(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        await answer(body, ALLOW)

    @app.action(DENY_ACTION)
    async def on_deny(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        await answer(body, DENY)
