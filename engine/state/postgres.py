"""The PostgreSQL backend: a psycopg 3 connection pool behind the store's SQL, migrations at open,
audit appends serialized across processes by an advisory lock. It decides nothing."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from engine.approvals import ApprovalState
from engine.state import StoreUnavailable, describe
from engine.state.postgres_schema import MIGRATIONS
from engine.store import Store

# Advisory lock keys (any bigint every process agrees on): audit appends, schema migrations,
# and the one server that runs the deadline scheduler.
AUDIT_LOCK = 0x6F7665726E_01
MIGRATION_LOCK = 0x6F7665726E_02
SCHEDULER_LOCK = 0x6F7665726E_03
POOL_SIZE = 8
# NOTIFY channel: "<state>:<approval id>" each time a request reaches a final state.
FINISHED_CHANNEL = "governance_approval_finished"

log = logging.getLogger("governance.store")

# Quoted literals pass through untouched; `?` and `:name` outside them become psycopg's
# `%s` and `%(name)s`; `::type` casts are not parameters.
_PARAMETER = re.compile(r"'(?:[^']|'')*'|(?<![:\w]):([A-Za-z_]\w*)|\?")


@functools.lru_cache(maxsize=512)
def to_psycopg(sql: str) -> str:
    """The store's sqlite3-style SQL with psycopg's placeholders (and `%` doubled)."""

    def replace(match: re.Match[str]) -> str:
        text = match.group(0)
        if text.startswith("'"):
            return text
        return "%s" if text == "?" else f"%({match.group(1)})s"

    return _PARAMETER.sub(replace, sql.replace("%", "%%"))


@dataclass(frozen=True, slots=True)
class Result:
    """What a statement returned, fetched before its connection went back to the pool."""

    rows: list[tuple[Any, ...]]
    rowcount: int

    def fetchone(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self.rows)


Parameters = Sequence[Any] | Mapping[str, Any] | None


class PgDatabase:
    """sqlite3-style `execute`/`query` over a pool of autocommit connections. Inside
    `transaction()` every statement of the calling thread (or task) uses that one connection."""

    dialect = "postgresql"

    def __init__(self, url: str, max_size: int = POOL_SIZE) -> None:
        self.url = url
        # One direct connection first: its error says why (refused, no such database, bad
        # password); a pool would only time out.
        try:
            psycopg.connect(url, connect_timeout=10).close()
        except psycopg.Error as error:
            reason = " ".join(str(error).split())
            raise StoreUnavailable(f"cannot open {describe(url)}: {reason}") from None
        self.pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max_size,
            kwargs={"autocommit": True},
            open=False,
            name="governance",
        )
        self.pool.open(wait=True, timeout=30)
        self._pinned: ContextVar[psycopg.Connection[Any] | None] = ContextVar(
            f"governance-pg-{id(self)}", default=None
        )

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        pinned = self._pinned.get()
        if pinned is not None:
            yield pinned
            return
        with self.pool.connection() as connection:
            yield connection

    @property
    def in_transaction(self) -> bool:
        return self._pinned.get() is not None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[Any]]:
        pinned = self._pinned.get()
        if pinned is not None:  # nested: part of the caller's transaction
            yield pinned
            return
        with self.pool.connection() as connection, connection.transaction():
            token = self._pinned.set(connection)
            try:
                yield connection
            finally:
                self._pinned.reset(token)

    def execute(self, sql: str, parameters: Parameters = None) -> Result:
        with self.connection() as connection:
            cursor = connection.execute(to_psycopg(sql), parameters)
            rows = cursor.fetchall() if cursor.description else []
            return Result(rows, cursor.rowcount)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """One statement for many rows, pipelined: one round trip, not one per row."""
        with self.connection() as connection:
            connection.cursor().executemany(to_psycopg(sql), rows)

    def query(self, sql: str, parameters: Parameters = None) -> Iterator[dict[str, Any]]:
        """Rows as dicts, like sqlite-utils' `Database.query`."""
        with self.connection() as connection:
            cursor = connection.cursor(row_factory=dict_row)
            rows = cursor.execute(to_psycopg(sql), parameters).fetchall()
        yield from rows

    def stream(self, sql: str, parameters: Parameters = None) -> Iterator[dict[str, Any]]:
        """Rows as dicts from a server-side cursor: a million audit rows never sit in memory."""
        # Not pinned: while the caller holds this generator, its other statements run apart.
        with self.connection() as connection, connection.transaction():
            cursor = connection.cursor(f"governance_stream_{id(self)}", row_factory=dict_row)
            with cursor:
                cursor.itersize = 5_000
                yield from cursor.execute(to_psycopg(sql), parameters)

    def close(self) -> None:
        self.pool.close()


