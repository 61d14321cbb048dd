"""The store: audit trail, approval requests, votes and grants, in SQL both backends speak;
SQLite (sqlite-utils, WAL) here, PostgreSQL in engine/state/postgres.py. It decides nothing.
The schema and the connection live here; the methods, by table, in engine/state/*_store.py."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils

from engine.state.approvals_store import ApprovalStore
from engine.state.audit_store import AuditStore
from engine.state.records import ApprovalRecord, Deadline, RedactedJson, audit_record

# What callers import from here, wherever it is defined now.
__all__ = [
    "MIGRATIONS",
    "ApprovalRecord",
    "Deadline",
    "RedactedJson",
    "Store",
    "audit_record",
    "sqlite_statements",
]

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

# The team's view: what each host last reported (policy in force, spool backlog, hook
# version), and the host in the report's covering index so the by-host figures stay index-only.
HOST_REPORTS = """
ALTER TABLE remote_hosts ADD COLUMN policy_version TEXT;
ALTER TABLE remote_hosts ADD COLUMN spool_backlog INTEGER;
ALTER TABLE remote_hosts ADD COLUMN hook_version TEXT;
DROP INDEX IF EXISTS audit_report_kind_ts;
CREATE INDEX audit_report_kind_ts
    ON audit(kind, ts, decision, tool_name, user, mode, would_be, host);
"""

MIGRATIONS: tuple[str, ...] = (
    _SCHEMA,
    IDENTITY_COLUMNS,
    _GRANT_EXPIRY_MFA_LOCKOUT,
    STREAM_CURSORS,
    REMOTE_HOSTS,
    HOST_REPORTS,
)


def sqlite_statements(script: str) -> Iterator[str]:
    """Split a script into statements (trigger bodies hold semicolons of their own)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            yield statement
            statement = ""


class Store(AuditStore, ApprovalStore):
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


def _create_private(path: Path) -> None:
    """Create the database owner-only (0600, in a 0700 folder) before SQLite opens it: SQLite
    gives its WAL and SHM files the database file's mode, whatever opened it first."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
