"""End to end: the real `governance-hook` process against a real `governance serve` on a tmp
socket and database: allow, deny, approvals (waiting, after giving up, denied, expired),
server down in both fail modes, SIGKILL mid-approval, tampering, garbage on the socket."""

from __future__ import annotations

import contextlib
import json
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
from tests.harness import Server, decision_of, pre_tool_use


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


def test_approval_granted_while_the_hook_waits(server: Server) -> None:
    waiting = server.hook_process(pre_tool_use("rm notes.txt"), wait_s=30)
    (approval_id,) = server.pending_ids()
    result = server.cli("approve", approval_id)
    assert result.returncode == 0, result.stdout + result.stderr
    out, _ = waiting.communicate(timeout=30)
    decision, reason = decision_of(json.loads(out))
    assert decision == "allow"
    assert approval_id in reason


def test_an_approval_granted_while_waiting_lets_the_command_run_once(server: Server) -> None:
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


def test_approval_after_the_hook_gave_up_allows_one_retry(server: Server) -> None:
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


def test_denial_reaches_the_waiting_hook(server: Server) -> None:
    waiting = server.hook_process(pre_tool_use("rm notes.txt"), wait_s=30)
    (approval_id,) = server.pending_ids()
    assert server.cli("deny", approval_id, "--reason", "use git rm").returncode == 0
    out, _ = waiting.communicate(timeout=30)
    decision, reason = decision_of(json.loads(out))
    assert decision == "deny"
    assert "was denied" in reason and "use git rm" in reason


def test_requester_cannot_approve_their_own_request(server: Server) -> None:
    me = server.cli("pending").stdout  # warm; the CLI runs as this OS user
    assert "no approval" in me
    import getpass

    server.hook(pre_tool_use("rm notes.txt"), wait_s=0.5, GOVERNANCE_USER=getpass.getuser())
    (approval_id,) = server.pending_ids()
    result = server.cli("approve", approval_id)
    assert result.returncode == 1
    assert "separation of duties" in result.stdout


def test_duplicate_votes_do_not_inflate_a_quorum(tmp_path: Path) -> None:
    running = Server(tmp_path, policy=_policy(tmp_path, requiredApprovers=2)).start()
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
    running = Server(tmp_path, policy=_policy(tmp_path)).start()
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
    server: Server,
) -> None:
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