class PostgresStore(Store):
    """The store on one PostgreSQL database; several processes may share it."""

    # Each query waits on a round trip: callers on an event loop run it in a worker thread.
    queries_wait_on_network = True

    def __init__(self, url: str) -> None:
        self.url = url
        self.db = PgDatabase(url)  # type: ignore[assignment]
        self._lock = threading.RLock()
        try:
            self._migrate()
        except BaseException:
            self.db.close()
            raise

    def _migrate(self) -> None:
        # A session lock on one connection: replicas starting together migrate one at a time.
        with self.db.connection() as connection:
            connection.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK])
            try:
                # Checked first: a service role without CREATE rights opens a migrated database.
                (exists,) = connection.execute(
                    "SELECT to_regclass('schema_version') IS NOT NULL"
                ).fetchone()
                if not exists:
                    connection.execute(
                        "CREATE TABLE schema_version "
                        "(version INTEGER PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)"
                    )
                (current,) = connection.execute(
                    "SELECT COALESCE(MAX(version), 0) FROM schema_version"
                ).fetchone()
                for version, script in enumerate(MIGRATIONS, 1):
                    if version <= current:
                        continue
                    with connection.transaction():
                        connection.execute(script)
                        connection.execute(
                            "INSERT INTO schema_version (version, applied_at) VALUES (%s, %s)",
                            [version, time.time()],
                        )
            finally:
                connection.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK])

    @contextlib.contextmanager
    def _write(self) -> Iterator[None]:
        """One transaction holding the audit lock until it ends, so the tail it reads is the tail
        it extends, whichever process or replica appends beside it."""
        with self.db.transaction():
            self.db.execute("SELECT pg_advisory_xact_lock(?)", [AUDIT_LOCK])
            yield

    def append_audit_records(self, records: list[dict[str, Any]]) -> list[int]:
        try:
            return super().append_audit_records(records)
        except PoolTimeout as error:  # said apart, so no caller retries row by row meanwhile
            raise StoreUnavailable(f"{describe(self.url)}: {error}") from None

    def _insert_many(self, sql: str, rows: list[list[Any]]) -> None:
        self.db.executemany(sql, rows)

    def _delete_audit_through(self, seq: int) -> None:
        # The trigger lets a DELETE through only in a transaction that says it is a prune.
        self.db.execute("SET LOCAL governance.prune = 'on'")
        self.db.execute("DELETE FROM audit WHERE seq <= ?", [seq])

    def _stream(self, sql: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield from self.db.stream(sql, params)

    def audit_rows(
        self, where: str = "", params: dict[str, Any] | None = None, order: str = "seq"
    ) -> Iterator[dict[str, Any]]:
        sql = f"SELECT * FROM audit {('WHERE ' + where) if where else ''} ORDER BY {order}"
        yield from self.db.stream(sql, params or {})

    def announce_finished(self, approval_id: str, state: ApprovalState) -> None:
        """Tell every process on this database (LISTEN/NOTIFY); call once the request's grant
        and audit rows are written, so a replica woken by it finds them."""
        self.db.execute("SELECT pg_notify(?, ?)", [FINISHED_CHANNEL, f"{state}:{approval_id}"])

    async def finished_approvals(self) -> AsyncIterator[tuple[str, ApprovalState]]:
        """(approval id, final state) as any process finishes a request, for as long as the
        caller listens; a lost connection is re-opened (what finished meanwhile is not heard:
        the hook waiting on it gets its answer on retry, from the table)."""
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.url, autocommit=True
                ) as connection:
                    await connection.execute(f"LISTEN {FINISHED_CHANNEL}")
                    async for notice in connection.notifies():
                        state, _, approval_id = notice.payload.partition(":")
                        yield approval_id, ApprovalState(state)
            except psycopg.OperationalError:
                log.warning("lost the approval notification channel; reconnecting")
                await asyncio.sleep(1.0)
