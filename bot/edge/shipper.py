"""Ships the edge's local audit to the team service: every row, in seq order, the seq as the
event id (a resend is stored once), with backoff. It moves its cursor; it never writes a row."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from tenacity import AsyncRetrying, retry_if_exception_type, stop_never, wait_exponential_jitter

from bot.edge.upstream import Upstream, UpstreamError
from bot.remote import EDGE_KINDS, EdgeEvent
from engine.store import Store

log = logging.getLogger("governance.edge.shipper")

# The cursor row in stream_cursors: the last local seq the service acknowledged.
CURSOR = "edge:upstream"
BATCH_ROWS = 200
IDLE_S = 0.2
# The columns an upload carries as they are: the service's EdgeEvent contract, less what
# edge_event builds itself.
_FIELDS = tuple(
    name for name in EdgeEvent.model_fields if name not in {"event_id", "kind", "ts", "payload"}
)


def edge_event(row: dict[str, Any]) -> dict[str, Any]:
    """The /v1/audit/events form of one local audit row."""
    payload = _payload(row.get("payload"))
    kind = row["kind"]
    if kind not in EDGE_KINDS:  # still shipped, so the host's event ids have no gap
        payload = {**(payload or {}), "edge_kind": kind}
        kind = "edge_other"
    event = {"event_id": str(row["seq"]), "kind": kind, "ts": row["ts"], "payload": payload}
    event.update({name: row[name] for name in _FIELDS if row.get(name) is not None})
    return event


def _payload(text: Any) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text) if isinstance(text, str) else text
    except json.JSONDecodeError:
        return {"text": text}
    return value if isinstance(value, dict) else {"value": value}


def _acknowledged(body: Any) -> set[str]:
    try:
        return {str(item["event_id"]) for item in body["events"]}
    except (TypeError, KeyError):
        raise UpstreamError("the service's answer to an upload has no event list") from None


class AuditShipper:
    """One task per edge; `backlog` is what the service has not acknowledged yet."""

    def __init__(self, store: Store, upstream: Upstream) -> None:
        self.store = store
        self.upstream = upstream
        self.cursor = store.stream_cursor(CURSOR) or 0
        self.backlog = max(0, store.last_seq() - self.cursor)

    async def run(self) -> None:
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(UpstreamError),
            wait=wait_exponential_jitter(initial=0.2, max=5),
            stop=stop_never,
            before_sleep=self._note_failure,
            reraise=True,
        )
        while True:
            rows = self.store.rows_after(self.cursor, BATCH_ROWS)
            self.backlog = max(0, self.store.last_seq() - self.cursor)
            if not rows:
                await asyncio.sleep(IDLE_S)
                continue
            events = [edge_event(row) for row in rows]
            async for attempt in retrying.copy():
                with attempt:
                    answer = await self.upstream.call(
                        "POST", "/v1/audit/events", {"events": events}
                    )
                    acknowledged = _acknowledged(answer.body)
                    missing = [e["event_id"] for e in events if e["event_id"] not in acknowledged]
                    if missing:
                        raise UpstreamError(f"the service did not acknowledge {missing[:5]}")
            self.cursor = rows[-1]["seq"]
            self.store.set_stream_cursor(CURSOR, self.cursor)
            self.backlog = max(0, self.store.last_seq() - self.cursor)

    def _note_failure(self, state: Any) -> None:
        error = state.outcome.exception() if state.outcome else None
        if state.attempt_number in (1, 10) or state.attempt_number % 100 == 0:
            log.warning(
                "audit upload to %s failed (attempt %d, %d event(s) waiting): %s",
                self.upstream.url,
                state.attempt_number,
                self.backlog,
                error,
            )
