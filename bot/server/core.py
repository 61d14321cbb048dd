"""GovernanceServer: the one asyncio core every way in (socket, remote API, Slack, edge) calls,
assembled from the parts of bot/server/. It holds the shared state; it speaks no wire itself."""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import ServerConfig, witness_path
from bot.outbound import NotifierWitness, RedactingNotifier
from bot.private_files import check_database
from bot.remote_prompts import RemotePrompts
from bot.scheduler import DeadlineScheduler
from bot.server.approvals import Approvals
from bot.server.break_glass import BreakGlass
from bot.server.chores import Chores
from bot.server.decisions import Decisions
from bot.server.grant_path import GrantPath
from bot.server.lifecycle import Lifecycle
from bot.server.mfa import SecondFactor
from bot.server.notify import ConsoleNotifier, Notifier
from bot.server.policy import PolicyHolder
from bot.server.unix import SocketProtocol
from bot.siem_stream import AuditStream
from engine.approvals import ApprovalState
from engine.mfa import MfaRegistry
from engine.state import is_postgres_url, open_store
from engine.state.audit_writer import AuditWriter
from engine.witness import Witness, WitnessFile

if TYPE_CHECKING:
    from bot.edge.runtime import Edge


class GovernanceServer(
    Lifecycle, SocketProtocol, Decisions, Approvals, GrantPath, SecondFactor, BreakGlass, Chores
):
    """The server's state, built once; its behaviour lives in the parts it is made of."""

    def __init__(
        self,
        config: ServerConfig,
        notifier: Notifier | None = None,
        edge: Edge | None = None,
    ) -> None:
        self.config = config
        if not is_postgres_url(config.db):
            check_database(Path(config.db))
        self.store = open_store(config.db)
        self.audit = AuditWriter(self.store)  # the hot path's appends, a commit per loop turn
        # Edge mode: the policy, the approvals and the audit of record are the team service's.
        self.edge = edge
        self.policy = edge.policy if edge else PolicyHolder(config.policy, config.protected_state())
        # Set here, not with the notifier: Slack attaches its notifier after start(), and a stop
        # asked for or a connection accepted before that must not be forgotten.
        self._stopping = asyncio.Event()
        self.stop_reason = "stopped"
        # Connection tasks, and those among them that have read a request and owe an answer.
        self._connections: set[asyncio.Task[Any]] = set()
        self._answering: set[asyncio.Task[Any]] = set()
        self._buffered = 0  # request bytes all connections hold right now
        # The longest the event loop woke up late, and the most CPU it spent in one such
        # window (lateness with little CPU is the machine's load, not our work); `ping` says.
        self.max_loop_lag_s = 0.0
        self.max_loop_busy_s = 0.0
        self._helper: concurrent.futures.ProcessPoolExecutor | None = None
        self.notifier = notifier or ConsoleNotifier()
        self.waiters: dict[str, set[asyncio.Future[ApprovalState]]] = defaultdict(set)
        self.scheduler = DeadlineScheduler(config.db, self._fire_deadline)
        self.mfa = MfaRegistry(self.store.db)
        self._server: asyncio.base_events.Server | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.stream = AuditStream(self.store, lambda: self.policy.engine.policy.audit.stream)
        self.prompts = RemotePrompts(self.store)
        self.witnesses: list[Witness] = [
            WitnessFile(config.witness or witness_path(None, config.db)),
            NotifierWitness(self),
        ]
        self._anchored: tuple[int, float] = (0, time.monotonic())  # (seq, when) of the last

    @property
    def notifier(self) -> Notifier:
        return self._notifier

    @notifier.setter
    def notifier(self, notifier: Notifier) -> None:
        # Slack attaches its notifier later; whichever it is, it is reached through redaction.
        inner = notifier.inner if isinstance(notifier, RedactingNotifier) else notifier
        self._notifier: Notifier = RedactingNotifier(inner)
