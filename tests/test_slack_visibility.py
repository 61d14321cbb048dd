"""Who may see what in Slack: approvers and the policy's auditors read pending requests, reports
and others' audits and flag false positives; everyone else is refused, only to them, and the
refusal is audited. The real Bolt app over real HTTP with signed requests, as in test_slack."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.slack import alerts
from tests import test_slack as world
from tests.harness import Server, decision_of, free_port, pre_tool_use
from tests.slack_api_stub import SlackApiStub

AUDITOR = "UAUDITOR"
GROUPIE = "UGROUPIE"  # an auditor through the user group SAUDITORS
AUDITOR_GROUP = "SAUDITORS"
stub = world.stub


@pytest.fixture
def slack(tmp_path: Path, stub: SlackApiStub) -> Iterator[world.Slack]:
    policy = world.write_policy(tmp_path / "policies.json")
    document = json.loads(policy.read_text())
    document["slack"]["auditors"] = [AUDITOR, AUDITOR_GROUP]
    policy.write_text(json.dumps(document))
    stub.usergroups[AUDITOR_GROUP] = [GROUPIE]
    port = free_port()
    server = Server(
        tmp_path,
        policy=policy,
        serve_env={
            "SLACK_BOT_TOKEN": world.BOT_TOKEN,
            "SLACK_SIGNING_SECRET": world.SIGNING_SECRET,
            "GOVERNANCE_SLACK_API_URL": stub.base_url,
        },
        serve_args=["--http", "--port", str(port), "--host", "127.0.0.1"],
        http_port=port,
    ).start()
    yield world.Slack(server, stub)
    server.kill(signal.SIGTERM)
    assert "Traceback" not in server.log.read_text()


def _answer(slack: world.Slack, text: str, user: str, name: str) -> str:
    """Run `/governance text` as `user`; everything the answer shows, which must be ephemeral."""
    status, _ = slack.command(text, user, slack.stub.response_url(name))
    assert status == 200
    (answer,) = slack.stub.wait_for(f"response/{name}")
    assert answer.args["response_type"] == "ephemeral"
    return answer.args.get("text", "") + "\n" + world.text_of(answer.args.get("blocks") or [])


def test_pending_and_report_are_for_approvers_and_auditors(slack: world.Slack) -> None:
    approval_id, _ = slack.request()
    for user in (world.LEAD1, AUDITOR, GROUPIE):
        assert approval_id in _answer(slack, "pending", user, f"pending-{user}")
        assert "Governance report" in _answer(slack, "report 7", user, f"report-{user}")
    refused = _answer(slack, "pending", world.OUTSIDER, "pending-outsider")
    assert approval_id not in refused and "Not allowed" in refused
    report = _answer(slack, "report 7", world.OUTSIDER, "report-outsider")
    assert "Governance report" not in report and "Not allowed" in report
    refusals = slack.audit("slack_refused")
    assert [r["user"] for r in refusals] == [world.OUTSIDER, world.OUTSIDER]
    assert "/governance pending" in refusals[0]["reason"]
    assert slack.stub.problems == []


def test_anyone_reads_their_own_audit_only_overseers_read_others(slack: world.Slack) -> None:
    slack.server.hook(pre_tool_use("ls"))  # agent-alice, mapped to ALICE in Slack
    mine = _answer(slack, "audit me", world.ALICE, "audit-own")
    assert "agent-alice" in mine and "Not allowed" not in mine
    theirs = _answer(slack, f"audit <@{world.ALICE}>", world.OUTSIDER, "audit-outsider")
    assert "Not allowed" in theirs and "agent-alice" not in theirs
    own_by_mention = _answer(slack, f"audit <@{world.OUTSIDER}>", world.OUTSIDER, "audit-self")
    assert "Not allowed" not in own_by_mention
    by_auditor = _answer(slack, f"audit <@{world.ALICE}>", AUDITOR, "audit-auditor")
    assert "agent-alice" in by_auditor and "Not allowed" not in by_auditor
    (refusal,) = slack.audit("slack_refused")
    assert refusal["user"] == world.OUTSIDER and world.ALICE in refusal["reason"]


def test_only_overseers_flag_false_positives(slack: world.Slack) -> None:
    assert decision_of(slack.server.hook(pre_tool_use("rm -rf /")))[0] == "deny"
    alert = next(
        call
        for call in slack.stub.wait_for("chat.postMessage")
        if call.args["channel"] == "#security-alerts"
    )
    message = slack.stub.message(alert.response["channel"], alert.response["ts"])
    assert message is not None
    block = next(b for b in message["blocks"] if b["type"] == "actions")
    (button,) = [e for e in block["elements"] if e["action_id"] == alerts.FLAG_ACTION]

    def click(user: str) -> None:
        payload = world.Slack.block_action(
            user, alert.response["channel"], alert.response["ts"], block["block_id"], button
        )
        assert slack.interact(payload)[0] == 200

    click(world.OUTSIDER)
    (told,) = slack.stub.wait_for("chat.postEphemeral")
    assert told.args["user"] == world.OUTSIDER and "Not allowed" in told.args["text"]
    world.wait_until(lambda: bool(slack.audit("slack_refused")), what="refusal audited")
    assert slack.audit("false_positive") == []
    click(GROUPIE)
    world.wait_until(lambda: bool(slack.audit("false_positive")), what="flag recorded")
    (flag,) = slack.audit("false_positive")
    assert flag["user"] == GROUPIE and flag["rule"] == "builtin.rm_root"
    assert slack.stub.problems == []
