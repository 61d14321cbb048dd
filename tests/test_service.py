"""`governance install-service` and `serve --socket-group`: the unit and plist text, what a dry
run says it would do, a staged install's owners and modes, and the socket's group (as root)."""

from __future__ import annotations

import os
import plistlib
import signal
import stat
import subprocess
from pathlib import Path

import pytest

from tests.harness import AGENT_GID, AGENT_GROUP, GOVERNANCE, Server, two_uids_reason


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [GOVERNANCE, "install-service", *args], capture_output=True, text=True, timeout=60
    )


def test_dry_run_prints_the_unit_and_the_steps_and_changes_nothing(tmp_path: Path) -> None:
    result = _run("--dry-run", "--root", str(tmp_path), "--socket-group", "devs", "--user", "gov")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for line in (
        "User=gov",
        "SupplementaryGroups=devs",
        "UMask=0077",
        "StateDirectoryMode=0700",
        "RuntimeDirectoryMode=0711",
        "--socket-group devs",
        "--db /var/lib/governance/governance.db",
        "--socket /run/governance/governance.sock",
    ):
        assert line in out, line
    assert f"create {tmp_path}/var/lib/governance owned by gov, mode 0700" in out
    assert "mode 0600" in out
    assert "useradd --system" in out  # no such user here: it would be created
    assert "usermod -aG devs" in out  # and it says how to let developers in
    assert list(tmp_path.iterdir()) == []


def test_launchd_prints_an_equivalent_plist() -> None:
    result = _run("--launchd", "--socket-group", "staff")
    assert result.returncode == 0, result.stderr
    plist = plistlib.loads(result.stdout.encode())
    assert plist["UserName"] == "governance" and plist["Umask"] == 0o077
    arguments = plist["ProgramArguments"]
    assert arguments[1] == "serve" and arguments[arguments.index("--socket-group") + 1] == "staff"


def test_a_staged_install_hands_the_state_to_the_service_user(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("changing owners needs root")
    state = tmp_path / "var/lib/governance"
    state.mkdir(parents=True)
    old_db = state / "governance.db"
    old_db.write_text("made by hand, world-readable")
    old_db.chmod(0o644)
    result = _run(
        "--root",
        str(tmp_path),
        "--user",
        "nobody",
        "--group",
        AGENT_GROUP,
        "--socket-group",
        AGENT_GROUP,
        "--no-start",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for path, mode in (
        (state, 0o700),
        (state / "spool", 0o700),
        (old_db, 0o600),
        (tmp_path / "run/governance", 0o711),
    ):
        info = path.stat()
        assert (stat.S_IMODE(info.st_mode), info.st_uid) == (mode, 65534), path
    unit = (tmp_path / "etc/systemd/system/governance.service").read_text()
    assert "User=nobody" in unit and "UMask=0077" in unit


def test_serve_chowns_the_socket_to_the_socket_group(tmp_path: Path) -> None:
    reason = two_uids_reason()
    if reason is not None:
        pytest.skip(reason)
    server = Server(tmp_path, separate_agent=True).start()  # serves with --socket-group nogroup
    try:
        info = server.socket.stat()
        assert stat.S_IMODE(info.st_mode) == 0o660 and info.st_gid == AGENT_GID
    finally:
        server.kill(signal.SIGTERM)


def test_an_unknown_socket_group_is_a_clear_error(tmp_path: Path) -> None:
    server = Server(tmp_path, serve_args=["--socket-group", "no-such-group-xyz"])
    with pytest.raises(RuntimeError, match="no such group"):
        server.start()
