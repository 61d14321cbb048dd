"""The team service's HTTPS API for remote hosts (`serve --listen`): per-host bearer tokens, decide,
wait on an approval, audit upload, policy fetch. It calls the server's core; it never votes."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import ssl
import time
from typing import Any, Literal, get_args

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.remote_edge import ApprovalAsk, GrantUse, create_judged_approval, spend_grant
from bot.remote_hosts import HostGate, _error
from bot.server import GovernanceServer, Peer
from bot.server.unix import LARGE_REQUEST_BYTES
from engine.approvals import ApprovalState
from engine.events import CallContext, ToolEvent
from engine.state.hosts import HOST_NAME, Host, IngestedEvent
from engine.state.streams import EVENT_ID

log = logging.getLogger("governance.remote")

MAX_BODY_BYTES = 17 * 1024 * 1024  # as the socket: a large Write plus the envelope
POLICY_POLL_S = 0.5


class DecideRequest(BaseModel):
    """POST /v1/decide: the hook's request, plus the OS user the edge's kernel reported."""

    model_config = ConfigDict(extra="forbid")

    event: ToolEvent
    context: CallContext = Field(default_factory=CallContext)
    os_user: str = Field(
        pattern=f"^{HOST_NAME.pattern}$", description="the agent's OS user on the edge"
    )
    wait_s: float = Field(default=0.0, ge=0.0)


# What an edge records in its own audit and ships here; approval state changes (requests,
# votes, outcomes, grants used) happen on the service, never on an edge. `edge_other` carries
# a kind an edge recorded that this list does not know (or that means something to the
# service's own chain, such as `retention_prune`), so the edge's stream has no gap.
EdgeKind = Literal[
    "decision",
    "prompt",
    "tool_outcome",
    "spooled_event",
    "malformed_request",
    "server_started",
    "server_stopped",
    "override",
    "policy_reloaded",
    "policy_reload_failed",
    "client_gone",
    "grant_expired",
    "alert",
    "break_glass_opened",
    "break_glass_closed",
    "break_glass_refused",
    "mfa_check",
    "mfa_locked",
    "mfa_enrolled",
    "vote_refused",
    "false_positive",
    "remote_prompt_refused",
    "approval_forwarded",
    "approval_answered",
    "approval_unreachable",
    "edge_other",
]
EDGE_KINDS: frozenset[str] = frozenset(get_args(EdgeKind))


class EdgeEvent(BaseModel):
    """One audit event recorded by an edge; `event_id` is its local audit seq in decimal, so
    `audit verify` can tell a gap in a host's stream."""

    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(pattern=f"^{EVENT_ID.pattern}$")
    kind: EdgeKind
    ts: float | None = Field(default=None, gt=0)
    session_id: str | None = None
    user: str | None = None
    peer_user: str | None = None
    repo: str | None = None
    branch: str | None = None
    tool_name: str | None = None
    decision: str | None = None
    would_be: str | None = None
    mode: str | None = None
    rule: str | None = None
    risk: str | None = None
    reason: str | None = None
    approval_id: str | None = Field(default=None, max_length=40)
    payload: dict[str, Any] | None = None


class AuditBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[EdgeEvent] = Field(min_length=1, max_length=1000)


def _invalid(error: ValidationError) -> web.Response:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    return _error(422, f"{where}: {first['msg']}", errors=len(error.errors()))


