"""The Slack Block Kit builders, sent by a real slack_sdk WebClient to the local Slack API stub.
Asserts what approvers would see and that Slack would accept it; no Slack workspace is used."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.slack import alerts, home
from bot.slack import views as sv
from engine.approvals import ApprovalState, RuleSnapshot, Vote, VoteRecord
from engine.decide import Risk
from engine.store import ApprovalRecord
from tests.slack_api_stub import SlackApiStub

NOW = 1_700_000_000.0
CHANNEL = "#governance-approvals"


@pytest.fixture(scope="module")
def stub() -> Iterator[SlackApiStub]:
    server = SlackApiStub().start()
    yield server
    server.stop()


@pytest.fixture
def slack(stub: SlackApiStub) -> WebClient:
    stub.reset()
    return WebClient(token="xoxb-test", base_url=stub.base_url)


def _snapshot(**changes: Any) -> RuleSnapshot:
    values: dict[str, Any] = {
        "name": "high",
        "threshold": Risk.HIGH,
        "roles": ("leads",),
        "members": ("ULEAD1", "ULEAD2", "SONCALL"),
        "open_to_console": False,
        "required_approvers": 2,
        "require_mfa": False,
        "timeout_minutes": 30,
    }
    values.update(changes)
    return RuleSnapshot(**values)


def _approval(
    approval_id: str = "APR-ABC234",
    *,
    state: ApprovalState = ApprovalState.PENDING,
    tool_name: str = "Bash",
    tool_input: dict[str, Any] | None = None,
    decided_at: float | None = None,
    decided_note: str | None = None,
    **snapshot: Any,
) -> ApprovalRecord:
    return ApprovalRecord(
        id=approval_id,
        state=state,
        created_at=NOW,
        expires_at=NOW + 1800,
        decided_at=decided_at,
        decided_note=decided_note,
        requester="alice",
        peer_user="alice",
        host="devbox-7",
        repo="acme/payments",
        branch="main",
        session_id="sess-42",
        tool_name=tool_name,
        tool_input={"command": "git push --force origin main"}
        if tool_input is None
        else tool_input,
        cwd="/home/alice/payments",
        action_key="k-" + approval_id,
        rule="git.force_push",
        reason="Force push to a protected branch",
        risk="high",
        snapshot=_snapshot(**snapshot),
    )


def _post(slack: WebClient, stub: SlackApiStub, message: sv.Message) -> dict[str, Any]:
    response = slack.chat_postMessage(channel=CHANNEL, **message.kwargs())
    assert response["ok"], response.data
    assert stub.problems == []
    sent = stub.calls_to("chat.postMessage")[-1].args
    assert sent["blocks"] == message.blocks  # what the stub received is what was built
    return sent


def _texts(blocks: list[dict]) -> list[str]:
    """Every piece of rendered text, in order: what a reader sees, plus markup."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
                out.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return out


def _all_text(blocks: list[dict]) -> str:
    return "\n".join(_texts(blocks))


def _buttons(blocks: list[dict]) -> list[dict]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def _code(blocks: list[dict]) -> str:
    return next(t for b in blocks if b["type"] == "section" for t in _texts([b]) if "```" in t)


# ---------------------------------------------------------------------------------------------
# The approval message


def test_pending_approval_message_shows_the_request_and_buttons(
    slack: WebClient, stub: SlackApiStub
) -> None:
    votes = [VoteRecord("ULEAD1", Vote.APPROVE, "slack")]
    message = sv.approval_message(_approval(), votes, now=NOW + 600)
    sent = _post(slack, stub, message)

    blocks = sent["blocks"]
    assert blocks[0]["type"] == "header"
    assert blocks[0]["text"]["text"] == "Approval needed: Bash (high risk)"
    text = _all_text(blocks)
    assert "```\ngit push --force origin main\n```" in _code(blocks)
    assert "1 of 2 approvals" in text
    assert "alice @ devbox-7" in text
    assert "sess-42" in text and "acme/payments" in text and "`main`" in text
    assert "git.force_push" in text and "Force push to a protected branch" in text
    assert "<@ULEAD1>" in text  # who voted so far
    assert "<!date^1700001800^" in text and "(in 20 min)" in text
    assert "MFA" not in text

    approve, deny = _buttons(blocks)
    assert (approve["action_id"], approve["style"], approve["value"]) == (
        sv.APPROVE_ACTION,
        "primary",
        "APR-ABC234",
    )
    assert (deny["action_id"], deny["style"], deny["value"]) == (
        sv.DENY_ACTION,
        "danger",
        "APR-ABC234",
    )
    actions = next(b for b in blocks if b["type"] == "actions")
    assert "APR-ABC234" in actions["block_id"]
    assert "Approval needed" in message.text and "git push --force" in message.text


