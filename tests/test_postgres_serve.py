"""End to end on PostgreSQL: `governance serve --db postgresql://…` with the real hook process:
allow, deny, approvals (granted while waiting, granted after giving up then retried), expiry
by the scheduler's PostgreSQL job store, SIGKILL mid-approval, the audit CLI on the URL; two
replicas with Slack over HTTP (a click on one answers the hook waiting on the other, a killed
leader's escalation fires once from the other), and a console vote on one replica answering
the hook that waits on another (LISTEN/NOTIFY)."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.conftest import SEED_POLICY
from tests.harness import Server, decision_of, free_port, pre_tool_use
from tests.slack_api_stub import SlackApiStub
from tests.test_slack import (
    BOT_TOKEN,
    LEAD1,
    ONCALL,
    SIGNING_SECRET,
    Slack,
    text_of,
    wait_until,
    write_policy,
)


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


def _slack_replica(root: Path, pg_url: str, stub: SlackApiStub) -> Server:
    """A replica with Slack over HTTP (as behind a load balancer), on the shared database."""
    root.mkdir()
    port = free_port()
    # The escalation after 9 s, expiry 6 s later: a click or a takeover comes well before.
    escalation = [{"after_minutes": 0.15, "notify": [ONCALL]}]
    policy = write_policy(root / "policies.json", timeout_minutes=0.1, escalation=escalation)
    return Server(
        root,
        policy=policy,
        database=pg_url,
        serve_env={
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "GOVERNANCE_SLACK_API_URL": stub.base_url,
        },
        serve_args=["--http", "--port", str(port), "--host", "127.0.0.1"],
        http_port=port,
    )


def _deadline_states(pg_url: str, approval_id: str, kind: str) -> list[str]:
    with psycopg.connect(pg_url) as connection:
        rows = connection.execute(
            "SELECT state FROM deadlines WHERE approval_id = %s AND kind = %s",
            [approval_id, kind],
        ).fetchall()
    return [state for (state,) in rows]


def test_two_replicas_with_slack_a_click_on_either_and_a_dead_leaders_escalation(
    tmp_path: Path, pg_url: str
) -> None:
    """The team set-up: Slack may deliver a click to any replica, and the scheduler survives
    its leader's death: a due escalation fires once, from the replica left."""
    with SlackApiStub() as stub:
        leader = _slack_replica(tmp_path / "a", pg_url, stub).start()  # first: it leads
        other = _slack_replica(tmp_path / "b", pg_url, stub).start()  # stands by
        try:
            # A hook waits on replica A; the approver's click reaches replica B.
            waiting = leader.hook_process(pre_tool_use("rm notes.txt"), wait_s=60)
            (clicked_id,) = leader.pending_ids()
            at_other = Slack(other, stub)
            at_other.click(clicked_id, LEAD1)  # B's Bolt endpoint, signed as Slack signs
            out, _ = waiting.communicate(timeout=60)
            decision, reason = decision_of(json.loads(out))
            assert decision == "allow" and clicked_id in reason, reason
            at_other.wait_updates(clicked_id, 1)  # B updates the message after the vote
            assert "✅ Approved" in at_other.blocks(clicked_id)[0]["text"]["text"]

            # Another request; the leader dies (kill -9) before its escalation falls due.
            event = pre_tool_use("rm other.txt", session="sess-2")
            decision, reason = decision_of(leader.hook(event, wait_s=0.5))
            assert decision == "deny" and "needs approval" in reason, reason
            (escalated_id,) = leader.pending_ids()
            leader.kill(signal.SIGKILL)
            assert _deadline_states(pg_url, escalated_id, "escalate") == ["pending"], (
                "set-up: the escalation fired before the kill"
            )

            def escalation_dms() -> list[Any]:
                return [dm for dm in at_other.dms_to(ONCALL) if escalated_id in text_of(dm.args)]

            wait_until(escalation_dms, 60, "the dead leader's escalation never fired")
            # The expiry comes after the escalation: once it fired, the escalation is settled.
            other.wait_for_audit("approval_expired", timeout=60)
            assert len(escalation_dms()) == 1
            assert _deadline_states(pg_url, escalated_id, "escalate") == ["fired"]
            escalations = at_other.audit("approval_escalated", escalated_id)
            assert len(escalations) == 1
            expired = at_other.audit("approval_expired")
            assert [row["approval_id"] for row in expired] == [escalated_id]
            assert stub.problems == []
        finally:
            other.kill(signal.SIGTERM)
            leader.kill(signal.SIGTERM)
        assert "Traceback" not in other.log.read_text()


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
