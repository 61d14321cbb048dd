"""The store: audit trail, approval requests, votes and grants, in SQL both backends speak;
SQLite (sqlite-utils, WAL) here, PostgreSQL in engine/state/postgres.py. It decides nothing."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from engine.approvals import ApprovalState, Approver, RuleSnapshot, Vote, VoteRecord
from engine.audit import CHAINED_FIELDS, GENESIS, ChainReport, row_hash, verify_chain
from engine.breakglass import Window
from engine.redact import redact

# The requester of record is the kernel's uid (+ host); a vote keeps every name its approver
# goes by (OS user, Slack id, email), so one human is one vote across channels.
IDENTITY_COLUMNS = """
ALTER TABLE approval_requests ADD COLUMN requester_uid INTEGER;
ALTER TABLE approval_requests ADD COLUMN requester_host TEXT;
ALTER TABLE approval_votes ADD COLUMN names TEXT;
ALTER TABLE approval_votes ADD COLUMN approver_uid INTEGER;
"""

# Remote hosts of the team service (only a sha256 of each token) and the (host, event id) of
# every audit event an edge uploaded, so a resend is stored once.
REMOTE_HOSTS = """
CREATE TABLE IF NOT EXISTS remote_hosts (
    name TEXT PRIMARY KEY,
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    last_contact_at REAL,
    revoked_at REAL
);
CREATE TABLE IF NOT EXISTS remote_events (
    host TEXT NOT NULL,
    event_id TEXT NOT NULL,
    received_at REAL NOT NULL,
    audit_seq INTEGER,
    PRIMARY KEY (host, event_id)
);
"""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    kind TEXT NOT NULL,
    session_id TEXT, user TEXT, peer_user TEXT, host TEXT, repo TEXT, branch TEXT,
    tool_name TEXT, decision TEXT, would_be TEXT, mode TEXT, rule TEXT, risk TEXT,
    reason TEXT, approval_id TEXT, payload TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_ts ON audit(ts);
CREATE INDEX IF NOT EXISTS audit_user ON audit(user);
-- Covers the report's aggregates, so a report over a million rows never reads the table.
CREATE INDEX IF NOT EXISTS audit_report_kind_ts
    ON audit(kind, ts, decision, tool_name, user, mode, would_be);
CREATE TRIGGER IF NOT EXISTS audit_append_only_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_append_only_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;
CREATE TABLE IF NOT EXISTS audit_checkpoints (
    id INTEGER PRIMARY KEY,
    created_at REAL NOT NULL,
    last_pruned_seq INTEGER NOT NULL,
    last_pruned_hash TEXT NOT NULL,
    archive TEXT NOT NULL,
    archive_sha256 TEXT NOT NULL,
    rows INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS approval_requests (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    decided_at REAL,
    decided_note TEXT,
    requester TEXT, peer_user TEXT, host TEXT, repo TEXT, branch TEXT,
    session_id TEXT, tool_name TEXT, tool_input TEXT, cwd TEXT,
    action_key TEXT NOT NULL,
    rule TEXT, reason TEXT, risk TEXT,
    snapshot TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS approval_pending ON approval_requests(state, expires_at);
CREATE INDEX IF NOT EXISTS approval_action ON approval_requests(action_key, state);

CREATE TABLE IF NOT EXISTS approval_votes (
    request_id TEXT NOT NULL,
    approver TEXT NOT NULL,
    vote TEXT NOT NULL,
    via TEXT NOT NULL,
    at REAL NOT NULL,
    note TEXT,
    PRIMARY KEY (request_id, approver)
);

CREATE TABLE IF NOT EXISTS grants (
    request_id TEXT PRIMARY KEY,
    action_key TEXT NOT NULL,
    created_at REAL NOT NULL,
    used_at REAL
);
CREATE INDEX IF NOT EXISTS grants_action ON grants(action_key, used_at);

CREATE TABLE IF NOT EXISTS deadlines (
    id INTEGER PRIMARY KEY,
    approval_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    level INTEGER NOT NULL DEFAULT 0,
    due_at REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    fired_at REAL
);
CREATE INDEX IF NOT EXISTS deadlines_pending ON deadlines(state, due_at);

CREATE TABLE IF NOT EXISTS break_glass (
    id TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    reason TEXT NOT NULL,
    opened_at REAL NOT NULL,
    closes_at REAL NOT NULL,
    closed_at REAL
);

CREATE TABLE IF NOT EXISTS alert_state (
    key TEXT PRIMARY KEY,
    level TEXT NOT NULL,
    since REAL NOT NULL
);

CREATE TABLE IF NOT EXISTS slack_messages (
    approval_id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    ts TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS mfa_secrets (
    approver TEXT PRIMARY KEY,
    secret TEXT NOT NULL,
    enrolled_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS mfa_used_codes (
    approver TEXT NOT NULL,
    counter INTEGER NOT NULL,
    approval_id TEXT NOT NULL,
    used_at REAL NOT NULL,
    PRIMARY KEY (approver, counter)
);
CREATE TABLE IF NOT EXISTS mfa_failures (
    approver TEXT NOT NULL,
    approval_id TEXT NOT NULL,
    failures INTEGER NOT NULL,
    last_at REAL NOT NULL,
    PRIMARY KEY (approver, approval_id)
);
"""

