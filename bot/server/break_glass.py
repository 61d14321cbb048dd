"""Break-glass windows: opened from the console or Slack, the overrides they grant, closed at
their deadline. It must not skip the audit: every override and every refusal is a row."""

from __future__ import annotations

import pwd
import time
from typing import Any

from bot.server.decisions import _decision_payload
from bot.server.internals import ServerParts
from bot.server.protocol import Peer, _reply
from engine.approvals import new_approval_id
from engine.breakglass import Window, may_open, override
from engine.decide import Decision, Outcome
from engine.events import ToolEvent


class BreakGlass(ServerParts):
    """Open, apply and close emergency windows."""

    async def _console_break_glass(self, request: dict[str, Any], peer: Peer) -> tuple[bool, str]:
        """From the console, a window covers someone else's agents (`--for USER`): the agents
        of the uid that asks could ask just the same, so that uid can never open its own."""
        minutes = request.get("minutes")
        minutes = float(minutes) if isinstance(minutes, int | float) else 0.0
        reason = str(request.get("reason") or "")
        covered = str(request.get("for") or "").strip()
        refusal = None
        if peer.uid < 0:
            refusal = "the kernel did not say who you are on this socket; use Slack"
        elif not covered:
            refusal = "say whose agents the window covers: --for USER"
        else:
            try:
                covered_uid = pwd.getpwnam(covered).pw_uid
            except KeyError:
                covered_uid = None
                refusal = f"there is no user {covered!r} on this machine"
            if covered_uid == peer.uid:
                refusal = (
                    "a window for your own agents cannot be opened from your own uid (an agent "
                    "running as you could do the same): open it from Slack, or ask someone else"
                )
        mapped = self.policy.engine.policy.slack.user_map.get(peer.user)
        names = (peer.user, mapped) if mapped else (peer.user,)
        settings = self.policy.engine.policy.break_glass
        refusal = refusal or may_open(settings, names, minutes)
        code = request.get("code")
        if refusal is None and self.mfa_required():
            if not code:
                refusal = "this policy asks for MFA: give --code from your authenticator"
            else:
                check = self.verify_break_glass_code(peer.user, str(code))
                refusal = None if check.ok else check.message
        if refusal is not None:
            self._refuse_break_glass(peer.user, covered, minutes, refusal)
            return False, refusal
        return await self.open_break_glass(
            names, covered, minutes, reason, opened_by=peer.user, mfa_verified=True
        )

    def break_glass_refusal(
        self, names: tuple[str, ...], minutes: float, reason: str
    ) -> str | None:
        """Why the opener may not open this window (before any MFA), or None."""
        settings = self.policy.engine.policy.break_glass
        return may_open(settings, names, minutes) or (
            None if reason.strip() else "break-glass needs a --reason"
        )

    def _refuse_break_glass(self, opener: str, user: str, minutes: float, refusal: str) -> None:
        self.store.append_audit(
            "break_glass_refused",
            user=opener,
            decision="refused",
            reason=refusal,
            payload={"minutes": minutes, "for": user},
        )

    async def open_break_glass(
        self,
        names: tuple[str, ...],
        user: str,
        minutes: float,
        reason: str,
        *,
        opened_by: str,
        mfa_verified: bool,
    ) -> tuple[bool, str]:
        """Open an emergency window for the agents of OS user `user`; `names` are the opener's
        (checked against break_glass.allowed_users). Refused unless the policy allows."""
        refusal = self.break_glass_refusal(names, minutes, reason) or (
            "this policy asks for MFA: break-glass needs a code"
            if self.mfa_required() and not mfa_verified
            else None
        )
        if refusal is not None:
            self._refuse_break_glass(opened_by, user, minutes, refusal)
            return False, refusal
        now = time.time()
        window = Window(
            f"BG-{new_approval_id()[4:]}", user, reason.strip(), now, now + minutes * 60
        )
        self.store.open_break_glass(window)
        for deadline in self.store.add_deadlines(
            window.id, [("close_break_glass", 0, window.closes_at)]
        ):
            self.scheduler.schedule(deadline)
        self.store.append_audit(
            "break_glass_opened",
            user=user,
            decision="opened",
            reason=window.reason,
            approval_id=window.id,
            payload={"minutes": minutes, "closes_at": window.closes_at, "opened_by": opened_by},
        )
        self._background(
            self.notifier.alert(
                f"Break-glass {window.id} opened by {opened_by} for {user}'s agents, "
                f"{minutes:g} min",
                [
                    f"Reason: {window.reason}",
                    "Approvals and non-critical denies are skipped for their agents; every "
                    "action is audited as an override.",
                ],
            )
        )
        settings = self.policy.engine.policy.break_glass
        critical = "skipped too" if settings.skip_critical_denies else "still stand"
        return True, (
            f"break-glass {window.id} open for {minutes:g} min: approvals and non-critical "
            f"denies skipped for {user}'s agents (critical denies {critical}), every action "
            "audited as an override"
        )

    def _break_glass(
        self, event: ToolEvent, decision: Decision, fields: dict[str, Any]
    ) -> dict[str, Any] | None:
        if decision.outcome is Outcome.ALLOW or event.hook_event_name != "PreToolUse":
            return None
        # The kernel's user, never the label: a claimed name must not step into a window.
        window = self.store.active_break_glass((fields["peer_user"],), time.time())
        if window is None:
            return None
        changed = override(decision, self.policy.engine.policy.break_glass)
        if changed is None:
            return None
        reason = (
            f"break-glass {window.id} by {window.user} ({window.reason}) overrides "
            f"{decision.rule}: {decision.reason}"
        )
        self.store.append_audit(
            "override",
            decision="allow",
            would_be=str(decision.would_be),
            mode=str(decision.mode),
            rule=decision.rule,
            risk=str(decision.risk),
            reason=reason,
            approval_id=window.id,
            payload=self._versioned(_decision_payload(event, decision)),
            **fields,
        )
        return _reply("allow", reason, decision.rule, risk=str(decision.risk))

    async def _close_break_glass(self, window_id: str) -> None:
        window = self.store.close_break_glass(window_id, time.time())
        if window is None:
            return
        overrides = self.store.db.execute(
            "SELECT COUNT(*) FROM audit WHERE kind = 'override' AND approval_id = ?", [window.id]
        ).fetchone()[0]
        self.store.append_audit(
            "break_glass_closed",
            user=window.user,
            decision="closed",
            approval_id=window.id,
            reason=f"{overrides} override(s)",
        )
        self._background(
            self.notifier.alert(
                f"Break-glass {window.id} closed",
                [
                    f"Opened by {window.user}: {window.reason}",
                    f"{overrides} action(s) ran as overrides",
                ],
            )
        )
