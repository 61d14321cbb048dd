"""End to end: the real `governance-hook` process against a real `governance serve` on a tmp
socket and database: allow, deny, approvals (waiting, after giving up, denied, expired),
server down in both fail modes, SIGKILL mid-approval, tampering, garbage on the socket."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.audit import row_hash
from tests.conftest import SEED_POLICY
from tests.harness import AGENT_UID, Server, decision_of, pre_tool_use


def _policy(tmp_path: Path, **medium_rule: object) -> Path:
    document = json.loads(SEED_POLICY.read_text())
    document["approval_rules"]["medium_risk_actions"].update(medium_rule)
    path = tmp_path / "policies.json"
    path.write_text(json.dumps(document))
    return path


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path, policy=_policy(tmp_path)).start()
    yield running
    running.kill(signal.SIGTERM)


@pytest.fixture
def agent_server(tmp_path: Path) -> Iterator[Server]:
    """The agent's hooks run as uid nobody; this test's uid approves at the console."""
    running = Server(tmp_path, policy=_policy(tmp_path), separate_agent=True).start()
    yield running
    running.kill(signal.SIGTERM)


def test_allowed_command(server: Server) -> None:
    decision, _ = decision_of(server.hook(pre_tool_use("ls -la")))
    assert decision == "allow"
    rows = [r for r in server.audit() if r["kind"] == "decision"]
    assert rows[-1]["decision"] == "allow" and rows[-1]["user"] == "agent-alice"
    assert rows[-1]["peer_user"]  # the kernel's word, not the request's


def test_denied_command_names_the_rule(server: Server) -> None:
    decision, reason = decision_of(server.hook(pre_tool_use("sudo /bin/rm -r -f /")))
    assert decision == "deny"
    assert "builtin.rm_root" in reason


def test_approval_granted_while_the_hook_waits(agent_server: Server) -> None:
    server = agent_server
    waiting = server.hook_process(pre_tool_use("rm notes.txt"), wait_s=30)
    (approval_id,) = server.pending_ids()
    result = server.cli("approve", approval_id)
    assert result.returncode == 0, result.stdout + result.stderr
    out, _ = waiting.communicate(timeout=30)
    decision, reason = decision_of(json.loads(out))
    assert decision == "allow"
    assert approval_id in reason


def test_an_approval_granted_while_waiting_lets_the_command_run_once(
    agent_server: Server,
) -> None:
    server = agent_server
    event = pre_tool_use("rm notes.txt")
    waiting = server.hook_process(event, wait_s=30)
    (approval_id,) = server.pending_ids()
    assert server.cli("approve", approval_id).returncode == 0
    out, _ = waiting.communicate(timeout=30)
    assert decision_of(json.loads(out))[0] == "allow"
    # The waiting hook spent the grant: the same command again is a new request.
    decision, reason = decision_of(server.hook(event, wait_s=0.5))
    assert decision == "deny"
    (new_id,) = server.pending_ids()
    assert new_id != approval_id
    assert f"needs approval {new_id}" in reason


def test_approval_after_the_hook_gave_up_allows_one_retry(agent_server: Server) -> None:
    server = agent_server
    event = pre_tool_use("rm notes.txt")
    decision, reason = decision_of(server.hook(event, wait_s=0.5))
    assert decision == "deny"
    (approval_id,) = server.pending_ids()
    assert f"needs approval {approval_id}" in reason and "Retry the same command" in reason
    assert server.cli("approve", approval_id).returncode == 0
    retry = dict(event, tool_input={"command": "rm notes.txt", "description": "again"})
    assert decision_of(server.hook(retry, wait_s=0.5))[0] == "allow"
    second_decision, second_reason = decision_of(server.hook(event, wait_s=0.5))
    assert second_decision == "deny"
    assert approval_id not in second_reason  # a new request, not the used grant


def test_denial_reaches_the_waiting_hook(agent_server: Server) -> None:
    server = agent_server
    waiting = server.hook_process(pre_tool_use("rm notes.txt"), wait_s=30)
    (approval_id,) = server.pending_ids()
    assert server.cli("deny", approval_id, "--reason", "use git rm").returncode == 0
    out, _ = waiting.communicate(timeout=30)
    decision, reason = decision_of(json.loads(out))
    assert decision == "deny"
    assert "was denied" in reason and "use git rm" in reason


def test_requester_cannot_approve_their_own_request(agent_server: Server) -> None:
    server = agent_server
    server.hook(pre_tool_use("rm notes.txt"), wait_s=0.5)
    (approval_id,) = server.pending_ids()
    (request,) = server.call({"op": "pending"})["pending"]
    assert request["requester_uid"] == AGENT_UID  # the kernel's word beside the label
    assert request["requester"] == "agent-alice"
    row = _approval_row(server, approval_id)
    assert row["requester_uid"] == AGENT_UID and row["peer_user"] == "nobody"
    # This test's uid is a second person: its vote counts, and its uid is on the vote row.
    assert server.cli("approve", approval_id).returncode == 0
    (vote,) = _rows(server, "SELECT * FROM approval_votes")
    assert vote["approver_uid"] == os.getuid() and vote["via"] == "console"


@pytest.mark.parametrize("claimed", ["someone-else", "lead", None])
def test_the_agents_uid_cannot_approve_its_own_request_whatever_name_it_claims(
    server: Server, claimed: str | None
) -> None:
    """Issue 8, item 2: the hook (or a raw socket request) claims another user name, then the
    same uid runs `governance approve`: refused, and the agent's retry is not allowed."""
    event = pre_tool_use("rm notes.txt")
    if claimed is None:  # a raw request over the socket claiming `bob`, no hook at all
        reply = server.call({"v": 1, "event": event, "context": {"user": "bob"}, "wait_s": 0})
        assert reply["decision"] == "approval_pending"
    else:
        server.hook(event, wait_s=0.5, GOVERNANCE_USER=claimed)
    (approval_id,) = server.pending_ids()
    result = server.cli("approve", approval_id)
    assert result.returncode == 1
    assert "separation of duties" in result.stdout
    assert server.pending_ids() == [approval_id]
    assert decision_of(server.hook(event, wait_s=0.5))[0] == "deny"
    refused = [r for r in server.audit() if r["kind"] == "vote_refused"]
    assert refused and refused[-1]["approval_id"] == approval_id