# Numbered migrations (version = position + 1), recorded in schema_version and applied at
# open. The first is the schema as it stood before versioning (IF NOT EXISTS throughout), so
# a database written by an older release adopts version 1 unchanged. Append, never edit.
# Grants that expire (`grant_expiry_minutes`); MFA failures per approver and their lockouts.
_GRANT_EXPIRY_MFA_LOCKOUT = """
ALTER TABLE grants ADD COLUMN expired_at REAL;
CREATE TABLE IF NOT EXISTS mfa_failure_log (
    approver TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS mfa_failure_log_approver ON mfa_failure_log(approver, at);
CREATE TABLE IF NOT EXISTS mfa_lockouts (
    approver TEXT PRIMARY KEY,
    since REAL NOT NULL,
    until REAL NOT NULL
);
"""

# How far each audit stream (syslog, HTTP collector) has delivered: the audit table itself is
# the stream's spool, so a collector that is down loses nothing.
STREAM_CURSORS = """
CREATE TABLE IF NOT EXISTS stream_cursors (
    sink TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
);
"""

MIGRATIONS: tuple[str, ...] = (
    _SCHEMA,
    IDENTITY_COLUMNS,
    _GRANT_EXPIRY_MFA_LOCKOUT,
    STREAM_CURSORS,
    REMOTE_HOSTS,
)


@dataclass(frozen=True, slots=True)
class Deadline:
    """A timer that must fire once: escalate a request to the next level, or expire it."""

    id: int
    approval_id: str
    kind: str  # "escalate" or "expire"
    level: int
    due_at: float


_DELETE_GUARD = (
    "CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit "
    "BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END"
)
_AUDIT_COLUMNS = (*CHAINED_FIELDS, "hash")
# Quoted: `user` is a reserved word in PostgreSQL (it means CURRENT_USER there).
_QUOTED_AUDIT_COLUMNS = ", ".join(f'"{name}"' for name in _AUDIT_COLUMNS)
_AUDIT_INSERT = (
    f"INSERT INTO audit ({_QUOTED_AUDIT_COLUMNS}) VALUES ({', '.join('?' for _ in _AUDIT_COLUMNS)})"
)
_TEXT_FIELDS = frozenset(CHAINED_FIELDS) - {"seq", "ts"}
_APPROVAL_COLUMNS = (
    "id", "state", "created_at", "expires_at", "decided_at", "decided_note", "requester",
    "peer_user", "host", "repo", "branch", "session_id", "tool_name", "tool_input", "cwd",
    "action_key", "rule", "reason", "risk", "snapshot", "requester_uid", "requester_host",
)  # fmt: skip


