"""Real parts for end-to-end tests: a `governance serve` process on a tmp socket and database,
and the real `governance-hook` process fed real PreToolUse JSON."""

from __future__ import annotations

import atexit
import grp
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest

BIN = Path(sys.executable).parent
GOVERNANCE = str(BIN / "governance")
HOOK = str(BIN / "governance-hook")
HOOK_PACKAGE = Path(__file__).resolve().parent.parent / "hook_client"

# The agent as a second uid: nobody/nogroup. The venv's python lives under a 0700 home, so
# that uid runs the hook (standard library only) with Debian's python from a readable copy.
AGENT_UID = AGENT_GID = 65534
AGENT_GROUP = "nogroup"
SYSTEM_PYTHON = "/usr/bin/python3"


def two_uids_reason() -> str | None:
    """Why the agent cannot run as a uid of its own here, or None when it can."""
    if os.geteuid() != 0:
        return "acting as a second uid (the agent) needs root"
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        return f"{SYSTEM_PYTHON} is missing: the agent's uid cannot run the venv's python"
    try:
        grp.getgrnam(AGENT_GROUP)
    except KeyError:
        return f"no group {AGENT_GROUP}"
    return None


@cache
def shared_dir() -> Path:
    """A world-traversable temp dir (pytest's tmp_path is under a 0700 dir): the hook copy
    and the sockets the agent's uid must reach live here."""
    path = Path(tempfile.mkdtemp(prefix="governance-agent-"))
    path.chmod(0o755)
    shutil.copytree(HOOK_PACKAGE, path / "hook_client", ignore=shutil.ignore_patterns("*.pyc"))
    for entry in (path / "hook_client").rglob("*"):
        entry.chmod(0o755 if entry.is_dir() else 0o644)
    atexit.register(shutil.rmtree, path, True)
    return path


def pre_tool_use(command: str, session: str = "sess-1", cwd: str = "/srv/app") -> dict[str, Any]:
    return {
        "session_id": session,
        "transcript_path": "/tmp/transcript.jsonl",
        "cwd": cwd,
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": command, "description": "run it"},
        "tool_use_id": "toolu_01",
    }