def test_the_agents_uid_cannot_approve_under_mfa_after_enrolling_itself(tmp_path: Path) -> None:
    """Issue 8, item 2: under require_mfa the agent enrols its own uid and approves with a
    valid code: the code is good, the vote is still refused, the retry still denied."""
    import getpass

    import pyotp

    running = Server(tmp_path, policy=_policy(tmp_path, require_mfa=True)).start()
    try:
        event = pre_tool_use("rm notes.txt")
        running.hook(event, wait_s=0.5, GOVERNANCE_USER="someone-else")
        (approval_id,) = running.pending_ids()
        enrolled = running.cli("mfa", "enroll", getpass.getuser())
        assert enrolled.returncode == 0, enrolled.stderr
        secret = pyotp.parse_uri(
            next(w for w in enrolled.stdout.split() if w.startswith("otpauth://"))
        ).secret
        result = running.cli("approve", approval_id, "--code", pyotp.TOTP(secret).now())
        assert result.returncode == 1 and "separation of duties" in result.stdout
        assert running.pending_ids() == [approval_id]
        assert decision_of(running.hook(event, wait_s=0.5))[0] == "deny"
    finally:
        running.kill(signal.SIGTERM)


def test_the_agent_cannot_forge_a_grant_or_reach_the_servers_state(server: Server) -> None:
    """Issue 8, item 2: the agent (which may own the database file) inserts a grant row with
    sqlite3: the hook denies the call (builtin.self_protection), so the retry stays denied."""
    event = pre_tool_use("rm notes.txt")
    server.hook(event, wait_s=0.5)
    (approval_id,) = server.pending_ids()
    forge = (
        f'sqlite3 {server.db} "INSERT INTO grants (request_id, action_key, created_at) '
        f"SELECT id, action_key, 0 FROM approval_requests WHERE id = '{approval_id}'\""
    )
    attempts = [
        forge,
        f"python3 -c \"import sqlite3; sqlite3.connect('{server.db}').execute('select 1')\"",
        f"cp /tmp/forged.db {server.db}",
        f'echo \'{{"op":"approve","approval_id":"{approval_id}"}}\' | nc -U {server.socket}',
        f"governance approve {approval_id}",
        f"kill {server.process.pid if server.process else 0}",
        f"cp allow-all.json {server.policy}",
    ]
    for command in attempts:
        decision, reason = decision_of(server.hook(pre_tool_use(command, session="sess-x")))
        assert decision == "deny", command
        assert "builtin.self_protection." in reason, (command, reason)
    assert decision_of(server.hook(event, wait_s=0.5))[0] == "deny"
    assert server.pending_ids() == [approval_id]
    rows = [r for r in server.audit() if (r["rule"] or "").startswith("builtin.self_protection")]
    assert len(rows) == len(attempts) and {r["risk"] for r in rows} == {"critical"}