def audit_record(kind: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The redacted row to chain, with every value in the type both backends store and return
    (text as str, ts as float), so the hash computed now is the hash `verify` recomputes."""
    payload = fields.pop("payload", None)
    record: dict[str, Any] = {name: None for name in CHAINED_FIELDS}
    record.update(redact({k: v for k, v in fields.items() if k in _TEXT_FIELDS}))
    for name in _TEXT_FIELDS:
        if record[name] is not None and not isinstance(record[name], str):
            record[name] = str(record[name])
    record.update(
        ts=float(fields.get("ts") or time.time()),
        kind=kind,
        payload=payload.text
        if isinstance(payload, RedactedJson)
        else RedactedJson.of(payload).text
        if payload is not None
        else None,
    )
    return record


def sqlite_statements(script: str) -> Iterator[str]:
    """Split a script into statements (trigger bodies hold semicolons of their own)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            yield statement
            statement = ""


@dataclass(frozen=True, slots=True)
class RedactedJson:
    """A value already redacted and serialised, so a large one can be prepared off the event
    loop; only `of` makes one, so nothing reaches the store unredacted."""

    text: str

    @classmethod
    def of(cls, value: Any) -> RedactedJson:
        return cls(json.dumps(redact(value), sort_keys=True, ensure_ascii=False, default=str))


@dataclass(frozen=True, slots=True)
class ApprovalRecord:
    id: str
    state: ApprovalState
    created_at: float
    expires_at: float
    decided_at: float | None
    decided_note: str | None
    requester: str | None
    peer_user: str | None
    host: str | None
    repo: str | None
    branch: str | None
    session_id: str | None
    tool_name: str | None
    tool_input: dict[str, Any]
    cwd: str | None
    action_key: str
    rule: str | None
    reason: str | None
    risk: str | None
    snapshot: RuleSnapshot
    # The requester of record: the kernel's uid of the hook's process (SO_PEERCRED) on this
    # host. `requester` is only the label the hook reported; `peer_user` is the uid's name.
    requester_uid: int | None = None
    requester_host: str | None = None

    @property
    def requester_label(self) -> str:
        """`label (uid N name)` for messages: the claimed name beside the kernel's word."""
        label = self.requester or self.peer_user or "unknown"
        if self.requester_uid is None:
            return label
        name = f" {self.peer_user}" if self.peer_user and self.peer_user != label else ""
        return f"{label} (uid {self.requester_uid}{name})"


def _approval(row: dict[str, Any]) -> ApprovalRecord:
    return ApprovalRecord(
        **{
            **row,
            "state": ApprovalState(row["state"]),
            "tool_input": json.loads(row["tool_input"] or "{}"),
            "snapshot": RuleSnapshot.model_validate_json(row["snapshot"]),
        }
    )


class Store:
    """The store on one SQLite file (the default backend). The SQL of its methods is written
    for both SQLite and PostgreSQL; `PostgresStore` replaces only the connection, the write
    transaction, the sanctioned delete of `prune` and the streaming of audit rows."""

    # A query is a call into a local file: callers on an event loop run it inline.
    queries_wait_on_network = False

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        _create_private(self.path)
        connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.db = sqlite_utils.Database(connection)
        self.db.enable_wal()
        self.db.execute("PRAGMA synchronous=NORMAL")  # WAL: a crash loses nothing committed
        self.db.execute("PRAGMA busy_timeout=5000")
        self._lock = threading.RLock()  # re-entered when a batch wraps appends
        self._migrate()

    def _migrate(self) -> None:
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS schema_version "
            "(version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)"
        )
        for version, script in enumerate(MIGRATIONS, 1):
            with self._write():  # re-checked under the write lock: two processes may start
                if self.db.execute(
                    "SELECT 1 FROM schema_version WHERE version = ?", [version]
                ).fetchone():
                    continue
                for statement in sqlite_statements(script):
                    self.db.execute(statement)
                self.db.execute(
                    "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                    [version, time.time()],
                )

    def schema_version(self) -> int:
        return self.db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]

    def close(self) -> None:
        self.db.close()

    # ------------------------------------------------------------ audit

    def _tail(self) -> tuple[int, str]:
        """(seq, hash) of the newest row; after a prune that left nothing, its checkpoint's."""
        row = self.db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        if row:
            return row[0], row[1]
        checkpoint = self.latest_checkpoint()
        return (
            (checkpoint["last_pruned_seq"], checkpoint["last_pruned_hash"])
            if checkpoint
            else (0, GENESIS)
        )

    @contextlib.contextmanager
    def _write(self) -> Iterator[None]:
        """One write transaction that takes SQLite's write lock first, so the tail it reads is
        the tail it extends even when a CLI command (prune, enrol) writes beside the server."""
        with self._lock:
            if self.db.conn.in_transaction:  # a caller's batch already holds the write lock
                yield
                return
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def batch(self) -> contextlib.AbstractContextManager[None]:
        """One write transaction around many writes (a bulk import): one commit, all or none."""
        return self._write()

    def append_audit(self, kind: str, **fields: Any) -> int:
        """Append one redacted, hash-chained row; returns its seq."""
        (seq,) = self.append_audit_records([audit_record(kind, fields)])
        return seq

    def append_audit_records(self, records: list[dict[str, Any]]) -> list[int]:
        """Chain rows made by `audit_record`, in order, and append them in one transaction
        (one commit, all or none); their seqs."""
        with self._write():
            seq, previous = self._tail()
            rows = []
            for record in records:
                seq += 1
                record.update(seq=seq, prev_hash=previous)
                previous = record["hash"] = row_hash(record)
                rows.append([record[name] for name in _AUDIT_COLUMNS])
            # The hot path of every decision: a prepared statement, not per-row introspection.
            self._insert_many(_AUDIT_INSERT, rows)
        return [record["seq"] for record in records]

    def _insert_many(self, sql: str, rows: list[list[Any]]) -> None:
        self.db.conn.executemany(sql, rows)

    def audit_rows(
        self, where: str = "", params: dict[str, Any] | None = None, order: str = "seq"
    ) -> Iterator[dict[str, Any]]:
        sql = f"SELECT * FROM audit {('WHERE ' + where) if where else ''} ORDER BY {order}"
        yield from self.db.query(sql, params or {})

    def decision_rows(self, since: float) -> Iterator[dict[str, Any]]:
        """Recorded tool-call decisions since `since`, oldest first, streamed, for policy
        replay: seq, ts, user, tool_name, decision, rule, repo, branch, payload."""
        yield from self._stream(
            'SELECT seq, ts, "user", tool_name, decision, rule, repo, branch, payload '
            "FROM audit WHERE kind = 'decision' AND ts >= :since ORDER BY seq",
            {"since": since},
        )

    def _stream(self, sql: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield from self.db.query(sql, params)

    def rows_after(self, seq: int, limit: int) -> list[dict[str, Any]]:
        """Up to `limit` audit rows after `seq`, oldest first (what a stream has not sent)."""
        return list(
            self.db.query(
                "SELECT * FROM audit WHERE seq > :seq ORDER BY seq LIMIT :limit",
                {"seq": seq, "limit": limit},
            )
        )

    def last_seq(self) -> int:
        return self._tail()[0]

    def stream_cursor(self, sink: str) -> int | None:
        row = self.db.execute("SELECT seq FROM stream_cursors WHERE sink = ?", [sink]).fetchone()
        return None if row is None else row[0]

    def set_stream_cursor(self, sink: str, seq: int) -> None:
        self.db.execute(
            "INSERT INTO stream_cursors (sink, seq) VALUES (?, ?) "
            "ON CONFLICT (sink) DO UPDATE SET seq = excluded.seq",
            [sink, seq],
        )

    def flag_false_positive(self, audit_id: int, user: str, note: str) -> tuple[int, str] | None:
        """Record that a decision was wrong; (new row's seq, the flagged rule), or None."""
        row = self.db.execute("SELECT rule FROM audit WHERE seq = ?", [audit_id]).fetchone()
        if row is None:
            return None
        seq = self.append_audit(
            "false_positive",
            user=user,
            decision="flagged",
            rule=row[0],
            reason=note,
            payload={"audit_id": audit_id, "rule": row[0]},
        )
        return seq, row[0]

    def head(self) -> tuple[int, str] | None:
        """(seq, hash) of the newest row, or None for an empty table."""
        row = self.db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        return (row[0], row[1]) if row else None

    def audit_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM audit").fetchone()[0]

    def hash_at(self, seq: int) -> str | None:
        row = self.db.execute("SELECT hash FROM audit WHERE seq = ?", [seq]).fetchone()
        return row[0] if row else None

    def checkpoints(self) -> list[dict[str, Any]]:
        """Every retention checkpoint, oldest first."""
        return list(self.db.query("SELECT * FROM audit_checkpoints ORDER BY id"))

    def latest_checkpoint(self) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM audit_checkpoints ORDER BY id DESC LIMIT 1"))
        return rows[0] if rows else None

    def verify(self) -> ChainReport:
        """Walk the chain; after a prune, from the checkpoint the prune recorded in the chain."""
        checkpoint = self.latest_checkpoint()
        if checkpoint is None:
            return verify_chain(self.audit_rows())
        recorded = self.db.execute(
            "SELECT seq FROM audit WHERE kind = 'retention_prune' AND reason = ?",
            [f"checkpoint {checkpoint['last_pruned_hash']}"],
        ).fetchone()
        if recorded is None:
            return ChainReport(
                False,
                0,
                checkpoint["last_pruned_seq"] + 1,
                "the latest prune checkpoint is not recorded in the audit chain",
            )
        return verify_chain(
            self.audit_rows(),
            start_hash=checkpoint["last_pruned_hash"],
            start_seq=checkpoint["last_pruned_seq"] + 1,
        )

    def prune(self, before: float, archive_dir: Path) -> dict[str, Any] | None:
        """Archive rows older than `before` to compressed JSONL, then remove them.

        The archive holds the rows and the checkpoint (the last pruned row's seq and hash);
        the chain of what remains restarts from that checkpoint, which is itself recorded as
        a `retention_prune` row. Returns the checkpoint, or None when nothing was old enough.
        """
        archive_dir.mkdir(parents=True, exist_ok=True)
        with self._write():
            rows = list(
                self.db.query(
                    "SELECT * FROM audit WHERE ts < :before ORDER BY seq", {"before": before}
                )
            )
            if not rows:
                return None
            last = rows[-1]
            path = archive_dir / f"audit-{rows[0]['seq']}-{last['seq']}.jsonl.gz"
            with gzip.open(path, "wt", encoding="utf-8") as archive:
                archive.write(
                    json.dumps(
                        {
                            "checkpoint": {
                                "last_pruned_seq": last["seq"],
                                "last_pruned_hash": last["hash"],
                            }
                        }
                    )
                    + "\n"
                )
                for row in rows:
                    archive.write(json.dumps(row, ensure_ascii=False) + "\n")
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            self._delete_audit_through(last["seq"])
            checkpoint = {
                "created_at": time.time(),
                "last_pruned_seq": last["seq"],
                "last_pruned_hash": last["hash"],
                "archive": str(path),
                "archive_sha256": digest,
                "rows": len(rows),
            }
            self.db.execute(
                "INSERT INTO audit_checkpoints (created_at, last_pruned_seq, last_pruned_hash, "
                "archive, archive_sha256, rows) VALUES (?, ?, ?, ?, ?, ?)",
                list(checkpoint.values()),
            )
        self.append_audit(
            "retention_prune",
            decision="pruned",
            reason=f"checkpoint {last['hash']}",
            payload=checkpoint,
        )
        return checkpoint

    def _delete_audit_through(self, seq: int) -> None:
        # The one sanctioned delete: lift the guard, delete, restore it, in one transaction.
        self.db.execute("DROP TRIGGER audit_append_only_delete")
        self.db.execute("DELETE FROM audit WHERE seq <= ?", [seq])
        self.db.execute(_DELETE_GUARD)

    # ------------------------------------------------------------ approvals

    def create_approval(self, record: dict[str, Any]) -> None:
        snapshot = record["snapshot"]
        tool_input = record.get("tool_input")
        fields = redact({k: v for k, v in record.items() if k not in ("snapshot", "tool_input")})
        row = dict.fromkeys(_APPROVAL_COLUMNS) | fields
        row["tool_input"] = (
            tool_input if isinstance(tool_input, RedactedJson) else RedactedJson.of(tool_input)
        ).text
        row["snapshot"] = snapshot.model_dump_json()
        row["state"] = str(ApprovalState.PENDING)
        unknown = set(row) - set(_APPROVAL_COLUMNS)
        if unknown:
            raise ValueError(f"unknown approval fields: {sorted(unknown)}")
        self.db.execute(
            f"INSERT INTO approval_requests ({', '.join(_APPROVAL_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in _APPROVAL_COLUMNS)})",
            [row[name] for name in _APPROVAL_COLUMNS],
        )

    def approval(self, approval_id: str) -> ApprovalRecord | None:
        rows = list(
            self.db.query("SELECT * FROM approval_requests WHERE id = :id", {"id": approval_id})
        )
        return _approval(rows[0]) if rows else None

    def pending_for_action(self, key: str) -> ApprovalRecord | None:
        rows = list(
            self.db.query(
                "SELECT * FROM approval_requests WHERE action_key = :key AND state = 'pending' "
                "ORDER BY created_at DESC LIMIT 1",
                {"key": key},
            )
        )
        return _approval(rows[0]) if rows else None

    def pending_approvals(self) -> list[ApprovalRecord]:
        return [
            _approval(row)
            for row in self.db.query(
                "SELECT * FROM approval_requests WHERE state = 'pending' ORDER BY created_at"
            )
        ]

    def votes(self, approval_id: str) -> tuple[VoteRecord, ...]:
        return tuple(
            VoteRecord(
                row["approver"],
                Vote(row["vote"]),
                row["via"],
                tuple((row["names"] or row["approver"]).split("\n")),
                row["approver_uid"],
            )
            for row in self.db.query(
                "SELECT * FROM approval_votes WHERE request_id = :id ORDER BY at",
                {"id": approval_id},
            )
        )

    def add_vote(self, approval_id: str, approver: Approver, vote: Vote, note: str | None) -> bool:
        """Store a vote once per (request, approver); False if it was already there."""
        cursor = self.db.execute(
            "INSERT INTO approval_votes (request_id, approver, vote, via, at, note, "
            "names, approver_uid) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [
                approval_id,
                approver.identity,
                str(vote),
                approver.via,
                time.time(),
                redact(note),
                "\n".join(sorted(approver.names)),
                approver.uid,
            ],
        )
        return cursor.rowcount == 1

    def finish_approval(
        self, approval_id: str, state: ApprovalState, note: str | None, now: float | None = None
    ) -> bool:
        """Move a pending request to a final state; False if something else got there first."""
        cursor = self.db.execute(
            "UPDATE approval_requests SET state = ?, decided_at = ?, decided_note = ? "
            "WHERE id = ? AND state = 'pending'",
            [str(state), now or time.time(), redact(note), approval_id],
        )
        return cursor.rowcount == 1

    def announce_finished(self, approval_id: str, state: ApprovalState) -> None:
        """Wake the other servers on this database; on SQLite there are none."""

    # ------------------------------------------------------------ deadlines

    def add_deadlines(self, approval_id: str, due: list[tuple[str, int, float]]) -> list[Deadline]:
        created = []
        for kind, level, due_at in due:
            (deadline_id,) = self.db.execute(
                "INSERT INTO deadlines (approval_id, kind, level, due_at) VALUES (?, ?, ?, ?) "
                "RETURNING id",
                [approval_id, kind, level, due_at],
            ).fetchone()
            created.append(Deadline(deadline_id, approval_id, kind, level, due_at))
        return created

    def pending_deadlines(self) -> list[Deadline]:
        return [
            Deadline(r["id"], r["approval_id"], r["kind"], r["level"], r["due_at"])
            for r in self.db.query(
                "SELECT * FROM deadlines WHERE state = 'pending' ORDER BY due_at"
            )
        ]

    def claim_deadline(self, deadline_id: int, now: float) -> Deadline | None:
        """Mark a due deadline fired; only the first caller gets it (at most once)."""
        cursor = self.db.execute(
            "UPDATE deadlines SET state = 'fired', fired_at = ? "
            "WHERE id = ? AND state = 'pending' AND due_at <= ?",
            [now, deadline_id, now],
        )
        if cursor.rowcount != 1:
            return None
        row = next(self.db.query("SELECT * FROM deadlines WHERE id = :id", {"id": deadline_id}))
        return Deadline(row["id"], row["approval_id"], row["kind"], row["level"], row["due_at"])

    def cancel_deadlines(self, approval_id: str) -> list[int]:
        ids = [
            r["id"]
            for r in self.db.query(
                "SELECT id FROM deadlines WHERE approval_id = :id AND state = 'pending'",
                {"id": approval_id},
            )
        ]
        self.db.execute(
            "UPDATE deadlines SET state = 'cancelled' WHERE approval_id = ? AND state = 'pending'",
            [approval_id],
        )
        return ids

    # ------------------------------------------------------------ break-glass and alerts

    def open_break_glass(self, window: Window) -> None:
        self.db.execute(
            'INSERT INTO break_glass (id, "user", reason, opened_at, closes_at) '
            "VALUES (?, ?, ?, ?, ?)",
            [window.id, window.user, window.reason, window.opened_at, window.closes_at],
        )

    def active_break_glass(self, names: tuple[str, ...], now: float) -> Window | None:
        marks = ", ".join("?" for _ in names) or "NULL"
        row = self.db.execute(
            f'SELECT id, "user", reason, opened_at, closes_at FROM break_glass WHERE "user" IN '
            f"({marks}) AND closed_at IS NULL AND closes_at > ? ORDER BY opened_at DESC LIMIT 1",
            [*names, now],
        ).fetchone()
        return Window(*row) if row else None

    def close_break_glass(self, window_id: str, now: float) -> Window | None:
        """Close an open window once; the window, or None if it was already closed."""
        cursor = self.db.execute(
            "UPDATE break_glass SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
            [now, window_id],
        )
        if cursor.rowcount != 1:
            return None
        row = self.db.execute(
            'SELECT id, "user", reason, opened_at, closes_at FROM break_glass WHERE id = ?',
            [window_id],
        ).fetchone()
        return Window(*row)

    def alert_level(self, key: str) -> str | None:
        row = self.db.execute("SELECT level FROM alert_state WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_alert_level(self, key: str, level: str, now: float) -> None:
        self.db.execute(
            "INSERT INTO alert_state (key, level, since) VALUES (?, ?, ?) ON CONFLICT (key) "
            "DO UPDATE SET level = excluded.level, since = excluded.since",
            [key, level, now],
        )

    # ------------------------------------------------------------ Slack messages

    def set_slack_message(self, approval_id: str, channel: str, ts: str) -> None:
        self.db.execute(
            "INSERT INTO slack_messages (approval_id, channel, ts) VALUES (?, ?, ?) "
            "ON CONFLICT (approval_id) DO UPDATE SET channel = excluded.channel, ts = excluded.ts",
            [approval_id, channel, ts],
        )

    def slack_message(self, approval_id: str) -> tuple[str, str] | None:
        row = self.db.execute(
            "SELECT channel, ts FROM slack_messages WHERE approval_id = ?", [approval_id]
        ).fetchone()
        return (row[0], row[1]) if row else None

    # ------------------------------------------------------------ grants

    def add_grant(self, approval_id: str, key: str) -> None:
        self.db.execute(
            "INSERT INTO grants (request_id, action_key, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            [approval_id, key, time.time()],
        )

    def has_live_grant(self, key: str) -> bool:
        """Whether this action holds a grant neither used nor expired: one indexed read, so
        the decisions of actions never approved (nearly all) skip the writes below."""
        return (
            self.db.execute(
                "SELECT 1 FROM grants WHERE action_key = ? AND used_at IS NULL "
                "AND expired_at IS NULL LIMIT 1",
                [key],
            ).fetchone()
            is not None
        )

    def expire_grants(self, created_before: float, key: str | None = None) -> list[str]:
        """Mark unused grants older than `created_before` expired (of one action, or all);
        the approval ids of the grants this call expired, each reported once."""
        where = "used_at IS NULL AND expired_at IS NULL AND created_at < ?"
        params: list[Any] = [created_before]
        if key is not None:
            where += " AND action_key = ?"
            params.append(key)
        with self._lock:
            rows = self.db.execute(
                f"UPDATE grants SET expired_at = ? WHERE {where} RETURNING request_id",
                [time.time(), *params],
            ).fetchall()
        return [row[0] for row in rows]

    def use_grant(self, key: str) -> str | None:
        """Consume the oldest live grant for this action; its approval id, or None."""
        with self._lock:
            row = self.db.execute(
                "SELECT request_id FROM grants WHERE action_key = ? AND used_at IS NULL "
                "AND expired_at IS NULL ORDER BY created_at LIMIT 1",
                [key],
            ).fetchone()
            if row is None:
                return None
            cursor = self.db.execute(
                "UPDATE grants SET used_at = ? WHERE request_id = ? AND used_at IS NULL",
                [time.time(), row[0]],
            )
            return row[0] if cursor.rowcount == 1 else None


def _create_private(path: Path) -> None:
    """Create the database owner-only (0600, in a 0700 folder) before SQLite opens it: SQLite
    gives its WAL and SHM files the database file's mode, whatever opened it first."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