def test_the_requester_is_the_kernels_uid_with_the_label_beside_it(
    slack: WebClient, stub: SlackApiStub
) -> None:
    approval = dataclasses.replace(
        _approval(), requester="agent-alice", peer_user="alice", requester_uid=1001
    )
    text = _all_text(_post(slack, stub, sv.approval_message(approval, []))["blocks"])
    assert "agent-alice (uid 1001 alice) @ devbox-7" in text


def test_mfa_rule_is_announced_on_the_message(slack: WebClient, stub: SlackApiStub) -> None:
    message = sv.approval_message(_approval(require_mfa=True), [])
    text = _all_text(_post(slack, stub, message)["blocks"])
    assert "MFA" in text
    assert "0 of 2 approvals" in text


def test_update_in_place_then_final_message_has_no_buttons(
    slack: WebClient, stub: SlackApiStub
) -> None:
    posted = slack.chat_postMessage(
        channel=CHANNEL, **sv.approval_message(_approval(), []).kwargs()
    )
    channel, ts = posted["channel"], posted["ts"]
    assert channel.startswith("C")

    votes = [
        VoteRecord("ULEAD1", Vote.APPROVE, "slack"),
        VoteRecord("ULEAD2", Vote.APPROVE, "slack"),
    ]
    approved = _approval(
        state=ApprovalState.APPROVED, decided_at=NOW + 300, decided_note="ok for the hotfix"
    )
    final = sv.approval_message(approved, votes, final=True)
    updated = slack.chat_update(channel=channel, ts=ts, **final.kwargs())
    assert updated["ok"] and stub.problems == []

    shown = stub.message(channel, ts)
    assert shown is not None
    assert _buttons(shown["blocks"]) == []
    text = _all_text(shown["blocks"])
    assert shown["blocks"][0]["text"]["text"].startswith("✅ Approved")
    assert "*Approved* by <@ULEAD1>, <@ULEAD2>" in text
    assert "<!date^1700000300^{date_short_pretty} {time}|2023-11-14 22:18 UTC>" in text
    assert "ok for the hotfix" in text
    assert "2 of 2 approvals" in text
    assert "Approved" in final.text


def test_final_denied_names_the_decider_given_explicitly(
    slack: WebClient, stub: SlackApiStub
) -> None:
    denied = _approval(state=ApprovalState.DENIED, decided_at=NOW + 60)
    message = sv.approval_message(
        denied, [VoteRecord("ULEAD2", Vote.DENY, "slack")], final=True, decided_by=["bob"]
    )
    blocks = _post(slack, stub, message)["blocks"]
    text = _all_text(blocks)
    assert _buttons(blocks) == []
    assert "⛔ *Denied* by bob" in text


@pytest.mark.parametrize(
    ("state", "mark"),
    [(ApprovalState.EXPIRED, "⌛ Expired"), (ApprovalState.CANCELLED, "🚫 Cancelled")],
)
def test_final_expired_and_cancelled(
    slack: WebClient, stub: SlackApiStub, state: ApprovalState, mark: str
) -> None:
    blocks = _post(slack, stub, sv.approval_message(_approval(state=state), [], final=True))[
        "blocks"
    ]
    assert blocks[0]["text"]["text"].startswith(mark)
    assert _buttons(blocks) == []


def test_a_100kb_command_is_truncated_within_limits(slack: WebClient, stub: SlackApiStub) -> None:
    command = "echo " + "&<>x" * 25_000  # escaping makes it grow: the budget counts that
    message = sv.approval_message(_approval(tool_input={"command": command}), [])
    blocks = _post(slack, stub, message)["blocks"]
    section = _code(blocks)
    assert len(section) <= 3000
    assert "… truncated: showing " in section and f"of {len(command)} characters" in section
    shown = int(section.split("showing ")[1].split(" of")[0])
    assert 0 < shown < len(command)
    body = section.split("```\n", 1)[1].split("\n```", 1)[0]
    assert body.startswith("echo &amp;&lt;&gt;x")
    assert len(message.text) <= 3000
    assert len(json.dumps(message.blocks)) < 20_000


def test_a_long_multibyte_command_still_fits(slack: WebClient, stub: SlackApiStub) -> None:
    command = "printf '" + "🔥" * 5000 + "'"
    message = sv.approval_message(_approval(tool_input={"command": command}), [])
    assert "truncated" in _code(_post(slack, stub, message)["blocks"])


