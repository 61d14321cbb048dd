"""The server's periodic chores: audit anchors, the risk summary alert, the spool of events the
hook could not deliver, and policy reloads. None may answer a hook or hold up a decision."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import time
from typing import Any

from pydantic import ValidationError

from bot.server.internals import ServerParts
from bot.server.protocol import Peer
from engine.events import CallContext, ToolEvent
from engine.report import risk_level
from engine.witness import current_anchor

log = logging.getLogger("governance.server")


class Chores(ServerParts):
    """Work the server does on a timer, beside the calls it answers."""

    async def _anchor_if_due(self) -> None:
        head = self.store.head()
        last_seq, last_at = self._anchored
        if head is None or head[0] == last_seq:
            return
        waited = time.monotonic() - last_at >= self.config.anchor_interval_s
        if waited or head[0] - last_seq >= self.config.anchor_rows:
            await self.publish_anchor("interval")

    async def publish_anchor(self, reason: str) -> None:
        """Send the chain's head to every witness; one failing witness does not stop the rest."""
        anchor = current_anchor(self.store, reason)
        if anchor is None:
            return
        self._anchored = (anchor.seq, time.monotonic())
        for witness in self.witnesses:
            try:
                await witness.publish(anchor)
            except Exception:
                log.exception("could not publish the audit anchor to the %s", witness.name)

    async def _risk_summary(self) -> None:
        """Post to the security channel once when the last hour turns HIGH, not once per block."""
        since = time.time() - 3600
        blocks, critical = self.store.db.execute(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE risk = 'critical') FROM audit "
            "WHERE kind = 'decision' AND decision = 'deny' AND ts >= ?",
            [since],
        ).fetchone()
        level = risk_level(blocks, bool(critical))
        previous = self.store.alert_level("risk_summary")
        if level == previous:
            return
        self.store.set_alert_level("risk_summary", level, time.time())
        if level == "HIGH":
            self.store.append_audit(
                "alert", decision="HIGH", reason=f"{blocks} blocks in the last hour"
            )
            await self.notifier.alert(
                f"Risk HIGH: {blocks} blocked actions in the last hour",
                [
                    "Check `governance report --days 1` for who and what."
                    if self._console_only
                    else "Check `/governance report 1` for who and what."
                ],
            )
        elif previous == "HIGH":
            self.store.append_audit("alert", decision=level, reason="risk back below HIGH")

    async def _ingest_spool(self) -> None:
        spool = self.config.spool
        if not spool.is_dir():
            return
        for path in sorted(spool.glob("*.json")):
            try:
                spooled = json.loads(path.read_text(encoding="utf-8", errors="replace"))
            except (OSError, json.JSONDecodeError) as error:
                spooled = {"unreadable": str(error)}
            event = spooled.get("event") if isinstance(spooled, dict) else None
            context = spooled.get("context") if isinstance(spooled, dict) else None
            fields: dict[str, Any] = {}
            would_be = None
            if isinstance(event, dict):
                with contextlib.suppress(ValidationError):
                    tool_event = ToolEvent.model_validate(event)
                    call_context = CallContext.model_validate(context or {})
                    fields = self._audit_fields(tool_event, call_context, Peer(0, -1, "spool"))
                    if tool_event.hook_event_name == "PreToolUse":
                        would_be = str(
                            self.policy.engine.evaluate(tool_event, call_context).would_be
                        )
            self.store.append_audit(
                "spooled_event",
                decision="allow (fail-open)"
                if spooled.get("fail_mode") == "open"
                else "not decided (server down)",
                would_be=would_be,
                reason=f"server unreachable: {spooled.get('error')}",
                payload=spooled,
                **fields,
            )
            path.unlink(missing_ok=True)

    async def _watch_policy(self) -> None:
        outcome = self.policy.reload_if_changed()
        if outcome is None:
            return
        if outcome == "reloaded":
            log.warning("policy %s reloaded", self.policy.source)
            self.store.append_audit(
                "policy_reloaded",
                reason=self.policy.source,
                mode=str(self.policy.engine.policy.mode),
            )
            return
        print(
            f"\n[governance] POLICY RELOAD FAILED, still enforcing the previous policy:\n"
            f"{outcome}\n",
            file=sys.stderr,
            flush=True,
        )
        self.store.append_audit("policy_reload_failed", reason=outcome[:1000])
