"""The store's contract on both backends (a SQLite file, a fresh database on a real PostgreSQL):
approvals, votes, grants, deadlines, break-glass, alerts, the audit chain, migrations."""

from __future__ import annotations

import multiprocessing
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from engine.approvals import ApprovalState, Approver, RuleSnapshot, Vote
from engine.audit import row_hash
from engine.breakglass import Window
from engine.state import is_postgres_url, open_store
from engine.state.postgres import PostgresStore
from engine.store import Store
from tests.harness import GOVERNANCE

SNAPSHOT = RuleSnapshot(
    name="medium_risk_actions",
    threshold="medium",
    roles=("dev-lead",),
    members=(),
    open_to_console=True,
    required_approvers=2,
    require_mfa=False,
    timeout_minutes=15,
)


@pytest.fixture
def store(db_location: str) -> Iterator[Store]:
    opened = open_store(db_location)
    yield opened
    opened.close()


def _request(store: Store, approval_id: str, key: str = "key-1", at: float = 1000.0) -> None:
    store.create_approval(
        {
            "id": approval_id,
            "created_at": at,
            "expires_at": at + 900,
            "requester": "alice",
            "peer_user": "alice",
            "host": "laptop-1",
            "tool_name": "Bash",
            "tool_input": {"command": "rm notes.txt", "token": "xoxb-123456789012-abcdefghijkl"},
            "cwd": "/srv/app",
            "action_key": key,
            "rule": "approval_rules.medium_risk_actions",
            "reason": "deletes a file",
            "risk": "medium",
            "snapshot": SNAPSHOT,
        }
    )


def test_the_backend_follows_the_db_value(store: Store, db_location: str) -> None:
    assert isinstance(store, PostgresStore) == is_postgres_url(db_location)
    assert store.schema_version() >= 1


def test_an_approval_round_trips_with_its_snapshot_and_redacted_input(store: Store) -> None:
    _request(store, "APR-1")
    approval = store.approval("APR-1")
    assert approval is not None
    assert approval.state is ApprovalState.PENDING
    assert approval.snapshot == SNAPSHOT
    assert approval.tool_input["command"] == "rm notes.txt"
    assert "xoxb-123456789012" not in str(approval.tool_input)  # secrets never stored
    assert store.pending_for_action("key-1") == approval
    assert [a.id for a in store.pending_approvals()] == ["APR-1"]
    assert store.approval("APR-404") is None


def test_votes_count_once_per_approver_and_a_request_finishes_once(store: Store) -> None:
    _request(store, "APR-1")
    bob = Approver("bob", "console", uid=1001)
    assert store.add_vote("APR-1", bob, Vote.APPROVE, None)
    assert not store.add_vote("APR-1", Approver("bob", "slack"), Vote.APPROVE, "again")
    assert store.add_vote("APR-1", Approver("carol", "slack"), Vote.DENY, "no")
    assert [(v.approver, v.vote) for v in store.votes("APR-1")] == [
        ("bob", Vote.APPROVE),
        ("carol", Vote.DENY),
    ]
    assert store.finish_approval("APR-1", ApprovalState.DENIED, "carol said no", now=2000.0)
    assert not store.finish_approval("APR-1", ApprovalState.APPROVED, "too late")
    finished = store.approval("APR-1")
    assert finished is not None and finished.state is ApprovalState.DENIED
    assert (finished.decided_at, finished.decided_note) == (2000.0, "carol said no")
    assert store.pending_approvals() == []


def test_a_grant_is_used_once(store: Store) -> None:
    store.add_grant("APR-1", "key-1")
    store.add_grant("APR-1", "key-1")  # a second grant for the same approval is ignored
    assert store.use_grant("key-1") == "APR-1"
    assert store.use_grant("key-1") is None
    assert store.use_grant("other-key") is None


