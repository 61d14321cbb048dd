"""`governance serve`: one asyncio process hosting the engine, the Unix-socket listener, the
store and the approval queue. It speaks the socket protocol; deciding is the engine's job."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import grp
import json
import logging
import multiprocessing
import os
import pwd
import resource
import signal
import socket
import struct
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from pydantic import ValidationError

from bot.config import ServerConfig, witness_path
from bot.outbound import NotifierWitness, RedactingNotifier
from bot.private_files import SOCKET_DIR_MODE, SPOOL_DIR_MODE, check_database, make_dir
from bot.remote_prompts import RemotePrompts
from bot.scheduler import DeadlineScheduler
from bot.siem_stream import AuditStream
from engine.approvals import (
    ApprovalState,
    Approver,
    Requester,
    Vote,
    VoteResult,
    action_key,
    cast_vote,
    choose_rule,
    escalation_timers,
    new_approval_id,
)
from engine.breakglass import Window, may_open, override
from engine.decide import Decision, Outcome, Risk
from engine.evaluate import Engine
from engine.events import CallContext, ToolEvent
from engine.mfa import MfaCheck, MfaRegistry
from engine.policy import BUILTIN_POLICY_NAME, Policy, PolicyError, builtin_policy, load_policy
from engine.redact import Redaction
from engine.report import risk_level
from engine.self_protection import ProtectedState
from engine.state import is_postgres_url, open_store
from engine.state.audit_writer import AuditWriter
from engine.state.postgres import PostgresStore
from engine.store import ApprovalRecord, RedactedJson
from engine.witness import Witness, WitnessFile, current_anchor

if TYPE_CHECKING:
    from bot.edge.runtime import Edge

log = logging.getLogger("governance.server")
T = TypeVar("T")

_HOOK_EVENTS = {"PreToolUse", "PostToolUse", "UserPromptSubmit"}
_MAX_OUTCOME_CHARS = 2000
RISK_SUMMARY_PERIOD_S = float(os.environ.get("GOVERNANCE_RISK_SUMMARY_S", "30"))
# A Unix-socket peer is on this machine: its host of record is ours, not what it claims.
LOCAL_HOST = socket.gethostname()
# Requests above this size are handled off the event loop, so one large Write does not hold
# every other agent's call: parsed and judged in a thread, hashed and redacted (seconds for
# 15 MB, in regex calls that keep the GIL) in a helper process.
LARGE_REQUEST_BYTES = 64 * 1024
# Up to this much of a line is taken per event-loop turn; the reader's own buffer (not
# counted in max_buffered_bytes) holds at most twice _READER_LIMIT per connection.
_READ_CHUNK = 256 * 1024
_READER_LIMIT = 64 * 1024
# How long a stop waits for the hooks it released to receive their answers.
SHUTDOWN_GRACE_S = 5.0
GRANT_EXPIRY_PERIOD_S = 1.0


class RequestTooLarge(Exception):
    """A request line over the cap, or over what all connections may buffer together."""


@dataclass(frozen=True, slots=True)
class Peer:
    """The caller as the kernel reports it (SO_PEERCRED), not as the request claims."""

    pid: int
    uid: int
    user: str
    # A remote client's host, named by its token (bot/remote.py); None: this machine's socket,
    # where uid and user are the kernel's. A remote uid means nothing here, so it is -1.
    host: str | None = None


def peer_of(writer: asyncio.StreamWriter) -> Peer:
    sock = writer.get_extra_info("socket")
    try:
        raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        pid, uid, _gid = struct.unpack("3i", raw)
    except (OSError, AttributeError):
        return Peer(0, -1, "unknown")
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:
        user = f"uid{uid}"
    return Peer(pid, uid, user)


class Notifier(Protocol):
    """Where approval requests are shown: the console here, Slack later."""

    async def request_created(self, approval: ApprovalRecord) -> None: ...

    async def request_updated(
        self, approval: ApprovalRecord, result: VoteResult, actor: str
    ) -> None: ...

    async def request_escalated(
        self, approval: ApprovalRecord, level: int, notify: list[str]
    ) -> None: ...

    async def request_expired(self, approval: ApprovalRecord) -> None: ...

    async def alert(self, title: str, lines: list[str], audit_id: int | None = None) -> None: ...


class ConsoleNotifier:
    """Prints each request and its outcome; decided with `governance approve|deny ID`."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stdout

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    async def request_created(self, approval: ApprovalRecord) -> None:
        rule = approval.snapshot
        what = (
            approval.tool_input.get("command")
            or approval.tool_input.get("file_path")
            or (json.dumps(approval.tool_input)[:300])
        )
        where = f"{approval.repo or approval.cwd or '?'} ({approval.branch or 'no branch'})"
        self._print(
            f"\n[governance] APPROVAL NEEDED {approval.id}  risk {approval.risk}, "
            f"{rule.required_approvers} approval(s) needed"
            f"{', MFA required' if rule.require_mfa else ''}\n"
            f"  requester: {approval.requester_label} on {approval.requester_host or approval.host}"
            f"  session {approval.session_id}\n"
            f"  where:     {where}\n"
            f"  {approval.tool_name}: {what}\n"
            f"  rule:      {approval.rule}: {approval.reason}\n"
            f"  decide:    governance approve {approval.id}   |   "
            f"governance deny {approval.id} --reason '…'"
        )

    async def request_updated(
        self, approval: ApprovalRecord, result: VoteResult, actor: str
    ) -> None:
        self._print(f"[governance] {approval.id}: {result.message} (by {actor})")

    async def request_escalated(
        self, approval: ApprovalRecord, level: int, notify: list[str]
    ) -> None:
        who = ", ".join(notify) or "nobody configured"
        self._print(
            f"[governance] {approval.id}: no decision yet, escalated to level {level + 1} ({who})"
        )

    async def request_expired(self, approval: ApprovalRecord) -> None:
        self._print(f"[governance] {approval.id}: {approval.state} without a decision")

    async def alert(self, title: str, lines: list[str], audit_id: int | None = None) -> None:
        self._print(f"[governance] ALERT: {title}\n  " + "\n  ".join(lines))


