"""The `governance` CLI says what is true: help, ids, messages and paths a new user meets.
Each test runs the real command (and a real server where the message comes from it)."""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import build_parser
from bot.cli_server import resolve_approval_id
from engine.store import Store
from tests.conftest import SEED_POLICY
from tests.harness import Server, decision_of, pre_tool_use

GOVERNANCE = str(Path(sys.executable).parent / "governance")


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [GOVERNANCE, *args], capture_output=True, text=True, timeout=60, input=stdin
    )


def _policy(tmp_path: Path, **changes: object) -> Path:
    document = json.loads(SEED_POLICY.read_text())
    document.update(changes)
    path = tmp_path / "policies.json"
    path.write_text(json.dumps(document))
    return path


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """The agent's hooks run as uid nobody; this test's uid is the console approver."""
    running = Server(tmp_path, policy=_policy(tmp_path), separate_agent=True).start()
    yield running
    running.kill(signal.SIGTERM)


# ---------------------------------------------------------------- help


def _subparsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from _subparsers(child)


def test_every_option_and_argument_has_help_text() -> None:
    missing = [
        f"{parser.prog} {action.dest}"
        for parser in _subparsers(build_parser())
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction | argparse._HelpAction)
        and not action.help
    ]
    assert missing == []


def test_audit_help_lists_search_and_export() -> None:
    result = run("audit", "--help")
    assert result.returncode == 0
    for command in ("verify", "prune", "search", "export"):
        assert command in result.stdout


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("governance ") and "unknown" not in result.stdout


def test_serve_help_does_not_claim_the_console_approver() -> None:
    result = run("--help")
    serve_line = next(line for line in result.stdout.splitlines() if "serve" in line.split()[:1])
    assert "(console approver)" not in serve_line
    assert "Slack" in run("serve", "--help").stdout


def test_builtin_policy_passes_its_own_strict_check() -> None:
    result = run("policy", "check", "builtin", "--strict")
    assert result.returncode == 0, result.stdout
    assert "0 warning(s)" in result.stdout


# ---------------------------------------------------------------- messages


def test_explain_reads_an_event_file_or_stdin(tmp_path: Path) -> None:
    event = {"tool_name": "Bash", "tool_input": {"command": "ls"}, "cwd": "/srv/app"}
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    from_file = run("explain", "builtin", str(path))
    from_stdin = run("explain", "builtin", "-", stdin=json.dumps(event))
    for result in (from_file, from_stdin):
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("decision: allow")
    missing = run("explain", "builtin", str(tmp_path / "nope.json"))
    assert missing.returncode == 1 and "not JSON and not a readable file" in missing.stderr


def test_an_allow_says_which_checks_ran() -> None:
    result = run("explain", "builtin", "--bash", "ls -la", "--cwd", "/srv/app")
    assert "reason:   allowed: checked bash command patterns" in result.stdout
    assert "none objected" in result.stdout
    read = {"tool_name": "Read", "tool_input": {"file_path": "/srv/app/a.py"}, "cwd": "/srv/app"}
    assert "checked path rules; none objected" in run("explain", "builtin", json.dumps(read)).stdout


def test_sqlglot_warnings_stay_off_the_terminal() -> None:
    result = run("explain", "builtin", "--bash", "psql -c 'REINDEX TABLE users'")
    assert result.returncode == 0
    assert result.stderr == ""


def test_feedback_on_an_allowed_row_says_so(tmp_path: Path) -> None:
    db = tmp_path / "gov.db"
    seq = Store(db).append_audit("decision", decision="allow", reason="allowed", user="alice")
    result = run("feedback", str(seq), "--false-positive", "--db", str(db))
    assert result.returncode == 0
    assert "(None)" not in result.stdout
    assert "a call no rule objected to" in result.stdout


# ---------------------------------------------------------------- approvals on the console


