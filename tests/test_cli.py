"""The `governance` command as a user runs it: policy check, policy test, explain."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURES, SEED_POLICY

GOVERNANCE = str(Path(sys.executable).parent / "governance")


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([GOVERNANCE, *args], capture_output=True, text=True, timeout=60, cwd=cwd)


def test_policy_test_passes_the_shared_samples() -> None:
    result = run("policy", "test", str(SEED_POLICY), str(FIXTURES / "sample-cases.jsonl"))
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip().splitlines()[-1] == "32 passed, 0 failed"


def test_policy_test_reports_each_mismatch_with_the_engines_reason(tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text(
        json.dumps(
            {
                "id": "wrong",
                "tool_name": "Bash",
                "tool_input": {"command": "rm -fr /"},
                "cwd": "/srv/app",
                "expected": "allow",
            }
        )
        + "\n"
        + json.dumps(
            {
                "id": "right",
                "tool_name": "Bash",
                "tool_input": {"command": "ls"},
                "expected": "allow",
            }
        )
        + "\n"
    )
    result = run("policy", "test", str(SEED_POLICY), str(cases))
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("FAIL wrong: expected allow, got deny (builtin.rm_root:")
    assert lines[-1] == "1 passed, 1 failed"


def test_policy_test_names_the_line_of_a_broken_case(tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"id": "a", "tool_name": "Bash", "expected": "allow"}\n{oops\n')
    result = run("policy", "test", str(SEED_POLICY), str(cases))
    assert result.returncode == 2
    assert "cases.jsonl:2: not JSON" in result.stderr


def test_policy_check_names_the_shadowed_git_push_approval() -> None:
    result = run("policy", "check", str(SEED_POLICY))
    assert result.returncode == 0
    assert "valid policy" in result.stdout
    shadow = [
        line
        for line in result.stdout.splitlines()
        if line.startswith("warning: bash_commands.requires_approval[0]")
    ]
    assert shadow and "git_operations.blocked_branches" in shadow[0]
    assert "deny > approve" in shadow[0]


def test_policy_check_rejects_an_invalid_policy(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"policies": {"bash_commands": {"blocked_patterns": ["(("]}}}))
    result = run("policy", "check", str(bad))
    assert result.returncode == 2
    assert "policies.bash_commands.blocked_patterns" in result.stderr
    assert "Traceback" not in result.stderr


def test_explain_shows_decision_rules_and_commands() -> None:
    result = run("explain", str(SEED_POLICY), "--bash", "bash -c 'rm -fr /'", "--cwd", "/srv/app")
    assert result.returncode == 0
    assert result.stdout.startswith("decision: deny")
    assert "builtin.rm_root" in result.stdout
    assert "rm -fr /  (via bash)" in result.stdout


def test_explain_takes_a_json_event() -> None:
    event = {
        "tool_name": "Read",
        "tool_input": {"file_path": "/srv/app/config/.env.prod"},
        "cwd": "/srv/app",
    }
    result = run("explain", str(SEED_POLICY), json.dumps(event), "--json")
    decision = json.loads(result.stdout)
    assert decision["decision"] == "deny"
    assert decision["rule"] == "file_operations.protected_paths[0]"


def test_explain_of_the_builtin_policy() -> None:
    result = run("explain", "builtin", "--bash", "git log --grep 'DROP TABLE'")
    assert result.stdout.startswith("decision: allow")
