"""Group commit of the audit trail on both backends: concurrent appends share transactions yet
each caller's row is committed, chained and in arrival order; a refused row fails alone."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

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


def test_a_row_the_database_refuses_fails_alone(store: Store) -> None:
    async def scenario() -> list[int | BaseException]:
        writer = AuditWriter(store)
        writer.start()
        # A lone surrogate (what JSON's "\ud800" decodes to) has no UTF-8 form to store.
        reasons = ["fine", "bad \ud800", "fine too"]
        results = await asyncio.gather(
            *(writer.append("decision", reason=reason) for reason in reasons),
            return_exceptions=True,
        )
        await writer.close()
        return results

    first, refused, last = asyncio.run(scenario())
    assert isinstance(refused, Exception)
    assert isinstance(first, int) and isinstance(last, int)
    assert [row["reason"] for row in store.audit_rows()] == ["fine", "fine too"]
    assert store.verify().ok


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