class PolicyHolder:
    """The engine for the current policy file; reloads on change, keeps the old one on error."""

    # An edge's policy (bot/edge/policy_sync.py) has the service's version; a file has none.
    version: str | None = None

    def __init__(self, path: str | None, state: ProtectedState | None = None) -> None:
        self.path = path
        self.state = state
        self.source = path or BUILTIN_POLICY_NAME
        self.engine = Engine(self._load(), state)
        self._mtime = self._stat()

    def _load(self) -> Policy:
        return load_policy(self.path) if self.path else builtin_policy()

    def _stat(self) -> int | None:
        if not self.path:
            return None
        try:
            return os.stat(self.path).st_mtime_ns
        except OSError:
            return None

    def reload_if_changed(self) -> str | None:
        """None when nothing changed; 'reloaded' or the error text otherwise."""
        mtime = self._stat()
        if mtime == self._mtime:
            return None
        self._mtime = mtime
        try:
            self.engine = Engine(self._load(), self.state)
        except PolicyError as error:
            return str(error)
        return "reloaded"


class Judgement(Protocol):
    """What an approval request needs of a verdict: the engine's Decision, or an edge's."""

    @property
    def rule(self) -> str | None: ...

    @property
    def reason(self) -> str: ...

    @property
    def risk(self) -> Risk: ...