def test_deadlines_fire_at_most_once_and_cancel(store: Store) -> None:
    _request(store, "APR-1")
    first, second = store.add_deadlines("APR-1", [("escalate", 1, 1100.0), ("expire", 0, 1900.0)])
    assert first.id != second.id
    assert store.pending_deadlines() == [first, second]
    assert store.claim_deadline(first.id, now=1050.0) is None  # not due yet
    assert store.claim_deadline(first.id, now=1100.0) == first
    assert store.claim_deadline(first.id, now=1200.0) is None  # already fired
    assert store.cancel_deadlines("APR-1") == [second.id]
    assert store.pending_deadlines() == []


def test_break_glass_windows_open_and_close_once(store: Store) -> None:
    window = Window("BG-1", "alice", "prod is down", 1000.0, 1600.0)
    store.open_break_glass(window)
    assert store.active_break_glass(("bob",), 1100.0) is None
    assert store.active_break_glass(("alice", "alice@example.com"), 1100.0) == window
    assert store.active_break_glass(("alice",), 1700.0) is None  # past its end
    assert store.close_break_glass("BG-1", 1200.0) == window
    assert store.close_break_glass("BG-1", 1300.0) is None
    assert store.active_break_glass(("alice",), 1250.0) is None


def test_alert_levels_and_slack_messages_are_replaced(store: Store) -> None:
    assert store.alert_level("risk_summary") is None
    store.set_alert_level("risk_summary", "HIGH", 1.0)
    store.set_alert_level("risk_summary", "LOW", 2.0)
    assert store.alert_level("risk_summary") == "LOW"
    store.set_slack_message("APR-1", "C1", "1.0")
    store.set_slack_message("APR-1", "C2", "2.0")
    assert store.slack_message("APR-1") == ("C2", "2.0")
    assert store.slack_message("APR-2") is None


def test_the_chain_hash_is_the_same_on_both_backends(tmp_path: Path, pg_url: str) -> None:
    """One event, appended to a SQLite file and to PostgreSQL, reads back hashing the same."""
    rows = []
    for location in (str(tmp_path / "gov.db"), pg_url):
        store = open_store(location)
        store.append_audit(
            "decision",
            ts=1_750_000_000,  # an int: stored and hashed as a float on both
            user=42,  # a number where text belongs: stored and hashed as text on both
            tool_name="Bash",
            decision="deny",
            reason="naïve ünïcode ✓",
            payload={"b": 0.1 + 0.2, "a": [1, 2.5, None], "big": 2**53 + 1},
        )
        (row,) = store.audit_rows()
        assert row_hash(row) == row["hash"]
        assert store.verify().ok
        rows.append(row)
        store.close()
    assert rows[0] == rows[1]


def _append_many(location: str, writer: int, count: int) -> None:
    store = open_store(location)
    for n in range(count):
        store.append_audit("decision", user=f"writer-{writer}", decision="allow", reason=str(n))
    store.close()


def test_appends_from_several_processes_keep_one_chain(store: Store, db_location: str) -> None:
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_append_many, args=(db_location, n, 40)) for n in range(4)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)
        assert writer.exitcode == 0
    rows = list(store.audit_rows())
    assert [row["seq"] for row in rows] == list(range(1, 161))
    report = store.verify()
    assert report.ok and report.checked == 160


def test_audit_rows_refuse_update_delete_and_truncate(store: Store) -> None:
    store.append_audit("decision", decision="deny", reason="kept")
    statements = ["UPDATE audit SET decision = 'allow'", "DELETE FROM audit"]
    if isinstance(store, PostgresStore):
        statements.append("TRUNCATE audit")
    for statement in statements:
        with pytest.raises(Exception, match="append-only"):
            store.db.execute(statement)
    assert [row["decision"] for row in store.audit_rows()] == ["deny"]


def test_migrations_are_recorded_and_run_once(db_location: str) -> None:
    first = open_store(db_location)
    version = first.schema_version()
    first.append_audit("decision", decision="allow")
    first.close()
    again = open_store(db_location)  # a restart: nothing to migrate, nothing lost
    assert again.schema_version() == version
    rows = again.db.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
    assert [row[0] for row in rows] == list(range(1, version + 1))
    assert len(list(again.audit_rows())) == 1
    again.close()