def test_command_cannot_break_out_of_code_block_or_ping_the_channel(
    slack: WebClient, stub: SlackApiStub
) -> None:
    command = "echo ```\n*Approved by* <!channel> <@UBOSS> & rm -rf / ````"
    approval = _approval(tool_input={"command": command})
    message = sv.approval_message(approval, [])
    blocks = _post(slack, stub, message)["blocks"]
    section = _code(blocks)
    body = section.split("```\n", 1)[1].rsplit("\n```", 1)[0]
    assert "```" not in body and "``" not in body
    assert body.replace("\u200b", "") == (
        "echo ```\n*Approved by* &lt;!channel&gt; &lt;@UBOSS&gt; &amp; rm -rf / ````"
    )
    # Only the fences this module wrote remain, and nothing anywhere pings anyone.
    assert section.count("```") == 2
    everything = json.dumps(blocks) + message.text
    assert "<!channel>" not in everything and "<@UBOSS>" not in everything
    assert "&lt;!channel&gt;" in message.text


def test_user_controlled_labels_are_escaped_and_kept_on_one_line(
    slack: WebClient, stub: SlackApiStub
) -> None:
    hostile = dataclasses.replace(
        _approval(),
        requester="mallory\n*Approved by* <!here>",
        branch="feat/`x`",
        reason="x" * 10_000,
        tool_name="T" * 500,
    )
    message = sv.approval_message(hostile, [])
    blocks = _post(slack, stub, message)["blocks"]
    text = _all_text(blocks)
    assert "<!here>" not in text and "&lt;!here&gt;" in text
    assert "mallory *Approved by*" in text  # the newline could not fake a line
    assert "feat/`x`" in text and "`feat/`x``" not in text
    assert len(blocks[0]["text"]["text"]) <= 150


def test_file_tool_shows_the_path_and_a_content_preview(
    slack: WebClient, stub: SlackApiStub
) -> None:
    approval = _approval(
        tool_name="Write", tool_input={"file_path": "/etc/sudoers", "content": "alice ALL=(ALL)"}
    )
    blocks = _post(slack, stub, sv.approval_message(approval, []))["blocks"]
    text = _all_text(blocks)
    assert "*File*\n```\n/etc/sudoers\n```" in text
    assert "*Content*\n```\nalice ALL=(ALL)\n```" in text


def test_other_tools_show_compact_json(slack: WebClient, stub: SlackApiStub) -> None:
    approval = _approval(tool_name="WebFetch", tool_input={"url": "https://x.test/?a=1&b=2"})
    text = _all_text(_post(slack, stub, sv.approval_message(approval, []))["blocks"])
    assert '```\n{"url":"https://x.test/?a=1&amp;b=2"}\n```' in text


# ---------------------------------------------------------------------------------------------
# Lists, Home, modal


def _many(count: int) -> list[ApprovalRecord]:
    return [_approval(f"APR-{i:06d}", tool_input={"command": "x" * 5000}) for i in range(count)]


def test_pending_list_of_80_stays_within_50_blocks(slack: WebClient, stub: SlackApiStub) -> None:
    message = home.pending_message(_many(80), viewer="ULEAD1")
    blocks = _post(slack, stub, message)["blocks"]
    assert len(blocks) <= 50
    actions = [b for b in blocks if b["type"] == "actions"]
    assert len(actions) >= 10
    assert len({b["block_id"] for b in actions}) == len(actions)
    assert {e["value"] for b in actions for e in b["elements"]} == {
        f"APR-{i:06d}" for i in range(len(actions))
    }
    assert f"…and {80 - len(actions)} more" in _all_text(blocks)
    assert "80 pending" in message.text


def test_pending_list_small_and_empty(slack: WebClient, stub: SlackApiStub) -> None:
    blocks = _post(slack, stub, home.pending_message(_many(2), viewer=None))["blocks"]
    assert len(_buttons(blocks)) == 4 and "more" not in _all_text(blocks)
    empty = _post(slack, stub, home.pending_message([], viewer="ULEAD1"))["blocks"]
    assert "Nothing is waiting" in _all_text(empty)


