"""The approval state machine, directly: rule choice, pool, separation of duties, quorum, veto."""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath

import pytest

from engine.approvals import (
    ApprovalState,
    Approver,
    Requester,
    RuleSnapshot,
    Vote,
    VoteRecord,
    VoteResult,
    action_key,
    cast_vote,
    choose_rule,
    escalation_timers,
    new_approval_id,
)
from engine.decide import Risk
from engine.policy import EscalationLevel, load_policy
from tests.conftest import SEED_POLICY

SEED = load_policy(SEED_POLICY)
CONSOLE_BOB = Approver("bob", "console", uid=1002)
# Alice's agent: the kernel says uid 1001; she is `alice` on this machine and U_ALICE on Slack.
ALICE = Requester(1001, frozenset({"alice", "U_ALICE"}))


def _policy(tmp_path: Path, **changes: object) -> object:
    document = json.loads(SEED_POLICY.read_text())
    document.update(changes)
    path = tmp_path / "p.json"
    path.write_text(json.dumps(document))
    return load_policy(path)


def test_rule_choice_by_risk() -> None:
    assert choose_rule(SEED, Risk.HIGH).name == "high_risk_actions"
    assert choose_rule(SEED, Risk.CRITICAL).name == "high_risk_actions"
    assert choose_rule(SEED, Risk.MEDIUM).name == "medium_risk_actions"
    assert choose_rule(SEED, Risk.LOW).name == "medium_risk_actions"  # nearest there is


def test_unmapped_roles_are_open_to_console_approvers_only() -> None:
    rule = choose_rule(SEED, Risk.MEDIUM)
    assert rule.open_to_console and rule.members == ()
    slack_user = Approver("U0123", "slack")
    result = cast_vote(
        state=ApprovalState.PENDING,
        rule=rule,
        requester=ALICE,
        votes=(),
        approver=slack_user,
        vote=Vote.APPROVE,
    )
    assert not result.accepted and "not in the approver pool" in result.message


def test_pool_members_by_user_or_group(tmp_path: Path) -> None:
    policy = _policy(tmp_path, approver_pools={"team-lead": ["U1", "S_LEADS"]})
    rule = choose_rule(policy, Risk.MEDIUM)
    by_id = Approver("U1", "slack")
    by_group = Approver("U9", "slack", groups=("S_LEADS",))
    outsider = Approver("U7", "slack")
    for approver, accepted in ((by_id, True), (by_group, True), (outsider, False)):
        result = cast_vote(
            state=ApprovalState.PENDING,
            rule=rule,
            requester=ALICE,
            votes=(),
            approver=approver,
            vote=Vote.APPROVE,
        )
        assert result.accepted is accepted


def test_requester_cannot_approve_even_under_another_name() -> None:
    rule = choose_rule(SEED, Risk.MEDIUM)
    sneaky = Approver("U555", "console", aliases=("alice",))
    result = cast_vote(
        state=ApprovalState.PENDING,
        rule=rule,
        requester=ALICE,
        votes=(),
        approver=sneaky,
        vote=Vote.APPROVE,
    )
    assert not result.accepted and "separation of duties" in result.message


def test_the_requesters_uid_cannot_approve_whatever_name_it_uses() -> None:
    rule = choose_rule(SEED, Risk.MEDIUM)
    # The agent claimed to be `bob`; the kernel says uid 1001 approves: refused.
    claimed = Requester(1001, frozenset({"bob"}))
    same_uid = Approver("alice", "console", uid=1001)
    result = cast_vote(
        state=ApprovalState.PENDING,
        rule=rule,
        requester=claimed,
        votes=(),
        approver=same_uid,
        vote=Vote.APPROVE,
    )
    assert not result.accepted and "separation of duties" in result.message
    other_uid = Approver("carol", "console", uid=1003)
    accepted = cast_vote(
        state=ApprovalState.PENDING,
        rule=rule,
        requester=claimed,
        votes=(),
        approver=other_uid,
        vote=Vote.APPROVE,
    )
    assert accepted.state is ApprovalState.APPROVED


