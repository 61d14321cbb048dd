"""Break-glass: who may open an emergency window, and what a decision becomes inside one.
Pure: the window's row, its timer and its announcements belong to the store and the server."""

from __future__ import annotations

from dataclasses import dataclass, replace

from engine.decide import ALWAYS_ENFORCED, Decision, Outcome, Risk
from engine.policy import BreakGlass


@dataclass(frozen=True, slots=True)
class Window:
    id: str
    user: str
    reason: str
    opened_at: float
    closes_at: float


def may_open(settings: BreakGlass, names: tuple[str, ...], minutes: float) -> str | None:
    """None when allowed; otherwise why not, for the person asking."""
    if not settings.allowed_users:
        return "break-glass is not enabled: the policy lists no break_glass.allowed_users"
    if not set(names) & set(settings.allowed_users):
        return "you are not in break_glass.allowed_users"
    if not 0 < minutes <= settings.max_minutes:
        return f"a window lasts between 1 and {settings.max_minutes} minutes"
    return None


def override(decision: Decision, settings: BreakGlass) -> Decision | None:
    """The decision inside an open window, or None when the window changes nothing.

    Approvals are skipped, and so are denials, except those of critical risk unless the
    policy's `skip_critical_denies` says otherwise: break-glass is for an incident, not
    for wiping a disk.
    """
    if decision.outcome is Outcome.ALLOW:
        return None
    if any(f.rule.startswith(ALWAYS_ENFORCED) for f in decision.deciding):
        return None  # no window opens the governance layer's own state to an agent
    if (
        decision.outcome is Outcome.DENY
        and decision.risk is Risk.CRITICAL
        and (not settings.skip_critical_denies)
    ):
        return None
    return replace(decision, outcome=Outcome.ALLOW)
