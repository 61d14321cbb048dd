"""Group commit of the audit trail on both backends: concurrent appends share transactions yet
each caller's row is committed, chained and in arrival order; odd text and a dropped database
connection lose no row."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import psycopg
import pytest

from engine.state import open_store
from engine.state.audit_writer import AuditWriter
from engine.store import Store


@pytest.fixture
def store(db_location: str) -> Iterator[Store]:
    opened = open_store(db_location)
    yield opened
    opened.close()


def test_concurrent_appends_are_committed_chained_and_in_arrival_order(
    store: Store, db_location: str
) -> None:
    async def scenario() -> list[int]:
        writer = AuditWriter(store)
        writer.start()
        seqs = await asyncio.gather(
            *(writer.append("decision", session_id=f"call-{n}") for n in range(300))
        )
        # Every caller has its answer: its row is there for another process's connection.
        other = open_store(db_location)
        try:
            assert other.audit_count() == 300
        finally:
            other.close()
        await writer.close()
        return seqs

    seqs = asyncio.run(scenario())
    assert seqs == list(range(1, 301))
    rows = list(store.audit_rows())
    assert [row["session_id"] for row in rows] == [f"call-{n}" for n in range(300)]
    assert store.verify().ok


def test_text_no_database_can_store_is_recorded_not_lost(store: Store) -> None:
    async def scenario() -> list[int]:
        writer = AuditWriter(store)
        writer.start()
        # NUL (PostgreSQL refuses it) and a lone surrogate (JSON's "\\ud800"; no UTF-8 form).
        seqs = await asyncio.gather(
            writer.append("decision", reason="fine"),
            writer.append(
                "decision",
                session_id="s\x00",
                reason="odd \ud800",
                payload={"tool_input": {"command": "ls \ud800"}},
            ),
        )
        await writer.close()
        return seqs

    assert asyncio.run(scenario()) == [1, 2]
    fine, odd = store.audit_rows()
    assert fine["reason"] == "fine"
    assert (odd["session_id"], odd["reason"]) == ("s\ufffd", "odd \ufffd")
    assert json.loads(odd["payload"]) == {"tool_input": {"command": "ls \ufffd"}}
    assert store.verify().ok


def test_a_batch_cut_off_by_a_dropped_connection_is_retried_row_by_row(pg_url: str) -> None:
    store = open_store(pg_url)

    async def scenario() -> list[int]:
        writer = AuditWriter(store)
        writer.start()
        await writer.append("server_started")
        # The database drops the store's connections (a restart, a failover, an admin).
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        seqs = await asyncio.gather(
            *(writer.append("decision", session_id=f"after-{n}") for n in range(20))
        )
        await writer.close()
        return seqs

    try:
        assert asyncio.run(scenario()) == list(range(2, 22))
        assert store.audit_count() == 21
        assert store.verify().ok
    finally:
        store.close()


def test_close_commits_every_queued_row(store: Store) -> None:
    async def scenario() -> None:
        writer = AuditWriter(store)
        writer.start()
        callers = [
            asyncio.ensure_future(writer.append("decision", session_id=f"s-{n}")) for n in range(50)
        ]
        await asyncio.sleep(0)  # queued, not yet committed
        for caller in callers[:10]:
            caller.cancel()  # their clients hung up: the rows are still written
        await writer.close()
        await asyncio.gather(*callers, return_exceptions=True)
        # After close, appends are written at once, one at a time.
        assert await writer.append("server_stopped") == 51

    asyncio.run(scenario())
    assert store.audit_count() == 51
    assert store.verify().ok