def test_app_home_stays_within_100_blocks(slack: WebClient, stub: SlackApiStub) -> None:
    figures: dict[str, int | float | str] = {f"figure {i}": i * 1000 for i in range(60)}
    figures["block rate"] = 0.125
    view = home.app_home(_many(80), figures)
    response = slack.views_publish(user_id="ULEAD1", view=view)
    assert response["ok"] and stub.problems == []
    assert response["view"]["id"].startswith("V")
    sent = stub.calls_to("views.publish")[-1].args["view"]
    assert sent["type"] == "home"
    assert len(sent["blocks"]) <= 100
    text = _all_text(sent["blocks"])
    assert "This week" in text and "*figure 3*\n3,000" in text
    assert "more waiting" in text and "more figures" in text
    assert len(_buttons(sent["blocks"])) >= 40


def test_app_home_empty(slack: WebClient, stub: SlackApiStub) -> None:
    view = home.app_home([], {})
    assert slack.views_publish(user_id="ULEAD1", view=view)["ok"]
    assert stub.problems == []
    assert "Nothing is waiting for you" in _all_text(view["blocks"])


def test_mfa_modal(slack: WebClient, stub: SlackApiStub) -> None:
    view = sv.mfa_modal("APR-ABC234", approver_note="Second approval", error="Code already used")
    response = slack.views_open(trigger_id="123.456.abc", view=view)
    assert response["ok"] and stub.problems == []
    sent = stub.calls_to("views.open")[-1].args["view"]
    assert sent["type"] == "modal"
    assert sent["callback_id"] == sv.MFA_CALLBACK
    assert sent["private_metadata"] == "APR-ABC234"
    assert sent["submit"]["text"] == "Approve"
    inputs = [b for b in sent["blocks"] if b["type"] == "input"]
    assert len(inputs) == 1
    assert inputs[0]["block_id"] == sv.MFA_BLOCK
    element = inputs[0]["element"]
    assert (element["type"], element["action_id"]) == ("plain_text_input", sv.MFA_INPUT)
    assert (element["min_length"], element["max_length"]) == (6, 8)
    assert "Code already used" in _all_text(sent["blocks"])


# ---------------------------------------------------------------------------------------------
# DMs, notes, alerts, help, reports


def test_decided_dm(slack: WebClient, stub: SlackApiStub) -> None:
    approval = _approval(
        state=ApprovalState.DENIED, decided_at=NOW + 90, decided_note="not on a Friday"
    )
    dm = slack.conversations_open(users="UALICE")["channel"]["id"]
    assert dm.startswith("D")
    message = sv.decided_dm(approval)
    assert slack.chat_postMessage(channel=dm, **message.kwargs())["ok"]
    assert stub.problems == []
    text = _all_text(message.blocks)
    assert "Your request was *denied*" in text and "not on a Friday" in text
    assert "git push --force origin main" in text


def test_escalation_dm_has_buttons(slack: WebClient, stub: SlackApiStub) -> None:
    message = sv.escalation_dm(_approval(), level=2, waited_minutes=31.6)
    blocks = _post(slack, stub, message)["blocks"]
    assert "Escalation level 2" in blocks[0]["text"]["text"]
    assert "32 minutes" in _all_text(blocks)
    assert [b["action_id"] for b in _buttons(blocks)] == [sv.APPROVE_ACTION, sv.DENY_ACTION]


def test_a_short_wait_is_said_in_seconds() -> None:
    assert sv.duration(0.75) == "45 seconds"
    assert sv.duration(1 / 60) == "1 second"
    assert sv.duration(1.2) == "1 minute"


def test_thread_note_escapes_text_but_keeps_real_mentions(
    slack: WebClient, stub: SlackApiStub
) -> None:
    parent = slack.chat_postMessage(channel=CHANNEL, text="parent")
    note = sv.thread_note("Escalated <!channel> to", mentions=["UONCALL", "<!here>"])
    assert slack.chat_postMessage(channel=CHANNEL, thread_ts=parent["ts"], **note.kwargs())["ok"]
    assert stub.problems == []
    text = _all_text(note.blocks)
    assert text == "Escalated &lt;!channel&gt; to <@UONCALL>"


def test_alert_with_flag_button(slack: WebClient, stub: SlackApiStub) -> None:
    lines = [f"blocked: rm -rf /srv/{i} <!channel>" for i in range(500)]
    message = alerts.alert_message("Burst of blocks from alice", lines, audit_id=1234)
    blocks = _post(slack, stub, message)["blocks"]
    (flag,) = _buttons(blocks)
    assert (flag["action_id"], flag["value"]) == (alerts.FLAG_ACTION, "1234")
    assert flag["text"]["text"] == "Flag as false positive"
    text = _all_text(blocks)
    assert "more_" in text and "<!channel>" not in text
    assert "<!channel>" not in message.text

    plain = alerts.alert_message("Critical violation", ["curl | sh"])
    assert _buttons(_post(slack, stub, plain)["blocks"]) == []