class GovernanceServer:
    def __init__(
        self,
        config: ServerConfig,
        notifier: Notifier | None = None,
        edge: Edge | None = None,
    ) -> None:
        self.config = config
        if not is_postgres_url(config.db):
            check_database(Path(config.db))
        self.store = open_store(config.db)
        self.audit = AuditWriter(self.store)  # the hot path's appends, a commit per loop turn
        # Edge mode: the policy, the approvals and the audit of record are the team service's.
        self.edge = edge
        self.policy = edge.policy if edge else PolicyHolder(config.policy, config.protected_state())
        self.notifier = notifier or ConsoleNotifier()
        self.waiters: dict[str, set[asyncio.Future[ApprovalState]]] = defaultdict(set)
        self.scheduler = DeadlineScheduler(config.db, self._fire_deadline)
        self.mfa = MfaRegistry(self.store.db)
        self._server: asyncio.base_events.Server | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.stream = AuditStream(self.store, lambda: self.policy.engine.policy.audit.stream)
        self.prompts = RemotePrompts(self.store)
        self.witnesses: list[Witness] = [
            WitnessFile(config.witness or witness_path(None, config.db)),
            NotifierWitness(self),
        ]
        self._anchored: tuple[int, float] = (0, time.monotonic())  # (seq, when) of the last

    @property
    def notifier(self) -> Notifier:
        return self._notifier

    @notifier.setter
    def notifier(self, notifier: Notifier) -> None:
        # Slack attaches its notifier later; whichever it is, it is reached through redaction.
        inner = notifier.inner if isinstance(notifier, RedactingNotifier) else notifier
        self._notifier: Notifier = RedactingNotifier(inner)
        self._stopping = asyncio.Event()
        self.stop_reason = "stopped"
        # Connection tasks, and those among them that have read a request and owe an answer.
        self._connections: set[asyncio.Task[Any]] = set()
        self._answering: set[asyncio.Task[Any]] = set()
        self._buffered = 0  # request bytes all connections hold right now
        # The longest the event loop woke up late, and the most CPU it spent in one such
        # window (lateness with little CPU is the machine's load, not our work); `ping` says.
        self.max_loop_lag_s = 0.0
        self.max_loop_busy_s = 0.0
        self._helper: concurrent.futures.ProcessPoolExecutor | None = None

    # ------------------------------------------------------------ lifecycle

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

    # ------------------------------------------------------------ connections

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

    # ------------------------------------------------------------ decisions

    def _audit_fields(self, event: ToolEvent, context: CallContext, peer: Peer) -> dict[str, Any]:
        return {
            "session_id": event.session_id,
            "user": context.user or peer.user,
            "peer_user": peer.user,
            "host": peer.host or context.host,
            "repo": context.repo or event.cwd,
            "branch": context.git_branch,
            "tool_name": event.tool_name or event.hook_event_name,
        }

    async def decide(
        self,
        event: ToolEvent,
        context: CallContext,
        peer: Peer,
        wait_s: float,
        reader: asyncio.StreamReader | None = None,
        large: bool = False,
    ) -> dict[str, Any]:
        fields = self._audit_fields(event, context, peer)
        parts = (event.session_id, event.tool_name, event.tool_input, event.cwd)
        key = await self._in_helper(action_key, *parts) if large else action_key(*parts)
        if peer.host is not None:  # a host's grants and pending requests are its own
            key = f"{peer.host}:{key}"
        # From here on only redacted copies are used: every sink sees the same redaction.
        carried = [event.tool_input, event.prompt]
        redaction = (
            await self._in_helper(Redaction.learn, carried) if large else Redaction.learn(carried)
        )
        engine = self.policy.engine
        verdict = (
            await asyncio.to_thread(engine.evaluate, event, context)
            if large
            else engine.evaluate(event, context)
        )
        # A grant matters only to a call the policy would not allow by itself: the calls it
        # allows (nearly all) are spared the lookup, a round trip on PostgreSQL.
        if (
            verdict.outcome is not Outcome.ALLOW
            and event.hook_event_name == "PreToolUse"
            and await self._query(self.store.has_live_grant, key)
        ):
            self._audit_expired_grants(key)
            granted = self.store.use_grant(key)
            if granted is not None:
                return await self.record_grant(granted, redaction.redacted[0], fields, large)
        event, decision = _redacted_call(redaction, event, verdict)
        overridden = self._break_glass(event, decision, fields)
        if overridden is not None:
            return overridden
        if self.edge is not None and self.edge.asks_upstream(event, decision):
            return await self.edge.ask(self, event, context, peer, decision, key, wait_s, reader)
        seq = await self.record_decision(event, decision, fields, large)
        if decision.outcome is Outcome.ALLOW:
            return _reply("allow", decision.reason, decision.rule, risk=str(decision.risk))
        if decision.outcome is Outcome.DENY or event.hook_event_name != "PreToolUse":
            if decision.risk is Risk.CRITICAL:
                self._background(
                    self.notifier.alert(
                        f"Critical action blocked: {decision.rule}",
                        [
                            f"{fields['user']} on {fields['host'] or '?'}, {fields['repo'] or '?'}",
                            f"{event.tool_name}: {json.dumps(event.tool_input)[:300]}",
                            decision.reason,
                        ],
                        seq,
                    )
                )
            return _reply(
                "deny",
                f"blocked by policy rule {decision.rule}: {decision.reason}",
                decision.rule,
                risk=str(decision.risk),
            )
        approval = await self._request_approval(event, context, peer, decision, key, large)
        if approval is None:
            return _reply("deny", "could not create an approval request", decision.rule)
        return await self._wait_for(approval, wait_s, reader)

    async def record_grant(
        self, granted: str, tool_input: Any, fields: dict[str, Any], large: bool = False
    ) -> dict[str, Any]:
        """Audit and answer a retry that used the single-use grant of approval `granted`."""
        reason = f"approved in {granted}; this retry used its single-use grant"
        await self.audit.append(
            "decision",
            decision="allow",
            rule="approval.grant",
            reason=reason,
            approval_id=granted,
            payload=await self._prepared(self._versioned({"tool_input": tool_input}), large),
            **fields,
        )
        return _reply("approved", reason, "approval.grant", granted)

    async def record_decision(
        self, event: ToolEvent, decision: Decision, fields: dict[str, Any], large: bool = False
    ) -> int:
        return await self.audit.append(
            "decision" if event.hook_event_name == "PreToolUse" else "prompt",
            decision=str(decision.outcome),
            would_be=str(decision.would_be),
            mode=str(decision.mode),
            rule=decision.rule,
            risk=str(decision.risk),
            reason=decision.reason,
            payload=await self._prepared(
                self._versioned(_decision_payload(event, decision)), large
            ),
            **fields,
        )

    def _versioned(self, payload: dict[str, Any]) -> dict[str, Any]:
        """An edge's decisions say which version of the service's policy judged them."""
        version = self.policy.version
        return payload if version is None else {**payload, "policy_version": version}

    async def _query(self, query: Callable[..., T], *args: Any) -> T:
        """A store read on the hot path: in a worker thread when it waits on the network
        (PostgreSQL), so the loop serves other requests meanwhile; inline on SQLite."""
        if self.store.queries_wait_on_network:
            return await asyncio.to_thread(query, *args)
        return query(*args)

    async def _prepared(self, payload: Any, large: bool) -> Any:
        """A large payload redacted and serialised in the helper process; a small one as it is."""
        return await self._in_helper(RedactedJson.of, payload) if large else payload

    async def _in_helper(self, work: Callable[..., Any], *args: Any) -> Any:
        if self._helper is None:  # started at the first large request: most servers never do
            self._helper = concurrent.futures.ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                # Ctrl-C reaches the whole process group: the server alone decides to stop.
                initializer=signal.signal,
                initargs=(signal.SIGINT, signal.SIG_IGN),
            )
        return await asyncio.get_running_loop().run_in_executor(self._helper, work, *args)

    async def _request_approval(
        self,
        event: ToolEvent,
        context: CallContext,
        peer: Peer,
        decision: Judgement,
        key: str,
        large: bool = False,
    ) -> ApprovalRecord | None:
        existing = self.store.pending_for_action(key)
        if existing is not None:
            return existing
        tool_input = await self._prepared(event.tool_input, large)
        rule = choose_rule(self.policy.engine.policy, decision.risk)
        now = time.time()
        approval_id = new_approval_id()
        while self.store.approval(approval_id) is not None:
            approval_id = new_approval_id()
        timers = escalation_timers(rule, now)
        self.store.create_approval(
            {
                "id": approval_id,
                "created_at": now,
                "expires_at": timers[-1][2],
                "requester": context.user or peer.user,
                "peer_user": peer.user,
                "requester_uid": peer.uid if peer.uid >= 0 else None,
                "requester_host": peer.host or LOCAL_HOST,
                "host": context.host,
                "repo": context.repo,
                "branch": context.git_branch,
                "session_id": event.session_id,
                "tool_name": event.tool_name,
                "tool_input": tool_input,
                "cwd": event.cwd,
                "action_key": key,
                "rule": decision.rule,
                "reason": decision.reason,
                "risk": str(decision.risk),
                "snapshot": rule,
            }
        )
        for deadline in self.store.add_deadlines(approval_id, timers):
            self.scheduler.schedule(deadline)
        approval = self.store.approval(approval_id)
        assert approval is not None
        self.store.append_audit(
            "approval_requested",
            approval_id=approval_id,
            rule=decision.rule,
            risk=str(decision.risk),
            reason=decision.reason,
            decision="pending",
            payload=await self._prepared(
                {
                    "approval_rule": rule.model_dump(mode="json"),
                    "tool_input": event.tool_input,
                    "requester_uid": approval.requester_uid,
                    "requester_host": approval.requester_host,
                },
                large,
            ),
            **self._audit_fields(event, context, peer),
        )
        self._background(self.notifier.request_created(approval))
        return approval

    def _background(self, work: Awaitable[None]) -> None:
        """Notify without holding up the decision; a Slack outage must not block agents."""

        async def guarded() -> None:
            try:
                await work
            except Exception:
                log.exception("notification failed")

        task = asyncio.get_running_loop().create_task(guarded())
        self._tasks.append(task)
        task.add_done_callback(self._tasks.remove)

    @property
    def _console_only(self) -> bool:
        return isinstance(self._notifier.inner, ConsoleNotifier)

    async def _wait_for(
        self, approval: ApprovalRecord, wait_s: float, reader: asyncio.StreamReader | None
    ) -> dict[str, Any]:
        pending = self._pending_reply(approval)
        if self._stopping.is_set():
            return self._stopping_reply(approval)
        if wait_s <= 0 or (self._console_only and not approval.snapshot.open_to_console):
            # Nobody can decide it here (its roles are Slack-only and Slack is off): holding the
            # agent for minutes would only delay the answer the reply already gives.
            return pending
        future: asyncio.Future[ApprovalState] = asyncio.get_running_loop().create_future()
        self.waiters[approval.id].add(future)
        hung_up = asyncio.ensure_future(reader.read(1)) if reader is not None else None
        try:
            watched = {future} | ({hung_up} if hung_up else set())
            await asyncio.wait(watched, timeout=wait_s, return_when=asyncio.FIRST_COMPLETED)
            # A hook gone at the moment of approval must not spend the grant its retry needs.
            gone = hung_up is not None and hung_up.done()
        finally:
            self.waiters[approval.id].discard(future)
            if not self.waiters[approval.id]:
                self.waiters.pop(approval.id, None)
            if hung_up is not None:
                hung_up.cancel()
        if gone:
            self._client_gone(approval)
            return pending
        if future.cancelled():
            return self._stopping_reply(approval)
        if not future.done():
            return pending
        return self._final_reply(approval, future.result())

    def _audit_expired_grants(self, key: str | None = None) -> None:
        """Expire grants older than the policy's `grant_expiry_minutes` (of one action, or all)
        so no retry uses them, and audit each expiry once."""
        ttl_s = self.policy.engine.policy.grant_expiry_minutes * 60
        for approval_id in self.store.expire_grants(time.time() - ttl_s, key):
            approval = self.store.approval(approval_id)
            self.store.append_audit(
                "grant_expired",
                approval_id=approval_id,
                decision="expired",
                reason=f"the approved action was not retried within {ttl_s / 60:g} min",
                session_id=approval.session_id if approval else None,
                tool_name=approval.tool_name if approval else None,
                user=approval.requester if approval else None,
            )

    async def _expire_grants(self) -> None:
        self._audit_expired_grants()

    def _stopping_reply(self, approval: ApprovalRecord) -> dict[str, Any]:
        reason = (
            f"the governance server is shutting down; {approval.id} stays pending and survives "
            "the restart. Retry the same command after it is approved"
        )
        return _reply("approval_pending", reason, approval.rule, approval.id, approval.risk)

    def _client_gone(self, approval: ApprovalRecord) -> None:
        """The hook hung up (Esc, or its own timeout): the request stays pending and its grant,
        once approved, stays unused for the agent's retry."""
        log.warning("hook waiting on %s hung up; the request stays pending", approval.id)
        self.store.append_audit(
            "client_gone",
            approval_id=approval.id,
            decision="pending",
            session_id=approval.session_id,
            tool_name=approval.tool_name,
            user=approval.requester,
            reason="the waiting hook closed its connection; the request stays pending",
        )

    def _pending_reply(self, approval: ApprovalRecord) -> dict[str, Any]:
        rule = approval.snapshot
        if not self._console_only:
            where = f"in {rule.channel}"
            who = (
                f"{rule.required_approvers} approver(s) from {', '.join(rule.roles) or 'the pool'}"
            )
        elif rule.open_to_console:
            where = "on the governance server's console"
            who = (
                f"{rule.required_approvers} user(s) other than {approval.requester_label} must run "
                f"`governance approve {approval.id}`"
                + (" --code <TOTP>" if rule.require_mfa else "")
                + " on this machine"
            )
        else:
            where = "in Slack, which this server does not run"
            who = (
                f"its approvers ({', '.join(rule.roles)}) are Slack users: start "
                "`governance serve` with Slack tokens, or map no Slack ids to these roles"
            )
        reason = (
            f"needs approval {approval.id} {where} ({approval.reason}); {who}. "
            "Retry the same command after it is approved"
        )
        return _reply("approval_pending", reason, approval.rule, approval.id, approval.risk)

    def _final_reply(self, approval: ApprovalRecord, state: ApprovalState) -> dict[str, Any]:
        record = self.store.approval(approval.id) or approval
        if state is ApprovalState.APPROVED:
            if self.store.use_grant(approval.action_key) == approval.id:
                self.store.append_audit(
                    "grant_used",
                    approval_id=approval.id,
                    decision="allow",
                    session_id=approval.session_id,
                    tool_name=approval.tool_name,
                    user=approval.requester,
                )
                return _reply(
                    "approved",
                    f"approved in {approval.id}: {record.decided_note}",
                    approval.rule,
                    approval.id,
                    approval.risk,
                )
            return _reply(
                "approval_pending",
                f"{approval.id} was approved but its single-use grant was already "
                "used by another call; retry to ask again",
                approval.rule,
                approval.id,
            )
        if state is ApprovalState.DENIED:
            return _reply(
                "denied",
                f"{approval.id} was denied: {record.decided_note}. Do not "
                "retry this action; ask the approver what to do instead",
                approval.rule,
                approval.id,
                approval.risk,
            )
        return _reply(
            "expired",
            f"{approval.id} expired without a decision; retry to ask "
            "again, or ask a human to approve it",
            approval.rule,
            approval.id,
        )

    def _resolve(self, approval_id: str, state: ApprovalState) -> None:
        for future in list(self.waiters.get(approval_id, ())):
            if not future.done():
                future.set_result(state)

    async def _record_outcome(
        self, event: ToolEvent, context: CallContext, peer: Peer, large: bool = False
    ) -> dict[str, Any]:
        extra = event.model_extra or {}
        carried = [event.tool_input]
        redaction = (
            await self._in_helper(Redaction.learn, carried) if large else Redaction.learn(carried)
        )
        # Redacted before clipping, so a cut never leaves half a secret unrecognisable.
        response = json.dumps(redaction(extra.get("tool_response")), default=str)
        await self.audit.append(
            "tool_outcome",
            decision="recorded",
            payload=await self._prepared(
                {
                    "tool_input": redaction.redacted[0],
                    "tool_response": response[:_MAX_OUTCOME_CHARS],
                },
                large,
            ),
            **self._audit_fields(event, context, peer),
        )
        return _reply("recorded", "outcome recorded", None)

    # ------------------------------------------------------------ votes

    async def vote(
        self,
        approval_id: str,
        approver: Approver,
        vote: Vote,
        note: str | None = None,
        mfa_verified: bool = False,
    ) -> VoteResult:
        """The one path every approver takes, console or Slack: rules, store, audit, waiters."""
        approval = self.store.approval(approval_id)
        if approval is None:
            return VoteResult(
                False, ApprovalState.CANCELLED, f"no approval request {approval_id}", 0, 0
            )
        result = cast_vote(
            state=approval.state,
            rule=approval.snapshot,
            requester=self.requester_of(approval),
            votes=self.store.votes(approval_id),
            approver=approver,
            vote=vote,
            mfa_verified=mfa_verified,
        )
        if result.accepted and not self.store.add_vote(approval_id, approver, vote, note):
            result = VoteResult(
                False,
                approval.state,
                "you already voted on this request",
                result.approvals,
                result.required,
                duplicate=True,
            )
        self.store.append_audit(
            "vote" if result.accepted else "vote_refused",
            approval_id=approval_id,
            user=approver.identity,
            decision=str(vote),
            reason=result.message,
            session_id=approval.session_id,
            tool_name=approval.tool_name,
            payload={"via": approver.via, "note": note, "approver_uid": approver.uid},
        )
        if result.accepted and result.state is not ApprovalState.PENDING:
            summary = f"{result.state} by {approver.identity}" + (f": {note}" if note else "")
            if self.store.finish_approval(approval_id, result.state, summary):
                self.scheduler.cancel(self.store.cancel_deadlines(approval_id))
                if result.state is ApprovalState.APPROVED:
                    self.store.add_grant(approval_id, approval.action_key)
                self.store.append_audit(
                    f"approval_{result.state}",
                    approval_id=approval_id,
                    decision=str(result.state),
                    reason=summary,
                    session_id=approval.session_id,
                    tool_name=approval.tool_name,
                    user=approval.requester,
                )
                self.store.announce_finished(approval_id, result.state)
                self._resolve(approval_id, result.state)
        if result.accepted:
            updated = self.store.approval(approval_id) or approval
            with contextlib.suppress(Exception):
                await self.notifier.request_updated(updated, result, approver.identity)
        return result

    def requester_of(self, approval: ApprovalRecord) -> Requester:
        """The requester as a set of names: the uid's OS user, the label the hook reported (a
        label only ever takes votes away), and the Slack ids or emails `user_map` ties to them."""
        local = {approval.peer_user, approval.requester} - {None, ""}
        user_map = self.policy.engine.policy.slack.user_map
        mapped = {user_map[name] for name in local if name in user_map}
        return Requester(approval.requester_uid, frozenset(local | mapped))

    def console_approver(self, peer: Peer) -> Approver:
        """A console voter is the kernel's uid; `user_map` says who they are on Slack."""
        mapped = self.policy.engine.policy.slack.user_map.get(peer.user)
        uid = peer.uid if peer.uid >= 0 else None
        return Approver(peer.user, "console", (mapped,) if mapped else (), uid=uid)

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

    def check_mfa(self, approver: str, approval_id: str, code: str) -> MfaCheck:
        """The one code check, console or Slack: no code is checked against a request that does
        not exist; every check is audited, and so is the lock that ends a run of failures."""
        if self.store.approval(approval_id) is None:
            check = self.mfa.refuse_unknown_request(approver, approval_id)
        else:
            check = self.mfa.verify(approver, approval_id, code)
        self.store.append_audit(
            "mfa_check",
            approval_id=approval_id,
            user=approver,
            decision="ok" if check.ok else "refused",
            reason=check.message,
        )
        self._audit_mfa_lock(approver, approval_id, check)
        return check

    def _audit_mfa_lock(self, approver: str, approval_id: str | None, check: MfaCheck) -> None:
        if not check.approver_locked:
            return
        self.store.append_audit(
            "mfa_locked",
            approval_id=approval_id,
            user=approver,
            decision="locked",
            reason=check.message,
        )
        self._background(
            self.notifier.alert(f"MFA locked for approver {approver}", [check.message])
        )

    # ------------------------------------------------------------ background chores

    # ------------------------------------------------------------ break-glass

    def mfa_required(self) -> bool:
        """Break-glass asks for a second factor whenever any approval rule does."""
        return any(rule.require_mfa for rule in self.policy.engine.policy.approval_rules.values())

    def verify_break_glass_code(self, approver: str, code: str) -> MfaCheck:
        # Failures count per approver and day: three wrong codes lock break-glass until tomorrow.
        check = self.mfa.verify(approver, f"break-glass-{time.strftime('%Y%m%d')}", code)
        self.store.append_audit(
            "mfa_check",
            user=approver,
            decision="ok" if check.ok else "refused",
            reason=f"break-glass: {check.message}",
        )
        self._audit_mfa_lock(approver, None, check)
        return check

    async def _console_break_glass(self, request: dict[str, Any], peer: Peer) -> tuple[bool, str]:
        """From the console, a window covers someone else's agents (`--for USER`): the agents
        of the uid that asks could ask just the same, so that uid can never open its own."""
        minutes = request.get("minutes")
        minutes = float(minutes) if isinstance(minutes, int | float) else 0.0
        reason = str(request.get("reason") or "")
        covered = str(request.get("for") or "").strip()
        refusal = None
        if peer.uid < 0:
            refusal = "the kernel did not say who you are on this socket; use Slack"
        elif not covered:
            refusal = "say whose agents the window covers: --for USER"
        else:
            try:
                covered_uid = pwd.getpwnam(covered).pw_uid
            except KeyError:
                covered_uid = None
                refusal = f"there is no user {covered!r} on this machine"
            if covered_uid == peer.uid:
                refusal = (
                    "a window for your own agents cannot be opened from your own uid (an agent "
                    "running as you could do the same): open it from Slack, or ask someone else"
                )
        mapped = self.policy.engine.policy.slack.user_map.get(peer.user)
        names = (peer.user, mapped) if mapped else (peer.user,)
        settings = self.policy.engine.policy.break_glass
        refusal = refusal or may_open(settings, names, minutes)
        code = request.get("code")
        if refusal is None and self.mfa_required():
            if not code:
                refusal = "this policy asks for MFA: give --code from your authenticator"
            else:
                check = self.verify_break_glass_code(peer.user, str(code))
                refusal = None if check.ok else check.message
        if refusal is not None:
            self._refuse_break_glass(peer.user, covered, minutes, refusal)
            return False, refusal
        return await self.open_break_glass(
            names, covered, minutes, reason, opened_by=peer.user, mfa_verified=True
        )

    def break_glass_refusal(
        self, names: tuple[str, ...], minutes: float, reason: str
    ) -> str | None:
        """Why the opener may not open this window (before any MFA), or None."""
        settings = self.policy.engine.policy.break_glass
        return may_open(settings, names, minutes) or (
            None if reason.strip() else "break-glass needs a --reason"
        )

    def _refuse_break_glass(self, opener: str, user: str, minutes: float, refusal: str) -> None:
        self.store.append_audit(
            "break_glass_refused",
            user=opener,
            decision="refused",
            reason=refusal,
            payload={"minutes": minutes, "for": user},
        )

    async def open_break_glass(
        self,
        names: tuple[str, ...],
        user: str,
        minutes: float,
        reason: str,
        *,
        opened_by: str,
        mfa_verified: bool,
    ) -> tuple[bool, str]:
        """Open an emergency window for the agents of OS user `user`; `names` are the opener's
        (checked against break_glass.allowed_users). Refused unless the policy allows."""
        refusal = self.break_glass_refusal(names, minutes, reason) or (
            "this policy asks for MFA: break-glass needs a code"
            if self.mfa_required() and not mfa_verified
            else None
        )
        if refusal is not None:
            self._refuse_break_glass(opened_by, user, minutes, refusal)
            return False, refusal
        now = time.time()
        window = Window(
            f"BG-{new_approval_id()[4:]}", user, reason.strip(), now, now + minutes * 60
        )
        self.store.open_break_glass(window)
        for deadline in self.store.add_deadlines(
            window.id, [("close_break_glass", 0, window.closes_at)]
        ):
            self.scheduler.schedule(deadline)
        self.store.append_audit(
            "break_glass_opened",
            user=user,
            decision="opened",
            reason=window.reason,
            approval_id=window.id,
            payload={"minutes": minutes, "closes_at": window.closes_at, "opened_by": opened_by},
        )
        self._background(
            self.notifier.alert(
                f"Break-glass {window.id} opened by {opened_by} for {user}'s agents, "
                f"{minutes:g} min",
                [
                    f"Reason: {window.reason}",
                    "Approvals and non-critical denies are skipped for their agents; every "
                    "action is audited as an override.",
                ],
            )
        )
        settings = self.policy.engine.policy.break_glass
        critical = "skipped too" if settings.skip_critical_denies else "still stand"
        return True, (
            f"break-glass {window.id} open for {minutes:g} min: approvals and non-critical "
            f"denies skipped for {user}'s agents (critical denies {critical}), every action "
            "audited as an override"
        )

    def _break_glass(
        self, event: ToolEvent, decision: Decision, fields: dict[str, Any]
    ) -> dict[str, Any] | None:
        if decision.outcome is Outcome.ALLOW or event.hook_event_name != "PreToolUse":
            return None
        # The kernel's user, never the label: a claimed name must not step into a window.
        window = self.store.active_break_glass((fields["peer_user"],), time.time())
        if window is None:
            return None
        changed = override(decision, self.policy.engine.policy.break_glass)
        if changed is None:
            return None
        reason = (
            f"break-glass {window.id} by {window.user} ({window.reason}) overrides "
            f"{decision.rule}: {decision.reason}"
        )
        self.store.append_audit(
            "override",
            decision="allow",
            would_be=str(decision.would_be),
            mode=str(decision.mode),
            rule=decision.rule,
            risk=str(decision.risk),
            reason=reason,
            approval_id=window.id,
            payload=self._versioned(_decision_payload(event, decision)),
            **fields,
        )
        return _reply("allow", reason, decision.rule, risk=str(decision.risk))

    async def _close_break_glass(self, window_id: str) -> None:
        window = self.store.close_break_glass(window_id, time.time())
        if window is None:
            return
        overrides = self.store.db.execute(
            "SELECT COUNT(*) FROM audit WHERE kind = 'override' AND approval_id = ?", [window.id]
        ).fetchone()[0]
        self.store.append_audit(
            "break_glass_closed",
            user=window.user,
            decision="closed",
            approval_id=window.id,
            reason=f"{overrides} override(s)",
        )
        self._background(
            self.notifier.alert(
                f"Break-glass {window.id} closed",
                [
                    f"Opened by {window.user}: {window.reason}",
                    f"{overrides} action(s) ran as overrides",
                ],
            )
        )

    # ------------------------------------------------------------ anchors

    async def _anchor_if_due(self) -> None:
        head = self.store.head()
        last_seq, last_at = self._anchored
        if head is None or head[0] == last_seq:
            return
        waited = time.monotonic() - last_at >= self.config.anchor_interval_s
        if waited or head[0] - last_seq >= self.config.anchor_rows:
            await self.publish_anchor("interval")

    async def publish_anchor(self, reason: str) -> None:
        """Send the chain's head to every witness; one failing witness does not stop the rest."""
        anchor = current_anchor(self.store, reason)
        if anchor is None:
            return
        self._anchored = (anchor.seq, time.monotonic())
        for witness in self.witnesses:
            try:
                await witness.publish(anchor)
            except Exception:
                log.exception("could not publish the audit anchor to the %s", witness.name)

    # ------------------------------------------------------------ alerts

    async def _risk_summary(self) -> None:
        """Post to the security channel once when the last hour turns HIGH, not once per block."""
        since = time.time() - 3600
        blocks, critical = self.store.db.execute(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE risk = 'critical') FROM audit "
            "WHERE kind = 'decision' AND decision = 'deny' AND ts >= ?",
            [since],
        ).fetchone()
        level = risk_level(blocks, bool(critical))
        previous = self.store.alert_level("risk_summary")
        if level == previous:
            return
        self.store.set_alert_level("risk_summary", level, time.time())
        if level == "HIGH":
            self.store.append_audit(
                "alert", decision="HIGH", reason=f"{blocks} blocks in the last hour"
            )
            await self.notifier.alert(
                f"Risk HIGH: {blocks} blocked actions in the last hour",
                [
                    "Check `governance report --days 1` for who and what."
                    if self._console_only
                    else "Check `/governance report 1` for who and what."
                ],
            )
        elif previous == "HIGH":
            self.store.append_audit("alert", decision=level, reason="risk back below HIGH")

    async def _fire_deadline(self, deadline_id: int) -> None:
        """Act on a due deadline row, at most once even if its job runs twice."""
        # A second of slack: the job may wake a hair before the row's timestamp.
        deadline = self.store.claim_deadline(deadline_id, time.time() + 1.0)
        if deadline is None:
            return
        if deadline.kind == "close_break_glass":
            await self._close_break_glass(deadline.approval_id)
            return
        approval = self.store.approval(deadline.approval_id)
        if approval is None or approval.state is not ApprovalState.PENDING:
            return
        audit = {
            "approval_id": approval.id,
            "session_id": approval.session_id,
            "tool_name": approval.tool_name,
            "user": approval.requester,
        }
        if deadline.kind == "escalate":
            level = approval.snapshot.escalation[deadline.level]
            notify = self._resolve_people(level.notify)
            self.store.append_audit(
                "approval_escalated",
                decision="pending",
                reason=f"escalated to level {deadline.level + 1}",
                payload={"notify": notify},
                **audit,
            )
            with contextlib.suppress(Exception):
                await self.notifier.request_escalated(approval, deadline.level, notify)
            return
        if self.store.finish_approval(approval.id, ApprovalState.EXPIRED, "timed out"):
            self.scheduler.cancel(self.store.cancel_deadlines(approval.id))
            self.store.append_audit(
                "approval_expired",
                decision="expired",
                reason="no decision before the deadline",
                **audit,
            )
            self.store.announce_finished(approval.id, ApprovalState.EXPIRED)
            self._resolve(approval.id, ApprovalState.EXPIRED)
            expired = self.store.approval(approval.id) or approval
            with contextlib.suppress(Exception):
                await self.notifier.request_expired(expired)

    def _resolve_people(self, names: list[str]) -> list[str]:
        """Escalation targets: a role from approver_pools stands for its members."""
        pools = self.policy.engine.policy.approver_pools
        return list(dict.fromkeys(person for name in names for person in pools.get(name, [name])))

    async def _ingest_spool(self) -> None:
        spool = self.config.spool
        if not spool.is_dir():
            return
        for path in sorted(spool.glob("*.json")):
            try:
                spooled = json.loads(path.read_text(encoding="utf-8", errors="replace"))
            except (OSError, json.JSONDecodeError) as error:
                spooled = {"unreadable": str(error)}
            event = spooled.get("event") if isinstance(spooled, dict) else None
            context = spooled.get("context") if isinstance(spooled, dict) else None
            fields: dict[str, Any] = {}
            would_be = None
            if isinstance(event, dict):
                with contextlib.suppress(ValidationError):
                    tool_event = ToolEvent.model_validate(event)
                    call_context = CallContext.model_validate(context or {})
                    fields = self._audit_fields(tool_event, call_context, Peer(0, -1, "spool"))
                    if tool_event.hook_event_name == "PreToolUse":
                        would_be = str(
                            self.policy.engine.evaluate(tool_event, call_context).would_be
                        )
            self.store.append_audit(
                "spooled_event",
                decision="allow (fail-open)"
                if spooled.get("fail_mode") == "open"
                else "not decided (server down)",
                would_be=would_be,
                reason=f"server unreachable: {spooled.get('error')}",
                payload=spooled,
                **fields,
            )
            path.unlink(missing_ok=True)

    async def _watch_policy(self) -> None:
        outcome = self.policy.reload_if_changed()
        if outcome is None:
            return
        if outcome == "reloaded":
            log.warning("policy %s reloaded", self.policy.source)
            self.store.append_audit(
                "policy_reloaded",
                reason=self.policy.source,
                mode=str(self.policy.engine.policy.mode),
            )
            return
        print(
            f"\n[governance] POLICY RELOAD FAILED, still enforcing the previous policy:\n"
            f"{outcome}\n",
            file=sys.stderr,
            flush=True,
        )
        self.store.append_audit("policy_reload_failed", reason=outcome[:1000])


