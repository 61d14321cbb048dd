"""Findings, decisions and how they combine: deny > approve > allow, then the policy's mode.
Pure data and arithmetic: it never parses commands or reads a policy file."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Outcome(StrEnum):
    ALLOW = "allow"
    APPROVE = "approve"
    DENY = "deny"


class Risk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Mode(StrEnum):
    AUDIT = "audit"
    SOFT = "soft"
    ENFORCE = "enforce"


_SEVERITY = {Outcome.ALLOW: 0, Outcome.APPROVE: 1, Outcome.DENY: 2}
RISK_ORDER = {Risk.LOW: 0, Risk.MEDIUM: 1, Risk.HIGH: 2, Risk.CRITICAL: 3}


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule that fired: what it wants, why, and the piece of input that made it fire."""

    rule: str
    outcome: Outcome
    reason: str
    fragment: str
    risk: Risk = Risk.MEDIUM


@dataclass(frozen=True, slots=True)
class Decision:
    """The engine's verdict on one tool call.

    `outcome` is what the hook enforces; `would_be` is what `enforce` mode would have
    done, so audit and soft modes can report what they let through.
    """

    outcome: Outcome
    would_be: Outcome
    mode: Mode
    findings: tuple[Finding, ...]
    commands: tuple[str, ...] = ()
    egress_hosts: tuple[str, ...] = field(default=())
    checks: tuple[str, ...] = ()  # the policy sections that judged the call, for an allow's reason

    @property
    def deciding(self) -> tuple[Finding, ...]:
        """The findings that produced `would_be`, riskiest first (empty for a plain allow)."""
        if self.would_be is Outcome.ALLOW:
            return ()
        chosen = [f for f in self.findings if f.outcome is self.would_be]
        return tuple(sorted(chosen, key=lambda f: -RISK_ORDER[f.risk]))

    @property
    def rule(self) -> str | None:
        deciding = self.deciding
        return deciding[0].rule if deciding else None

    @property
    def risk(self) -> Risk:
        ranked = [f.risk for f in self.deciding] or [Risk.LOW]
        return max(ranked, key=RISK_ORDER.__getitem__)

    @property
    def reason(self) -> str:
        deciding = self.deciding
        if not deciding:
            if not self.checks:
                return "allowed: no policy check applies to this tool"
            return f"allowed: checked {', '.join(self.checks)}; none objected"
        return "; ".join(dict.fromkeys(f.reason for f in deciding))


def most_restrictive(findings: tuple[Finding, ...]) -> Outcome:
    worst = Outcome.ALLOW
    for finding in findings:
        if _SEVERITY[finding.outcome] > _SEVERITY[worst]:
            worst = finding.outcome
    return worst


# Built-in self-protection is enforced in every mode: an audit-mode policy must not let an
# agent rewrite the database or stop the server that would notice.
ALWAYS_ENFORCED = "builtin.self_protection."


def _enforced_in_soft_mode(finding: Finding) -> bool:
    return RISK_ORDER[finding.risk] >= RISK_ORDER[Risk.HIGH]


def decide(
    findings: list[Finding] | tuple[Finding, ...],
    mode: Mode,
    commands: tuple[str, ...] = (),
    egress_hosts: tuple[str, ...] = (),
    checks: tuple[str, ...] = (),
) -> Decision:
    """Combine findings into a decision.

    Duplicate findings (same rule and fragment, e.g. a regex matching both `sudo rm …`
    and the unwrapped `rm …`) are kept once so explanations stay readable.
    """
    unique = tuple({(f.rule, f.outcome, f.fragment): f for f in findings}.values())
    would_be = most_restrictive(unique)
    if mode is Mode.AUDIT:
        outcome = most_restrictive(tuple(f for f in unique if f.rule.startswith(ALWAYS_ENFORCED)))
    elif mode is Mode.SOFT:
        outcome = most_restrictive(tuple(f for f in unique if _enforced_in_soft_mode(f)))
    else:
        outcome = would_be
    return Decision(
        outcome=outcome,
        would_be=would_be,
        mode=mode,
        findings=unique,
        commands=commands,
        egress_hosts=egress_hosts,
        checks=checks,
    )