@web.middleware
async def _json_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Every failure is a JSON error and the service keeps serving."""
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return _error(error.status, error.reason)
    except Exception as error:
        log.exception("remote request failed")
        return _error(500, f"internal error: {type(error).__name__}")


class RemoteApi:
    """The /v1 routes over one GovernanceServer; HostGate says which host each request is."""

    def __init__(self, server: GovernanceServer) -> None:
        self.server = server
        self.hosts = HostGate(server)
        self._policy: tuple[object, str, bytes] | None = None
        self._runner: web.AppRunner | None = None

    def application(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[_json_errors])
        app.add_routes(
            [
                web.get("/v1/health", self.health),
                web.post("/v1/decide", self.hosts.authenticated(self.decide)),
                web.post("/v1/approvals", self.hosts.authenticated(self.ask)),
                web.post("/v1/grants/use", self.hosts.authenticated(self.use_grant)),
                web.get("/v1/approvals/{approval_id}/wait", self.hosts.authenticated(self.wait)),
                web.post("/v1/audit/events", self.hosts.authenticated(self.ingest)),
                web.get("/v1/policy", self.hosts.authenticated(self.policy)),
            ]
        )
        return app

    async def start(self, host: str, port: int, tls: ssl.SSLContext) -> None:
        self.hosts.start()
        # A client that hangs up cancels its handler: a waiter gone never spends a grant.
        self._runner = web.AppRunner(
            self.application(), access_log=None, handler_cancellation=True, shutdown_timeout=5
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port, ssl_context=tls, backlog=1024).start()

    async def stop(self) -> None:
        self.hosts.stop()  # waiting requests answer first, then the sockets close
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------ routes

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "api": "v1"})

    async def _body(self, request: web.Request) -> Any:
        try:
            return await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise web.HTTPBadRequest(reason=f"body is not JSON: {error}") from None

    async def decide(self, request: web.Request, host: Host) -> web.Response:
        try:
            asked = DecideRequest.model_validate(await self._body(request))
        except ValidationError as error:
            return _invalid(error)
        if asked.event.hook_event_name not in {"PreToolUse", "UserPromptSubmit"}:
            return _error(422, "event.hook_event_name: decide takes PreToolUse or UserPromptSubmit")
        peer = Peer(0, -1, asked.os_user, host=host.name)
        wait_s = min(asked.wait_s, self.server.config.max_wait_s)
        large = (request.content_length or 0) > LARGE_REQUEST_BYTES  # hashed off the loop
        decided = self.server.decide(asked.event, asked.context, peer, wait_s, None, large)
        if wait_s <= 0:
            return web.json_response(await decided)
        reply = await self.hosts.until_stopped(host, decided)
        return reply if isinstance(reply, web.Response) else web.json_response(reply)

    async def ask(self, request: web.Request, host: Host) -> web.Response:
        try:
            asked = ApprovalAsk.model_validate(await self._body(request))
        except ValidationError as error:
            return _invalid(error)
        created = await create_judged_approval(self.server, asked, host.name)
        return web.json_response(created) if created else _error(500, "could not create it")

    async def use_grant(self, request: web.Request, host: Host) -> web.Response:
        try:
            asked = GrantUse.model_validate(await self._body(request))
        except ValidationError as error:
            return _invalid(error)
        return web.json_response(spend_grant(self.server, asked.action_key, host.name))

    async def wait(self, request: web.Request, host: Host) -> web.Response:
        """Long-poll an approval this host asked for; the grant stays for the retried decide."""
        approval_id = request.match_info["approval_id"].strip().upper()
        try:
            timeout = min(float(request.query.get("timeout", "30")), self.server.config.max_wait_s)
        except ValueError:
            return _error(400, "timeout must be a number of seconds")
        approval = self.server.store.approval(approval_id)
        if approval is None or approval.requester_host != host.name:
            return _error(404, f"this host has no approval request {approval_id}")
        if approval.state is ApprovalState.PENDING and timeout > 0:
            future: asyncio.Future[ApprovalState] = asyncio.get_running_loop().create_future()
            waiters = self.server.waiters[approval_id]
            waiters.add(future)
            try:
                stopped = await self.hosts.until_stopped(host, asyncio.wait_for(future, timeout))
            except TimeoutError:
                stopped = None
            finally:
                waiters.discard(future)
                if not waiters:
                    self.server.waiters.pop(approval_id, None)
            if isinstance(stopped, web.Response):
                return stopped
            approval = self.server.store.approval(approval_id) or approval
        return web.json_response(
            {
                "approval_id": approval.id,
                "state": str(approval.state),
                "note": approval.decided_note,
                "retry": approval.state is ApprovalState.APPROVED,
            }
        )

    async def ingest(self, request: web.Request, host: Host) -> web.Response:
        try:
            batch = AuditBatch.model_validate(await self._body(request))
        except ValidationError as error:
            return _invalid(error)
        now = time.time()
        events = [_ingested(event, host.name, now) for event in batch.events]
        results = self.hosts.registry.ingest(host.name, events)
        stored = sum(1 for _, seq in results if seq is not None)
        return web.json_response(
            {
                "stored": stored,
                "duplicates": len(results) - stored,
                "events": [{"event_id": e, "seq": seq} for e, seq in results],
            }
        )

    async def policy(self, request: web.Request, host: Host) -> web.Response:
        version, body = self._policy_document()
        known = request.headers.get("If-None-Match", "").strip()
        try:
            wait = min(float(request.query.get("wait", "0")), self.server.config.max_wait_s)
        except ValueError:
            return _error(400, "wait must be a number of seconds")
        if known == f'"{version}"' and wait > 0:
            changed = await self.hosts.until_stopped(host, self._policy_change(version, wait))
            if isinstance(changed, web.Response):
                return changed
            version, body = self._policy_document()
        if known == f'"{version}"':
            return web.Response(status=304, headers={"ETag": f'"{version}"'})
        return web.Response(
            body=body, content_type="application/json", headers={"ETag": f'"{version}"'}
        )

    async def _policy_change(self, version: str, wait: float) -> None:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and self._policy_document()[0] == version:
            await asyncio.sleep(POLICY_POLL_S)

    def _policy_document(self) -> tuple[str, bytes]:
        """(version, body) of the policy in force: the sha256 of its canonical JSON."""
        engine = self.server.policy.engine
        if self._policy is None or self._policy[0] is not engine:
            document = engine.policy.model_dump(mode="json")
            canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
            version = hashlib.sha256(canonical.encode()).hexdigest()
            body = json.dumps(
                {"version": version, "source": self.server.policy.source, "policy": document}
            ).encode()
            self._policy = (engine, version, body)
        return self._policy[1], self._policy[2]


def _ingested(event: EdgeEvent, host: str, now: float) -> IngestedEvent:
    """The audit row of an edge event: the host is the token's, whatever the event says."""
    fields = event.model_dump(exclude={"event_id", "kind", "ts", "payload"})
    payload = {**(event.payload or {}), "edge": {"host": host, "event_id": event.event_id}}
    # The time it happened on the edge, but never in the future of the row's arrival.
    ts = min(event.ts or now, now)
    return IngestedEvent(
        event.event_id, event.kind, {**fields, "host": host, "ts": ts, "payload": payload}
    )


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


async def listen(server: GovernanceServer, address: str, cert: str, key: str) -> RemoteApi:
    """Serve the remote API on HOST:PORT over TLS; the caller stops it."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise RuntimeError(f"--listen {address}: give HOST:PORT, e.g. 0.0.0.0:8443")
    api = RemoteApi(server)
    await api.start(host.strip("[]"), int(port), tls_context(cert, key))
    return api