def test_two_console_users_with_their_own_uids_are_two_votes() -> None:
    rule = choose_rule(SEED, Risk.MEDIUM).model_copy(update={"required_approvers": 2})
    votes = (VoteRecord("carol", Vote.APPROVE, "console", names=("carol",), uid=1003),)
    result = cast_vote(
        state=ApprovalState.PENDING,
        rule=rule,
        requester=ALICE,
        votes=votes,
        approver=CONSOLE_BOB,
        vote=Vote.APPROVE,
    )
    assert (result.accepted, result.state, result.message) == (
        True,
        ApprovalState.APPROVED,
        "approved (2 of 2)",
    )


def test_the_requesters_slack_identity_cannot_approve() -> None:
    rule = choose_rule(_policy_with_slack_pool(), Risk.MEDIUM)
    alice_on_slack = Approver("U_ALICE", "slack", aliases=("alice",))
    result = cast_vote(
        state=ApprovalState.PENDING,
        rule=rule,
        requester=ALICE,
        votes=(),
        approver=alice_on_slack,
        vote=Vote.APPROVE,
    )
    assert not result.accepted and "separation of duties" in result.message


def test_one_human_is_one_vote_across_console_and_slack() -> None:
    rule = choose_rule(_policy_with_slack_pool(), Risk.MEDIUM).model_copy(
        update={"required_approvers": 2, "open_to_console": True}
    )
    # Bob voted from the console (OS user bob, whom user_map ties to U_BOB)...
    votes = (VoteRecord("bob", Vote.APPROVE, "console", names=("bob", "U_BOB"), uid=1002),)
    # ...and clicks Approve in Slack as U_BOB: the same human, not a second approver.
    bob_on_slack = Approver("U_BOB", "slack", aliases=("bob",))
    result = cast_vote(
        state=ApprovalState.PENDING,
        rule=rule,
        requester=ALICE,
        votes=votes,
        approver=bob_on_slack,
        vote=Vote.APPROVE,
    )
    assert not result.accepted and result.duplicate and "one person is one vote" in result.message


def _policy_with_slack_pool() -> object:
    return SEED.model_copy(update={"approver_pools": {"team-lead": ["U_ALICE", "U_BOB"]}})


def test_quorum_counts_distinct_approvers_and_a_deny_vetoes(tmp_path: Path) -> None:
    document_rules = json.loads(SEED_POLICY.read_text())["approval_rules"]
    document_rules["medium_risk_actions"]["requiredApprovers"] = 2
    rule = choose_rule(_policy(tmp_path, approval_rules=document_rules), Risk.MEDIUM)
    first = cast_vote(
        state=ApprovalState.PENDING,
        rule=rule,
        requester=ALICE,
        votes=(),
        approver=CONSOLE_BOB,
        vote=Vote.APPROVE,
    )
    assert first.state is ApprovalState.PENDING and first.message == "1 of 2 approvals"
    votes = (VoteRecord("bob", Vote.APPROVE, "console"),)
    again = cast_vote(
        state=ApprovalState.PENDING,
        rule=rule,
        requester=ALICE,
        votes=votes,
        approver=CONSOLE_BOB,
        vote=Vote.APPROVE,
    )
    assert not again.accepted and again.duplicate
    carol = Approver("carol", "console")
    done = cast_vote(
        state=ApprovalState.PENDING,
        rule=rule,
        requester=ALICE,
        votes=votes,
        approver=carol,
        vote=Vote.APPROVE,
    )
    assert done.state is ApprovalState.APPROVED
    veto = cast_vote(
        state=ApprovalState.PENDING,
        rule=rule,
        requester=ALICE,
        votes=votes,
        approver=carol,
        vote=Vote.DENY,
    )
    assert veto.state is ApprovalState.DENIED


def test_mfa_rule_needs_a_verified_code() -> None:
    rule = choose_rule(SEED, Risk.HIGH)
    without = cast_vote(
        state=ApprovalState.PENDING,
        rule=rule,
        requester=ALICE,
        votes=(),
        approver=CONSOLE_BOB,
        vote=Vote.APPROVE,
    )
    assert not without.accepted and "MFA" in without.message
    verified = cast_vote(
        state=ApprovalState.PENDING,
        rule=rule,
        requester=ALICE,
        votes=(),
        approver=CONSOLE_BOB,
        vote=Vote.APPROVE,
        mfa_verified=True,
    )
    assert verified.state is ApprovalState.APPROVED