def test_a_pre_versioning_sqlite_file_adopts_version_one(tmp_path: Path) -> None:
    import sqlite3

    from engine.store import MIGRATIONS

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as connection:  # the schema as releases before versioning left it
        connection.executescript(MIGRATIONS[0])
    store = Store(path)
    assert store.schema_version() == len(MIGRATIONS)
    store.append_audit("decision", decision="allow")
    assert store.verify().ok


def test_the_service_role_can_append_but_not_rewrite_the_audit(pg_url: str, tmp_path: Path) -> None:
    """The README's role setup: the owner migrates; the service role runs the server."""
    owner = open_store(pg_url)
    owner.append_audit("decision", decision="deny", reason="before")
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute("CREATE ROLE governance_service LOGIN")
        admin.execute(Path(__file__).parent.parent.joinpath("deploy/grants.sql").read_text())
    service_url = pg_url.replace("postgres@", "governance_service@")
    service = open_store(service_url)
    service.append_audit("decision", decision="allow", reason="as the service")
    _request(service, "APR-1")
    assert service.verify().ok
    for statement in (
        "DELETE FROM audit",
        "TRUNCATE audit",
        "ALTER TABLE audit DISABLE TRIGGER audit_append_only",
        "DROP TRIGGER audit_append_only ON audit",
        "DROP TABLE audit",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            service.db.execute(statement)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        service.db.execute("UPDATE audit SET reason = 'rewritten'")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        service.prune(before=2e9, archive_dir=tmp_path / "archive")
    assert [row["reason"] for row in owner.audit_rows()] == ["before", "as the service"]
    service.close()
    owner.close()


def test_audit_cli_search_export_and_verify_read_either_backend(
    store: Store, db_location: str, tmp_path: Path
) -> None:
    store.append_audit("decision", user="alice", tool_name="Bash", decision="deny", rule="r.1")
    store.append_audit("decision", user="bob", tool_name="Read", decision="allow")

    def governance(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [GOVERNANCE, *args, "--db", db_location], capture_output=True, text=True, timeout=60
        )

    search = governance("audit", "search", "--user", "alice")
    assert search.returncode == 0, search.stderr
    assert "1 of 1 matching rows" in search.stdout and "r.1" in search.stdout
    export = governance("audit", "export", "--status", "allow", "--format", "csv")
    assert export.returncode == 0, export.stderr
    assert export.stdout.splitlines()[1].split(",")[3] == "bob"
    verify = governance("audit", "verify")
    assert verify.returncode == 0 and "2 rows verified" in verify.stdout


def test_an_unreachable_database_is_a_clear_error_that_hides_the_password(pg_url: str) -> None:
    closed_port = pg_url.replace("postgres@", "gov:hunter2@").rsplit(":", 1)[0] + ":1/governance"
    result = subprocess.run(
        [GOVERNANCE, "audit", "verify", "--db", closed_port], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "cannot open postgresql://gov:***@127.0.0.1:1/governance" in result.stderr
    assert "hunter2" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_stream_cursors_and_replay_rows_work_on_both_backends(store: Store) -> None:
    first = store.append_audit("server_started", reason="x")
    decided = store.append_audit(
        "decision",
        ts=5000.0,
        decision="deny",
        rule="builtin.rm_root",
        tool_name="Bash",
        user="alice",
        payload={"tool_input": {"command": "rm -rf /"}, "cwd": "/srv"},
    )
    assert store.stream_cursor("syslog:udp://x:1:ocsf") is None
    store.set_stream_cursor("syslog:udp://x:1:ocsf", first)
    store.set_stream_cursor("syslog:udp://x:1:ocsf", first)  # an upsert, not a second row
    assert store.stream_cursor("syslog:udp://x:1:ocsf") == first
    assert [row["seq"] for row in store.rows_after(first, 10)] == [decided]
    assert store.last_seq() == decided
    (row,) = store.decision_rows(4000.0)
    assert (row["user"], row["rule"], row["tool_name"]) == ("alice", "builtin.rm_root", "Bash")
    assert '"rm -rf /"' in row["payload"]