def _reply(
    decision: str,
    reason: str,
    rule: str | None,
    approval_id: str | None = None,
    risk: str | None = None,
) -> dict[str, Any]:
    return {
        "decision": decision,
        "reason": reason,
        "rule": rule,
        "approval_id": approval_id,
        "risk": risk,
    }


def _error_reply(reason: str) -> dict[str, Any]:
    return _reply("deny", f"malformed request: {reason}", "protocol.malformed")


def _redacted_call(
    redaction: Redaction, event: ToolEvent, decision: Decision
) -> tuple[ToolEvent, Decision]:
    """The event and decision as every sink may see them: the input redacted, and the call's
    secrets scrubbed from the reasons and fragments that quote it."""
    redacted_input = redaction.redacted[0]
    if not redaction.secrets and redacted_input == event.tool_input:
        return event, decision  # nothing to hide (the common case); each sink still redacts
    findings = tuple(
        replace(f, reason=redaction(f.reason), fragment=redaction(f.fragment))
        for f in decision.findings
    )
    return (
        event.model_copy(update={"tool_input": redacted_input}),
        replace(decision, findings=findings, commands=tuple(redaction(list(decision.commands)))),
    )


def _decision_payload(event: ToolEvent, decision: Decision) -> dict[str, Any]:
    return {
        "tool_input": event.tool_input
        if event.hook_event_name == "PreToolUse"
        else {"prompt_chars": len(event.prompt or "")},
        "cwd": event.cwd,
        "findings": [
            {"rule": f.rule, "outcome": str(f.outcome), "risk": str(f.risk), "fragment": f.fragment}
            for f in decision.findings
        ],
        "egress_hosts": list(decision.egress_hosts),
    }


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