def _rows(server: Server, sql: str) -> list[dict]:
    with sqlite3.connect(server.db) as connection:
        connection.row_factory = sqlite3.Row
        return [dict(row) for row in connection.execute(sql)]


def _approval_row(server: Server, approval_id: str) -> dict:
    (row,) = _rows(server, f"SELECT * FROM approval_requests WHERE id = '{approval_id}'")
    return row


def test_duplicate_votes_do_not_inflate_a_quorum(tmp_path: Path) -> None:
    running = Server(
        tmp_path, policy=_policy(tmp_path, requiredApprovers=2), separate_agent=True
    ).start()
    try:
        running.hook(pre_tool_use("rm notes.txt"), wait_s=0.5)
        (approval_id,) = running.pending_ids()
        first = running.cli("approve", approval_id)
        assert "1 of 2 approvals" in first.stdout
        second = running.cli("approve", approval_id)
        assert second.returncode == 1 and "already voted" in second.stdout
        assert running.pending_ids() == [approval_id]
    finally:
        running.kill(signal.SIGTERM)


def test_expiry_answers_the_waiting_hook(tmp_path: Path) -> None:
    running = Server(tmp_path, policy=_policy(tmp_path, timeout_minutes=0.02)).start()
    try:
        decision, reason = decision_of(running.hook(pre_tool_use("rm notes.txt"), wait_s=20))
        assert decision == "deny" and "expired" in reason
        assert any(row["kind"] == "approval_expired" for row in running.audit())
    finally:
        running.kill(signal.SIGTERM)


def test_server_down_fails_closed_by_default(tmp_path: Path) -> None:
    down = Server(tmp_path)
    decision, reason = decision_of(down.hook(pre_tool_use("ls")))
    assert decision == "deny"
    assert str(down.socket) in reason and "governance serve" in reason


def test_server_down_fail_open_spools_and_the_restart_ingests(tmp_path: Path) -> None:
    down = Server(tmp_path, policy=_policy(tmp_path))
    output = down.hook(pre_tool_use("rm -rf /"), GOVERNANCE_FAIL_MODE="open")
    assert decision_of(output)[0] == "allow"
    assert len(list(down.spool.glob("*.json"))) == 1
    down.start()
    try:
        deadline = time.time() + 10
        while time.time() < deadline and not any(
            r["kind"] == "spooled_event" for r in down.audit()
        ):
            time.sleep(0.1)
        spooled = [r for r in down.audit() if r["kind"] == "spooled_event"]
        assert len(spooled) == 1
        assert spooled[0]["would_be"] == "deny"  # what enforcement would have said
        assert list(down.spool.glob("*.json")) == []
    finally:
        down.kill(signal.SIGTERM)


