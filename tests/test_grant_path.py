"""The server's grant path in one process: a real server on a real Unix socket and SQLite file,
asked the way the hook asks, approved through the one vote path console and Slack share.

In-process so mutation testing can see which of the server's functions these tests reach;
tests/test_server.py covers the same paths through the real `governance-hook` process."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import ServerConfig
from bot.server import ConsoleNotifier, GovernanceServer, Peer
from bot.slack.notifier import SlackNotifier
from engine.approvals import ApprovalState, Approver, Vote, VoteResult
from engine.events import CallContext, ToolEvent
from tests.conftest import SEED_POLICY
from tests.slack_api_stub import SlackApiStub

LEAD = Approver("lead", "console")
OPS = Approver("ops-oncall", "console")


def _event(command: str) -> dict[str, Any]:
    return {
        "session_id": "sess-1",
        "cwd": "/srv/app",
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": command, "description": "run it"},
    }


async def _ask(socket: Path, command: str, wait_s: float = 0) -> dict[str, Any]:
    reader, writer = await asyncio.open_unix_connection(str(socket))
    request = {"v": 1, "event": _event(command), "context": {"user": "agent-alice"}}
    writer.write(json.dumps(dict(request, wait_s=wait_s)).encode() + b"\n")
    await writer.drain()
    reply = json.loads(await reader.readline())
    writer.close()
    return reply


async def _pending_id(server: GovernanceServer) -> str:
    while not server.store.pending_approvals():
        await asyncio.sleep(0.01)
    (approval,) = server.store.pending_approvals()
    return approval.id


async def _waiting(server: GovernanceServer, approval_id: str, count: int = 1) -> None:
    while len(server.waiters.get(approval_id, ())) < count:
        await asyncio.sleep(0.01)


def _run(
    tmp_path: Path,
    body: Callable[[GovernanceServer, Path], Awaitable[None]],
    policy: Path | None = None,
    console: io.StringIO | None = None,
) -> None:
    async def main() -> None:
        config = ServerConfig(
            socket=tmp_path / "gov.sock",
            db=tmp_path / "gov.db",
            spool=tmp_path / "spool",
            policy=str(policy) if policy else None,
        )
        server = GovernanceServer(config, ConsoleNotifier(console or io.StringIO()))
        await server.start()
        serving = asyncio.create_task(server.serve_forever())
        try:
            await asyncio.wait_for(body(server, config.socket), 20)
        finally:
            serving.cancel()
            await server.close()

    asyncio.run(main())


def _kinds(server: GovernanceServer) -> list[str]:
    return [row["kind"] for row in server.store.audit_rows()]


def test_an_approval_while_waiting_is_spent_by_the_waiting_call(tmp_path: Path) -> None:
    async def body(server: GovernanceServer, socket: Path) -> None:
        asking = asyncio.create_task(_ask(socket, "rm notes.txt", wait_s=30))
        approval_id = await _pending_id(server)
        await _waiting(server, approval_id)
        result = await server.vote(approval_id, LEAD, Vote.APPROVE, "ok")
        assert result.state is ApprovalState.APPROVED
        reply = await asking
        assert (reply["decision"], reply["approval_id"]) == ("approved", approval_id)
        assert reply["reason"] == f"approved in {approval_id}: approved by lead: ok"
        assert _kinds(server).count("grant_used") == 1
        again = await _ask(socket, "rm notes.txt")
        assert again["decision"] == "approval_pending"
        assert again["approval_id"] not in (None, approval_id)

    _run(tmp_path, body)


def test_an_approval_after_the_call_returned_allows_exactly_one_retry(tmp_path: Path) -> None:
    async def body(server: GovernanceServer, socket: Path) -> None:
        first = await _ask(socket, "rm notes.txt")
        assert first["decision"] == "approval_pending"
        approval_id = first["approval_id"]
        assert f"needs approval {approval_id}" in first["reason"]
        await server.vote(approval_id, LEAD, Vote.APPROVE)
        retry = await _ask(socket, "rm notes.txt")
        assert retry == {
            "decision": "approved",
            "reason": f"approved in {approval_id}; this retry used its single-use grant",
            "rule": "approval.grant",
            "approval_id": approval_id,
            "risk": None,
        }
        rows = [r for r in server.store.audit_rows() if r["rule"] == "approval.grant"]
        assert [(r["decision"], r["approval_id"]) for r in rows] == [("allow", approval_id)]
        third = await _ask(socket, "rm notes.txt")
        assert third["decision"] == "approval_pending"
        assert third["approval_id"] != approval_id
        # A different command never rides on someone else's grant.
        await server.vote(third["approval_id"], LEAD, Vote.APPROVE)
        other = await _ask(socket, "rm other.txt")
        assert other["decision"] == "approval_pending"

    _run(tmp_path, body)


def test_two_calls_waiting_on_one_request_share_one_grant(tmp_path: Path) -> None:
    async def body(server: GovernanceServer, socket: Path) -> None:
        one = asyncio.create_task(_ask(socket, "rm notes.txt", wait_s=30))
        approval_id = await _pending_id(server)
        await _waiting(server, approval_id)
        two = asyncio.create_task(_ask(socket, "rm notes.txt", wait_s=30))
        await _waiting(server, approval_id, count=2)
        await server.vote(approval_id, LEAD, Vote.APPROVE)
        replies = sorted([(await one)["decision"], (await two)["decision"]])
        assert replies == ["approval_pending", "approved"]
        loser = next(r for r in (one.result(), two.result()) if r["decision"] != "approved")
        assert loser == {
            "decision": "approval_pending",
            "reason": f"{approval_id} was approved but its single-use grant was already used "
            "by another call; retry to ask again",
            "rule": "file_operations.delete_requires_approval",
            "approval_id": approval_id,
            "risk": None,
        }
        assert approval_id not in server.waiters

    _run(tmp_path, body)


def test_a_denial_reaches_the_waiting_call_and_grants_nothing(tmp_path: Path) -> None:
    async def body(server: GovernanceServer, socket: Path) -> None:
        asking = asyncio.create_task(_ask(socket, "rm notes.txt", wait_s=30))
        approval_id = await _pending_id(server)
        await _waiting(server, approval_id)
        await server.vote(approval_id, LEAD, Vote.DENY, "not today")
        reply = await asking
        assert (reply["decision"], reply["approval_id"]) == ("denied", approval_id)
        assert "not today" in reply["reason"] and "Do not retry" in reply["reason"]
        retry = await _ask(socket, "rm notes.txt")
        assert retry["decision"] == "approval_pending"
        assert retry["approval_id"] != approval_id

    _run(tmp_path, body)


def test_a_call_that_hangs_up_keeps_the_grant_for_its_retry(tmp_path: Path) -> None:
    async def body(server: GovernanceServer, socket: Path) -> None:
        reader, writer = await asyncio.open_unix_connection(str(socket))
        request = {"v": 1, "event": _event("rm notes.txt"), "wait_s": 30}
        writer.write(json.dumps(request).encode() + b"\n")
        await writer.drain()
        approval_id = await _pending_id(server)
        await _waiting(server, approval_id)
        writer.close()  # Esc in Claude Code: the hook goes away mid-wait
        while approval_id in server.waiters:
            await asyncio.sleep(0.01)
        assert "client_gone" in _kinds(server)
        await server.vote(approval_id, LEAD, Vote.APPROVE)
        assert "grant_used" not in _kinds(server)
        retry = await _ask(socket, "rm notes.txt")
        assert (retry["decision"], retry["approval_id"]) == ("approved", approval_id)
        del reader

    _run(tmp_path, body)


def test_a_quorum_of_two_keeps_the_call_waiting_after_one_vote(tmp_path: Path) -> None:
    policy = json.loads(SEED_POLICY.read_text())
    policy["approval_rules"]["medium_risk_actions"]["required_approvers"] = 2
    policy_path = tmp_path / "policy.json"
    policy_path.write_text(json.dumps(policy))

    async def body(server: GovernanceServer, socket: Path) -> None:
        asking = asyncio.create_task(_ask(socket, "rm notes.txt", wait_s=30))
        approval_id = await _pending_id(server)
        await _waiting(server, approval_id)
        first = await server.vote(approval_id, LEAD, Vote.APPROVE)
        assert first.state is ApprovalState.PENDING
        assert [f.done() for f in server.waiters[approval_id]] == [False]
        await server.vote(approval_id, OPS, Vote.APPROVE)
        assert (await asking)["decision"] == "approved"

    _run(tmp_path, body, policy_path)


def _quorum_policy(tmp_path: Path, **rule: object) -> Path:
    policy = json.loads(SEED_POLICY.read_text())
    policy["approval_rules"]["medium_risk_actions"].update(rule)
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(policy))
    return path


def _rows(server: GovernanceServer, kind: str) -> list[dict[str, Any]]:
    return [row for row in server.store.audit_rows() if row["kind"] == kind]


def test_every_step_of_an_approval_is_in_the_audit_trail(tmp_path: Path) -> None:
    console = io.StringIO()

    async def body(server: GovernanceServer, socket: Path) -> None:
        asking = asyncio.create_task(_ask(socket, "rm notes.txt", wait_s=30))
        approval_id = await _pending_id(server)
        await _waiting(server, approval_id)
        await server.vote(approval_id, LEAD, Vote.APPROVE, "go ahead")
        reply = await asking
        assert reply == {
            "decision": "approved",
            "reason": f"approved in {approval_id}: approved by lead: go ahead",
            "rule": "file_operations.delete_requires_approval",
            "approval_id": approval_id,
            "risk": "medium",
        }
        common = {"approval_id": approval_id, "session_id": "sess-1", "tool_name": "Bash"}
        (vote,) = _rows(server, "vote")
        assert {k: vote[k] for k in (*common, "user", "decision", "reason")} == dict(
            common, user="lead", decision="approve", reason="approved (1 of 1)"
        )
        assert json.loads(vote["payload"]) == {
            "via": "console",
            "note": "go ahead",
            "approver_uid": None,
        }
        stored = server.store.db.execute("SELECT approver, vote, note FROM approval_votes")
        assert stored.fetchall() == [("lead", "approve", "go ahead")]
        (approved,) = _rows(server, "approval_approved")
        assert {k: approved[k] for k in (*common, "user", "decision", "reason")} == dict(
            common, user="agent-alice", decision="approved", reason="approved by lead: go ahead"
        )
        (used,) = _rows(server, "grant_used")
        assert {k: used[k] for k in (*common, "user", "decision")} == dict(
            common, user="agent-alice", decision="allow"
        )
        assert server.store.pending_deadlines() == []  # its escalation and expiry are off

    _run(tmp_path, body, console=console)
    assert "approved (1 of 1) (by lead)" in console.getvalue()


def test_refused_votes_say_why_and_are_audited(tmp_path: Path) -> None:
    async def body(server: GovernanceServer, socket: Path) -> None:
        missing = await server.vote("APR-NOPE", LEAD, Vote.APPROVE)
        assert missing == VoteResult(
            False, ApprovalState.CANCELLED, "no approval request APR-NOPE", 0, 0
        )
        first = await _ask(socket, "rm notes.txt")
        approval_id = first["approval_id"]
        mfa = await server.vote(approval_id, LEAD, Vote.APPROVE)
        assert mfa.message == "this request needs an MFA code with the approval"
        first_vote = await server.vote(approval_id, LEAD, Vote.APPROVE, mfa_verified=True)
        assert first_vote.state is ApprovalState.PENDING
        again = await server.vote(approval_id, LEAD, Vote.DENY)
        assert again == VoteResult(
            False, ApprovalState.PENDING,
            "you already voted approve on this request (as lead via console); "
            "one person is one vote", 1, 2,
            duplicate=True,
        )  # fmt: skip
        refused = _rows(server, "vote_refused")
        assert [(r["user"], r["decision"], r["reason"]) for r in refused] == [
            ("lead", "approve", "this request needs an MFA code with the approval"),
            (
                "lead",
                "deny",
                "you already voted approve on this request (as lead via console); "
                "one person is one vote",
            ),
        ]
        done = await server.vote(approval_id, OPS, Vote.APPROVE, mfa_verified=True)
        assert done.state is ApprovalState.APPROVED

    _run(tmp_path, body, _quorum_policy(tmp_path, required_approvers=2, require_mfa=True))


def test_a_wait_that_runs_out_leaves_the_request_pending(tmp_path: Path) -> None:
    async def body(server: GovernanceServer, socket: Path) -> None:
        reply = await _ask(socket, "rm notes.txt", wait_s=0.2)
        assert reply["decision"] == "approval_pending"
        assert reply["reason"].startswith(f"needs approval {reply['approval_id']} ")
        assert "Retry the same command after it is approved" in reply["reason"]
        assert server.waiters == {}
        assert _kinds(server).count("approval_requested") == 1
        # A wait of a second still registers the call as waiting.
        asking = asyncio.create_task(_ask(socket, "rm notes.txt", wait_s=1))
        await _waiting(server, reply["approval_id"])
        await server.vote(reply["approval_id"], LEAD, Vote.APPROVE)
        assert (await asking)["decision"] == "approved"

    _run(tmp_path, body)


def test_an_expiry_reaches_the_waiting_call(tmp_path: Path) -> None:
    async def body(server: GovernanceServer, socket: Path) -> None:
        reply = await _ask(socket, "rm notes.txt", wait_s=60)
        approval_id = reply["approval_id"]
        assert reply == {
            "decision": "expired",
            "reason": f"{approval_id} expired without a decision; retry to ask "
            "again, or ask a human to approve it",
            "rule": "file_operations.delete_requires_approval",
            "approval_id": approval_id,
            "risk": None,
        }

    _run(tmp_path, body, _quorum_policy(tmp_path, timeout_minutes=0.01))


def test_a_denial_reply_names_the_rule_and_risk(tmp_path: Path) -> None:
    async def body(server: GovernanceServer, socket: Path) -> None:
        asking = asyncio.create_task(_ask(socket, "rm notes.txt", wait_s=30))
        approval_id = await _pending_id(server)
        await _waiting(server, approval_id)
        await server.vote(approval_id, LEAD, Vote.DENY)
        reply = await asking
        assert (reply["rule"], reply["risk"]) == (
            "file_operations.delete_requires_approval",
            "medium",
        )
        (denied,) = _rows(server, "approval_denied")
        assert (denied["decision"], denied["reason"], denied["user"]) == (
            "denied",
            "denied by lead",
            "agent-alice",
        )

    _run(tmp_path, body)


def test_a_hung_up_call_is_audited_with_its_request(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def body(server: GovernanceServer, socket: Path) -> None:
        _, writer = await asyncio.open_unix_connection(str(socket))
        request = {"v": 1, "event": _event("rm notes.txt"), "wait_s": 30}
        writer.write(json.dumps(dict(request, context={"user": "agent-alice"})).encode() + b"\n")
        await writer.drain()
        approval_id = await _pending_id(server)
        await _waiting(server, approval_id)
        writer.close()
        while approval_id in server.waiters:
            await asyncio.sleep(0.01)
        (gone,) = _rows(server, "client_gone")
        assert {
            k: gone[k]
            for k in ("approval_id", "decision", "session_id", "tool_name", "user", "reason")
        } == {
            "approval_id": approval_id,
            "decision": "pending",
            "session_id": "sess-1",
            "tool_name": "Bash",
            "user": "agent-alice",
            "reason": "the waiting hook closed its connection; the request stays pending",
        }
        # The operator reading the server's log sees it too.
        logged = [r.getMessage() for r in caplog.records if r.name == "governance.server"]
        assert f"hook waiting on {approval_id} hung up; the request stays pending" in logged

    with caplog.at_level(logging.WARNING, logger="governance.server"):
        _run(tmp_path, body)


def test_a_vote_another_replica_stored_first_is_refused_and_decides_nothing(
    tmp_path: Path,
) -> None:
    async def body(server: GovernanceServer, socket: Path) -> None:
        asking = asyncio.create_task(_ask(socket, "rm notes.txt", wait_s=30))
        approval_id = await _pending_id(server)
        await _waiting(server, approval_id)
        # Two replicas share the database; the other one stores this approver's vote after
        # this one read the votes and before it writes its own. A trigger in the shared
        # database lands that write at exactly that moment.
        server.store.db.execute(
            "CREATE TRIGGER other_replica BEFORE INSERT ON approval_votes "
            "WHEN NEW.via = 'console' BEGIN "
            "INSERT INTO approval_votes (request_id, approver, vote, via, at) "
            "VALUES (NEW.request_id, NEW.approver, 'deny', 'slack', NEW.at); END"
        )
        result = await server.vote(approval_id, LEAD, Vote.APPROVE, "ok")
        assert result == VoteResult(
            False,
            ApprovalState.PENDING,
            "you already voted on this request",
            1,
            1,
            duplicate=True,
        )
        refused = _rows(server, "vote_refused")
        assert [(r["user"], r["decision"], r["reason"]) for r in refused] == [
            ("lead", "approve", "you already voted on this request")
        ]
        assert _rows(server, "vote") == []
        assert server.store.approval(approval_id).state is ApprovalState.PENDING
        assert [f.done() for f in server.waiters[approval_id]] == [False]
        server.store.db.execute("DROP TRIGGER other_replica")
        await server.vote(approval_id, OPS, Vote.APPROVE)
        assert (await asking)["decision"] == "approved"

    _run(tmp_path, body)


def test_a_console_that_cannot_be_written_loses_no_vote(tmp_path: Path) -> None:
    console = io.StringIO()

    async def body(server: GovernanceServer, socket: Path) -> None:
        asking = asyncio.create_task(_ask(socket, "rm notes.txt", wait_s=30))
        approval_id = await _pending_id(server)
        await _waiting(server, approval_id)
        console.close()  # the server's stdout went away (a closed pipe, a detached terminal)
        result = await server.vote(approval_id, LEAD, Vote.APPROVE)
        assert (result.accepted, result.state) == (True, ApprovalState.APPROVED)
        assert (await asking)["decision"] == "approved"
        assert [r["kind"] for r in _rows(server, "approval_approved")] == ["approval_approved"]

    _run(tmp_path, body, console=console)


def test_the_slack_message_shows_the_outcome_once_decided(tmp_path: Path) -> None:
    async def body(server: GovernanceServer, socket: Path) -> None:
        with SlackApiStub() as stub:
            client = AsyncWebClient(token="xoxb-test", base_url=stub.base_url)
            server.notifier = SlackNotifier(server, client)
            first = await _ask(socket, "rm notes.txt")
            approval_id = first["approval_id"]
            while server.store.slack_message(approval_id) is None:
                await asyncio.sleep(0.01)
            channel, ts = server.store.slack_message(approval_id)

            def kinds() -> list[str]:
                return [block["type"] for block in stub.message(channel, ts)["blocks"]]

            assert "actions" in kinds()  # the approve/deny buttons
            await server.vote(approval_id, OPS, Vote.APPROVE, "fine")
            # The decided message drops the buttons and says who decided.
            assert "actions" not in kinds()
            assert "ops-oncall" in json.dumps(stub.message(channel, ts)["blocks"])
            assert stub.problems == []

    _run(tmp_path, body)


def test_a_remote_hosts_call_waits_for_the_approval_without_a_socket(tmp_path: Path) -> None:
    # The HTTPS API for remote hosts (bot/remote.py) asks the same way with no connection for
    # the server to watch; its own request lifetime bounds the wait.
    async def body(server: GovernanceServer, socket: Path) -> None:
        peer = Peer(0, -1, "agent-alice", host="build-1")
        event = ToolEvent.model_validate(_event("rm notes.txt"))
        asking = asyncio.create_task(server.decide(event, CallContext(), peer, 30, None))
        approval_id = await _pending_id(server)
        await _waiting(server, approval_id)
        await server.vote(approval_id, LEAD, Vote.APPROVE)
        reply = await asking
        assert (reply["decision"], reply["approval_id"]) == ("approved", approval_id)
        assert approval_id not in server.waiters

    _run(tmp_path, body)


def test_a_request_only_slack_users_can_decide_is_answered_at_once_without_slack(
    tmp_path: Path,
) -> None:
    policy = json.loads(SEED_POLICY.read_text())
    policy["approver_pools"] = {"team-lead": ["U0LEAD1"]}
    policy_path = tmp_path / "policy.json"
    policy_path.write_text(json.dumps(policy))

    async def body(server: GovernanceServer, socket: Path) -> None:
        # Nobody here can decide it, so the agent is not held for the ten minutes it asked.
        reply = await _ask(socket, "rm notes.txt", wait_s=600)
        assert reply["decision"] == "approval_pending"
        assert "in Slack, which this server does not run" in reply["reason"]
        assert server.waiters == {}

    _run(tmp_path, body, policy_path)


async def _started_with_a_waiting_call(
    tmp_path: Path,
) -> tuple[GovernanceServer, asyncio.Task[dict[str, Any]]]:
    """A started server (built-in policy) and a hook waiting on its approval request."""
    config = ServerConfig(
        socket=tmp_path / "gov.sock", db=tmp_path / "gov.db", spool=tmp_path / "spool", policy=None
    )
    server = GovernanceServer(config, ConsoleNotifier(io.StringIO()))
    await server.start()
    asking = asyncio.create_task(_ask(config.socket, "rm notes.txt", wait_s=30))
    approval_id = await asyncio.wait_for(_pending_id(server), 20)
    await asyncio.wait_for(_waiting(server, approval_id), 20)
    return server, asking


def test_a_call_waiting_when_the_server_stops_is_told_its_request_survives(
    tmp_path: Path,
) -> None:
    async def main() -> dict[str, Any]:
        server, asking = await _started_with_a_waiting_call(tmp_path)
        await server.close()  # what SIGTERM and Ctrl-C do
        return await asyncio.wait_for(asking, 20)

    reply = asyncio.run(main())
    approval_id = reply["approval_id"]
    assert reply == {
        "decision": "approval_pending",
        "reason": f"the governance server is shutting down; {approval_id} stays pending and "
        "survives the restart. Retry the same command after it is approved",
        "rule": "file_operations.delete_requires_approval",
        "approval_id": approval_id,
        "risk": "medium",
    }


def test_a_stop_asked_before_slack_attaches_is_kept_and_the_waiting_call_answered(
    tmp_path: Path,
) -> None:
    # `governance serve` starts the socket, then attaches Slack's notifier: a SIGTERM in
    # between must still stop the server, and a hook already waiting must get its answer.
    async def main() -> dict[str, Any]:
        server, asking = await _started_with_a_waiting_call(tmp_path)
        server.request_stop("SIGTERM")
        server.notifier = ConsoleNotifier(io.StringIO())  # what Slack's attach does
        await asyncio.wait_for(server.serve_forever(), 20)
        await server.close()
        return await asyncio.wait_for(asking, 20)

    reply = asyncio.run(main())
    assert reply["decision"] == "approval_pending"
    assert "the governance server is shutting down" in reply["reason"]


def test_a_call_arriving_once_a_stop_was_asked_is_told_its_request_survives(
    tmp_path: Path,
) -> None:
    async def body(server: GovernanceServer, socket: Path) -> None:
        server.request_stop("SIGTERM")  # the signal came; close() has not run yet
        peer = Peer(0, -1, "agent-alice", host="build-1")  # a remote host's call, still served
        event = ToolEvent.model_validate(_event("rm notes.txt"))
        reply = await server.decide(event, CallContext(), peer, 30, None)
        approval_id = reply["approval_id"]
        assert reply == {
            "decision": "approval_pending",
            "reason": f"the governance server is shutting down; {approval_id} stays pending and "
            "survives the restart. Retry the same command after it is approved",
            "rule": "file_operations.delete_requires_approval",
            "approval_id": approval_id,
            "risk": "medium",
        }
        assert [a.id for a in server.store.pending_approvals()] == [approval_id]

    _run(tmp_path, body)
