"""The remote API's hosts: which host a bearer token names (the host table cached in memory),
when each was last heard from, and the end of a revoked host's waits. It routes nothing itself."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web

from engine.redact import redact_text
from engine.state.hosts import Contact, Host, HostRegistry, HostReport, contact_due, token_hash

if TYPE_CHECKING:
    from bot.server import GovernanceServer

log = logging.getLogger("governance.remote")

HOSTS_REFRESH_S = 0.5  # how soon a revocation closes a host's waiting requests
CONTACT_EVERY_S = 30.0  # `hosts list` shows last contact to this precision
# What an edge says about itself on every request (the edge client's contract).
POLICY_VERSION_HEADER = "X-Governance-Policy-Version"
SPOOL_BACKLOG_HEADER = "X-Governance-Spool-Backlog"
HOOK_VERSION_HEADER = "X-Governance-Hook-Version"
_VERSION = re.compile(r"[\x20-\x7e]{1,128}")  # printable ASCII
_BACKLOG = re.compile(r"[0-9]{1,18}")
T = TypeVar("T")
Handler = Callable[[web.Request, Host], Awaitable[web.StreamResponse]]


def _error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


class HostGate:
    """The host table cached by token hash, refreshed so a revocation takes effect at once."""

    def __init__(self, server: GovernanceServer) -> None:
        self.server = server
        self.registry = HostRegistry(server.store)
        self._by_hash: dict[str, Host] = {}
        self._revoked: set[str] = set()
        self._stops: dict[str, asyncio.Event] = {}
        self._closing = asyncio.Event()
        self._contacted: dict[str, Contact] = {}
        self._refresher: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._refresh_hosts(first=True)
        self._refresher = asyncio.create_task(self._keep_hosts_fresh())

    def stop(self) -> None:
        self._closing.set()  # waiting requests answer "shutting down" before the sockets close
        if self._refresher is not None:
            self._refresher.cancel()

    def _refresh_hosts(self, *, first: bool = False) -> None:
        hosts = self.registry.hosts()
        self._by_hash = {host.token_sha256: host for host in hosts if not host.revoked}
        revoked = {host.name for host in hosts if host.revoked}
        for name in revoked - self._revoked:
            self._stop_event(name).set()  # its waiting requests and long-polls end now
            if not first:  # revoked while we serve: its Slack messages still say "pending"
                self.server._background(self._announce_cancelled(name))
        self._revoked = revoked

    async def _announce_cancelled(self, host: str) -> None:
        """Show the revoked host's cancelled requests as final wherever they were posted
        (`hosts revoke` runs in another process, which holds no Slack connection)."""
        for approval in self.server.store.cancelled_for_host(host):
            with contextlib.suppress(Exception):
                await self.server.notifier.request_expired(approval)

    async def _keep_hosts_fresh(self) -> None:
        while True:
            await asyncio.sleep(HOSTS_REFRESH_S)
            try:
                self._refresh_hosts()
            except Exception:  # a database hiccup must not stop revocations for good
                log.exception("could not refresh the remote hosts")

    def _stop_event(self, name: str) -> asyncio.Event:
        return self._stops.setdefault(name, asyncio.Event())

    def _host_for(self, request: web.Request) -> tuple[Host | None, str]:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None, "no bearer token"
        host = self._by_hash.get(token_hash(token.strip()))
        if host is None:  # added since the last refresh, or not a token at all
            host = self.registry.authenticate(token.strip())
            if host is not None:
                self._by_hash[host.token_sha256] = host
        if host is None or host.name in self._revoked:
            return None, "unknown or revoked token"
        return host, ""

    def authenticated(self, handler: Handler) -> Callable[[web.Request], Awaitable[Any]]:
        async def guarded(request: web.Request) -> web.StreamResponse:
            host, why = self._host_for(request)
            if host is None:
                self.server.store.append_audit(
                    "remote_auth_failed",
                    decision="deny",
                    reason=why,
                    payload={"peer": request.remote, "path": request.path},
                )
                return _error(401, f"authentication failed: {why}")
            try:
                report = host_report(request.headers)
            except ValueError as error:
                return _error(400, str(error))
            now = time.time()
            last = self._contacted.get(host.name)
            seen = last.report.updated_by(report) if last is not None else report
            if contact_due(last, seen, now, CONTACT_EVERY_S):
                self._contacted[host.name] = Contact(now, seen)
                self.registry.touch(host.name, now, seen)
            return await handler(request, host)

        return guarded

    async def until_stopped(self, host: Host, work: Awaitable[T]) -> T | web.Response:
        """`work`'s result, or a clear error the moment the host is revoked or we shut down."""
        task = asyncio.ensure_future(work)
        stops = [
            asyncio.ensure_future(self._stop_event(host.name).wait()),
            asyncio.ensure_future(self._closing.wait()),
        ]
        try:
            await asyncio.wait([task, *stops], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for stop in stops:
                stop.cancel()
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if not task.cancelled():
            return task.result()
        if self._closing.is_set():
            return _error(503, "the governance service is shutting down; retry shortly")
        return _error(401, f"host {host.name} was revoked")


def host_report(headers: Mapping[str, str]) -> HostReport:
    """The edge's X-Governance-* headers; a malformed one is a ValueError naming it. A version
    may come as the policy's ETag (quoted); an empty one says nothing."""
    versions: dict[str, str | None] = {}
    for name in (POLICY_VERSION_HEADER, HOOK_VERSION_HEADER):
        value = headers.get(name, "").strip().strip('"').strip()
        if value and not _VERSION.fullmatch(value):
            raise ValueError(f"{name}: give a version in printable ASCII, at most 128 characters")
        versions[name] = redact_text(value) if value else None
    backlog = headers.get(SPOOL_BACKLOG_HEADER)
    if backlog is not None and not _BACKLOG.fullmatch(backlog.strip()):
        raise ValueError(f"{SPOOL_BACKLOG_HEADER}: give the number of spooled events, e.g. 0")
    return HostReport(
        policy_version=versions[POLICY_VERSION_HEADER],
        spool_backlog=int(backlog) if backlog is not None else None,
        hook_version=versions[HOOK_VERSION_HEADER],
    )