def test_sigkill_mid_approval_loses_nothing(tmp_path: Path) -> None:
    running = Server(tmp_path, policy=_policy(tmp_path), separate_agent=True).start()
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
        verify = running.cli("audit", "verify")
        assert verify.returncode == 0, verify.stdout
    finally:
        running.kill(signal.SIGTERM)


def test_an_edited_audit_row_is_named_by_verify(server: Server) -> None:
    for command in ("ls", "rm -rf /", "git status"):
        server.hook(pre_tool_use(command))
    server.kill(signal.SIGTERM)
    rows = server.audit()
    target = next(r for r in rows if r["decision"] == "deny")["seq"]
    edit = (
        f"DROP TRIGGER audit_append_only_update; "
        f"UPDATE audit SET decision = 'allow' WHERE seq = {target};"
    )
    if shutil.which("sqlite3"):
        subprocess.run(["sqlite3", str(server.db), edit], check=True)
    else:  # the shell is not on every machine; the Python binding does the same edit
        with sqlite3.connect(server.db) as connection:
            connection.executescript(edit)
    result = server.cli("audit", "verify")
    assert result.returncode == 1
    assert f"row {target}" in result.stdout


def test_an_edited_row_with_its_hash_recomputed_breaks_the_link_to_the_next(
    server: Server,
) -> None:
    # The attacker rewrites a denial as an allow and recomputes that row's own hash, so the
    # row checks out by itself; only the next row's link to it can show the edit.
    for command in ("ls", "rm -rf /", "git status"):
        server.hook(pre_tool_use(command))
    server.kill(signal.SIGTERM)
    rows = server.audit()
    edited = next(r for r in rows if r["decision"] == "deny")
    forged = dict(edited, decision="allow")
    forged["hash"] = row_hash(forged)
    with sqlite3.connect(server.db) as connection:
        connection.executescript("DROP TRIGGER audit_append_only_update;")
        connection.execute(
            "UPDATE audit SET decision = ?, hash = ? WHERE seq = ?",
            ("allow", forged["hash"], edited["seq"]),
        )
    result = server.cli("audit", "verify")
    assert result.returncode == 1, result.stdout
    assert f"row {edited['seq'] + 1} does not link to the row before it" in result.stdout


@pytest.mark.parametrize(
    "statement", ["UPDATE audit SET decision = 'allow'", "DELETE FROM audit WHERE seq = 1"]
)
def test_audit_rows_refuse_update_and_delete(server: Server, statement: str) -> None:
    server.hook(pre_tool_use("rm -rf /"))
    before = server.audit()
    with (
        sqlite3.connect(server.db) as connection,
        pytest.raises(sqlite3.IntegrityError, match="audit rows are append-only"),
    ):
        connection.execute(statement)
    assert server.audit() == before


def _raw(path: Path, data: bytes, read: bool = True) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(15)
        connection.connect(str(path))
        # The server may answer and hang up before reading it all.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            connection.sendall(data)
        if not read:
            return b""
        connection.shutdown(socket.SHUT_WR)
        chunks = []
        try:
            while chunk := connection.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass  # refused before we finished sending: the kernel drops the unread reply
        return b"".join(chunks)


def test_garbage_on_the_socket_leaves_the_server_serving(server: Server) -> None:
    assert b"malformed request" in _raw(server.socket, b'{"v":1,"event":\xff\xfe}\n')
    assert b"malformed request" in _raw(server.socket, b"[1,2,3]\n")
    assert b"malformed request" in _raw(server.socket, b"x" * (10 * 1024 * 1024) + b"\n")
    _raw(server.socket, b"x" * (20 * 1024 * 1024) + b"\n")
    refused = [r for r in server.audit() if r["kind"] == "malformed_request"]
    assert any("longer than the limit" in r["reason"] for r in refused)
    half_line = _raw(server.socket, b'{"v":1, "event": {"tool_na')  # then EOF
    assert b"malformed request" in half_line
    # 2,000 idle clients need more descriptors than a default 1,024 limit gives this process.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 4096 if hard == resource.RLIM_INFINITY else min(4096, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    idle = []
    try:
        for _ in range(2000):
            connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            idle.append(connection)
            connection.connect(str(server.socket))
        assert decision_of(server.hook(pre_tool_use("git status")))[0] == "allow"
    finally:
        for connection in idle:
            connection.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert server.process is not None and server.process.poll() is None


