"""The policy case suites: evasions a regex misses and look-alikes a regex wrongly blocks,
each judged against the seed policy exactly as `governance policy test` does."""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from engine.cases import load_cases, run_cases
from engine.evaluate import Engine
from engine.events import ToolEvent
from engine.policy import load_policy
from engine.self_protection import ProtectedState
from tests.conftest import FIXTURES, SEED_POLICY, case_failures
from tests.harness import GOVERNANCE

CASES = Path(__file__).parent / "policy_cases" / "seed.jsonl"
SUITES = [CASES, FIXTURES / "sample-cases.jsonl", CASES.parent / "intents.jsonl"]


@pytest.mark.parametrize("suite", SUITES, ids=lambda p: p.name)
def test_every_case_passes(seed_engine: Engine, suite: Path) -> None:
    assert case_failures(seed_engine, suite) == []


def test_policy_test_command_judges_every_case_of_the_suite(tmp_path: Path) -> None:
    # The suite is what users run against their own policy: both kinds, in every category.
    cases = [json.loads(line) for line in CASES.read_text().splitlines() if line.strip()]
    kinds = Counter(case["kind"] for case in cases)
    assert kinds["evasion"] >= 100 and kinds["lookalike"] >= 100
    result = subprocess.run(
        [GOVERNANCE, "policy", "test", str(FIXTURES / "seed-policies.json"), str(CASES)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(cases)} passed, 0 failed" in result.stdout


# ---------------------------------------------------------------- built-in self-protection

SELF_PROTECTION = Path(__file__).parent / "policy_cases" / "self_protection.jsonl"
# Where a service install keeps its state; the cases name these paths.
SERVICE_STATE = ProtectedState(
    database="/var/lib/governance/governance.db",
    socket="/run/governance/governance.sock",
    spool="/var/lib/governance/spool",
    policy="/etc/governance/policies.json",
    witness="/var/lib/governance/governance.witness.jsonl",
)


def test_self_protection_cases_deny_by_the_builtin_rule_and_spare_look_alikes() -> None:
    engine = Engine(load_policy(SEED_POLICY), SERVICE_STATE)
    results = run_cases(engine, load_cases(SELF_PROTECTION))
    assert [r.case.id for r in results if not r.passed] == []
    denied = [r.decision for r in results if r.case.expected == "deny"]
    assert len(denied) >= 50
    assert all(d.rule and d.rule.startswith("builtin.self_protection.") for d in denied)
    assert all(d.risk == "critical" for d in denied)


def test_self_protection_holds_in_audit_mode_whatever_the_risk_overrides(tmp_path: Path) -> None:
    document = json.loads(SEED_POLICY.read_text())
    document["mode"] = "audit"
    document["risk_overrides"] = {"builtin.self_protection.": "low"}
    path = tmp_path / "policies.json"
    path.write_text(json.dumps(document))
    engine = Engine(load_policy(path), SERVICE_STATE)
    grant = ToolEvent(
        tool_name="Bash",
        tool_input={"command": "sqlite3 /var/lib/governance/governance.db 'delete from grants'"},
        cwd="/srv/app",
    )
    decision = engine.evaluate(grant)
    assert decision.outcome == "deny" and decision.risk == "critical"
    ordinary = ToolEvent(tool_name="Bash", tool_input={"command": "cat .env"}, cwd="/srv/app")
    assert engine.evaluate(ordinary).outcome == "allow"  # audit mode still only logs the rest


def test_the_policy_file_in_use_and_the_server_pid_are_protected() -> None:
    state = ProtectedState(policy="/etc/governance/policies.json", server_pid=4242)
    engine = Engine(load_policy(SEED_POLICY), state)
    for tool, tool_input in (
        ("Edit", {"file_path": "/etc/governance/policies.json", "old_string": "a"}),
        ("Bash", {"command": "cp allow-all.json /etc/governance/policies.json"}),
        ("Bash", {"command": "kill -TERM 4242"}),
        ("Bash", {"command": "kill -s KILL 4242"}),
    ):
        decision = engine.evaluate(ToolEvent(tool_name=tool, tool_input=tool_input, cwd="/srv"))
        assert decision.rule and decision.rule.startswith("builtin.self_protection."), tool_input
    other = ToolEvent(tool_name="Bash", tool_input={"command": "kill 4243"}, cwd="/srv")
    assert engine.evaluate(other).outcome == "allow"


def test_governance_policy_test_knows_this_machines_state_from_the_environment() -> None:
    env = dict(
        os.environ,
        GOVERNANCE_DB=SERVICE_STATE.database or "",
        GOVERNANCE_SOCKET=SERVICE_STATE.socket or "",
        GOVERNANCE_SPOOL_DIR=SERVICE_STATE.spool or "",
    )
    result = subprocess.run(
        [GOVERNANCE, "policy", "test", str(SEED_POLICY), str(SELF_PROTECTION)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    cases = len(SELF_PROTECTION.read_text().splitlines())
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip().endswith(f"{cases} passed, 0 failed")
