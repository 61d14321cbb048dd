"""Group commit for the audit trail: concurrent requests' appends share one transaction per
turn of the event loop. The store chains the rows; no caller hears back before its row commits."""

from __future__ import annotations

import asyncio
from typing import Any

from engine.state import StoreUnavailable
from engine.store import Store, audit_record

# Rows per transaction at most: a burst is committed in slices, each answered as it lands.
MAX_BATCH = 500


class AuditWriter:
    """`await append(...)` queues a row and returns its seq once the transaction holding it
    has committed; one task drains the queue, a batch at a time, in arrival order. On
    PostgreSQL the commit runs in a worker thread, so the loop serves requests meanwhile and
    the rows arriving in the meantime make up the next batch."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._queued: list[tuple[dict[str, Any], asyncio.Future[int]]] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._drain())

    async def append(self, kind: str, **fields: Any) -> int:
        """Append one redacted, hash-chained row; its seq, once committed."""
        if self._task is None or self._task.done():  # not started, or closed: write it now
            return self.store.append_audit(kind, **fields)
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._queued.append((audit_record(kind, fields), future))
        self._wake.set()
        # Shielded: a caller cancelled (its client hung up) still has its row written.
        return await asyncio.shield(future)

    async def close(self) -> None:
        """Commit everything queued, then stop; later appends are written one at a time."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task

    async def _drain(self) -> None:
        while True:
            if not self._queued:
                if self._closing:
                    return
                await self._wake.wait()
                self._wake.clear()
                continue
            batch = self._queued[:MAX_BATCH]
            del self._queued[:MAX_BATCH]
            await self._commit(batch)

    async def _commit(self, batch: list[tuple[dict[str, Any], asyncio.Future[int]]]) -> None:
        try:
            seqs = await self._append([record for record, _ in batch])
        except Exception as error:
            # No database to write to: every row would wait as long again, so all fail now.
            if len(batch) == 1 or isinstance(error, StoreUnavailable):
                for _, future in batch:
                    _settle(future, error=error)
                return
            # A dropped connection or a row the database refuses: each alone, in order.
            for one in batch:
                await self._commit([one])
            return
        for (_, future), seq in zip(batch, seqs, strict=True):
            _settle(future, seq=seq)

    async def _append(self, records: list[dict[str, Any]]) -> list[int]:
        if self.store.queries_wait_on_network:
            return await asyncio.to_thread(self.store.append_audit_records, records)
        return self.store.append_audit_records(records)


def _settle(
    future: asyncio.Future[int], seq: int | None = None, error: Exception | None = None
) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    elif seq is not None:
        future.set_result(seq)
