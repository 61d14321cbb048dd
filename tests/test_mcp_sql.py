"""MCP tools judged by what they do, and SQL wherever it executes: the case suites against the
seed policy, the `mcp_tools` policy section, `policy check` and `explain` as a user runs them."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from engine.analysis.commands import Access
from engine.analysis.mcp import classify
from engine.analysis.sql_sources import split_escapes
from engine.evaluate import Engine
from engine.events import ToolEvent
from engine.policy import McpTools, load_policy, parse_policy
from engine.self_protection import ProtectedState
from tests.conftest import SEED_POLICY, case_failures
from tests.harness import GOVERNANCE

CASES = Path(__file__).parent / "policy_cases"
SUITES = [CASES / "mcp.jsonl", CASES / "sql_anywhere.jsonl"]


@pytest.mark.parametrize("suite", SUITES, ids=lambda p: p.name)
def test_every_case_passes_against_the_seed_policy(seed_engine: Engine, suite: Path) -> None:
    assert case_failures(seed_engine, suite) == []


def test_the_suites_are_broad_explained_and_hold_look_alikes() -> None:
    cases = [json.loads(line) for suite in SUITES for line in suite.read_text().splitlines()]
    assert len(cases) >= 150
    assert len({case["id"] for case in cases}) == len(cases)
    assert all(case.get("why") for case in cases)
    kinds = Counter(case["kind"] for case in cases)
    assert kinds["evasion"] >= 100 and kinds["lookalike"] >= 50
    allowed = {case["id"] for case in cases if case["expected"] == "allow"}
    for must_stay_allowed in (
        "mcp-sql-ok-0",  # a read-only SELECT through the postgres MCP server
        "mcp-fs-read-ok-0",  # an MCP filesystem read of a source file
        "sqlany-explain-select",
        "sqlany-py-print",  # a one-liner that prints SQL without running it
    ):
        assert must_stay_allowed in allowed


def _policy(tmp_path: Path, mcp_tools: dict) -> Path:
    document = json.loads(SEED_POLICY.read_text())
    document["policies"]["mcp_tools"] = mcp_tools
    path = tmp_path / "policies.json"
    path.write_text(json.dumps(document))
    return path


def _judge(engine: Engine, tool: str, tool_input: dict):
    return engine.evaluate(ToolEvent(tool_name=tool, tool_input=tool_input, cwd="/srv/app"))


def test_the_policy_maps_a_tool_by_name_or_glob_and_sets_what_unknown_tools_get(
    tmp_path: Path,
) -> None:
    engine = Engine(
        load_policy(
            _policy(
                tmp_path,
                {
                    "unknown": "approve",
                    "tools": {
                        "mcp__acme__run_report": {"kind": "sql", "arguments": ["report_sql"]},
                        "mcp__vault__*": {"kind": "read", "arguments": ["secret_file"]},
                        "mcp__weather__*": {"kind": "none"},
                    },
                },
            )
        )
    )
    report = _judge(engine, "mcp__acme__run_report", {"report_sql": "DROP TABLE users"})
    assert report.would_be == "deny" and report.rule == "database_operations.blocked_operations[0]"
    missing = _judge(engine, "mcp__acme__run_report", {"report_id": 7})  # mapped, SQL not there
    assert missing.would_be == "approve" and missing.rule == "mcp_tools.unknown"
    vault = _judge(engine, "mcp__vault__fetch", {"secret_file": "deploy/.env.prod"})
    assert vault.would_be == "deny" and vault.rule == "file_operations.protected_paths[0]"
    assert _judge(engine, "mcp__weather__forecast", {"city": "Paris"}).would_be == "allow"
    unknown = _judge(engine, "mcp__slack__post_message", {"text": "hi"})
    assert unknown.would_be == "approve" and unknown.rule == "mcp_tools.unknown"
    assert "mcp_tools.unknown is `approve`" in unknown.reason


def test_an_unmapped_unknown_tool_is_allowed_and_the_decision_says_why(seed_engine) -> None:
    decision = _judge(seed_engine, "mcp__weather__forecast", {"city": "Paris"})
    assert decision.would_be == "allow"
    assert any(f.rule == "mcp_tools.unknown" for f in decision.findings)
    assert "cannot be told" in " ".join(f.reason for f in decision.findings)


def test_a_bad_mcp_tools_section_is_a_clear_error() -> None:
    document = json.loads(SEED_POLICY.read_text())
    document["policies"]["mcp_tools"] = {"tools": {"mcp__x__y": {"kind": "teleport"}}}
    with pytest.raises(ValueError, match="mcp_tools.tools.mcp__x__y.kind"):
        parse_policy(document, "bad.json")


def test_mcp_writes_to_the_governance_state_are_denied_by_self_protection() -> None:
    engine = Engine(
        load_policy(SEED_POLICY), ProtectedState(policy="/etc/governance/policies.json")
    )
    decision = _judge(
        engine,
        "mcp__filesystem__write_file",
        {"path": "/etc/governance/policies.json", "content": "{}"},
    )
    assert decision.would_be == "deny"
    assert decision.rule and decision.rule.startswith("builtin.self_protection.")


def test_classify_reads_kinds_off_conventions_verbs_and_argument_names() -> None:
    tools = McpTools()
    move = classify("mcp__filesystem__move_file", {"source": "a", "destination": "b"}, tools)
    assert move.paths == ((Access.READ, "a"), (Access.DELETE, "a"), (Access.WRITE, "b"))
    push = classify("mcp__github__update_ref", {"ref": "refs/heads/main", "force": True}, tools)
    assert [(p.branch, p.force) for p in push.pushes] == [("main", True)]
    search = classify("mcp__docs__search", {"query": "DROP TABLE docs"}, tools)
    assert search.sql == () and search.maybe_sql == ("DROP TABLE docs",)
    assert classify("mcp__time__now", {}, tools).unknown


def test_client_escapes_are_lifted_out_of_the_sql() -> None:
    script = split_escapes("SELECT 1;\n\\! rm -rf /\n\\i drop.sql\n\\o |sh", "psql")
    assert script.sql == "SELECT 1;"
    assert script.commands == ("rm -rf /", "cat | sh")
    assert script.files == ("drop.sql",)
    assert split_escapes(".system ls", "mysql").commands == ()  # another client's escape


def test_policy_check_lists_mcp_tools_it_cannot_classify(tmp_path: Path) -> None:
    path = _policy(
        tmp_path,
        {
            "tools": {
                "mcp__acme__run_report": {"kind": "sql"},
                "mcp__acme__mystery": {"kind": "unknown"},
            }
        },
    )
    result = subprocess.run(
        [GOVERNANCE, "policy", "check", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    warning = [line for line in result.stdout.splitlines() if "mcp_tools" in line]
    assert len(warning) == 1 and "mcp__acme__mystery" in warning[0]
    assert "mcp__acme__run_report" not in warning[0]


def test_explain_shows_what_an_mcp_call_does_and_that_unknown_tools_are_allowed() -> None:
    def explain(tool: str, tool_input: dict) -> str:
        event = json.dumps({"tool_name": tool, "tool_input": tool_input, "cwd": "/srv/app"})
        result = subprocess.run(
            [GOVERNANCE, "explain", str(SEED_POLICY), event],
            capture_output=True,
            text=True,
            timeout=60,
        )
        return result.stdout

    pushed = explain("mcp__github__push_files", {"branch": "main", "files": []})
    assert "DENY" in pushed.upper() and "protected branch `main`" in pushed
    unknown = explain("mcp__weather__forecast", {"city": "Paris"})
    assert "ALLOW" in unknown.upper() and "mcp_tools.unknown is `allow`" in unknown
