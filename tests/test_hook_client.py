"""The real `governance-hook` process against a scripted Unix-socket server written here.
The server is a stand-in for the network edge only; the real server's own tests live elsewhere."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hook_client.config import socket_path, spool_dir
from hook_client.context import git_context

HOOK = str(Path(sys.executable).parent / "governance-hook")

Reply = bytes | Callable[[dict], bytes] | None


class ScriptedServer:
    """Accepts connections, records each request line, answers with `reply` (None: never)."""

    def __init__(self, path: str, reply: Reply) -> None:
        self.path = path
        self.reply = reply
        self.requests: list[dict] = []
        self.raw: list[bytes] = []
        self._stop = threading.Event()
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(path)
        self._listener.listen(8)
        self._listener.settimeout(0.1)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(connection,), daemon=True).start()

    def _handle(self, connection: socket.socket) -> None:
        with connection:
            buffer = b""
            while b"\n" not in buffer:
                chunk = connection.recv(65536)
                if not chunk:
                    return
                buffer += chunk
            line = buffer.split(b"\n", 1)[0]
            self.raw.append(line)
            request = json.loads(line)
            self.requests.append(request)
            if self.reply is None:
                # Hold the connection like a server waiting on an approval that never lands.
                self._stop.wait(60)
                return
            answer = self.reply(request) if callable(self.reply) else self.reply
            # The hook hangs up first on an oversized answer, as it should.
            with contextlib.suppress(OSError):
                connection.sendall(answer)

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(2)


def respond(decision: str, reason: str = "", **extra: object) -> bytes:
    body = {"decision": decision, "reason": reason, "rule": None, "approval_id": None, "risk": None}
    body.update(extra)
    return (json.dumps(body) + "\n").encode()


@pytest.fixture
def short_dir(tmp_path: Path) -> Iterator[Path]:
    # AF_UNIX paths are limited to 107 bytes; long test names make tmp_path longer than that.
    if len(str(tmp_path)) < 80:
        yield tmp_path
        return
    directory = Path(tempfile.mkdtemp(prefix="gh-"))
    yield directory
    for child in directory.iterdir():
        child.unlink()
    directory.rmdir()


@pytest.fixture
def env(tmp_path: Path, short_dir: Path) -> dict[str, str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("GOVERNANCE_") and k != "XDG_RUNTIME_DIR"
    }
    clean.update(
        HOME=str(tmp_path / "home"),
        USER="alice",
        GOVERNANCE_SOCKET=str(short_dir / "g.sock"),
        GOVERNANCE_SPOOL_DIR=str(tmp_path / "spool"),
    )
    return clean


@pytest.fixture
def serve(env: dict[str, str]) -> Iterator[Callable[[Reply], ScriptedServer]]:
    servers: list[ScriptedServer] = []

    def start(reply: Reply) -> ScriptedServer:
        server = ScriptedServer(env["GOVERNANCE_SOCKET"], reply)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def bash_event(command: str = "ls", cwd: str = "/tmp", **extra: object) -> dict:
    event = {
        "session_id": "sess-1",
        "transcript_path": "/tmp/transcript.jsonl",
        "cwd": cwd,
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": command, "description": "list"},
        "tool_use_id": "toolu_01",
    }
    event.update(extra)
    return event


def run_hook(
    env: dict[str, str], stdin: dict | bytes | str, timeout: float = 30, args: tuple[str, ...] = ()
) -> tuple[dict | None, subprocess.CompletedProcess[bytes]]:
    if isinstance(stdin, dict):
        data = json.dumps(stdin).encode()
    elif isinstance(stdin, str):
        data = stdin.encode()
    else:
        data = stdin
    result = subprocess.run(
        [HOOK, *args], input=data, env=env, capture_output=True, timeout=timeout
    )
    assert result.returncode == 0, result.stderr
    assert b"Traceback" not in result.stderr, result.stderr
    out = result.stdout.decode().strip()
    return (json.loads(out) if out else None), result


def permission(answer: dict | None) -> tuple[str, str]:
    assert answer is not None
    specific = answer["hookSpecificOutput"]
    assert specific["hookEventName"] == "PreToolUse"
    assert set(specific) == {"hookEventName", "permissionDecision", "permissionDecisionReason"}
    return specific["permissionDecision"], specific["permissionDecisionReason"]


def spooled(env: dict[str, str]) -> list[dict]:
    directory = Path(env["GOVERNANCE_SPOOL_DIR"])
    if not directory.exists():
        return []
    assert not [p for p in directory.iterdir() if p.name.startswith(".tmp-")]
    return [json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))]


# ---------------------------------------------------------------- decisions from the server


def test_allow_passes_with_the_servers_reason(env, serve) -> None:
    serve(respond("allow", "no rule matched"))
    answer, _ = run_hook(env, bash_event())
    assert permission(answer) == ("allow", "governance: no rule matched")


def test_approved_is_an_allow(env, serve) -> None:
    serve(respond("approved", "approved by bob (APR-1)", approval_id="APR-1"))
    answer, _ = run_hook(env, bash_event())
    assert permission(answer) == ("allow", "governance: approved by bob (APR-1)")


def test_deny_reason_passes_through_with_prefix(env, serve) -> None:
    reason = "pushing to main is blocked (git_operations.block_force_push)"
    serve(respond("deny", reason, rule="git_operations.block_force_push", risk="high"))
    answer, _ = run_hook(env, bash_event("git push -f origin main"))
    assert permission(answer) == ("deny", "governance: " + reason)


@pytest.mark.parametrize("decision", ["denied", "expired"])
def test_final_approval_outcomes_deny(env, serve, decision: str) -> None:
    serve(respond(decision, f"approval APR-9 {decision}", approval_id="APR-9"))
    answer, _ = run_hook(env, bash_event())
    assert permission(answer) == ("deny", f"governance: approval APR-9 {decision}")


def test_approval_pending_denies_with_the_approval_id(env, serve) -> None:
    reason = (
        "needs approval APR-7Q2F in #governance-approvals; "
        "retry the same command after it is approved"
    )
    serve(respond("approval_pending", reason, approval_id="APR-7Q2F", risk="high"))
    answer, _ = run_hook(env, bash_event("psql -c 'DROP TABLE users'"))
    decision, text = permission(answer)
    assert decision == "deny"
    assert text == "governance: " + reason


def test_approval_pending_without_the_id_in_the_reason_still_names_it(env, serve) -> None:
    serve(respond("approval_pending", "needs approval", approval_id="APR-ABCD"))
    answer, _ = run_hook(env, bash_event())
    decision, text = permission(answer)
    assert decision == "deny"
    assert "APR-ABCD" in text and text.startswith("governance: needs approval")


# ---------------------------------------------------------------- the request line


def make_repo(root: Path, head: str) -> Path:
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "HEAD").write_text(head + "\n")
    return root


def test_request_carries_the_event_unchanged_and_the_context(env, serve, tmp_path) -> None:
    repo = make_repo(tmp_path / "proj", "ref: refs/heads/feature/x")
    (repo / "src" / "deep").mkdir(parents=True)
    server = serve(respond("allow", "ok"))
    event = bash_event(cwd=str(repo / "src" / "deep"), future_field={"nested": [1, "ü", None]})
    event["tool_name"] = "SomeFutureTool"
    event["tool_input"] = {"whatever": 1, "shape": ["is", "unknown"]}
    answer, _ = run_hook(env, event)
    assert permission(answer)[0] == "allow"

    [request] = server.requests
    assert request["v"] == 1
    assert request["event"] == event
    assert request["wait_s"] == 540
    context = request["context"]
    assert context["user"] == "alice"
    assert context["host"] == socket.gethostname()
    assert context["repo"] == str(repo)
    assert context["git_branch"] == "feature/x"
    assert context["home"] == env["HOME"]
    assert server.raw[0].count(b"\n") == 0


def test_worktree_git_file_with_relative_gitdir(env, serve, tmp_path) -> None:
    main_repo = make_repo(tmp_path / "main", "ref: refs/heads/main")
    gitdir = main_repo / ".git" / "worktrees" / "wt"
    gitdir.mkdir(parents=True)
    (gitdir / "HEAD").write_text("ref: refs/heads/wt-branch\n")
    worktree = tmp_path / "wt"
    worktree.mkdir()
    (worktree / ".git").write_text("gitdir: ../main/.git/worktrees/wt\n")
    server = serve(respond("allow", "ok"))
    run_hook(env, bash_event(cwd=str(worktree)))
    context = server.requests[0]["context"]
    assert context["repo"] == str(worktree)
    assert context["git_branch"] == "wt-branch"


def test_mcp_tool_and_absolute_gitdir(env, serve, tmp_path) -> None:
    gitdir = tmp_path / "modules" / "sub"
    gitdir.mkdir(parents=True)
    (gitdir / "HEAD").write_text("ref: refs/heads/release/1.2\n")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / ".git").write_text(f"gitdir: {gitdir}\n")
    server = serve(respond("allow", "ok"))
    event = bash_event(cwd=str(sub), tool_name="mcp__postgres__query")
    event["tool_input"] = {"sql": "select 1"}
    run_hook(env, event)
    assert server.requests[0]["event"] == event
    assert server.requests[0]["context"]["git_branch"] == "release/1.2"


def test_detached_head_and_no_repo_are_null(env, serve, tmp_path) -> None:
    repo = make_repo(tmp_path / "detached", "3f1c0a9b8e7d6c5b4a39281706f5e4d3c2b1a098")
    bare = tmp_path / "elsewhere"
    bare.mkdir()
    server = serve(respond("allow", "ok"))
    run_hook(env, bash_event(cwd=str(repo)))
    run_hook(env, bash_event(cwd=str(bare)))
    assert server.requests[0]["context"]["repo"] == str(repo)
    assert server.requests[0]["context"]["git_branch"] is None
    assert server.requests[1]["context"]["repo"] is None
    assert server.requests[1]["context"]["git_branch"] is None


def test_governance_user_overrides_user(env, serve) -> None:
    server = serve(respond("allow", "ok"))
    run_hook({**env, "GOVERNANCE_USER": "svc-deployer"}, bash_event())
    assert server.requests[0]["context"]["user"] == "svc-deployer"


def test_wait_is_clamped_below_the_hook_timeout(env, serve) -> None:
    server = serve(respond("allow", "ok"))
    run_hook({**env, "GOVERNANCE_WAIT_S": "900", "GOVERNANCE_HOOK_TIMEOUT": "100"}, bash_event())
    run_hook({**env, "GOVERNANCE_WAIT_S": "30"}, bash_event())
    # install-hook writes `--timeout N` into the command when N is not the default.
    run_hook({**env, "GOVERNANCE_HOOK_TIMEOUT": "900"}, bash_event(), args=("--timeout", "50"))
    assert [r["wait_s"] for r in server.requests] == [80, 30, 30]


def test_missing_event_name_is_treated_as_pre_tool_use(env, serve) -> None:
    server = serve(respond("deny", "no"))
    event = bash_event()
    del event["hook_event_name"]
    answer, _ = run_hook(env, event)
    assert permission(answer) == ("deny", "governance: no")
    assert server.requests[0]["wait_s"] == 540


# ---------------------------------------------------------------- other hook events


def test_post_tool_use_records_and_prints_nothing(env, serve) -> None:
    server = serve(respond("recorded", ""))
    event = bash_event(hook_event_name="PostToolUse", tool_response={"stdout": "a\nb"})
    answer, result = run_hook(env, event)
    assert answer is None and result.stdout == b""
    assert server.requests[0]["wait_s"] == 0
    assert server.requests[0]["event"] == event
    assert spooled(env) == []


def test_user_prompt_submit_deny_blocks(env, serve) -> None:
    serve(respond("deny", "prompt larger than 100000 characters (ai_operations)"))
    event = {"hook_event_name": "UserPromptSubmit", "session_id": "s", "prompt": "x" * 10}
    answer, _ = run_hook(env, event)
    assert answer == {
        "decision": "block",
        "reason": "governance: prompt larger than 100000 characters (ai_operations)",
    }


def test_user_prompt_submit_allow_prints_nothing(env, serve) -> None:
    server = serve(respond("allow", "ok"))
    answer, result = run_hook(env, {"hook_event_name": "UserPromptSubmit", "prompt": "hi"})
    assert answer is None and result.stdout == b""
    assert server.requests[0]["wait_s"] == 0


# ---------------------------------------------------------------- server down


def test_server_down_fail_closed_denies_naming_socket_and_serve(env) -> None:
    answer, _ = run_hook(env, bash_event())
    decision, reason = permission(answer)
    assert decision == "deny"
    assert env["GOVERNANCE_SOCKET"] in reason
    assert "governance serve" in reason
    assert reason.startswith("governance: governance server not reachable at ")
    assert spooled(env) == []


def test_stale_socket_file_is_connection_refused(env) -> None:
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(env["GOVERNANCE_SOCKET"])
    stale.close()
    answer, _ = run_hook({**env, "GOVERNANCE_FAIL_MODE": "anything-but-open"}, bash_event())
    decision, reason = permission(answer)
    assert decision == "deny"
    assert "connection refused" in reason.lower()


def test_server_down_fail_open_allows_and_spools_once(env) -> None:
    event = bash_event("terraform apply", extra_field=True)
    before = time.time()
    answer, _ = run_hook({**env, "GOVERNANCE_FAIL_MODE": "open"}, event)
    after = time.time()
    decision, reason = permission(answer)
    assert decision == "allow"
    assert "GOVERNANCE_FAIL_MODE=open" in reason and "spooled" in reason
    [record] = spooled(env)
    assert record["v"] == 1
    assert record["event"] == event
    assert record["fail_mode"] == "open"
    assert record["wait_s"] == 540
    assert record["context"]["user"] == "alice"
    assert record["error"]
    assert before <= record["spooled_at"] <= after
    directory = Path(env["GOVERNANCE_SPOOL_DIR"])
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700


def test_fail_open_spool_failure_still_allows_and_says_so(env, tmp_path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    env = {**env, "GOVERNANCE_FAIL_MODE": "open", "GOVERNANCE_SPOOL_DIR": str(blocker / "x")}
    answer, _ = run_hook(env, bash_event())
    decision, reason = permission(answer)
    assert decision == "allow"
    assert "could NOT be spooled" in reason


def test_post_tool_use_server_down_fail_closed_is_spooled_silently(env) -> None:
    event = bash_event(hook_event_name="PostToolUse", tool_response={"exit_code": 0})
    answer, result = run_hook(env, event)
    assert answer is None and result.stdout == b""
    [record] = spooled(env)
    assert record["event"] == event
    assert record["fail_mode"] == "closed"
    assert record["wait_s"] == 0


def test_user_prompt_submit_server_down(env) -> None:
    event = {"hook_event_name": "UserPromptSubmit", "prompt": "hello"}
    answer, _ = run_hook(env, event)
    assert answer is not None and answer["decision"] == "block"
    assert "governance serve" in answer["reason"]
    answer, result = run_hook({**env, "GOVERNANCE_FAIL_MODE": "open"}, event)
    assert answer is None and result.stdout == b""
    assert [r["event"] for r in spooled(env)] == [event]


# ---------------------------------------------------------------- broken servers


def test_server_that_never_answers_is_a_deny_before_the_hook_timeout(env, serve) -> None:
    serve(None)
    env = {**env, "GOVERNANCE_WAIT_S": "1", "GOVERNANCE_HOOK_TIMEOUT": "25"}
    # An answer at all means the hook gave up on its own: Claude Code would have killed it at
    # the hook timeout, and run_hook kills it there too.
    answer, _ = run_hook(env, bash_event(), timeout=25)
    decision, reason = permission(answer)
    assert decision == "deny"
    assert "did not answer" in reason


@pytest.mark.parametrize(
    "reply",
    [
        b"garbage\n",
        b"\n",
        b"",
        b"[1, 2]\n",
        b'{"reason": "no decision"}\n',
        b'{"decision": "maybe", "reason": "?"}\n',
        b'{"decision": "recorded", "reason": "not for a PreToolUse"}\n',
        b"\xff\xfe\n",
        b"x" * (1024 * 1024 + 10),
    ],
    ids=[
        "garbage",
        "blank",
        "closed",
        "list",
        "no-decision",
        "unknown-decision",
        "recorded",
        "bytes",
        "oversized",
    ],
)
def test_bad_server_answers_deny(env, serve, reply: bytes) -> None:
    serve(reply)
    answer, _ = run_hook(env, bash_event())
    decision, reason = permission(answer)
    assert decision == "deny"
    assert env["GOVERNANCE_SOCKET"] in reason


# ---------------------------------------------------------------- malformed input


@pytest.mark.parametrize(
    ("stdin", "what"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"not json", "not JSON"),
        (b"[1,2]", "list"),
        (b'"a string"', "str"),
        (b'{"tool_name": "Bash", "tool_input": {"command": "\xff\xfe"}}', "UTF-8"),
        (b"{" * 5 * 1024 * 1024, "not JSON"),
        (os.urandom(5 * 1024 * 1024), ""),
    ],
    ids=["empty", "blank", "not-json", "list", "string", "bad-utf8", "5mb-braces", "5mb-random"],
)
def test_malformed_stdin_is_a_clear_deny(env, stdin: bytes, what: str) -> None:
    answer, result = run_hook(env, stdin)
    decision, reason = permission(answer)
    assert decision == "deny"
    assert reason.startswith("governance hook: malformed input from Claude Code: ")
    assert reason.endswith("; the call is denied")
    assert what in reason
    assert result.stderr == b""


# ---------------------------------------------------------------- helpers, in process


def test_socket_and_spool_defaults(monkeypatch, tmp_path) -> None:
    for name in ("GOVERNANCE_SOCKET", "GOVERNANCE_SPOOL_DIR", "XDG_RUNTIME_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    state = tmp_path / ".local" / "state" / "governance"
    assert socket_path() == str(state / "governance.sock")
    assert spool_dir() == str(state / "spool")
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/run/user/1000")
    assert socket_path() == "/run/user/1000/governance/governance.sock"
    # The spool must survive a reboot, so it never follows the runtime dir.
    assert spool_dir() == str(state / "spool")
    monkeypatch.setenv("GOVERNANCE_SOCKET", "/x/s.sock")
    assert socket_path() == "/x/s.sock"


def test_git_context_walks_up_and_tolerates_junk(tmp_path) -> None:
    repo = make_repo(tmp_path / "r", "ref: refs/heads/dev")
    (repo / "a" / "b").mkdir(parents=True)
    assert git_context(str(repo / "a" / "b")) == (str(repo), "dev")
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / ".git").write_text("not a gitdir line")
    assert git_context(str(junk)) == (str(junk), None)
    missing = tmp_path / "missing-gitdir"
    missing.mkdir()
    (missing / ".git").write_text("gitdir: /nonexistent/place")
    assert git_context(str(missing)) == (str(missing), None)
    # A cwd that no longer exists still walks up to the repository.
    assert git_context(str(repo / "gone" / "away")) == (str(repo), "dev")


# ---------------------------------------------------------------- command line


def test_socket_option_beats_the_environment(env, serve, short_dir) -> None:
    server = ScriptedServer(str(short_dir / "other.sock"), respond("allow", "ok"))
    try:
        answer, _ = run_hook(env, bash_event(), args=("--socket", server.path))
    finally:
        server.close()
    assert permission(answer) == ("allow", "governance: ok")
    assert len(server.requests) == 1


def test_help_prints_usage_not_a_deny(env) -> None:
    result = subprocess.run([HOOK, "--help"], env=env, capture_output=True, timeout=30)
    assert result.returncode == 0
    assert result.stdout.decode().startswith("usage: governance-hook")
    assert "--socket PATH" in result.stdout.decode()
    assert b"permissionDecision" not in result.stdout
