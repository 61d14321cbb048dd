"""Claude Code's own permission prompts answered from Slack: the person whose session asks gets
a DM; the first click answers the waiting hook. Not a governance approval (no quorum, no
separation of duties) and never a way around the policy: a call it denies gets no prompt."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from dataclasses import dataclass, field
from typing import Any, Protocol

from engine.decide import Outcome
from engine.evaluate import Engine
from engine.events import CallContext, ToolEvent
from engine.store import Store

log = logging.getLogger(__name__)

ALLOW, DENY, TERMINAL = "allow", "deny", "ask"  # TERMINAL: the hook leaves it to the terminal


@dataclass
class Prompt:
    id: str
    person: str  # the Slack user id the DM went to; only their click counts
    requester: str | None
    event: ToolEvent
    context: CallContext
    answer: asyncio.Future[tuple[str, str]] = field(repr=False)


class PromptSender(Protocol):
    """Slack's side: who the OS user is in Slack, and the DM with its buttons."""

    async def person_for(self, requester: str | None) -> str | None: ...

    async def post(self, prompt: Prompt) -> None: ...

    async def close(self, prompt: Prompt, outcome: str, by: str | None) -> None: ...


class RemotePrompts:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.sender: PromptSender | None = None  # set when Slack is attached
        self.pending: dict[str, Prompt] = {}

    async def ask(
        self,
        engine: Engine,
        event: ToolEvent,
        context: CallContext,
        fields: dict[str, Any],
        wait_s: float,
        limit_s: float,
    ) -> tuple[str, str]:
        """(allow | deny | ask, reason) for one PermissionRequest."""
        decision = engine.evaluate(event, context)
        if decision.outcome is Outcome.DENY:
            reason = f"blocked by policy rule {decision.rule}: {decision.reason}"
            self._audit("remote_prompt", DENY, reason, fields, rule=decision.rule)
            return DENY, reason
        person = await self.sender.person_for(context.user) if self.sender else None
        if person is None:
            why = "no Slack" if self.sender is None else "no Slack id for this user"
            self._audit("remote_prompt", TERMINAL, f"left to the terminal: {why}", fields)
            return TERMINAL, why
        prompt = Prompt(
            f"PR-{secrets.token_hex(4).upper()}",
            person,
            context.user,
            event,
            context,
            asyncio.get_running_loop().create_future(),
        )
        self.pending[prompt.id] = prompt
        try:
            assert self.sender is not None
            try:
                await self.sender.post(prompt)
            except Exception as error:  # Slack down: the person answers in the terminal
                log.warning("remote prompt %s not sent: %s", prompt.id, error)
                self._audit("remote_prompt", TERMINAL, f"not sent: {error}", fields, prompt.id)
                return TERMINAL, "the Slack message could not be sent"
            self._audit("remote_prompt", "pending", f"sent to {person}", fields, prompt.id)
            try:
                outcome, by = await asyncio.wait_for(
                    asyncio.shield(prompt.answer), min(wait_s, limit_s)
                )
            except TimeoutError:
                self._audit(
                    "remote_prompt_unanswered", TERMINAL, "no click in time", fields, prompt.id
                )
                with contextlib.suppress(Exception):
                    await self.sender.close(prompt, TERMINAL, None)
                return TERMINAL, "no answer in Slack in time"
        finally:
            self.pending.pop(prompt.id, None)
        reason = f"{'allowed' if outcome == ALLOW else 'denied'} from Slack by {by}"
        self._audit("remote_prompt_answered", outcome, reason, fields, prompt.id, by=by)
        with contextlib.suppress(Exception):
            await self.sender.close(prompt, outcome, by)
        return outcome, reason

    def click(self, prompt_id: str, person: str, outcome: str) -> str | None:
        """Record a click; None when it answered the prompt, else why it did not count."""
        prompt = self.pending.get(prompt_id)
        if prompt is None or prompt.answer.done():
            return "this prompt was already answered, or left to the terminal"
        if person != prompt.person:
            self.store.append_audit(
                "remote_prompt_refused",
                approval_id=prompt_id,
                user=person,
                decision="refused",
                reason="only the person whose session asks can answer its prompt",
            )
            return "only the person whose session asks can answer this prompt"
        prompt.answer.set_result((outcome, person))
        return None

    def _audit(
        self,
        kind: str,
        decision: str,
        reason: str,
        fields: dict[str, Any],
        prompt_id: str | None = None,
        rule: str | None = None,
        by: str | None = None,
    ) -> None:
        payload = dict(fields.get("payload") or {})
        if by:
            payload["answered_by"] = by
        self.store.append_audit(
            kind,
            decision=decision,
            reason=reason,
            rule=rule,
            approval_id=prompt_id,
            **{**fields, "payload": payload},
        )
