"""The hook's Unix-socket protocol: one request line per connection read within its caps,
parsed, routed (a decision, an outcome, an admin op) and answered. It must not decide."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from typing import Any

from pydantic import ValidationError

from bot.server.internals import ServerParts
from bot.server.protocol import Peer, _error_reply, _reply, peer_of
from engine.approvals import Vote
from engine.events import CallContext, ToolEvent
from engine.store import ApprovalRecord

log = logging.getLogger("governance.server")

# Requests above this size are handled off the event loop, so one large Write does not hold
# every other agent's call: parsed and judged in a thread, hashed and redacted (seconds for
# 15 MB, in regex calls that keep the GIL) in a helper process.
LARGE_REQUEST_BYTES = 64 * 1024
# Up to this much of a line is taken per event-loop turn; the reader's own buffer (not
# counted in max_buffered_bytes) holds at most twice _READER_LIMIT per connection.
_READ_CHUNK = 256 * 1024
_READER_LIMIT = 64 * 1024


class RequestTooLarge(Exception):
    """A request line over the cap, or over what all connections may buffer together."""


class SocketProtocol(ServerParts):
    """One connection: read a request line, route it, write the reply."""

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        peer = peer_of(writer)
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        held = [0]  # bytes of this connection counted in self._buffered
        try:
            try:
                async with asyncio.timeout(self.config.line_timeout_s):
                    line = await self._read_line(reader, held)
            except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                return
            except RequestTooLarge as error:
                self._malformed(peer, str(error))
                await self._reply(writer, _error_reply(str(error)))
                return
            if not line:
                return
            self._answering.add(task)
            large = len(line) > LARGE_REQUEST_BYTES
            try:
                request = await asyncio.to_thread(json.loads, line) if large else json.loads(line)
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                self._malformed(peer, f"not JSON: {error}")
                await self._reply(writer, _error_reply(f"request is not JSON: {error}"))
                return
            if not isinstance(request, dict):
                self._malformed(peer, "not an object")
                await self._reply(writer, _error_reply("request must be a JSON object"))
                return
            del line
            reply = await self._dispatch(request, peer, reader, large)
            await self._reply(writer, reply)
        except asyncio.CancelledError:
            # Shutting down (Ctrl-C, SIGTERM): a waiting hook is answered and its request stays
            # pending. Ending normally also spares the log one traceback per waiting hook,
            # which Python 3.11's stream callback prints for a cancelled handler.
            with contextlib.suppress(Exception):
                shutting_down = _reply(
                    "deny", "the governance server is shutting down; retry shortly", None
                )
                await asyncio.wait_for(self._reply(writer, shutting_down), 1)
        except Exception as error:  # one bad connection must not take the server down
            log.exception("connection failed")
            with contextlib.suppress(Exception):
                await self._reply(writer, _error_reply(f"internal error: {type(error).__name__}"))
        finally:
            self._buffered -= held[0]
            self._connections.discard(task)
            self._answering.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _read_line(self, reader: asyncio.StreamReader, held: list[int]) -> bytes:
        """One request line, refused as soon as it passes the cap: a client sending megabytes
        without a newline costs at most the cap, and all clients together `max_buffered_bytes`.
        A client silent for `idle_timeout_s` is dropped; a large line may take longer, as long
        as it keeps coming (on a busy server a 15 MB line takes many event-loop turns)."""
        cap = self.config.max_line_bytes
        buffer = bytearray()
        while True:
            chunk = await asyncio.wait_for(reader.read(_READ_CHUNK), self.config.idle_timeout_s)
            if not chunk:
                return bytes(buffer)  # EOF: a half line is then reported as not JSON
            newline = chunk.find(b"\n")
            piece = chunk if newline < 0 else chunk[: newline + 1]
            if len(buffer) + len(piece) > cap:
                raise RequestTooLarge(
                    f"request line longer than the limit of {cap // (1024 * 1024)} MB"
                )
            if self._buffered + len(piece) > self.config.max_buffered_bytes:
                raise RequestTooLarge(
                    "server busy: too many large requests being read at once; retry"
                )
            self._buffered += len(piece)
            held[0] += len(piece)
            buffer += piece
            if newline >= 0:
                return bytes(buffer)

    async def _reply(self, writer: asyncio.StreamWriter, reply: dict[str, Any]) -> None:
        if writer.is_closing():
            return
        writer.write(json.dumps(reply, ensure_ascii=False).encode() + b"\n")
        with contextlib.suppress(ConnectionError):
            await writer.drain()

    def _malformed(self, peer: Peer, what: str) -> None:
        self.store.append_audit(
            "malformed_request", peer_user=peer.user, decision="deny", reason=what[:300]
        )

    async def _dispatch(
        self,
        request: dict[str, Any],
        peer: Peer,
        reader: asyncio.StreamReader,
        large: bool = False,
    ) -> dict[str, Any]:
        operation = request.get("op")
        if operation is not None:
            return await self._admin(str(operation), request, peer)
        event = request.get("event")
        if not isinstance(event, dict):
            self._malformed(peer, "no event object")
            return _error_reply("request has no `event` object")
        try:
            tool_event = ToolEvent.model_validate(event)
            context = CallContext.model_validate(request.get("context") or {})
        except ValidationError as error:
            self._malformed(peer, f"invalid event: {error.errors()[0]['msg']}")
            return _error_reply(f"invalid event: {error.errors()[0]['msg']}")
        kind = tool_event.hook_event_name
        if kind == "PostToolUse":
            return await self._record_outcome(tool_event, context, peer, large)
        wait_s = request.get("wait_s", 0)
        wait_s = (
            min(max(float(wait_s), 0.0), self.config.max_wait_s)
            if isinstance(wait_s, int | float)
            else 0.0
        )
        if kind == "PermissionRequest":
            return await self._permission_prompt(tool_event, context, peer, wait_s)
        return await self.decide(tool_event, context, peer, wait_s, reader, large)

    async def _permission_prompt(
        self, event: ToolEvent, context: CallContext, peer: Peer, wait_s: float
    ) -> dict[str, Any]:
        fields = {
            **self._audit_fields(event, context, peer),
            "payload": {"tool_input": event.tool_input},
        }
        policy = self.policy.engine.policy
        outcome, reason = await self.prompts.ask(
            self.policy.engine, event, context, fields, wait_s, policy.slack.remote_prompt_seconds
        )
        return _reply(outcome, reason, None)

    async def _admin(self, operation: str, request: dict[str, Any], peer: Peer) -> dict[str, Any]:
        if operation == "break_glass":
            ok, message = await self._console_break_glass(request, peer)
            return {"ok": ok, "message": message}
        if operation == "ping":
            return {
                "ok": True,
                "policy": self.policy.source,
                "pid": os.getpid(),
                "max_loop_lag_ms": round(self.max_loop_lag_s * 1000),
                "max_loop_busy_ms": round(self.max_loop_busy_s * 1000),
            }
        if operation == "pending":
            return {
                "ok": True,
                "pending": [_approval_summary(a) for a in self.store.pending_approvals()],
            }
        if operation in {"approve", "deny"}:
            approval_id = str(request.get("approval_id", "")).strip().upper()
            note = request.get("reason")
            if peer.uid < 0:
                return {
                    "ok": False,
                    "message": "the kernel did not say who you are on this socket; vote from Slack",
                }
            approver = self.console_approver(peer)
            code = request.get("code")
            verified = False
            if code and operation == "approve":
                check = self.check_mfa(peer.user, approval_id, str(code))
                if not check.ok:
                    return {"ok": False, "message": check.message}
                verified = True
            result = await self.vote(
                approval_id,
                approver,
                Vote(operation),
                str(note) if note else None,
                mfa_verified=verified,
            )
            return {
                "ok": result.accepted,
                "state": str(result.state),
                "message": result.message,
                "approvals": result.approvals,
                "required": result.required,
            }
        return {"ok": False, "message": f"unknown operation {operation!r}"}


def _approval_summary(approval: ApprovalRecord) -> dict[str, Any]:
    return {
        "id": approval.id,
        "requester": approval.requester,
        "requester_uid": approval.requester_uid,
        "requester_label": approval.requester_label,
        "tool_name": approval.tool_name,
        "tool_input": approval.tool_input,
        "rule": approval.rule,
        "reason": approval.reason,
        "risk": approval.risk,
        "created_at": approval.created_at,
        "expires_at": approval.expires_at,
        "required": approval.snapshot.required_approvers,
        "require_mfa": approval.snapshot.require_mfa,
        "repo": approval.repo,
        "branch": approval.branch,
    }