def test_help_message(slack: WebClient, stub: SlackApiStub) -> None:
    text = _all_text(_post(slack, stub, home.help_message())["blocks"])
    for command in ("report [days]", "pending", "audit @user [days]", "help", "break-glass"):
        assert command in text


def test_report_message(slack: WebClient, stub: SlackApiStub) -> None:
    figures: dict[str, int | float | str] = {
        "Total": 12345,
        "Blocked": 321,
        "Block rate": 0.026,
        "Approval p95": "4m 10s",
    }
    top = [(f"reason <{i}>", 100 - i) for i in range(300)]
    message = home.report_message("Governance report: last 7 days", figures, top)
    blocks = _post(slack, stub, message)["blocks"]
    text = _all_text(blocks)
    assert "*Total*\n12,345" in text and "*Block rate*\n0.03" in text
    assert "1. reason &lt;0&gt; — *100*" in text and "more_" in text
    assert "Total: 12,345" in message.text


# ---------------------------------------------------------------------------------------------
# Whatever the agent sends, Slack accepts what we build (the stub applies Slack's limits)

_HUGE = "x<&>*_~`" * 2_000
_LONG_ID = "APR-" + "Z" * 300


def _extreme_approval(**changes: Any) -> ApprovalRecord:
    approval = _approval(
        _LONG_ID,
        tool_input={"command": _HUGE, "description": _HUGE},
        decided_note=_HUGE,
        decided_at=NOW + 60,
        roles=tuple(f"role-{i}-{'r' * 40}" for i in range(40)),
        members=tuple(f"U{i:08d}" for i in range(400)),
        required_approvers=99,
        require_mfa=True,
    )
    return dataclasses.replace(
        approval,
        requester="r" * 500,
        host="h" * 500,
        repo="o/" + "p" * 500,
        branch="b" * 500,
        rule="rule." + "y" * 500,
        reason=_HUGE,
        **changes,
    )


def _extreme_list(count: int) -> list[ApprovalRecord]:
    return [dataclasses.replace(_extreme_approval(), id=f"APR-{i:06d}") for i in range(count)]


def _many_votes(count: int) -> list[VoteRecord]:
    return [VoteRecord(f"U{i:08d}{'v' * 60}", Vote.APPROVE, "slack") for i in range(count)]


_EXTREME_MESSAGES: dict[str, Any] = {
    "approval": lambda: sv.approval_message(_extreme_approval(), _many_votes(200)),
    "approval-final": lambda: sv.approval_message(
        _extreme_approval(state=ApprovalState.DENIED),
        _many_votes(200),
        final=True,
        decided_by=[f"U{i}" for i in range(300)],
    ),
    "decided-dm": lambda: sv.decided_dm(_extreme_approval(state=ApprovalState.APPROVED)),
    "escalation-dm": lambda: sv.escalation_dm(_extreme_approval(), 99, 10_000_000.0),
    "thread-note": lambda: sv.thread_note(_HUGE, mentions=[f"U{i}" for i in range(500)]),
    "alert": lambda: alerts.alert_message("t" * 1_000, [_HUGE] * 300, audit_id=2**62),
    "pending": lambda: home.pending_message(_extreme_list(300), viewer="U1" * 100),
    "report": lambda: home.report_message(
        "r" * 1_000,
        {f"{'f' * 300} {i}": 10**15 + i for i in range(200)},
        [(_HUGE, 10**12)] * 500,
        top_title="t" * 1_000,
    ),
}


@pytest.mark.parametrize("name", list(_EXTREME_MESSAGES))
def test_extreme_input_still_makes_a_message_slack_accepts(
    slack: WebClient, stub: SlackApiStub, name: str
) -> None:
    message = _EXTREME_MESSAGES[name]()
    _post(slack, stub, message)  # fails on any limit Slack enforces (blocks, lengths, ids)
    assert 0 < len(message.text) <= 40_000  # the notification text Slack shows beside it


def test_extreme_input_still_makes_views_slack_accepts(
    slack: WebClient, stub: SlackApiStub
) -> None:
    modal = sv.mfa_modal(_LONG_ID, approver_note=_HUGE, error=_HUGE)
    assert slack.views_open(trigger_id="t", view=modal)["ok"]
    tab = home.app_home(_extreme_list(300), {f"{'f' * 300} {i}": 10**15 + i for i in range(200)})
    assert slack.views_publish(user_id="U1", view=tab)["ok"]
    assert stub.problems == []
