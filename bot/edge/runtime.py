"""The edge as the server sees it: its policy holder, its upstream client, and the chores
(policy long-poll, audit shipping) it adds to the server. Glue only; each part owns its job."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.edge.approvals import EdgeApprovals
from bot.edge.policy_sync import EdgePolicy
from bot.edge.shipper import AuditShipper
from bot.edge.upstream import EdgeStatus, Upstream, read_token
from engine.decide import Decision, Outcome
from engine.events import CallContext, ToolEvent
from engine.self_protection import ProtectedState

if TYPE_CHECKING:
    from bot.server import GovernanceServer, Peer

log = logging.getLogger("governance.edge")

POLICY_CACHE_NAME = "upstream-policy.json"
RESTART_CHORE_S = 1.0


def policy_cache(state_dir: Path) -> Path:
    return state_dir / POLICY_CACHE_NAME


class Edge:
    def __init__(
        self,
        url: str,
        token_file: str,
        ca_file: str | None,
        cache: Path,
        state: ProtectedState | None,
    ) -> None:
        self.policy = EdgePolicy(url.rstrip("/"), cache, state)
        self.upstream = Upstream(url, read_token(token_file), ca_file, self.status)
        self.approvals = EdgeApprovals(self.upstream)
        self.shipper: AuditShipper | None = None

    def status(self) -> EdgeStatus:
        backlog = self.shipper.backlog if self.shipper is not None else 0
        return EdgeStatus(self.policy.version or "none", backlog)

    async def start(self) -> str:
        """Load the first policy (service, else cache, else RuntimeError naming the upstream)."""
        return await self.policy.start(self.upstream)

    def chores(self, server: GovernanceServer) -> list[Coroutine[Any, Any, None]]:
        self.shipper = AuditShipper(server.store, self.upstream)
        return [
            _restarting("audit shipping", self.shipper.run),
            _restarting("policy long-poll", lambda: self.policy.follow(self.upstream)),
        ]

    async def close(self) -> None:
        await self.upstream.close()

    @staticmethod
    def asks_upstream(event: ToolEvent, decision: Decision) -> bool:
        return decision.outcome is Outcome.APPROVE and event.hook_event_name == "PreToolUse"

    async def ask(
        self,
        server: GovernanceServer,
        event: ToolEvent,
        context: CallContext,
        peer: Peer,
        decision: Decision,
        key: str,
        wait_s: float,
        reader: asyncio.StreamReader | None,
    ) -> dict[str, Any]:
        return await self.approvals.ask(server, event, context, peer, decision, key, wait_s, reader)


async def _restarting(name: str, chore: Callable[[], Awaitable[None]]) -> None:
    """A chore that fails for a reason of its own (a disk error) starts again; none may die."""
    while True:
        try:
            await chore()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("edge %s failed; restarting it", name)
        await asyncio.sleep(RESTART_CHORE_S)
