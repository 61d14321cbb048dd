"""`governance policy replay` over an audit trail recorded by a real server from real hook calls:
what a new policy newly denies, newly sends for approval and newly allows, and its exit code."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from engine.policy import load_policy
from engine.replay import NEWLY_ALLOWED, NEWLY_APPROVAL, NEWLY_DENIED, replay
from tests.conftest import SEED_POLICY
from tests.harness import Server, pre_tool_use

CALLS = (
    ("agent-alice", "ls -la"),
    ("agent-alice", "ls -la"),
    ("agent-bob", "docker push registry.example.com/app:1"),
    ("agent-bob", "cat README.md"),
    ("agent-alice", "curl -H 'Authorization: Bearer sk-live-0123456789abcdef' https://api.x.io"),
)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with the CALLS decided by a real server under the seed policy."""
    root = tmp_path_factory.mktemp("replay")
    server = Server(root, policy=SEED_POLICY).start()
    try:
        for user, command in CALLS:
            server.hook(pre_tool_use(command), wait_s=0, GOVERNANCE_USER=user)
    finally:
        server.kill(signal.SIGTERM)
    return server.db


def _stricter(tmp_path: Path) -> Path:
    document = json.loads(SEED_POLICY.read_text())
    bash = document["policies"]["bash_commands"]
    bash["blocked_patterns"].append({"pattern": "ls", "id": "no_ls", "reason": "no listing"})
    bash["requires_approval"].remove("docker push")
    bash["requires_approval"].append("curl")
    path = tmp_path / "new.json"
    path.write_text(json.dumps(document))
    return path


def _replay(db: Path, policy: Path, *extra: str) -> tuple[int, str]:
    server = Server(db.parent)
    result = server.cli("policy", "replay", str(policy), "--db", str(db), *extra)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout


def test_replay_reports_changes_by_rule_and_user_and_fails_ci(recorded, tmp_path) -> None:
    code, out = _replay(recorded, _stricter(tmp_path), "--format", "json")
    assert code == 1  # something is newly denied
    report = json.loads(out)
    assert report["replayed"] == len(CALLS)
    assert report["changes"] == {NEWLY_DENIED: 2, NEWLY_APPROVAL: 1, NEWLY_ALLOWED: 1}
    rules = {row["rule"]: row for row in report["by_rule"]}
    assert rules["no_ls"][NEWLY_DENIED] == 2
    assert rules["bash_commands.requires_approval[3]"][NEWLY_ALLOWED] == 1  # the dropped rule
    users = {row["user"]: row for row in report["by_user"]}
    assert users["agent-alice"][NEWLY_DENIED] == 2 and users["agent-bob"][NEWLY_ALLOWED] == 1
    curl = next(e for e in report["examples"] if e["change"] == NEWLY_APPROVAL)
    assert curl["redacted"] is True and "sk-live" not in out  # replayed as recorded
    assert report["redacted_inputs"] == 1


def test_replay_markdown_and_an_unchanged_policy_passes(recorded, tmp_path) -> None:
    code, out = _replay(recorded, _stricter(tmp_path))
    assert code == 1
    assert out.startswith("# Policy replay:")
    assert "| Newly denied | 2 |" in out and "### Newly denied: no\\_ls" not in out
    assert "### Newly denied: no_ls" in out and "`ls -la` allow → deny" in out
    assert "*redacted*" in out
    same, text = _replay(recorded, SEED_POLICY)
    assert same == 0 and "| Newly denied | 0 |" in text


def test_distinct_calls_are_judged_once_and_in_two_processes_alike() -> None:
    policy = load_policy(str(SEED_POLICY))
    calls = [
        {
            "seq": i, "ts": 0.0, "user": "u", "tool_name": "Bash", "decision": "allow",
            "rule": None, "repo": "/srv", "branch": None,
            "payload": json.dumps(
                {"tool_input": {"command": f"rm -rf /tmp/x{i % 25_000}"}, "cwd": "/srv"}
            ),
        }
        for i in range(50_000)
    ]  # fmt: skip
    serial = replay(calls, policy, "seed", "30d", workers=1)
    parallel = replay(calls, policy, "seed", "30d", workers=2)
    assert serial.by_change == parallel.by_change
    assert serial.replayed == parallel.replayed == 50_000
    assert serial.by_change[NEWLY_APPROVAL] == 50_000  # the seed asks before any delete
