"""Approval timers on APScheduler (3.x, SQLAlchemy job store in the store's own database).
The deadlines table is the source of truth; jobs only wake the server up to act on a row."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import fcntl
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from engine.state import is_postgres_url
from engine.store import Deadline

log = logging.getLogger("governance.scheduler")

# The job function is referenced by text, so a job stored before a restart still resolves;
# it reaches the running server through this slot.
_fire: Callable[[int], Awaitable[None]] | None = None


async def fire_deadline(deadline_id: int) -> None:
    if _fire is None:
        log.warning("deadline %s fired with no server to act on it", deadline_id)
        return
    try:
        await _fire(deadline_id)
    except asyncio.CancelledError:
        # The server is stopping mid-notification (SIGTERM): the row's new state is stored
        # already; ending quietly keeps APScheduler from logging a traceback for it.
        log.warning("deadline %s: its notification was cut short by the shutdown", deadline_id)


class SchedulerLockHeld(RuntimeError):
    pass


def _job_store(db: Path | str) -> SQLAlchemyJobStore:
    if is_postgres_url(db):
        # SQLAlchemy over psycopg 3, the driver the store itself uses.
        url = "postgresql+psycopg://" + str(db).split("://", 1)[1]
        return SQLAlchemyJobStore(url=url, engine_options={"pool_pre_ping": True})
    return SQLAlchemyJobStore(
        url=f"sqlite:///{db}", engine_options={"connect_args": {"timeout": 10}}
    )


# A standby replica asks for the scheduler lock this often, and the leader looks this often
# for deadlines other replicas wrote: a dead leader's deadlines fire within a few seconds.
LEADER_POLL_S = 2.0


class DeadlineScheduler:
    """Exactly one runs per store. SQLite: an exclusive lock on `<db>.scheduler.lock`, and a
    second server refuses to start. PostgreSQL: a session advisory lock held by one connection;
    a replica without it is a standby that takes the lock (and every pending deadline, from the
    table) when the leader's session ends. A deadline that two leaders both arm still acts
    once: `Store.claim_deadline` lets one caller have it."""

    def __init__(self, db: Path | str, fire: Callable[[int], Awaitable[None]]) -> None:
        self._db = db
        self._lock_path = Path(f"{db}.scheduler.lock")
        self._lock_fd: int | None = None
        self._lock_connection: Any = None
        self._fire = fire
        self._pending: Callable[[], list[Deadline]] = list
        self._armed: set[int] = set()
        self._watch: asyncio.Task[None] | None = None
        self.scheduler = AsyncIOScheduler(jobstores={"default": _job_store(db)}, timezone=dt.UTC)

    @property
    def leading(self) -> bool:
        return self.scheduler.running

    def _try_postgres_lock(self) -> bool:
        import psycopg

        from engine.state.postgres import SCHEDULER_LOCK

        if self._lock_connection is None:
            self._lock_connection = psycopg.connect(str(self._db), autocommit=True)
        (held,) = self._lock_connection.execute(
            "SELECT pg_try_advisory_lock(%s)", [SCHEDULER_LOCK]
        ).fetchone()
        return bool(held)

    def _take_file_lock(self) -> None:
        fd = os.open(self._lock_path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise SchedulerLockHeld(
                f"another governance server already runs the scheduler for this database "
                f"({self._lock_path})"
            ) from None
        self._lock_fd = fd

    def start(self, pending: Callable[[], list[Deadline]]) -> None:
        """Lead, or (PostgreSQL, lock held elsewhere) stand by; `pending` reads the table."""
        global _fire
        _fire = self._fire
        self._pending = pending
        if not is_postgres_url(self._db):
            self._take_file_lock()
            self._lead()
            return
        loop = asyncio.get_running_loop()
        if self._try_postgres_lock():
            self._lead()
            self._watch = loop.create_task(self._keep_armed())
        else:
            log.info("another replica runs the scheduler: standing by")
            self._watch = loop.create_task(self._stand_by())

    def _lead(self) -> None:
        self.scheduler.start()
        # Rows, not the job store, say what is still due: arm every pending deadline.
        self._arm_pending()

    def _arm_pending(self) -> None:
        for deadline in self._pending():
            if deadline.id not in self._armed:
                self.schedule(deadline)

    async def _stand_by(self) -> None:
        """Ask for the lock until the leader's session ends (kill -9 included); then lead."""
        while True:
            await asyncio.sleep(LEADER_POLL_S)
            try:
                if self._try_postgres_lock():
                    break
            except Exception:  # the database restarted: reconnect on the next round
                log.exception("scheduler lock check failed")
                self._lock_connection = None
        log.info("took over the scheduler")
        self._lead()
        await self._keep_armed()

    async def _keep_armed(self) -> None:
        """Arm the deadlines other replicas wrote: only the leader runs APScheduler."""
        while True:
            await asyncio.sleep(LEADER_POLL_S)
            try:
                self._arm_pending()
            except Exception:
                log.exception("arming pending deadlines failed")

    def schedule(self, deadline: Deadline) -> None:
        if not self.leading:  # a standby: the leader arms it from the table
            return
        self._armed.add(deadline.id)
        self.scheduler.add_job(
            "bot.scheduler:fire_deadline",
            trigger="date",
            run_date=dt.datetime.fromtimestamp(deadline.due_at, dt.UTC),
            args=[deadline.id],
            id=f"deadline-{deadline.id}",
            replace_existing=True,
            # APScheduler's default grace of 1 s silently drops a one-shot job that came due
            # while the server was down; a deadline must fire late rather than never.
            misfire_grace_time=None,
            coalesce=True,
        )

    def cancel(self, deadline_ids: list[int]) -> None:
        for deadline_id in deadline_ids:
            with contextlib.suppress(JobLookupError):
                self.scheduler.remove_job(f"deadline-{deadline_id}")

    def shutdown(self) -> None:
        global _fire
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        _fire = None
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None
        if self._lock_connection is not None:
            self._lock_connection.close()  # the session ends, and its advisory lock with it
            self._lock_connection = None
