"""No secret reaches any sink: a corpus of secret spellings goes through the real hook to a real
`governance serve` with Slack wired to the Web API stand-in, and each value is looked for in
the database files, both exports, the report, the server's console and every Slack call."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SEED_POLICY
from tests.harness import Server, decision_of, free_port
from tests.slack_api_stub import SlackApiStub

CORPUS = Path(__file__).parent / "fixtures" / "secret_corpus.jsonl"
APPROVALS = "#team-approvals"
SECURITY = "#security-alerts"
# What each call is made to trigger, in turn: a plain decision, an approval request (posted to
# Slack with the command) and a critical block (alerted to the security channel).
ALLOW, APPROVE, CRITICAL = "allow", "approve", "critical"


def corpus() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CORPUS.read_text().splitlines() if line.strip()]


def write_policy(path: Path) -> Path:
    document = json.loads(SEED_POLICY.read_text())
    bash = document["policies"]["bash_commands"]
    bash["blocked_patterns"].append(
        {"pattern": "corpus-critical-mark", "id": "corpus.critical", "risk": "critical"}
    )
    bash["requires_approval"].append({"pattern": "corpus-approve-mark", "id": "corpus.approve"})
    document["risk_overrides"] = {"file_operations.protected_paths[": "critical"}
    document["approver_pools"] = {"team-lead": ["ULEAD1", "ULEAD2"]}
    document["slack"] = {"approval_channel": APPROVALS, "security_channel": SECURITY}
    path.write_text(json.dumps(document))
    return path


def event_for(row: dict[str, Any], index: int, goal: str) -> dict[str, Any]:
    tool_input = dict(row["tool_input"])
    if row["tool"] == "Bash":
        mark = {ALLOW: "", APPROVE: " ; corpus-approve-mark", CRITICAL: " ; corpus-critical-mark"}
        tool_input["command"] += mark[goal]
    if tool_input.get("file_path") == "FILE":
        # Plain file; write-protected (needs approval); protected (critical block by override).
        where = {ALLOW: f"notes/n{index}.md", APPROVE: f".git/n{index}", CRITICAL: f".env.{index}"}
        tool_input["file_path"] = where[goal]
    return {
        "session_id": f"corpus-{index}",
        "transcript_path": "/tmp/transcript.jsonl",
        "cwd": "/srv/app",
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": row["tool"],
        "tool_input": tool_input,
        "tool_use_id": f"toolu_{index}",
    }


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Server, SlackApiStub]]:
    with SlackApiStub() as stub:
        port = free_port()
        server = Server(
            tmp_path,
            policy=write_policy(tmp_path / "policies.json"),
            serve_env={
                "SLACK_BOT_TOKEN": "xoxb-test-bot-token",
                "SLACK_SIGNING_SECRET": "test-signing-secret",
                "GOVERNANCE_SLACK_API_URL": stub.base_url,
            },
            serve_args=["--http", "--port", str(port), "--host", "127.0.0.1"],
            http_port=port,
        ).start()
        try:
            yield server, stub
        finally:
            server.kill(signal.SIGTERM)


def posted_to(stub: SlackApiStub, channel: str) -> list[str]:
    return [
        json.dumps(call.args)
        for call in stub.calls_to("chat.postMessage")
        if call.args.get("channel") == channel
    ]


def wait_until(check: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_corpus_is_varied_and_large_enough() -> None:
    rows = corpus()
    assert len(rows) >= 80
    assert len({row["secret"] for row in rows}) == len(rows)
    assert {row["tool"] for row in rows} >= {"Bash", "Write", "Edit", "WebFetch"}
    assert any(row["tool"].startswith("mcp__") for row in rows)


def test_no_corpus_secret_reaches_any_sink(
    world: tuple[Server, SlackApiStub], tmp_path: Path
) -> None:
    server, stub = world
    rows = corpus()
    goals = [(ALLOW, APPROVE, CRITICAL)[i % 3] for i in range(len(rows))]
    needing_approval = blocked_critical = 0
    for index, (row, goal) in enumerate(zip(rows, goals, strict=True)):
        decision, reason = decision_of(server.hook(event_for(row, index, goal), wait_s=0.2))
        needing_approval += "needs approval" in reason
        blocked_critical += goal == CRITICAL and decision == "deny"
    # Most of the corpus reached Slack as approval requests or critical alerts, so what is
    # asserted below is about real messages carrying the commands (redacted).
    assert needing_approval >= 25 and blocked_critical >= 25
    wait_until(
        lambda: len(posted_to(stub, APPROVALS)) >= needing_approval,
        f"expected {needing_approval} approval messages",
    )
    wait_until(
        lambda: (
            sum("Critical action blocked" in m for m in posted_to(stub, SECURITY))
            >= blocked_critical
        ),
        f"expected {blocked_critical} critical alerts",
    )
    alerts = [m for m in posted_to(stub, SECURITY) if "Critical action blocked" in m]
    assert sum("[REDACTED]" in m for m in alerts) >= 25
    assert sum("[REDACTED]" in m for m in posted_to(stub, APPROVALS)) >= 25

    database_while_running = b"".join(
        path.read_bytes() for path in tmp_path.glob("gov.db*") if path.is_file()
    )
    server.kill(signal.SIGTERM)
    # The security channel witnessed the chain's head at shutdown (see test_anchors.py).
    wait_until(
        lambda: any("Audit anchor" in m for m in posted_to(stub, SECURITY)),
        "no shutdown anchor in the security channel",
    )
    sinks: dict[str, bytes] = {
        "database files while serving (db, WAL, SHM)": database_while_running,
        "database files after shutdown": b"".join(
            path.read_bytes() for path in tmp_path.glob("gov.db*") if path.is_file()
        ),
        "server console": server.log.read_bytes(),
        "Slack Web API calls": json.dumps(
            [{"method": c.method, "args": c.args} for c in stub.calls], ensure_ascii=False
        ).encode(),
    }
    for form in ("jsonl", "csv"):
        export = server.cli("audit", "export", "--format", form)
        assert export.returncode == 0, export.stderr
        assert export.stdout.count("\n") >= len(rows)
        sinks[f"audit export --format {form}"] = export.stdout.encode()
    for form in ("markdown", "json", "html", "slack"):
        report = server.cli("report", "--format", form)
        assert report.returncode == 0, report.stderr
        sinks[f"report --format {form}"] = report.stdout.encode()
    report = server.cli("report", "--rules")
    sinks["report --rules"] = report.stdout.encode()

    leaks = [
        f"{row['id']} ({goal}): {row['secret']!r} in {sink}"
        for row, goal in zip(rows, goals, strict=True)
        for sink, content in sinks.items()
        if row["secret"].encode() in content or json.dumps(row["secret"])[1:-1].encode() in content
    ]
    assert leaks == []
