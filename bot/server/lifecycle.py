"""Starting and stopping the server: the socket, the timers and background loops, and the
graceful stop (SIGTERM as Ctrl-C). It must not decide a call or build a hook's answer."""

from __future__ import annotations

import asyncio
import contextlib
import grp
import logging
import os
import resource
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.private_files import SOCKET_DIR_MODE, SPOOL_DIR_MODE, make_dir
from bot.server.internals import ServerParts
from bot.server.unix import _READER_LIMIT
from engine.state.postgres import PostgresStore

log = logging.getLogger("governance.server")

RISK_SUMMARY_PERIOD_S = float(os.environ.get("GOVERNANCE_RISK_SUMMARY_S", "30"))
# How long a stop waits for the hooks it released to receive their answers.
SHUTDOWN_GRACE_S = 5.0
GRANT_EXPIRY_PERIOD_S = 1.0


class Lifecycle(ServerParts):
    """Start, serve until asked to stop, then stop gracefully."""

    async def start(self) -> None:
        _raise_fd_limit()
        path = self.config.socket
        group_id = _group_id(self.config.socket_group)
        if make_dir(path.parent, SOCKET_DIR_MODE) and group_id is not None:
            os.chown(path.parent, -1, group_id)  # the group reaches the socket inside
        make_dir(self.config.spool, SPOOL_DIR_MODE)
        if path.exists() or path.is_symlink():
            if await _socket_is_live(path):
                raise RuntimeError(f"another governance server is already listening on {path}")
            path.unlink()
        self.scheduler.start(self.store.pending_deadlines)
        self.audit.start()
        self._server = await asyncio.start_unix_server(
            # The reader's own buffer stays one chunk; _read_line enforces the line cap.
            self._serve_connection,
            path=str(path),
            limit=_READER_LIMIT,
            backlog=1024,
        )
        os.chmod(path, 0o660)
        if group_id is not None:
            os.chown(path, -1, group_id)
        self.store.append_audit(
            "server_started",
            reason=f"policy {self.policy.source}",
            mode=str(self.policy.engine.policy.mode),
            payload={"socket": str(path), "pid": os.getpid()},
        )
        if isinstance(self.store, PostgresStore):
            self._tasks.append(asyncio.create_task(self._follow_other_replicas()))
        self._tasks.append(asyncio.create_task(self._watch_loop_lag()))
        for loop_body, period in (
            (self._ingest_spool, 2.0),
            (self._watch_policy, 1.0),
            (self._risk_summary, RISK_SUMMARY_PERIOD_S),
            (self._anchor_if_due, min(1.0, self.config.anchor_interval_s)),
            (self._expire_grants, GRANT_EXPIRY_PERIOD_S),
        ):
            self._tasks.append(asyncio.create_task(self._every(period, loop_body)))
        self._tasks.append(asyncio.create_task(self.stream.run()))
        if self.edge is not None:
            self._tasks.extend(asyncio.create_task(work) for work in self.edge.chores(self))

    async def _follow_other_replicas(self) -> None:
        """A request finished by another replica on the same PostgreSQL (a vote, an expiry)
        answers the hooks waiting on it here at once."""
        assert isinstance(self.store, PostgresStore)
        async for approval_id, state in self.store.finished_approvals():
            self._resolve(approval_id, state)

    async def serve_forever(self) -> None:
        """Serve until request_stop (SIGTERM, Ctrl-C); close() then stops gracefully."""
        assert self._server is not None
        await self._stopping.wait()

    def request_stop(self, reason: str = "stopped") -> None:
        self.stop_reason = reason
        self._stopping.set()

    async def close(self) -> None:
        """Stop listening, answer every hook that waits, stop the timers, audit the stop and
        remove the socket: the same on SIGTERM as on Ctrl-C."""
        self._stopping.set()
        if self._server is not None:
            self._server.close()
        for futures in list(self.waiters.values()):
            for future in futures:
                future.cancel()  # _wait_for answers its hook: "stays pending, retry"
        answering = set(self._answering)
        if answering:
            await asyncio.wait(answering, timeout=SHUTDOWN_GRACE_S)
        leftover = [*self._connections, *self._tasks]
        for task in leftover:
            task.cancel()
        await asyncio.gather(*leftover, return_exceptions=True)
        await self.audit.close()  # every queued row committed before the stop is recorded
        self.stream.close()
        self.scheduler.shutdown()
        if self._helper is not None:
            self._helper.shutdown(cancel_futures=True)
        self.store.append_audit(
            "server_stopped",
            reason=self.stop_reason,
            payload={"pid": os.getpid(), "answered_waiting_hooks": len(answering)},
        )
        with contextlib.suppress(FileNotFoundError):
            self.config.socket.unlink()
        try:
            await self.publish_anchor("shutdown")
        except Exception:  # shutting down must finish even if the store is already unusable
            log.exception("could not publish the shutdown anchor")
        self.store.close()

    async def _watch_loop_lag(self, period: float = 0.05) -> None:
        """How late a short sleep wakes up is how long something held the event loop."""
        loop = asyncio.get_running_loop()
        while True:
            started, cpu = loop.time(), time.thread_time()
            await asyncio.sleep(period)
            self.max_loop_lag_s = max(self.max_loop_lag_s, loop.time() - started - period)
            self.max_loop_busy_s = max(self.max_loop_busy_s, time.thread_time() - cpu)

    async def _every(self, period: float, body: Callable[[], Awaitable[None]]) -> None:
        while True:
            try:
                await body()
            except Exception:  # a background chore must never stop the server
                log.exception("background task failed")
            await asyncio.sleep(period)


async def _socket_is_live(path: Path) -> bool:
    try:
        _reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(str(path)), 1)
    except (OSError, TimeoutError):
        return False
    writer.close()
    return True


def _group_id(name: str | None) -> int | None:
    if name is None:
        return None
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        raise RuntimeError(f"--socket-group {name}: no such group on this machine") from None


def _raise_fd_limit() -> None:
    # Thousands of idle or waiting hooks each hold a descriptor; the default soft limit is 1024.
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
