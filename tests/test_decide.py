"""Combining findings: deny > approve > allow, every firing rule kept, and the rollout modes."""

from __future__ import annotations

import json
from pathlib import Path

from engine.decide import Finding, Mode, Outcome, Risk, decide
from engine.evaluate import Engine
from engine.events import ToolEvent
from engine.policy import load_policy
from tests.conftest import SEED_POLICY

DENY = Finding("a.deny", Outcome.DENY, "blocked", "x", Risk.MEDIUM)
APPROVE_HIGH = Finding("a.approve", Outcome.APPROVE, "needs approval", "y", Risk.HIGH)
ALLOW = Finding("a.allow", Outcome.ALLOW, "fine", "z", Risk.LOW)


def test_most_restrictive_wins_and_every_rule_is_kept() -> None:
    decision = decide([ALLOW, APPROVE_HIGH, DENY], Mode.ENFORCE)
    assert decision.outcome is Outcome.DENY
    assert decision.rule == "a.deny"
    assert {f.rule for f in decision.findings} == {"a.deny", "a.approve", "a.allow"}


def test_approve_beats_allow() -> None:
    decision = decide([ALLOW, APPROVE_HIGH], Mode.ENFORCE)
    assert decision.outcome is Outcome.APPROVE
    assert decision.risk is Risk.HIGH


def test_no_findings_is_allow_with_a_reason() -> None:
    decision = decide([], Mode.ENFORCE)
    assert decision.outcome is Outcome.ALLOW
    assert decision.reason == "allowed: no policy check applies to this tool"


def test_an_allow_names_the_checks_that_ran() -> None:
    decision = decide([], Mode.ENFORCE, checks=("path rules",))
    assert decision.reason == "allowed: checked path rules; none objected"


def test_the_decision_carries_its_mode_commands_and_hosts() -> None:
    # These are what the audit row records next to the outcome.
    decision = decide([ALLOW], Mode.SOFT, commands=("curl x.io",), egress_hosts=("x.io",))
    assert (decision.mode, decision.commands, decision.egress_hosts) == (
        Mode.SOFT,
        ("curl x.io",),
        ("x.io",),
    )


def test_duplicate_findings_are_reported_once() -> None:
    assert len(decide([DENY, DENY], Mode.ENFORCE).findings) == 1


def test_audit_mode_allows_but_records_what_would_happen() -> None:
    decision = decide([DENY], Mode.AUDIT)
    assert decision.outcome is Outcome.ALLOW
    assert decision.would_be is Outcome.DENY
    assert decision.rule == "a.deny"


def test_soft_mode_enforces_only_high_and_critical_risk() -> None:
    assert decide([DENY], Mode.SOFT).outcome is Outcome.ALLOW  # medium risk
    assert decide([DENY, APPROVE_HIGH], Mode.SOFT).outcome is Outcome.APPROVE


def _engine_with_mode(tmp_path: Path, mode: str) -> Engine:
    document = json.loads(SEED_POLICY.read_text())
    document["mode"] = mode
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(document))
    return Engine(load_policy(path))


def _bash(command: str) -> ToolEvent:
    return ToolEvent(tool_name="Bash", tool_input={"command": command}, cwd="/srv/app")


def test_modes_end_to_end(tmp_path: Path) -> None:
    audit = _engine_with_mode(tmp_path, "audit").evaluate(_bash("rm -rf /"))
    assert (audit.outcome, audit.would_be) == (Outcome.ALLOW, Outcome.DENY)
    soft = _engine_with_mode(tmp_path, "soft")
    assert soft.evaluate(_bash("rm -rf /")).outcome is Outcome.DENY  # critical
    assert soft.evaluate(_bash("rm notes.txt")).outcome is Outcome.ALLOW  # medium delete
    assert soft.evaluate(_bash("rm notes.txt")).would_be is Outcome.APPROVE


def test_risk_overrides_retune_a_rule(tmp_path: Path) -> None:
    document = json.loads(SEED_POLICY.read_text())
    document["mode"] = "soft"
    document["risk_overrides"] = {"file_operations.delete_requires_approval": "high"}
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(document))
    decision = Engine(load_policy(path)).evaluate(_bash("rm notes.txt"))
    assert decision.outcome is Outcome.APPROVE
    assert decision.risk is Risk.HIGH
