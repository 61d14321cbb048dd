"""Approval timers on APScheduler (3.x, SQLAlchemy job store in the store's own database).
The deadlines table is the source of truth; jobs only wake the server up to act on a row."""

from __future__ import annotations

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
    await _fire(deadline_id)


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


class DeadlineScheduler:
    """Exactly one per store: on SQLite it holds an exclusive lock on `<db>.scheduler.lock`; on
    PostgreSQL a session advisory lock, held by one connection for as long as it runs."""

    def __init__(self, db: Path | str, fire: Callable[[int], Awaitable[None]]) -> None:
        self._db = db
        self._lock_path = Path(f"{db}.scheduler.lock")
        self._lock_fd: int | None = None
        self._lock_connection: Any = None
        self._fire = fire
        self.scheduler = AsyncIOScheduler(jobstores={"default": _job_store(db)}, timezone=dt.UTC)

    def _take_postgres_lock(self) -> None:
        import psycopg

        from engine.state.postgres import SCHEDULER_LOCK

        connection = psycopg.connect(str(self._db), autocommit=True)
        (held,) = connection.execute("SELECT pg_try_advisory_lock(%s)", [SCHEDULER_LOCK]).fetchone()
        if not held:
            connection.close()
            raise SchedulerLockHeld(
                "another governance server already runs the scheduler for this database"
            )
        self._lock_connection = connection

    def _take_lock(self) -> None:
        if is_postgres_url(self._db):
            self._take_postgres_lock()
            return
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

    def start(self, pending: list[Deadline]) -> None:
        self._take_lock()
        global _fire
        _fire = self._fire
        self.scheduler.start()
        # Rows, not the job store, say what is still due: re-arm every pending deadline.
        for deadline in pending:
            self.schedule(deadline)

    def schedule(self, deadline: Deadline) -> None:
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