def test_final_requests_take_no_more_votes() -> None:
    rule = choose_rule(SEED, Risk.MEDIUM)
    result = cast_vote(
        state=ApprovalState.EXPIRED,
        rule=rule,
        requester=ALICE,
        votes=(),
        approver=CONSOLE_BOB,
        vote=Vote.APPROVE,
    )
    assert not result.accepted and "already expired" in result.message


def test_action_key_ignores_the_description_but_not_the_command() -> None:
    a = action_key("s", "Bash", {"command": "rm x", "description": "one"}, "/srv")
    b = action_key("s", "Bash", {"command": "rm x", "description": "two"}, "/srv")
    c = action_key("s", "Bash", {"command": "rm y"}, "/srv")
    d = action_key("other-session", "Bash", {"command": "rm x"}, "/srv")
    assert a == b and a != c and a != d


def test_action_key_is_stable_across_releases() -> None:
    # Grants are stored by this key: a grant made before an upgrade must match the retry after.
    tool_input = {"timeout": 5, "command": "rm café \udcff", "where": PurePosixPath("/srv")}
    expected = "b71f8e2030bc8183b9d1a17ffe6207936133273736f0770589388d63239d92cb"
    assert action_key("sess-1", "Bash", tool_input, None) == expected
    assert action_key("sess-1", "Bash", dict(reversed(tool_input.items())), "") == expected


_QUORUM_OF_TWO = choose_rule(SEED, Risk.MEDIUM).model_copy(
    update={"required_approvers": 2, "roles": ("team-lead", "ops")}
)
_SLACK_ONLY = _QUORUM_OF_TWO.model_copy(
    update={"members": ("UONLY",), "open_to_console": False, "roles": ()}
)
_BOB_APPROVED = (VoteRecord("bob", Vote.APPROVE, "console"),)
CAROL = Approver("carol", "console")


@pytest.mark.parametrize(
    ("state", "rule", "votes", "approver", "vote", "expected"),
    [
        (
            ApprovalState.EXPIRED, _QUORUM_OF_TWO, (), CAROL, Vote.APPROVE,
            VoteResult(False, ApprovalState.EXPIRED, "this request is already expired", 0, 2),
        ),
        (
            ApprovalState.PENDING, _QUORUM_OF_TWO, _BOB_APPROVED, CONSOLE_BOB, Vote.DENY,
            VoteResult(
                False, ApprovalState.PENDING,
                "you already voted approve on this request (as bob via console); "
                "one person is one vote",
                1, 2, duplicate=True,
            ),
        ),
        (
            ApprovalState.PENDING, _QUORUM_OF_TWO, (), Approver("alice", "console"), Vote.APPROVE,
            VoteResult(
                False, ApprovalState.PENDING,
                "your own agent made this request (same uid or the same person); "
                "someone else has to decide it (separation of duties)",
                0, 2,
            ),
        ),
        (
            ApprovalState.PENDING, _QUORUM_OF_TWO.model_copy(update={"open_to_console": False}),
            (), CAROL, Vote.APPROVE,
            VoteResult(
                False, ApprovalState.PENDING,
                "you are not in the approver pool for this request (team-lead, ops)", 0, 2,
            ),
        ),
        (
            ApprovalState.PENDING, _SLACK_ONLY, (), CAROL, Vote.APPROVE,
            VoteResult(
                False, ApprovalState.PENDING,
                "you are not in the approver pool for this request (the approver pool)", 0, 2,
            ),
        ),
        (
            ApprovalState.PENDING, _QUORUM_OF_TWO.model_copy(update={"require_mfa": True}),
            (), CAROL, Vote.APPROVE,
            VoteResult(
                False, ApprovalState.PENDING, "this request needs an MFA code with the approval",
                0, 2,
            ),
        ),
        (
            ApprovalState.PENDING, _QUORUM_OF_TWO, _BOB_APPROVED, CAROL, Vote.DENY,
            VoteResult(True, ApprovalState.DENIED, "denied: one deny vetoes the request", 1, 2),
        ),
        (
            ApprovalState.PENDING, _QUORUM_OF_TWO, (), CAROL, Vote.APPROVE,
            VoteResult(True, ApprovalState.PENDING, "1 of 2 approvals", 1, 2),
        ),
        (
            ApprovalState.PENDING, _QUORUM_OF_TWO, _BOB_APPROVED, CAROL, Vote.APPROVE,
            VoteResult(True, ApprovalState.APPROVED, "approved (2 of 2)", 2, 2),
        ),
    ],
    ids=[
        "final", "duplicate", "requester", "outside-roles", "outside-pool", "mfa", "veto",
        "first-of-two", "quorum",
    ],
)  # fmt: skip
def test_every_vote_outcome_says_exactly_what_happened(
    state: ApprovalState,
    rule: RuleSnapshot,
    votes: tuple[VoteRecord, ...],
    approver: Approver,
    vote: Vote,
    expected: VoteResult,
) -> None:
    result = cast_vote(
        state=state,
        rule=rule,
        requester=ALICE,
        votes=votes,
        approver=approver,
        vote=vote,
    )
    assert result == expected


