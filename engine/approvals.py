"""The approval state machine: which rule a request gets, who may vote, when quorum is reached.
Pure: no clock, no store, no Slack. Callers pass `now` and the votes already recorded."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from engine.decide import RISK_ORDER, Risk
from engine.policy import EscalationLevel, Policy


class ApprovalState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class Vote(StrEnum):
    APPROVE = "approve"
    DENY = "deny"


class RuleSnapshot(BaseModel):
    """The approval rule as it was when the request was made; later policy edits don't touch it."""

    model_config = ConfigDict(frozen=True)

    name: str
    threshold: Risk
    roles: tuple[str, ...]
    # Resolved pool: Slack user/group ids from approver_pools; an unmapped role is open to
    # any local (console) approver, which the kernel authenticated.
    members: tuple[str, ...]
    open_to_console: bool
    required_approvers: int
    require_mfa: bool
    timeout_minutes: float
    escalation: tuple[EscalationLevel, ...] = ()
    channel: str = "#governance-approvals"


@dataclass(frozen=True, slots=True)
class Approver:
    """Who is clicking: `identity` is an OS user (console) or a Slack user id.

    `uid` is the kernel's word for a console approver (SO_PEERCRED); None for a Slack user.
    `aliases` are the same human's other names (the OS users `slack.user_map` ties to a Slack
    id, or the Slack id and email it ties to an OS user): one human is one vote.
    """

    identity: str
    via: str  # "console" or "slack"
    aliases: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()  # Slack user groups the person belongs to
    uid: int | None = None

    @property
    def names(self) -> frozenset[str]:
        # Slack ids, emails and user names compare without case: stricter, never looser.
        return frozenset(name.lower() for name in (self.identity, *self.aliases) if name)


@dataclass(frozen=True, slots=True)
class Requester:
    """Whose agent asked: the kernel's uid of the hook, plus every name that stands for that
    human (the uid's OS user, the label the hook reported, their Slack id and email)."""

    uid: int | None
    names: frozenset[str]


@dataclass(frozen=True, slots=True)
class VoteRecord:
    approver: str
    vote: Vote
    via: str
    names: tuple[str, ...] = ()  # every name of the human who cast it
    uid: int | None = None


@dataclass(frozen=True, slots=True)
class VoteResult:
    """What a vote did. `accepted` is False for refusals, which carry a reason for the clicker."""

    accepted: bool
    state: ApprovalState
    message: str
    approvals: int
    required: int
    duplicate: bool = False


_DEFAULT_RULE = RuleSnapshot(
    name="default",
    threshold=Risk.LOW,
    roles=(),
    members=(),
    open_to_console=True,
    required_approvers=1,
    require_mfa=False,
    timeout_minutes=60,
)


def choose_rule(policy: Policy, risk: Risk) -> RuleSnapshot:
    """The rule with the highest threshold at or below `risk`; else the lowest rule there is."""
    rules = sorted(policy.approval_rules.items(), key=lambda item: RISK_ORDER[item[1].threshold])
    if not rules:
        return _DEFAULT_RULE
    eligible = [item for item in rules if RISK_ORDER[item[1].threshold] <= RISK_ORDER[risk]]
    name, rule = eligible[-1] if eligible else rules[0]
    members: list[str] = []
    open_to_console = False
    for role in rule.approvers:
        mapped = policy.approver_pools.get(role)
        if mapped:
            members.extend(mapped)
        else:
            open_to_console = True
    return RuleSnapshot(
        name=name,
        threshold=rule.threshold,
        roles=tuple(rule.approvers),
        members=tuple(dict.fromkeys(members)),
        open_to_console=open_to_console,
        required_approvers=rule.required_approvers,
        require_mfa=rule.require_mfa,
        timeout_minutes=rule.timeout_minutes,
        escalation=tuple(rule.escalation),
        channel=rule.channel or policy.slack.approval_channel,
    )


def escalation_timers(rule: RuleSnapshot, created_at: float) -> list[tuple[str, int, float]]:
    """(kind, level, due_at) for each escalation level, then the expiry.

    Each level's `after_minutes` counts from the previous level (or the request); the request
    expires `timeout_minutes` after the last level was notified.
    """
    timers: list[tuple[str, int, float]] = []
    due = created_at
    for level, step in enumerate(rule.escalation):
        due += step.after_minutes * 60
        timers.append(("escalate", level, due))
    timers.append(("expire", len(rule.escalation), due + rule.timeout_minutes * 60))
    return timers


def new_approval_id() -> str:
    alphabet = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L: read aloud over a call
    return "APR-" + "".join(secrets.choice(alphabet) for _ in range(6))


_COSMETIC_INPUT_KEYS = frozenset({"description", "timeout", "run_in_background"})


def action_key(session_id: str, tool_name: str, tool_input: dict[str, Any], cwd: str | None) -> str:
    """Identity of "the same action": a retry with another description is still the same."""
    canonical = {k: v for k, v in tool_input.items() if k not in _COSMETIC_INPUT_KEYS}
    text = json.dumps(
        [session_id, tool_name, canonical, cwd or ""],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def in_pool(rule: RuleSnapshot, approver: Approver) -> bool:
    names = {approver.identity, *approver.aliases, *approver.groups}
    if names & set(rule.members):
        return True
    return approver.via == "console" and rule.open_to_console


def _same_human(previous: VoteRecord, approver: Approver, people: frozenset[str]) -> bool:
    earlier = {name.lower() for name in (previous.approver, *previous.names)}
    if people & earlier:
        return True
    return approver.uid is not None and previous.uid == approver.uid


def cast_vote(
    *,
    state: ApprovalState,
    rule: RuleSnapshot,
    requester: Requester,
    votes: tuple[VoteRecord, ...],
    approver: Approver,
    vote: Vote,
    mfa_verified: bool = False,
) -> VoteResult:
    """Judge one vote against the request's frozen rule and the votes already counted."""
    approvals = sum(1 for v in votes if v.vote is Vote.APPROVE)
    required = rule.required_approvers

    def refuse(message: str, duplicate: bool = False) -> VoteResult:
        return VoteResult(False, state, message, approvals, required, duplicate)

    if state is not ApprovalState.PENDING:
        return refuse(f"this request is already {state}")
    people = approver.names
    previous = next((v for v in votes if _same_human(v, approver, people)), None)
    if previous is not None:
        return refuse(
            f"you already voted {previous.vote} on this request (as {previous.approver} via "
            f"{previous.via}); one person is one vote",
            duplicate=True,
        )
    same_uid = approver.uid is not None and approver.uid == requester.uid
    if same_uid or people & {name.lower() for name in requester.names}:
        return refuse(
            "your own agent made this request (same uid or the same person); someone else "
            "has to decide it (separation of duties)"
        )
    if not in_pool(rule, approver):
        pool = ", ".join(rule.roles) or "the approver pool"
        return refuse(f"you are not in the approver pool for this request ({pool})")
    if vote is Vote.APPROVE and rule.require_mfa and not mfa_verified:
        return refuse("this request needs an MFA code with the approval")
    if vote is Vote.DENY:
        return VoteResult(
            True, ApprovalState.DENIED, "denied: one deny vetoes the request", approvals, required
        )
    approvals += 1
    if approvals >= required:
        return VoteResult(
            True,
            ApprovalState.APPROVED,
            f"approved ({approvals} of {required})",
            approvals,
            required,
        )
    return VoteResult(
        True, ApprovalState.PENDING, f"{approvals} of {required} approvals", approvals, required
    )