def free_port() -> int:
    """A TCP port nobody listens on right now (bound, then released for the server)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    root: Path
    policy: Path | None = None
    # For the server process only (Slack tokens, API URL); hooks and CLI calls don't get them.
    serve_env: dict[str, str] = field(default_factory=dict)
    serve_args: list[str] = field(default_factory=list)
    # When set, start() also waits until Slack's HTTP endpoint accepts connections here.
    http_port: int | None = None
    # A postgresql:// URL to serve from instead of the SQLite file under root.
    database: str | None = None
    # The agent's hooks run as their own uid (nobody), so this test's uid is a real second
    # person at the console. Without root the test is skipped, saying why.
    separate_agent: bool = False
    process: subprocess.Popen[str] | None = None
    log: Path = field(init=False)
    _socket_dir: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.root / "server.log"
        self._socket_dir = self.root
        if self.separate_agent:
            reason = two_uids_reason()
            if reason is not None:
                pytest.skip(reason)
            self._socket_dir = Path(tempfile.mkdtemp(prefix="sock-", dir=shared_dir()))
            self._socket_dir.chmod(0o711)
            self.serve_args = [*self.serve_args, "--socket-group", AGENT_GROUP]

    @property
    def socket(self) -> Path:
        return self._socket_dir / "gov.sock"

    @property
    def db(self) -> Path | str:
        return self.database or self.root / "gov.db"

    @property
    def spool(self) -> Path:
        return self.root / "spool"

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            GOVERNANCE_SOCKET=str(self.socket),
            GOVERNANCE_DB=str(self.db),
            GOVERNANCE_SPOOL_DIR=str(self.spool),
            GOVERNANCE_USER="agent-alice",
        )
        # Beside the database, as for SQLite: a PostgreSQL server's default is the state
        # folder in the home, which a test must not write to.
        env.setdefault("GOVERNANCE_WITNESS", str(self.root / "gov.witness.jsonl"))
        env.update(extra)
        return env

    def start(self) -> Server:
        args = [
            GOVERNANCE,
            "serve",
            "--socket",
            str(self.socket),
            "--db",
            str(self.db),
            "--spool-dir",
            str(self.spool),
        ]
        if self.policy is not None:
            args += ["--policy", str(self.policy)]
        args += self.serve_args
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
                env=self.env(**self.serve_env),
            )
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()}")
            if (
                self.socket.exists()
                and self.call({"op": "ping"}).get("ok")
                and (self.http_port is None or _accepts(self.http_port))
            ):
                return self
            time.sleep(0.05)
        raise RuntimeError(f"server did not start: {self.log.read_text()}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=10)

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        from bot.client import ServerUnreachable, call

        try:
            return call(self.socket, request, timeout=10)
        except ServerUnreachable:
            return {}

    def hook(
        self, event: dict[str, Any] | bytes | str, wait_s: float = 5, **env: str
    ) -> dict[str, Any]:
        process = self.hook_process(event, wait_s, **env)
        out, err = process.communicate(timeout=wait_s + 60)
        assert process.returncode == 0, err
        assert "Traceback" not in err, err
        return json.loads(out) if out.strip() else {}

    def hook_process(
        self, event: dict[str, Any] | bytes | str, wait_s: float = 5, **env: str
    ) -> subprocess.Popen[str]:
        data = event if isinstance(event, str | bytes) else json.dumps(event)
        as_agent: dict[str, Any] = {}
        command = [HOOK]
        if self.separate_agent:
            command = [SYSTEM_PYTHON, "-m", "hook_client.main"]
            env = {"PYTHONPATH": str(shared_dir()), **env}
            as_agent = {"user": AGENT_UID, "group": AGENT_GID, "extra_groups": []}
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self.env(GOVERNANCE_WAIT_S=str(wait_s), **env),
            cwd=shared_dir() if self.separate_agent else None,
            **as_agent,
        )
        assert process.stdin is not None
        process.stdin.write(data.encode() if isinstance(data, str) else data)
        process.stdin.close()
        process.stdin = None
        return _Text(process)

    def cli(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [GOVERNANCE, *args], capture_output=True, text=True, timeout=60, env=self.env(**env)
        )

    def pending_ids(self, timeout: float = 10) -> list[str]:
        deadline = time.time() + timeout
        while time.time() < deadline:
            pending = self.call({"op": "pending"}).get("pending") or []
            if pending:
                return [item["id"] for item in pending]
            time.sleep(0.05)
        return []

    def audit(self) -> list[dict[str, Any]]:
        import sqlite3

        if self.database:
            import psycopg
            from psycopg.rows import dict_row

            with psycopg.connect(self.database, row_factory=dict_row) as connection:
                return connection.execute("SELECT * FROM audit ORDER BY seq").fetchall()
        with sqlite3.connect(self.db) as connection:
            connection.row_factory = sqlite3.Row
            return [dict(row) for row in connection.execute("SELECT * FROM audit ORDER BY seq")]

    def wait_for_audit(
        self, kind: str, count: int = 1, timeout: float = 60
    ) -> list[dict[str, Any]]:
        """The audit rows of `kind` once there are `count` of them (the server wrote them)."""
        deadline = time.time() + timeout
        while True:
            rows = [row for row in self.audit() if row["kind"] == kind]
            if len(rows) >= count or time.time() > deadline:
                assert len(rows) >= count, f"no {kind} audit row after {timeout}s"
                return rows
            time.sleep(0.05)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class _Text:
    """A Popen whose communicate() decodes, so tests read str."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    def communicate(self, timeout: float | None = None) -> tuple[str, str]:
        out, err = self.process.communicate(timeout=timeout)
        return out.decode(), err.decode()

    def poll(self) -> int | None:
        return self.process.poll()


def decision_of(output: dict[str, Any]) -> tuple[str, str]:
    specific = output["hookSpecificOutput"]
    return specific["permissionDecision"], specific["permissionDecisionReason"]