def test_the_rule_snapshot_keeps_escalation_channel_and_console_access(tmp_path: Path) -> None:
    rules = json.loads(SEED_POLICY.read_text())["approval_rules"]
    rules["medium_risk_actions"]["escalation"] = [{"after_minutes": 5, "notify": ["UONCALL"]}]
    rules["medium_risk_actions"]["channel"] = "#db-approvals"
    pools = {"team-lead": ["ULEAD"]}
    snapshot = choose_rule(
        _policy(tmp_path, approval_rules=rules, approver_pools=pools), Risk.MEDIUM
    )
    assert [step.notify for step in snapshot.escalation] == [["UONCALL"]]
    assert snapshot.channel == "#db-approvals"
    assert snapshot.members == ("ULEAD",) and snapshot.open_to_console is False
    assert choose_rule(SEED, Risk.MEDIUM).channel == SEED.slack.approval_channel


def test_escalation_levels_count_from_the_previous_one_and_expiry_from_the_last() -> None:
    rule = choose_rule(SEED, Risk.MEDIUM).model_copy(
        update={
            "escalation": (
                EscalationLevel(after_minutes=2, notify=["U1"]),
                EscalationLevel(after_minutes=3, notify=["U2"]),
            ),
            "timeout_minutes": 10,
        }
    )
    assert escalation_timers(rule, 1000.0) == [
        ("escalate", 0, 1120.0),
        ("escalate", 1, 1300.0),
        ("expire", 2, 1900.0),
    ]


def test_approval_ids_are_short_and_easy_to_read_aloud() -> None:
    ids = {new_approval_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"APR-[2-9A-HJKMNP-TV-Z]{6}", i) for i in ids)
    assert set("".join(i[4:] for i in ids)) <= set("23456789ABCDEFGHJKMNPQRSTVWXYZ")


def test_a_database_from_before_uids_gains_the_identity_columns(tmp_path: Path) -> None:
    import sqlite3

    from engine.store import Store

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:
        old.execute(
            "CREATE TABLE approval_votes (request_id TEXT NOT NULL, approver TEXT NOT NULL, "
            "vote TEXT NOT NULL, via TEXT NOT NULL, at REAL NOT NULL, note TEXT, "
            "PRIMARY KEY (request_id, approver))"
        )
        old.execute(
            "INSERT INTO approval_votes VALUES ('APR-1', 'bob', 'approve', 'console', 0, '')"
        )
    store = Store(path)
    try:
        assert "approver_uid" in store.db["approval_votes"].columns_dict
        assert "requester_uid" in store.db["approval_requests"].columns_dict
        (vote,) = store.votes("APR-1")
        assert vote.approver == "bob" and vote.names == ("bob",) and vote.uid is None
    finally:
        store.close()
