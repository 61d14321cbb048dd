"""Streams every audit row, as it is recorded, to the policy's syslog and HTTP collectors.
Runs beside the decisions, never in their way: the audit table is the spool, a cursor per
sink says what was delivered, and a collector that is down is retried with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import logging.handlers
import os
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp

from bot.config import product_version
from engine.policy import StreamSink
from engine.redact import redact
from engine.siem import to_cef, to_ocsf
from engine.store import Store

log = logging.getLogger(__name__)

BATCH = 500  # rows in memory per sink at a time: the backlog itself stays in the database
POLL_S = 0.25
MAX_BACKOFF_S = 30.0
HTTP_TIMEOUT_S = 10.0
# RFC 5424 structured-data id: 32473 is the enterprise number reserved for examples (RFC 5612).
SD_ID = "governance@32473"
_LEVELS = {"critical": logging.CRITICAL, "high": logging.ERROR, "medium": logging.WARNING}


class DeliveryError(Exception):
    """The collector did not take the batch; it will be sent again."""


def render(sink: StreamSink, row: dict[str, Any]) -> str:
    # Rows are redacted when written; again on the way out, as `audit export` does, so rows an
    # older version wrote with a narrower redaction table leave no secret either.
    row = redact(row)
    if sink.format == "cef":
        return to_cef(row, product_version())
    return json.dumps(to_ocsf(row, product_version()), ensure_ascii=False)


def _sd_value(text: object) -> str:
    return str(text).replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


class Rfc5424Formatter(logging.Formatter):
    """`1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG`; SysLogHandler adds the `<PRI>`."""

    def __init__(self, framing: str = "") -> None:
        super().__init__()
        self.host = socket.gethostname() or "-"
        self.framing = framing

    def format(self, record: logging.LogRecord) -> str:
        row = record.args if isinstance(record.args, dict) else {}
        stamp = datetime.fromtimestamp(row.get("ts", record.created), UTC)
        structured = f'[{SD_ID} seq="{row.get("seq")}" hash="{_sd_value(row.get("hash"))}"]'
        return (
            f"1 {stamp.isoformat(timespec='milliseconds').replace('+00:00', 'Z')} {self.host} "
            f"claude-governance {os.getpid()} {row.get('kind', '-')} {structured} "
            f"{record.msg}{self.framing}"
        )


class _RaisingSysLogHandler(logging.handlers.SysLogHandler):
    # The standard handler prints send errors and drops the record; a stream must retry it.
    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 (logging's name)
        raise DeliveryError("syslog send failed")


class SyslogSender:
    def __init__(self, sink: StreamSink) -> None:
        assert sink.address is not None
        self.sink = sink
        self.handler: logging.handlers.SysLogHandler | None = None

    def _open(self) -> logging.handlers.SysLogHandler:
        scheme, _, rest = self.sink.address.partition(":")  # type: ignore[union-attr]
        framing = "\n" if scheme == "tcp" else ""  # RFC 6587 non-transparent framing on TCP
        if scheme == "unix":
            handler = _RaisingSysLogHandler(address=rest)
        else:
            host, _, port = rest.removeprefix("//").rpartition(":")
            kind = socket.SOCK_STREAM if scheme == "tcp" else socket.SOCK_DGRAM
            handler = _RaisingSysLogHandler(address=(host, int(port)), socktype=kind)
        handler.facility = logging.handlers.SysLogHandler.LOG_AUTH
        handler.append_nul = False
        handler.setFormatter(Rfc5424Formatter(framing))
        return handler

    def send(self, rows: list[dict[str, Any]]) -> None:
        try:
            if self.handler is None:
                self.handler = self._open()
            for row in rows:
                record = logging.LogRecord(
                    "governance.audit",
                    _LEVELS.get(row.get("risk") or "", logging.INFO),
                    __file__,
                    0,
                    render(self.sink, row),
                    None,
                    None,
                )
                record.args = row  # the formatter reads seq, hash, kind from it
                self.handler.emit(record)
        except (OSError, DeliveryError) as error:
            self.close()
            raise DeliveryError(f"syslog {self.sink.address}: {error}") from None

    def close(self) -> None:
        if self.handler is not None:
            with contextlib.suppress(Exception):
                self.handler.close()
            self.handler = None


class HttpSender:
    """Splunk HEC-style: one POST per batch, events as concatenated JSON objects."""

    def __init__(self, sink: StreamSink) -> None:
        self.sink = sink

    async def send(self, rows: list[dict[str, Any]]) -> None:
        body = "\n".join(
            json.dumps(
                {
                    "time": row["ts"],
                    "host": row.get("host") or socket.gethostname(),
                    "source": "claude-governance",
                    "sourcetype": f"claude-governance:{self.sink.format}",
                    "event": json.loads(render(self.sink, row))
                    if self.sink.format == "ocsf"
                    else render(self.sink, row),
                },
                ensure_ascii=False,
            )
            for row in rows
        )
        headers = {"Content-Type": "application/json"}
        token = os.environ.get(self.sink.token_env or "") if self.sink.token_env else None
        if token:
            headers["Authorization"] = f"Splunk {token}"
        timeout = aiohttp.ClientTimeout(total=HTTP_TIMEOUT_S)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(self.sink.url or "", data=body.encode(), headers=headers) as reply,
            ):
                if reply.status // 100 != 2:
                    raise DeliveryError(f"HTTP collector {self.sink.url}: status {reply.status}")
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise DeliveryError(f"HTTP collector {self.sink.url}: {error}") from None

    def close(self) -> None:
        pass


class AuditStream:
    """One loop over the configured sinks; each sink has its cursor, sender and backoff."""

    def __init__(self, store: Store, sinks: Callable[[], list[StreamSink]]) -> None:
        self.store = store
        self.sinks = sinks
        self.senders: dict[str, SyslogSender | HttpSender] = {}
        self.failures: dict[str, int] = {}
        self.retry_at: dict[str, float] = {}
        # Sinks configured when the server starts get everything recorded from then on,
        # its own server_started row included; a sink added later starts when it appears.
        self.start_seq: int | None = store.last_seq()

    async def run(self) -> None:
        while True:
            busy = False
            for sink in self.sinks():
                try:
                    busy |= await self._pump(sink)
                except Exception:  # a bug for one sink must not stop the others
                    log.exception("audit stream %s failed", sink.key)
            self.start_seq = None
            await asyncio.sleep(0 if busy else POLL_S)

    async def _pump(self, sink: StreamSink) -> bool:
        """Send the next batch; True when there may be more to send right away."""
        if time.monotonic() < self.retry_at.get(sink.key, 0.0):
            return False
        cursor = self.store.stream_cursor(sink.key)
        if cursor is None:
            # A new sink streams what is recorded from now on; `audit export` covers history.
            start = self.start_seq if self.start_seq is not None else self.store.last_seq()
            self.store.set_stream_cursor(sink.key, start)
            return True
        rows = self.store.rows_after(cursor, BATCH)
        if not rows:
            return False
        sender = self.senders.get(sink.key)
        if sender is None:
            sender = self.senders[sink.key] = (
                SyslogSender(sink) if sink.type == "syslog" else HttpSender(sink)
            )
        try:
            if isinstance(sender, HttpSender):
                await sender.send(rows)
            else:
                await asyncio.to_thread(sender.send, rows)
        except DeliveryError as error:
            self._failed(sink, str(error))
            return False
        self.store.set_stream_cursor(sink.key, rows[-1]["seq"])
        if self.failures.pop(sink.key, 0):
            log.warning("audit stream %s delivering again", sink.key)
        return len(rows) == BATCH

    def _failed(self, sink: StreamSink, error: str) -> None:
        failures = self.failures.get(sink.key, 0) + 1
        self.failures[sink.key] = failures
        delay = min(MAX_BACKOFF_S, 0.5 * 2 ** (failures - 1))
        self.retry_at[sink.key] = time.monotonic() + delay
        if failures == 1:
            log.warning("audit stream %s down (%s); retrying, nothing is lost", sink.key, error)

    def close(self) -> None:
        for sender in self.senders.values():
            sender.close()
