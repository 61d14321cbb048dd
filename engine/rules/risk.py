"""The policy's risk_overrides: a rule's (or a rule prefix's) risk set by the policy, except
for self-protection, which stays critical. Changes risks only, never an outcome."""

from __future__ import annotations

from engine.decide import Finding, Risk
from engine.self_protection import RULE_PREFIX


def with_risk(findings: list[Finding], overrides: dict[str, Risk]) -> list[Finding]:
    if not overrides:
        return findings
    adjusted = []
    for finding in findings:
        if finding.rule.startswith(RULE_PREFIX):  # always critical, whatever the policy
            adjusted.append(finding)
            continue
        risk = overrides.get(finding.rule)
        if risk is None:
            for prefix, level in overrides.items():
                if prefix.endswith((".", "[")) and finding.rule.startswith(prefix):
                    risk = level
        adjusted.append(
            Finding(finding.rule, finding.outcome, finding.reason, finding.fragment, risk)
            if risk
            else finding
        )
    return adjusted
