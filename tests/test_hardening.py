"""The server against an agent on its own machine (issue 8): owner-only files, SIGTERM, grants
that expire, MFA guessing across requests, the request line cap and large requests off the loop.
Real `governance serve`, real sockets, the real `governance-hook`."""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import re
import signal
import socket
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest

from engine.state import open_store
from engine.store import Store
from tests.conftest import SEED_POLICY
from tests.harness import GOVERNANCE, Server, decision_of, pre_tool_use


def _policy(tmp_path: Path, top: dict[str, Any] | None = None, **medium_rule: object) -> Path:
    document = json.loads(SEED_POLICY.read_text())
    document["approval_rules"]["medium_risk_actions"].update(medium_rule)
    document.update(top or {})
    path = tmp_path / "policies.json"
    path.write_text(json.dumps(document))
    return path


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path, policy=_policy(tmp_path)).start()
    yield running
    running.kill(signal.SIGTERM)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _wait_for(predicate: Any, timeout: float = 20, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out: {what}"
        time.sleep(0.05)


# ------------------------------------------------------------------ files readable by everyone


def test_the_server_creates_its_files_owner_only(tmp_path: Path) -> None:
    previous = os.umask(0o022)  # a developer's usual umask: files 0644, folders 0755
    try:
        running = Server(tmp_path / "state", policy=_policy(tmp_path))
        running.root.mkdir()
        running.start()
    finally:
        os.umask(previous)
    try:
        running.hook(pre_tool_use("ls"))
        for name in ("gov.db", "gov.db-wal", "gov.db-shm", "gov.db.scheduler.lock"):
            assert _mode(running.root / name) == 0o600, name
        assert _mode(running.socket) == 0o660  # the developers' group reaches the server
        # Hooks (the developers) drop files in the spool without seeing one another's.
        assert _mode(running.spool) == 0o3730
    finally:
        running.kill(signal.SIGTERM)


def test_a_hook_spools_into_the_servers_folder_for_the_servers_group_only(
    tmp_path: Path,
) -> None:
    running = Server(tmp_path, policy=_policy(tmp_path)).start()
    running.kill(signal.SIGTERM)
    output = running.hook(pre_tool_use("ls"), GOVERNANCE_FAIL_MODE="open")
    assert decision_of(output)[0] == "allow"
    (spooled,) = running.spool.glob("*.json")
    assert _mode(spooled) == 0o640
    assert spooled.stat().st_gid == running.spool.stat().st_gid


def test_serve_refuses_a_database_others_can_read(tmp_path: Path) -> None:
    running = Server(tmp_path, policy=_policy(tmp_path)).start()
    running.kill(signal.SIGTERM)
    running.db.chmod(0o644)
    result = subprocess.run(
        [GOVERNANCE, "serve", "--db", str(running.db), "--socket", str(running.socket)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert str(running.db) in line and f"chmod 600 {running.db}" in line
    assert not running.socket.exists()


# ------------------------------------------------------------------ SIGTERM


def test_sigterm_answers_waiting_hooks_audits_the_stop_and_removes_the_socket(
    tmp_path: Path,
) -> None:
    running = Server(tmp_path, policy=_policy(tmp_path)).start()
    waiting = running.hook_process(pre_tool_use("rm notes.txt"), wait_s=120)
    (approval_id,) = running.pending_ids()
    assert running.process is not None
    running.process.send_signal(signal.SIGTERM)
    assert running.process.wait(timeout=30) == 0
    out, _ = waiting.communicate(timeout=30)
    decision, reason = decision_of(json.loads(out))
    assert decision == "deny" and "shutting down" in reason and approval_id in reason
    assert not running.socket.exists()
    assert running.audit()[-1]["kind"] == "server_stopped"
    assert "governance server stopped (SIGTERM)" in running.log.read_text()
    verify = running.cli("audit", "verify")
    assert verify.returncode == 0, verify.stdout
    running.start()
    try:
        assert running.pending_ids() == [approval_id]  # the request survived the stop
    finally:
        running.kill(signal.SIGTERM)


# ------------------------------------------------------------------ grants expire


def test_an_unused_grant_expires_and_the_expiry_is_audited(tmp_path: Path) -> None:
    policy = _policy(tmp_path, top={"grant_expiry_minutes": 0.01})
    running = Server(tmp_path, policy=policy, separate_agent=True).start()
    try:
        event = pre_tool_use("rm notes.txt")
        assert decision_of(running.hook(event, wait_s=0.5))[0] == "deny"
        (approval_id,) = running.pending_ids()
        assert running.cli("approve", approval_id).returncode == 0
        _wait_for(
            lambda: any(r["kind"] == "grant_expired" for r in running.audit()),
            what="grant_expired audit row",
        )
        (expired,) = [r for r in running.audit() if r["kind"] == "grant_expired"]
        assert expired["approval_id"] == approval_id
        decision, reason = decision_of(running.hook(event, wait_s=0.5))
        assert decision == "deny" and "needs approval" in reason
        assert approval_id not in reason  # a new request: the expired grant was not used
    finally:
        running.kill(signal.SIGTERM)


# ------------------------------------------------------------------ MFA guessing


@pytest.fixture
def store(db_location: str) -> Iterator[Store]:
    opened = open_store(db_location)
    yield opened
    opened.close()


def test_an_old_grant_expires_once_on_either_backend(store: Store) -> None:
    store.add_grant("APR-OLD", "key-1")
    store.add_grant("APR-OTHER", "key-2")
    assert store.expire_grants(time.time() + 1, "key-1") == ["APR-OLD"]
    assert store.use_grant("key-1") is None  # expired: never used
    assert store.expire_grants(time.time() + 1) == ["APR-OTHER"]  # each expiry reported once
    assert store.expire_grants(time.time() + 1) == []
    store.add_grant("APR-NEW", "key-1")
    assert store.expire_grants(time.time() - 60) == []  # younger than the cut-off
    assert store.use_grant("key-1") == "APR-NEW"


def _enroll(running: Server, approver: str) -> pyotp.TOTP:
    enrolled = running.cli("mfa", "enroll", approver, "--db", str(running.db))
    assert enrolled.returncode == 0, enrolled.stderr
    uri = re.search(r"otpauth://\S+", enrolled.stdout)
    assert uri is not None
    return pyotp.parse_uri(uri.group(0))


def test_mfa_guesses_across_requests_lock_the_approver_out(tmp_path: Path) -> None:
    running = Server(tmp_path, policy=_policy(tmp_path, require_mfa=True), separate_agent=True)
    running.start()
    try:
        totp = _enroll(running, getpass.getuser())
        running.hook(pre_tool_use("rm notes.txt"), wait_s=0.5)
        (approval_id,) = running.pending_ids()

        unknown = running.cli("approve", "APR-NOSUCH", "--code", totp.now())
        assert unknown.returncode == 1
        assert "no approval request APR-NOSUCH: no code was checked" in unknown.stdout
        for fake in ("APR-FAKE01", "APR-FAKE02", "APR-FAKE03"):
            assert running.cli("approve", fake, "--code", "000000").returncode == 1
        wrong = str((int(totp.now()) + 500_000) % 1_000_000).zfill(6)
        locking = running.cli("approve", approval_id, "--code", wrong)
        assert "MFA is locked for you for 15 min" in locking.stdout

        right = running.cli("approve", approval_id, "--code", totp.now())
        assert right.returncode == 1 and "MFA is locked for you" in right.stdout
        assert running.pending_ids() == [approval_id]
        (locked,) = [r for r in running.audit() if r["kind"] == "mfa_locked"]
        assert locked["user"] == getpass.getuser()
        assert "ALERT: MFA locked" in running.log.read_text()
    finally:
        running.kill(signal.SIGTERM)


# ------------------------------------------------------------------ line cap, large requests


def _vm(pid: int, field: str) -> int:
    """A /proc/<pid>/status memory figure, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} for {pid}")


def _flood(path: Path, size: int) -> None:
    """Send `size` bytes without a newline, as fast as the server takes them, then hang up."""
    chunk = b"x" * (1024 * 1024)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(30)
        connection.connect(str(path))
        with contextlib.suppress(OSError):
            for _ in range(size // len(chunk)):
                connection.sendall(chunk)


def test_connections_without_a_newline_do_not_make_the_server_buffer_them(
    server: Server,
) -> None:
    assert server.process is not None
    pid = server.process.pid
    before = _vm(pid, "VmRSS")
    floods = [
        threading.Thread(target=_flood, args=(server.socket, 17 * 1024 * 1024)) for _ in range(24)
    ]
    for flood in floods:
        flood.start()
    for flood in floods:
        flood.join(timeout=120)
    grown = _vm(pid, "VmHWM") - before
    # Today's cap lets each connection hold its 17 MB: 24 of them grew the server by 400+ MB.
    assert grown < 200 * 1024 * 1024, f"server grew by {grown / 1e6:.0f} MB"
    assert decision_of(server.hook(pre_tool_use("git status")))[0] == "allow"
    refusals = [r["reason"] for r in server.audit() if r["kind"] == "malformed_request"]
    assert any("longer than the limit" in r or "server busy" in r for r in refusals)


def test_an_event_over_the_cap_is_denied_by_the_hook_with_a_clear_reason(
    server: Server,
) -> None:
    event = pre_tool_use("unused")
    event.update(tool_name="Write", tool_input={"file_path": "/tmp/big.txt", "content": ""})
    event["tool_input"]["content"] = "a" * (16 * 1024 * 1024 + 10)
    decision, reason = decision_of(server.hook(event))
    assert decision == "deny"
    assert "over 16 MB" in reason and "smaller parts" in reason


def _ask(
    path: Path,
    request: dict[str, Any],
    done: list[str],
    name: str,
    sent: threading.Event | None = None,
) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(300)
        connection.connect(str(path))
        connection.sendall(json.dumps(request).encode() + b"\n")
        if sent is not None:
            sent.set()
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = connection.recv(65536)
            if not chunk:
                break
            reply += chunk
    done.append(name)


def test_a_large_write_does_not_hold_up_other_calls(server: Server) -> None:
    words = [f"w{n:x}ord" for n in range(5000)]
    content = "\n".join(
        " ".join(words[(i * 7 + j) % 5000] for j in range(12)) for i in range(150_000)
    )
    large = pre_tool_use("unused")
    large.update(tool_name="Write", tool_input={"file_path": "/tmp/big.txt", "content": content})
    done: list[str] = []
    sent = threading.Event()
    writer = threading.Thread(
        target=_ask, args=(server.socket, {"event": large, "wait_s": 0}, done, "large", sent)
    )
    writer.start()
    assert sent.wait(timeout=120)  # the server holds the whole line: now it judges it
    small = pre_tool_use("git status")
    for n in range(3):
        _ask(server.socket, {"event": small, "wait_s": 0}, done, f"small{n}")
    writer.join(timeout=300)
    assert done[:3] == ["small0", "small1", "small2"] and done[3] == "large"
    assert any(r["tool_name"] == "Write" and r["kind"] == "decision" for r in server.audit())
