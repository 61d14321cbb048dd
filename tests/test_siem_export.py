"""`governance audit export --format ocsf|cef` over an audit trail a real server recorded from
real hook calls; every OCSF event is validated against a JSON Schema built from OCSF 1.8.0."""

from __future__ import annotations

import json
import signal

import jsonschema
import pytest

from engine.siem import to_cef
from tests.conftest import SEED_POLICY
from tests.harness import Server, pre_tool_use
from tests.ocsf_schema import SchemaBuilder

CLASSES = {6003: "api_activity", 1007: "process_activity", 1001: "file_activity"}


def _event(tool: str, tool_input: dict) -> dict:
    return dict(pre_tool_use("x"), tool_name=tool, tool_input=tool_input)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    # The agent runs as a uid of its own, so this test's uid may approve at the console.
    running = Server(
        tmp_path_factory.mktemp("siem"), policy=SEED_POLICY, separate_agent=True
    ).start()
    try:
        running.hook(pre_tool_use("ls -la"))
        running.hook(pre_tool_use("sudo rm -rf /"))
        running.hook(_event("Read", {"file_path": "/srv/app/README.md"}))
        running.hook(_event("Write", {"file_path": "/srv/app/.env", "content": "A=1"}))
        running.hook(_event("WebFetch", {"url": "https://example.com", "prompt": "read"}))
        running.hook(pre_tool_use("curl -H 'Authorization: Bearer sk-live-0123456789abcdef' x.io"))
        waiting = running.hook_process(pre_tool_use("rm notes.txt"), wait_s=30)
        (approval_id,) = running.pending_ids()
        running.cli("approve", approval_id)
        waiting.communicate(timeout=30)
        running.hook(pre_tool_use("rm other.txt"), wait_s=0)
        (denied,) = running.pending_ids()
        running.cli("deny", denied, "--reason", "no")
        yield running
    finally:
        running.kill(signal.SIGTERM)


@pytest.fixture(scope="module")
def validators() -> dict[int, jsonschema.Draft202012Validator]:
    made = {}
    for class_uid, name in CLASSES.items():
        schema = SchemaBuilder("1.8.0", ("security_control", "host")).event_schema(name)
        jsonschema.Draft202012Validator.check_schema(schema)
        made[class_uid] = jsonschema.Draft202012Validator(schema)
    return made


def test_ocsf_export_validates_and_carries_dispositions_rules_and_the_chain(
    server: Server, validators
) -> None:
    result = server.cli("audit", "export", "--format", "ocsf")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    # The server keeps appending (anchors): compare with the rows the export saw.
    last = events[-1]["metadata"]["sequence"]
    rows = [row for row in server.audit() if row["seq"] <= last]
    assert len(events) == len(rows)
    for event in events:
        validators[event["class_uid"]].validate(event)
    # The chain: each event names its row's hash and the previous row's.
    for event, row in zip(events, rows, strict=True):
        assert event["metadata"]["uid"] == row["hash"]
        assert event["metadata"]["sequence"] == row["seq"]
        assert event["unmapped"]["prev_hash"] == row["prev_hash"]
    decisions = [e for e in events if e["metadata"]["event_code"] == "decision"]
    by_code = {(e["class_uid"], e["disposition"]) for e in decisions}
    assert (1007, "Allowed") in by_code and (1007, "Blocked") in by_code
    assert (1001, "Blocked") in by_code  # the .env write
    assert {e["class_uid"] for e in events} == set(CLASSES)
    blocked = next(e for e in decisions if e.get("process", {}).get("cmd_line") == "sudo rm -rf /")
    assert blocked["disposition_id"] == 2 and blocked["policy"]["uid"] == "builtin.rm_root"
    assert blocked["severity"] == "Critical"
    dispositions = {e["disposition"] for e in events}
    assert {"Allowed", "Blocked", "Delayed", "Approved", "Rejected"} <= dispositions
    assert "sk-live" not in result.stdout


def test_cef_export_is_one_escaped_line_per_row(server: Server) -> None:
    result = server.cli("audit", "export", "--format", "cef", "--status", "deny")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines and all(
        line.startswith("CEF:0|claude-governance|claude-code-governance|") for line in lines
    )
    rm_root = next(line for line in lines if "builtin.rm_root" in line)
    header = rm_root.split("|")
    assert header[4] == "decision:deny" and header[6] == "10"
    assert "act=Blocked" in rm_root and "cs1Label=rule cs1=builtin.rm_root" in rm_root
    assert "cs6Label=hash cs6=" in rm_root and "suser=agent-alice" in rm_root
    assert "cs4Label" not in rm_root  # no label without a value (no approval here)


def test_cef_escapes_what_would_break_a_line_or_a_field() -> None:
    row = {
        "seq": 7,
        "ts": 1.5,
        "kind": "decision",
        "decision": "deny",
        "rule": "odd|rule",
        "risk": "high",
        "reason": "a=b\\c\nsecond line",
        "payload": json.dumps({"tool_input": {"command": "echo x=1 | tee y"}}),
        "tool_name": "Bash",
        "user": "bob",
        "hash": "h",
        "prev_hash": "p",
    }
    line = to_cef(row, "1.0")
    assert "\n" not in line
    assert line.split("|")[:5] == [
        "CEF:0",
        "claude-governance",
        "claude-code-governance",
        "1.0",
        "decision:deny",
    ]
    assert "|odd\\|rule|8|" in line
    assert "reason=a\\=b\\\\c\\nsecond line" in line
    assert "request=echo x\\=1 | tee y" in line  # pipes need no escape in the extension
