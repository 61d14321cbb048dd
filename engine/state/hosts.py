"""Remote hosts of the team service: their token hashes, contact times, what each last reported
(policy, spool backlog, hook version), revocation, and the (host, event id) keys that make an
edge's audit upload idempotent. It never holds a token."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from engine.approvals import ApprovalState
from engine.store import Store

HOST_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
TOKEN_PREFIX = "gvh_"
_HOST_COLUMNS = (
    "name, token_sha256, created_at, last_contact_at, revoked_at, "
    "policy_version, spool_backlog, hook_version"
)


class HostError(ValueError):
    """A host name that is invalid, taken, or unknown."""


@dataclass(frozen=True, slots=True)
class HostReport:
    """What an edge says about itself on every request (X-Governance-* headers); None where
    it did not say."""

    policy_version: str | None = None
    spool_backlog: int | None = None
    hook_version: str | None = None

    def updated_by(self, newer: HostReport) -> HostReport:
        """This report with what `newer` says; what it does not say stays as it was."""
        return HostReport(
            newer.policy_version if newer.policy_version is not None else self.policy_version,
            newer.spool_backlog if newer.spool_backlog is not None else self.spool_backlog,
            newer.hook_version if newer.hook_version is not None else self.hook_version,
        )


@dataclass(frozen=True, slots=True)
class Contact:
    """The last contact written to the hosts table for one host."""

    at: float
    report: HostReport


def contact_due(last: Contact | None, report: HostReport, now: float, every_s: float) -> bool:
    """Whether this request's contact is worth a write: the first of a host, a new policy or
    hook version (a rollout to watch), or `every_s` since the last write. A backlog that moves
    alone waits for the period: it changes with nearly every request of a busy edge."""
    if last is None or now - last.at >= every_s:
        return True
    return (report.policy_version, report.hook_version) != (
        last.report.policy_version,
        last.report.hook_version,
    )


@dataclass(frozen=True, slots=True)
class Host:
    name: str
    token_sha256: str
    created_at: float
    last_contact_at: float | None
    revoked_at: float | None
    policy_version: str | None = None
    spool_backlog: int | None = None
    hook_version: str | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True, slots=True)
class IngestedEvent:
    """One edge event as the audit will hold it; `fields` go to `Store.append_audit`."""

    event_id: str
    kind: str
    fields: dict[str, Any]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class HostRegistry:
    """The hosts table on either backend (the store's SQL is written for both)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = store.db

    def add(self, name: str, now: float | None = None) -> str:
        """Register `name`; returns its token, which is never stored (only its sha256)."""
        if not HOST_NAME.fullmatch(name):
            raise HostError(
                f"host name {name!r}: use letters, digits, '.', '_' or '-' (at most 63)"
            )
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.store.batch():
            cursor = self.db.execute(
                "INSERT INTO remote_hosts (name, token_sha256, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                [name, token_hash(token), now or time.time()],
            )
            if cursor.rowcount != 1:
                raise HostError(f"host {name!r} already exists (revoked hosts keep their name)")
            self.store.append_audit("host_added", host=name, decision="added")
        return token

    def hosts(self) -> list[Host]:
        return [
            Host(*row)
            for row in self.db.execute(
                f"SELECT {_HOST_COLUMNS} FROM remote_hosts ORDER BY name"
            ).fetchall()
        ]

    def revoke(self, name: str, now: float | None = None) -> list[str] | None:
        """Revoke `name` and cancel its pending approval requests (their ids); None if it was
        already revoked. Unknown names are an error."""
        now = now or time.time()
        with self.store.batch():
            cursor = self.db.execute(
                "UPDATE remote_hosts SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
                [now, name],
            )
            if cursor.rowcount != 1:
                if not any(host.name == name for host in self.hosts()):
                    raise HostError(f"no host {name!r}")
                return None
            cancelled = [
                approval
                for approval in self.store.pending_approvals()
                if approval.requester_host == name
                and self.store.finish_approval(
                    approval.id, ApprovalState.CANCELLED, f"host {name} was revoked", now
                )
            ]
            for approval in cancelled:
                self.store.cancel_deadlines(approval.id)
                self.store.append_approval_audit(
                    "approval_cancelled",
                    approval,
                    decision="cancelled",
                    reason=f"host {name} was revoked",
                    host=name,
                )
            self.store.append_audit(
                "host_revoked",
                host=name,
                decision="revoked",
                reason=f"{len(cancelled)} pending request(s) cancelled",
            )
        return [approval.id for approval in cancelled]

    def authenticate(self, token: str) -> Host | None:
        """The live host this token belongs to, or None (unknown, or revoked)."""
        digest = token_hash(token)
        row = self.db.execute(
            f"SELECT {_HOST_COLUMNS} FROM remote_hosts WHERE token_sha256 = ?", [digest]
        ).fetchone()
        if row is None or not hmac.compare_digest(row[1], digest):
            return None
        host = Host(*row)
        return None if host.revoked else host

    def touch(self, name: str, now: float, report: HostReport) -> None:
        """Record a contact; what the host did not report keeps its last known value."""
        self.db.execute(
            "UPDATE remote_hosts SET last_contact_at = ?, "
            "policy_version = COALESCE(?, policy_version), "
            "spool_backlog = COALESCE(?, spool_backlog), "
            "hook_version = COALESCE(?, hook_version) WHERE name = ?",
            [now, report.policy_version, report.spool_backlog, report.hook_version, name],
        )

    def revoked_names(self) -> set[str]:
        rows = self.db.execute("SELECT name FROM remote_hosts WHERE revoked_at IS NOT NULL")
        return {row[0] for row in rows.fetchall()}

    def received_event_ids(self) -> Iterator[tuple[str, str]]:
        """(host, event id) of every event an edge uploaded, streamed, in no set order."""
        for row in self.store._stream("SELECT host, event_id FROM remote_events", {}):
            yield row["host"], row["event_id"]

    def ingest(self, host: str, events: Sequence[IngestedEvent]) -> list[tuple[str, int | None]]:
        """Append each event not seen before from this host, in one transaction; per event
        (event id, its audit seq), the seq None for a resend that was already stored."""
        results: list[tuple[str, int | None]] = []
        with self.store.batch():
            for event in events:
                claimed = self.db.execute(
                    "INSERT INTO remote_events (host, event_id, received_at) VALUES (?, ?, ?) "
                    "ON CONFLICT DO NOTHING",
                    [host, event.event_id, time.time()],
                )
                if claimed.rowcount != 1:
                    results.append((event.event_id, None))
                    continue
                seq = self.store.append_audit(event.kind, **event.fields)
                self.db.execute(
                    "UPDATE remote_events SET audit_seq = ? WHERE host = ? AND event_id = ?",
                    [seq, host, event.event_id],
                )
                results.append((event.event_id, seq))
        return results
