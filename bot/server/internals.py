"""The state every part of the server shares and the small helpers they all use (audit fields,
the helper process, background notifications). Private to bot/server/: it must not decide."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import multiprocessing
import signal
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from bot.config import ServerConfig
from bot.remote_prompts import RemotePrompts
from bot.scheduler import DeadlineScheduler
from bot.server.notify import ConsoleNotifier, Notifier
from bot.server.policy import PolicyHolder
from bot.server.protocol import Peer
from bot.siem_stream import AuditStream
from engine.approvals import ApprovalState
from engine.events import CallContext, ToolEvent
from engine.mfa import MfaRegistry
from engine.state.audit_writer import AuditWriter
from engine.store import RedactedJson, Store
from engine.witness import Witness

if TYPE_CHECKING:
    from bot.edge.runtime import Edge

log = logging.getLogger("governance.server")
T = TypeVar("T")


class ServerParts:
    """What GovernanceServer.__init__ sets up, as every part of the server sees it."""

    config: ServerConfig
    store: Store
    audit: AuditWriter
    edge: Edge | None
    policy: PolicyHolder
    waiters: dict[str, set[asyncio.Future[ApprovalState]]]
    scheduler: DeadlineScheduler
    mfa: MfaRegistry
    stream: AuditStream
    prompts: RemotePrompts
    witnesses: list[Witness]
    stop_reason: str
    max_loop_lag_s: float
    max_loop_busy_s: float
    _notifier: Notifier
    _server: asyncio.base_events.Server | None
    _tasks: list[asyncio.Task[None]]
    _stopping: asyncio.Event
    _connections: set[asyncio.Task[Any]]
    _answering: set[asyncio.Task[Any]]
    _buffered: int
    _helper: concurrent.futures.ProcessPoolExecutor | None
    _anchored: tuple[int, float]

    def _audit_fields(self, event: ToolEvent, context: CallContext, peer: Peer) -> dict[str, Any]:
        return {
            "session_id": event.session_id,
            "user": context.user or peer.user,
            "peer_user": peer.user,
            "host": peer.host or context.host,
            "repo": context.repo or event.cwd,
            "branch": context.git_branch,
            "tool_name": event.tool_name or event.hook_event_name,
        }

    def _versioned(self, payload: dict[str, Any]) -> dict[str, Any]:
        """An edge's decisions say which version of the service's policy judged them."""
        version = self.policy.version
        return payload if version is None else {**payload, "policy_version": version}

    async def _query(self, query: Callable[..., T], *args: Any) -> T:
        """A store read on the hot path: in a worker thread when it waits on the network
        (PostgreSQL), so the loop serves other requests meanwhile; inline on SQLite."""
        if self.store.queries_wait_on_network:
            return await asyncio.to_thread(query, *args)
        return query(*args)

    async def _prepared(self, payload: Any, large: bool) -> Any:
        """A large payload redacted and serialised in the helper process; a small one as it is."""
        return await self._in_helper(RedactedJson.of, payload) if large else payload

    async def _in_helper(self, work: Callable[..., Any], *args: Any) -> Any:
        if self._helper is None:  # started at the first large request: most servers never do
            self._helper = concurrent.futures.ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                # Ctrl-C reaches the whole process group: the server alone decides to stop.
                initializer=signal.signal,
                initargs=(signal.SIGINT, signal.SIG_IGN),
            )
        return await asyncio.get_running_loop().run_in_executor(self._helper, work, *args)

    def _background(self, work: Awaitable[None]) -> None:
        """Notify without holding up the decision; a Slack outage must not block agents."""

        async def guarded() -> None:
            try:
                await work
            except Exception:
                log.exception("notification failed")

        task = asyncio.get_running_loop().create_task(guarded())
        self._tasks.append(task)
        task.add_done_callback(self._tasks.remove)

    @property
    def _console_only(self) -> bool:
        return isinstance(self._notifier.inner, ConsoleNotifier)
