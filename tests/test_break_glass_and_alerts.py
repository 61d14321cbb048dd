"""Break-glass windows and the de-duplicated risk alert, through the real server and hook."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from engine.breakglass import override
from engine.decide import Finding, Mode, Outcome, Risk, decide
from engine.policy import BreakGlass
from tests.conftest import SEED_POLICY
from tests.harness import Server, decision_of, pre_tool_use


def _finding(outcome: Outcome, risk: Risk) -> Finding:
    return Finding("r", outcome, "why", "x", risk)


def test_override_skips_approvals_and_denies_but_not_critical_ones() -> None:
    settings = BreakGlass(allowed_users=["alice"])
    approve = decide([_finding(Outcome.APPROVE, Risk.HIGH)], Mode.ENFORCE)
    high_deny = decide([_finding(Outcome.DENY, Risk.HIGH)], Mode.ENFORCE)
    critical = decide([_finding(Outcome.DENY, Risk.CRITICAL)], Mode.ENFORCE)
    assert override(approve, settings).outcome is Outcome.ALLOW
    assert override(high_deny, settings).outcome is Outcome.ALLOW
    assert override(critical, settings) is None
    permissive = BreakGlass(allowed_users=["alice"], skip_critical_denies=True)
    assert override(critical, permissive).outcome is Outcome.ALLOW


def _server(tmp_path: Path, allowed: list[str]) -> Server:
    document = json.loads(SEED_POLICY.read_text())
    document["break_glass"] = {"allowed_users": allowed, "max_minutes": 30}
    policy = tmp_path / "policies.json"
    policy.write_text(json.dumps(document))
    return Server(tmp_path, policy=policy)


def test_break_glass_window_overrides_and_is_audited(tmp_path: Path) -> None:
    import getpass

    me = getpass.getuser()
    server = _server(tmp_path, [me]).start()
    try:
        refused = server.cli("break-glass", "--reason", "x", "--minutes", "90")
        assert refused.returncode == 1 and "between 1 and 30 minutes" in refused.stdout
        opened = server.cli("break-glass", "--reason", "prod outage INC-42", "--minutes", "0.05")
        assert opened.returncode == 0, opened.stdout + opened.stderr
        # The opener's own agents (requester = this OS user) skip approvals…
        decision, reason = decision_of(
            server.hook(pre_tool_use("rm notes.txt"), GOVERNANCE_USER=me)
        )
        assert decision == "allow" and "break-glass" in reason
        # …but not the critical denies.
        assert decision_of(server.hook(pre_tool_use("rm -rf /"), GOVERNANCE_USER=me))[0] == "deny"
        # Someone else's agent is not covered.
        assert decision_of(server.hook(pre_tool_use("rm notes.txt"), wait_s=0.3))[0] == "deny"
        server.wait_for_audit("break_glass_closed")
        kinds = [r["kind"] for r in server.audit()]
        assert "break_glass_opened" in kinds and "override" in kinds
        assert "break_glass_closed" in kinds
        after = decision_of(
            server.hook(pre_tool_use("rm other.txt"), wait_s=0.3, GOVERNANCE_USER=me)
        )
        assert after[0] == "deny" and "needs approval" in after[1]
        assert "ALERT: Break-glass" in server.log.read_text()
        report = json.loads(server.cli("report", "--format", "json").stdout)
        assert report["break_glass_uses"] == 1 and report["overrides"] == 1
    finally:
        server.kill(signal.SIGTERM)


def test_users_not_allowed_cannot_open_a_window(tmp_path: Path) -> None:
    server = _server(tmp_path, ["someone-else"]).start()
    try:
        result = server.cli("break-glass", "--reason", "x", "--minutes", "5")
        assert result.returncode == 1 and "not in break_glass.allowed_users" in result.stdout
        assert any(r["kind"] == "break_glass_refused" for r in server.audit())
    finally:
        server.kill(signal.SIGTERM)


def test_risk_alert_is_posted_once_per_episode(tmp_path: Path) -> None:
    server = Server(tmp_path, policy=None, serve_env={"GOVERNANCE_RISK_SUMMARY_S": "0.3"})
    server.start()
    try:
        for index in range(12):  # a burst of blocks (not critical: no per-block alert)
            server.hook(pre_tool_use(f"cat secrets-{index}.pem"))
        (alert,) = server.wait_for_audit("alert")
        assert alert["decision"] == "HIGH"
        for index in range(5):
            server.hook(pre_tool_use(f"cat more-{index}.pem"))
        # A restart is a barrier: the new server's first risk check runs before it answers a
        # ping, so a second alert for this episode would be in the trail once start() returns.
        server.kill(signal.SIGTERM)
        server.start()
        assert [r["decision"] for r in server.audit() if r["kind"] == "alert"] == ["HIGH"]
        assert server.log.read_text().count("ALERT: Risk HIGH") == 1
    finally:
        server.kill(signal.SIGTERM)
