"""The edge's HTTPS client of the team service: one aiohttp session, the host token, and the
status headers every request carries. It speaks the /v1 API; it decides nothing itself."""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bot.config import product_version

CONNECT_TIMEOUT_S = 5.0
REQUEST_TIMEOUT_S = 30.0


class UpstreamError(Exception):
    """The team service did not give a usable answer."""


class UpstreamUnreachable(UpstreamError):
    """No answer at all: connection refused or cut, TLS failure, timeout, or a 5xx."""


class UpstreamRefused(UpstreamError):
    """A 4xx: the service understood and said no (bad token, revoked host, invalid body)."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Any
    etag: str | None


@dataclass(frozen=True, slots=True)
class EdgeStatus:
    """What the service learns of this edge with each request (`governance hosts list`)."""

    policy_version: str
    spool_backlog: int


def read_token(path: str | Path) -> str:
    try:
        token = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise RuntimeError(f"--token-file {path}: cannot read the host token: {error}") from None
    if not token:
        raise RuntimeError(f"--token-file {path} is empty: put the token of `governance hosts add`")
    return token


def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """The system's CAs, or only `ca_file` (a private CA or the service's self-signed cert)."""
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as error:
        raise RuntimeError(f"--ca-file {ca_file}: {error}") from None


class Upstream:
    """The team service at `url`; every call raises UpstreamUnreachable or UpstreamRefused
    instead of returning something half-understood."""

    def __init__(
        self, url: str, token: str, ca_file: str | None, status: Callable[[], EdgeStatus]
    ) -> None:
        if not url.startswith("https://"):
            raise RuntimeError(f"--upstream {url}: give the team service's https:// URL")
        self.url = url.rstrip("/")
        self._token = token
        self._tls = tls_context(ca_file)
        self._status = status
        self._session: aiohttp.ClientSession | None = None
        self._hook_version = product_version()

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                # No pool limit: each hook waiting on an approval holds one long-poll, and
                # uploads and the policy long-poll must never queue behind them.
                connector=aiohttp.TCPConnector(ssl=self._tls, limit=0),
                raise_for_status=False,
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        status = self._status()
        return {
            "Authorization": f"Bearer {self._token}",
            "X-Governance-Policy-Version": status.policy_version,
            "X-Governance-Spool-Backlog": str(status.spool_backlog),
            "X-Governance-Hook-Version": self._hook_version,
            **(extra or {}),
        }

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        timeout_s: float = REQUEST_TIMEOUT_S,
    ) -> Answer:
        timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=CONNECT_TIMEOUT_S)
        try:
            async with self._open().request(
                method,
                self.url + path,
                json=body,
                params=params,
                headers=self._headers(headers),
                timeout=timeout,
            ) as response:
                text = await response.text()
                status, etag = response.status, response.headers.get("ETag")
        except (aiohttp.ClientError, TimeoutError, ssl.SSLError, OSError) as error:
            raise UpstreamUnreachable(_describe(error)) from None
        parsed = _json(text)
        if status >= 500:
            raise UpstreamUnreachable(f"HTTP {status}: {_message(parsed, text)}")
        if status >= 400:
            raise UpstreamRefused(f"HTTP {status}: {_message(parsed, text)}")
        return Answer(status, parsed, etag)


def _describe(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) < 300 else text[:300] + "…"


def _json(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError:
        return None


def _message(parsed: Any, text: str) -> str:
    if isinstance(parsed, dict) and isinstance(parsed.get("error"), str):
        return parsed["error"]
    return text[:200] or "no body"