def test_resolve_approval_id_accepts_an_unambiguous_prefix() -> None:
    pending = ["APR-7Q2F9X", "APR-7Q3AAA", "APR-K2M4P8"]
    assert resolve_approval_id("apr-k2m", pending) == "APR-K2M4P8"
    assert resolve_approval_id("7Q2F", pending) == "APR-7Q2F9X"
    assert resolve_approval_id("APR-7Q2F9X", pending) == "APR-7Q2F9X"
    with pytest.raises(SystemExit, match="ambiguous"):
        resolve_approval_id("7Q", pending)


def test_console_pending_reply_says_how_to_approve_and_a_prefix_approves(server: Server) -> None:
    decision, reason = decision_of(server.hook(pre_tool_use("rm notes.txt"), wait_s=0.5))
    (approval_id,) = server.pending_ids()
    assert decision == "deny"
    assert "#governance-approvals" not in reason
    assert "other than agent-alice (uid 65534" in reason
    assert f"must run `governance approve {approval_id}` on this machine" in reason
    pending = server.cli("pending")
    assert approval_id in pending.stdout and len(approval_id) == len("APR-") + 6
    result = server.cli("approve", approval_id[4:8].lower())
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"{approval_id}: ")


def test_pending_says_when_an_mfa_code_is_needed(tmp_path: Path) -> None:
    document = json.loads(SEED_POLICY.read_text())
    document["approval_rules"]["medium_risk_actions"]["require_mfa"] = True
    running = Server(tmp_path, policy=_policy(tmp_path, **document)).start()
    try:
        running.hook(pre_tool_use("rm notes.txt"), wait_s=0.5)
        (approval_id,) = running.pending_ids()
        listing = running.cli("pending").stdout
        assert approval_id in listing and "MFA code: approve with --code" in listing
    finally:
        running.kill(signal.SIGTERM)


def test_a_request_only_slack_can_decide_is_answered_at_once_without_slack(
    tmp_path: Path,
) -> None:
    document = json.loads(SEED_POLICY.read_text())
    document["approver_pools"] = {"team-lead": ["U0LEAD"], "security-lead": ["U0SEC"]}
    running = Server(tmp_path, policy=_policy(tmp_path, **document)).start()
    try:
        # A 300 s wait would hang this test if the server held the call.
        decision, reason = decision_of(running.hook(pre_tool_use("rm notes.txt"), wait_s=300))
        assert decision == "deny"
        assert "in Slack, which this server does not run" in reason
    finally:
        running.kill(signal.SIGTERM)


def test_break_glass_says_non_critical_denies_are_skipped_too(tmp_path: Path) -> None:
    import getpass

    import pyotp

    document = json.loads(SEED_POLICY.read_text())
    document["break_glass"] = {"allowed_users": [getpass.getuser()], "max_minutes": 60}
    # The agent runs as uid nobody; this test's uid opens the window for it.
    running = Server(tmp_path, policy=_policy(tmp_path, **document), separate_agent=True).start()
    try:
        # The seed's high-risk rule asks for MFA, so break-glass does too.
        enrolled = running.cli("mfa", "enroll", getpass.getuser())
        uri = next(w for w in enrolled.stdout.split() if w.startswith("otpauth://"))
        code = pyotp.TOTP(pyotp.parse_uri(uri).secret).now()
        result = running.cli(
            "break-glass", "--reason", "INC-1 failover", "--minutes", "5", "--for", "nobody",
            "--code", code,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        assert "approvals and non-critical denies skipped" in result.stdout
        assert "critical denies still stand" in result.stdout
    finally:
        running.kill(signal.SIGTERM)


def test_interactive_demo_lets_you_decide_while_the_agent_waits() -> None:
    result = run("demo", "--interactive", stdin="a\nd\nuse make clean\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "you are `lead`: approve or deny APR-" in out
    assert "approver `lead` votes approve" in out and "-> ALLOW: governance: approved in" in out
    assert "approver `lead` votes deny" in out and "use make clean" in out
    assert "audit verify: intact" in out