def test_policy_reload_keeps_the_old_policy_when_the_new_one_is_bad(server: Server) -> None:
    assert server.policy is not None
    server.policy.write_text('{"policies": {"bash_commands": {"blocked_patterns": ["(("]}}}')
    server.wait_for_audit("policy_reload_failed")
    assert decision_of(server.hook(pre_tool_use("rm -rf /")))[0] == "deny"
    assert "POLICY RELOAD FAILED" in server.log.read_text()
    document = json.loads(SEED_POLICY.read_text())
    document["policies"]["bash_commands"]["blocked_patterns"].append("cowsay")
    server.policy.write_text(json.dumps(document))
    server.wait_for_audit("policy_reloaded")
    assert decision_of(server.hook(pre_tool_use("cowsay hi")))[0] == "deny"


def test_secrets_never_reach_the_audit_trail(server: Server) -> None:
    token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    command = f'curl -H "Authorization: Bearer {token}" https://postgres:hunter2pass@db.internal/x'
    server.hook(pre_tool_use(command))
    stored = json.dumps(server.audit())
    assert token not in stored and "hunter2pass" not in stored
    assert "[REDACTED]" in stored


def test_demo_runs_a_session_through_the_real_hook() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "governance"), "demo"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "-> DENY: governance: blocked by policy rule builtin.rm_root" in out
    assert "approver `lead` votes approve" in out and "-> ALLOW: governance: approved in" in out
    assert "was denied" in out
    assert "audit verify: intact" in out


def test_a_client_that_hangs_up_before_its_reply_does_not_stop_the_server(
    server: Server,
) -> None:
    for _ in range(20):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(str(server.socket))
            client.sendall(b'{"op":"ping"}\n')
    assert server.call({"op": "ping"}).get("ok")
    assert server.process is not None and server.process.poll() is None
    assert decision_of(server.hook(pre_tool_use("ls")))[0] == "allow"


def test_a_hook_killed_while_waiting_leaves_the_request_pending_and_its_grant_usable(
    agent_server: Server,
) -> None:
    server = agent_server
    event = pre_tool_use("rm notes.txt")
    waiting = server.hook_process(event, wait_s=60)
    (approval_id,) = server.pending_ids()
    waiting.process.kill()  # what Claude Code does when the user presses Esc
    waiting.communicate(timeout=10)
    deadline = time.time() + 10
    while time.time() < deadline and not [
        row for row in server.audit() if row["kind"] == "client_gone"
    ]:
        time.sleep(0.05)
    (gone,) = [row for row in server.audit() if row["kind"] == "client_gone"]
    assert gone["approval_id"] == approval_id
    assert server.pending_ids() == [approval_id]
    assert "hung up" in server.log.read_text()
    assert server.cli("approve", approval_id).returncode == 0
    assert decision_of(server.hook(event, wait_s=0.5))[0] == "allow"
    assert server.process is not None and server.process.poll() is None


def test_a_second_server_on_the_same_sqlite_file_is_refused(server: Server, tmp_path: Path) -> None:
    second_root = tmp_path / "second"
    second_root.mkdir()
    second = Server(second_root, policy=server.policy, database=str(server.db))
    with pytest.raises(RuntimeError, match="already runs the scheduler"):
        second.start()
    assert decision_of(server.hook(pre_tool_use("ls")))[0] == "allow"
