"""The edge's policy: the team service's, fetched by ETag, cached on disk, and followed by a
long-poll on /v1/policy. It builds engines; it never edits a policy or judges a call."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from tenacity import AsyncRetrying, retry_if_exception_type, stop_never, wait_exponential_jitter

from bot.edge.upstream import Upstream, UpstreamError
from bot.server import PolicyHolder
from engine.evaluate import Engine
from engine.policy import PolicyError, parse_policy
from engine.self_protection import ProtectedState

log = logging.getLogger("governance.edge.policy")

FIRST_FETCH_TIMEOUT_S = 10.0
# The service holds the long-poll this long when nothing changes (it answers a change at once);
# each renewal also refreshes the host's last contact and status headers on the service.
LONG_POLL_S = 60.0


class EdgePolicy(PolicyHolder):
    """A PolicyHolder whose engine follows the service's policy instead of a local file."""

    def __init__(self, upstream_url: str, cache: Path, state: ProtectedState | None) -> None:
        # Not PolicyHolder.__init__: there is no file to load until the service or cache says.
        self.path = None
        self.state = state
        self.cache = cache
        self.upstream_url = upstream_url
        self.version: str | None = None
        self.engine: Engine
        self._news: str | None = None  # "reloaded" or a load error, for the server to audit

    @property
    def source(self) -> str:  # type: ignore[override]
        return f"{self.upstream_url}/v1/policy version {(self.version or '?')[:12]}"

    def reload_if_changed(self) -> str | None:
        """The server's periodic check: what happened since it last asked, once."""
        news, self._news = self._news, None
        return news

    async def start(self, upstream: Upstream) -> str:
        """The first policy: the service's, else the cached copy; with neither, a clear error
        (the server does not start, so hooks fail closed). Says where the policy came from."""
        try:
            answer = await upstream.call(
                "GET", "/v1/policy", headers=self._known(), timeout_s=FIRST_FETCH_TIMEOUT_S
            )
        except UpstreamError as error:
            if self._load_cache():
                return f"cached ({upstream.url} is unreachable: {error})"
            raise RuntimeError(
                f"no policy: the team service at {upstream.url} is unreachable ({error}) and "
                f"there is no cached copy at {self.cache}. The edge fails closed: hooks are "
                f"denied until it starts; check --upstream, --ca-file and the network"
            ) from None
        if answer.status == 304 and self._load_cache():
            return "the cached policy is current"
        if answer.status == 304:  # we sent no ETag without a cache: cannot happen, but be clear
            raise RuntimeError(f"{upstream.url}/v1/policy answered 304 to a first fetch")
        self._install(answer.body, keep_old=False)
        return "fetched from the team service"

    async def follow(self, upstream: Upstream) -> None:
        """Wait for each new version (the service answers the long-poll when it changes)."""
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(UpstreamError),
            wait=wait_exponential_jitter(initial=0.2, max=10),
            stop=stop_never,
            reraise=True,
        )
        while True:
            async for attempt in retrying.copy():
                with attempt:
                    answer = await upstream.call(
                        "GET",
                        "/v1/policy",
                        params={"wait": str(LONG_POLL_S)},
                        headers=self._known(),
                        timeout_s=LONG_POLL_S + 30,
                    )
            if answer.status == 200:
                self._install(answer.body, keep_old=True)

    def _known(self) -> dict[str, str]:
        if self.version is None:
            cached = self._read_cache()
            version = cached.get("version") if isinstance(cached, dict) else None
            return {"If-None-Match": f'"{version}"'} if isinstance(version, str) else {}
        return {"If-None-Match": f'"{self.version}"'}

    def _install(self, document: Any, keep_old: bool) -> None:
        try:
            version, engine = self._engine_of(document)
        except PolicyError as error:
            if not keep_old:
                raise RuntimeError(f"the team service sent an unusable policy: {error}") from None
            log.error("unusable policy from the service, keeping %s: %s", self.version, error)
            self._news = f"the team service sent an unusable policy: {error}"
            return
        self.engine, self.version = engine, version
        self._write_cache(document)
        if keep_old:
            self._news = "reloaded"

    def _engine_of(self, document: Any) -> tuple[str, Engine]:
        if not isinstance(document, dict) or not isinstance(document.get("version"), str):
            raise PolicyError("the policy document has no version")
        policy = parse_policy(document.get("policy"), f"{self.upstream_url}/v1/policy")
        return document["version"], Engine(policy, self.state)

    def _read_cache(self) -> Any:
        try:
            return json.loads(self.cache.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return None

    def _load_cache(self) -> bool:
        cached = self._read_cache()
        if cached is None:
            return False
        try:
            self.version, self.engine = self._engine_of(cached)
        except PolicyError as error:
            log.error("the cached policy %s is unusable: %s", self.cache, error)
            return False
        return True

    def _write_cache(self, document: Any) -> None:
        """Atomically, owner-only: a crash mid-write leaves the previous copy."""
        partial = self.cache.with_name(self.cache.name + ".partial")
        try:
            self.cache.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as out:
                json.dump(document, out)
            os.replace(partial, self.cache)
        except OSError as error:  # the policy still applies; only the next offline start lacks it
            log.error("could not cache the policy at %s: %s", self.cache, error)
