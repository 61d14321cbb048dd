"""End to end on PostgreSQL: `governance serve --db postgresql://…` with the real hook process:
allow, deny, approvals (granted while waiting, granted after giving up then retried), expiry
by the scheduler's PostgreSQL job store, SIGKILL mid-approval, the audit CLI on the URL, a
standby replica taking the scheduler over from a killed leader, and a vote on one replica
answering the hook that waits on another (LISTEN/NOTIFY)."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SEED_POLICY
from tests.harness import Server, decision_of, pre_tool_use


def _policy(tmp_path: Path, **medium_rule: object) -> Path:
    document = json.loads(SEED_POLICY.read_text())
    document["approval_rules"]["medium_risk_actions"].update(medium_rule)
    path = tmp_path / "policies.json"
    path.write_text(json.dumps(document))
    return path


@pytest.fixture
def server(tmp_path: Path, pg_url: str) -> Iterator[Server]:
    running = Server(
        tmp_path, policy=_policy(tmp_path), database=pg_url, separate_agent=True
    ).start()
    yield running
    running.kill(signal.SIGTERM)


def test_allow_and_deny_are_audited_in_postgresql(server: Server) -> None:
    assert decision_of(server.hook(pre_tool_use("ls -la")))[0] == "allow"
    decision, reason = decision_of(server.hook(pre_tool_use("sudo /bin/rm -r -f /")))
    assert decision == "deny" and "builtin.rm_root" in reason
    decisions = [row for row in server.audit() if row["kind"] == "decision"]
    assert [row["decision"] for row in decisions] == ["allow", "deny"]
    assert decisions[0]["user"] == "agent-alice"
    assert not (server.root / "gov.db").exists()  # nothing went to a SQLite file
    verify = server.cli("audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert f"{len(server.audit())} rows verified" in verify.stdout


def test_approval_granted_while_the_hook_waits(server: Server) -> None:
    waiting = server.hook_process(pre_tool_use("rm notes.txt"), wait_s=30)
    (approval_id,) = server.pending_ids()
    result = server.cli("approve", approval_id)
    assert result.returncode == 0, result.stdout + result.stderr
    out, _ = waiting.communicate(timeout=30)
    decision, reason = decision_of(json.loads(out))
    assert decision == "allow" and approval_id in reason


def test_approval_after_the_hook_gave_up_allows_one_retry(server: Server) -> None:
    event = pre_tool_use("rm notes.txt")
    decision, reason = decision_of(server.hook(event, wait_s=0.5))
    assert decision == "deny"
    (approval_id,) = server.pending_ids()
    assert f"needs approval {approval_id}" in reason
    assert server.cli("approve", approval_id).returncode == 0
    assert decision_of(server.hook(event, wait_s=0.5))[0] == "allow"
    second_decision, second_reason = decision_of(server.hook(event, wait_s=0.5))
    assert second_decision == "deny" and approval_id not in second_reason
    rows = server.audit()
    assert any(row["kind"] == "approval_approved" for row in rows)
    retries = [row for row in rows if row["rule"] == "approval.grant"]
    assert [(row["decision"], row["approval_id"]) for row in retries] == [("allow", approval_id)]


def test_expiry_fires_from_the_postgresql_job_store(tmp_path: Path, pg_url: str) -> None:
    policy = _policy(tmp_path, timeout_minutes=0.02)
    running = Server(tmp_path, policy=policy, database=pg_url).start()
    try:
        decision, reason = decision_of(running.hook(pre_tool_use("rm notes.txt"), wait_s=20))
        assert decision == "deny" and "expired" in reason
        expired = [row for row in running.audit() if row["kind"] == "approval_expired"]
        assert len(expired) == 1
    finally:
        running.kill(signal.SIGTERM)


def test_sigkill_mid_approval_loses_nothing(tmp_path: Path, pg_url: str) -> None:
    running = Server(
        tmp_path, policy=_policy(tmp_path), database=pg_url, separate_agent=True
    ).start()
    event = pre_tool_use("rm notes.txt")
    assert decision_of(running.hook(event, wait_s=0.5))[0] == "deny"
    (approval_id,) = running.pending_ids()
    rows_before = len(running.audit())
    running.kill(signal.SIGKILL)
    running.start()
    try:
        assert running.pending_ids() == [approval_id]
        assert running.cli("approve", approval_id).returncode == 0
        assert decision_of(running.hook(event, wait_s=0.5))[0] == "allow"
        assert len(running.audit()) > rows_before
        assert running.cli("audit", "verify").returncode == 0
    finally:
        running.kill(signal.SIGTERM)


def test_a_standby_replica_takes_over_the_scheduler_when_the_leader_is_killed(
    tmp_path: Path, pg_url: str
) -> None:
    policy = _policy(tmp_path, timeout_minutes=0.1)
    leader = Server(tmp_path / "a", policy=policy, database=pg_url)
    standby = Server(tmp_path / "b", policy=policy, database=pg_url)
    for replica in (leader, standby):
        replica.root.mkdir()
    leader.start()
    standby.start()  # the lock is taken: this one stands by instead of refusing to start
    try:
        assert decision_of(leader.hook(pre_tool_use("rm notes.txt"), wait_s=0.5))[0] == "deny"
        (approval_id,) = leader.pending_ids()
        leader.kill(signal.SIGKILL)  # its expiry is due in 6 s; only the standby can fire it
        deadline = time.time() + 60
        while time.time() < deadline:
            expired = [row for row in standby.audit() if row["kind"] == "approval_expired"]
            if expired:
                break
            time.sleep(0.2)
        assert [row["approval_id"] for row in expired] == [approval_id]
        assert f"{approval_id}: expired" in standby.log.read_text()  # the standby fired it
        assert standby.call({"op": "pending"}).get("pending") == []
    finally:
        standby.kill(signal.SIGTERM)
        leader.kill(signal.SIGTERM)


def test_a_vote_on_one_replica_answers_the_hook_waiting_on_another(
    tmp_path: Path, pg_url: str
) -> None:
    policy = _policy(tmp_path)
    # The agent runs as another uid than the approver, as on a real machine.
    first = Server(tmp_path / "a", policy=policy, database=pg_url, separate_agent=True)
    second = Server(tmp_path / "b", policy=policy, database=pg_url, separate_agent=True)
    for replica in (first, second):
        replica.root.mkdir()
        replica.start()
    try:
        waiting = second.hook_process(pre_tool_use("rm notes.txt"), wait_s=60)
        (approval_id,) = first.pending_ids()  # the request is in the shared database
        result = first.cli("approve", approval_id)
        assert result.returncode == 0, result.stdout + result.stderr
        out, _ = waiting.communicate(timeout=60)
        decision, reason = decision_of(json.loads(out))
        assert decision == "allow" and approval_id in reason, reason
        used = [row for row in first.audit() if row["kind"] == "grant_used"]
        assert [row["approval_id"] for row in used] == [approval_id]
    finally:
        second.kill(signal.SIGTERM)
        first.kill(signal.SIGTERM)
