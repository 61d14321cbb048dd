"""End to end over Slack: the real Bolt app in HTTP mode inside a real `governance serve`,
requests signed with the signing secret as Slack signs them, the real `governance-hook`
asking for approvals, and a local stand-in for the Slack Web API that records and validates
every call the app makes. Each test asserts what people in Slack would see."""

from __future__ import annotations

import getpass
import itertools
import json
import re
import signal
import sqlite3
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from slack_sdk.signature import SignatureVerifier

from bot.slack import alerts, views
from tests.conftest import SEED_POLICY
from tests.harness import Server, decision_of, free_port, pre_tool_use
from tests.slack_api_stub import Call, SlackApiStub, fake_id

SIGNING_SECRET = "test-signing-secret-0f9e8d7c"
BOT_TOKEN = "xoxb-test-bot-token"
CHANNEL = "#team-approvals"
LEAD1, LEAD2, LEAD3 = "ULEAD1", "ULEAD2", "ULEAD3"
ALICE = "UALICE"  # agent-alice's Slack id: the harness runs every hook as agent-alice
OUTSIDER = "UOUTSIDER"
ONCALL = "UONCALL"
_ids = itertools.count(1)


# ---------------------------------------------------------------------------------------------
# The world: a policy, a server with Slack over HTTP, the Web API stub, and Slack's requests


def write_policy(path: Path, user_map: dict[str, str] | None = None, **medium_rule: Any) -> Path:
    """The seed policy, with a Slack-mapped approver pool and the medium rule's extensions."""
    document = json.loads(SEED_POLICY.read_text())
    document["approval_rules"]["medium_risk_actions"].update(medium_rule)
    document["approver_pools"] = {"team-lead": [LEAD1, LEAD2, LEAD3, ALICE]}
    document["slack"] = {
        "approval_channel": CHANNEL,
        "security_channel": "#security-alerts",
        # The hooks run as this test's uid, labelled agent-alice: both names are Alice.
        "user_map": user_map or {"agent-alice": ALICE, getpass.getuser(): ALICE},
    }
    document["break_glass"] = {"allowed_users": [ALICE], "max_minutes": 30}
    path.write_text(json.dumps(document))
    return path


class Slack:
    """Slack's side of the conversation: signed requests to the app, and the stub it calls."""

    def __init__(self, server: Server, stub: SlackApiStub) -> None:
        assert server.http_port is not None
        self.server = server
        self.stub = stub
        self.url = f"http://127.0.0.1:{server.http_port}/slack/events"

    # -- requests to the app ---------------------------------------------------------------

    def post(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | None = None,
        secret: str = SIGNING_SECRET,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
        assert signature is not None
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": signature,
                **(headers or {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def interact(self, payload: dict[str, Any], **options: Any) -> tuple[int, bytes]:
        body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
        return self.post(body, "application/x-www-form-urlencoded", **options)

    def click(
        self, approval_id: str, user: str, action: str = views.APPROVE_ACTION, **options: Any
    ) -> dict[str, Any]:
        """Click a button of the request's message as it now stands; returns the payload sent."""
        channel, ts = self.where(approval_id)
        message = self.stub.message(channel, ts)
        assert message is not None
        button = next(
            (
                element
                for block in message["blocks"]
                if block["type"] == "actions"
                for element in block["elements"]
                if element.get("action_id") == action and element.get("value") == approval_id
            ),
            None,
        )
        assert button is not None, f"no {action} button on the message of {approval_id}"
        block_id = next(b["block_id"] for b in message["blocks"] if button in b.get("elements", []))
        payload = self.block_action(user, channel, ts, block_id, button)
        status, _ = self.interact(payload, **options)
        assert status == 200
        return payload

    @staticmethod
    def block_action(
        user: str, channel: str, ts: str, block_id: str, button: dict[str, Any]
    ) -> dict[str, Any]:
        n = next(_ids)
        return {
            "type": "block_actions",
            "team": {"id": "TSTUB", "domain": "stub"},
            "user": {"id": user, "username": user.lower(), "team_id": "TSTUB"},
            "api_app_id": "AGOVERNANCE",
            "token": "legacy-verification-token",
            "trigger_id": f"{n}.trigger.{user}",
            "container": {"type": "message", "message_ts": ts, "channel_id": channel},
            "channel": {"id": channel, "name": CHANNEL.lstrip("#")},
            "response_url": "https://hooks.slack.invalid/actions/unused",
            "actions": [
                {
                    "type": "button",
                    "action_id": button["action_id"],
                    "block_id": block_id,
                    "value": button["value"],
                    "text": button["text"],
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }

    def submit_mfa(self, modal: dict[str, Any], user: str, code: str) -> dict[str, Any]:
        """Type `code` into the modal the app opened and press its submit button."""
        payload = {
            "type": "view_submission",
            "team": {"id": "TSTUB", "domain": "stub"},
            "user": {"id": user, "username": user.lower(), "team_id": "TSTUB"},
            "api_app_id": "AGOVERNANCE",
            "token": "legacy-verification-token",
            "trigger_id": f"{next(_ids)}.trigger.{user}",
            "view": {
                **modal,
                "id": f"V{next(_ids)}",
                "state": {
                    "values": {
                        views.MFA_BLOCK: {
                            views.MFA_INPUT: {"type": "plain_text_input", "value": code}
                        }
                    }
                },
            },
        }
        status, body = self.interact(payload)
        assert status == 200
        return json.loads(body) if body.strip() else {}

    def command(self, text: str, user: str, response_url: str) -> tuple[int, bytes]:
        form = {
            "token": "legacy-verification-token",
            "team_id": "TSTUB",
            "team_domain": "stub",
            "channel_id": "CSOMEWHERE",
            "channel_name": "general",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/governance",
            "text": text,
            "api_app_id": "AGOVERNANCE",
            "response_url": response_url,
            "trigger_id": f"{next(_ids)}.trigger.{user}",
        }
        return self.post(urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded")

    def event(self, event: dict[str, Any]) -> int:
        body = {
            "token": "legacy-verification-token",
            "team_id": "TSTUB",
            "api_app_id": "AGOVERNANCE",
            "type": "event_callback",
            "event_id": f"Ev{next(_ids):08d}",
            "event_time": int(time.time()),
            "event": event,
        }
        status, _ = self.post(json.dumps(body).encode(), "application/json")
        return status

    # -- approvals and what Slack shows of them ---------------------------------------------

    def request(
        self, command: str = "rm notes.txt", session: str = "sess-1", **env: str
    ) -> tuple[str, Call]:
        """Run the real hook on a command needing approval; the request id and its message."""
        decision, reason = decision_of(
            self.server.hook(pre_tool_use(command, session=session), wait_s=0.5, **env)
        )
        assert decision == "deny" and "needs approval" in reason, reason
        match = re.search(r"APR-[0-9A-Z]{6}", reason)
        assert match is not None, reason
        return match.group(0), self.posted(match.group(0))

    def posted(self, approval_id: str, timeout: float = 10) -> Call:
        """The chat.postMessage that announced the request in the channel."""
        found: list[Call] = []

        def announced() -> bool:
            found[:] = [
                c
                for c in self.stub.calls_to("chat.postMessage")
                if c.args["channel"] == CHANNEL
                and "thread_ts" not in c.args
                and approval_id in json.dumps(c.args.get("blocks"))
            ]
            return bool(found)

        wait_until(announced, timeout, f"{approval_id} was not posted")
        (call,) = found
        return call

    def where(self, approval_id: str) -> tuple[str, str]:
        response = self.posted(approval_id).response
        return response["channel"], response["ts"]

    def blocks(self, approval_id: str) -> list[dict[str, Any]]:
        """The message's blocks as Slack now shows them (after any chat.update)."""
        message = self.stub.message(*self.where(approval_id))
        assert message is not None
        return message["blocks"]

    def updates(self, approval_id: str) -> list[Call]:
        channel, ts = self.where(approval_id)
        return [
            c
            for c in self.stub.calls_to("chat.update")
            if c.args.get("ts") == ts and c.args.get("channel") == channel
        ]

    def wait_updates(self, approval_id: str, count: int, timeout: float = 10) -> list[Call]:
        wait_until(lambda: len(self.updates(approval_id)) >= count, timeout, "no chat.update")
        return self.updates(approval_id)

    def dms_to(self, user: str) -> list[Call]:
        """Messages posted in the DM the app opened with `user`."""
        dm = fake_id("D", user)
        opened = [
            c
            for c in self.stub.calls_to("conversations.open")
            if c.response.get("channel", {}).get("id") == dm
        ]
        posts = [c for c in self.stub.calls_to("chat.postMessage") if c.args["channel"] == dm]
        return posts if opened else []

    def audit(self, kind: str, approval_id: str | None = None) -> list[dict[str, Any]]:
        return [
            row
            for row in self.server.audit()
            if row["kind"] == kind and (approval_id is None or row["approval_id"] == approval_id)
        ]


def _thread_notes(slack: Slack, ts: str) -> list[Any]:
    return [c for c in slack.stub.calls_to("chat.postMessage") if c.args.get("thread_ts") == ts]


def _deadlines(slack: Slack, approval_id: str, kind: str) -> list[dict[str, Any]]:
    with sqlite3.connect(slack.server.db) as connection:
        connection.row_factory = sqlite3.Row
        rows = connection.execute(
            "SELECT * FROM deadlines WHERE approval_id = ? AND kind = ?", (approval_id, kind)
        )
        return [dict(row) for row in rows]


def wait_until(predicate: Callable[[], bool], timeout: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s: {what}")
        time.sleep(0.02)


def text_of(blocks: Any) -> str:
    """Every text a person reads in these blocks, in order."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("plain_text", "mrkdwn") and isinstance(node.get("text"), str):
                found.append(node["text"])
                return
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return "\n".join(found)


def buttons(blocks: list[dict[str, Any]]) -> list[str]:
    return [
        element["action_id"]
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
    ]


@pytest.fixture
def stub() -> Iterator[SlackApiStub]:
    with SlackApiStub() as running:
        yield running


@pytest.fixture
def slack_server(tmp_path: Path, stub: SlackApiStub) -> Iterator[Callable[..., Slack]]:
    """Start `governance serve --http` on a policy with the given medium-rule extensions."""
    started: list[Server] = []

    def start(
        separate_agent: bool = False, user_map: dict[str, str] | None = None, **medium_rule: Any
    ) -> Slack:
        root = tmp_path / f"server{len(started)}"
        root.mkdir()
        port = free_port()
        server = Server(
            root,
            separate_agent=separate_agent,
            policy=write_policy(root / "policies.json", user_map, **medium_rule),
            serve_env={
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "GOVERNANCE_SLACK_API_URL": stub.base_url,
            },
            serve_args=["--http", "--port", str(port), "--host", "127.0.0.1"],
            http_port=port,
        )
        started.append(server.start())
        return Slack(server, stub)

    yield start
    for server in started:
        server.kill(signal.SIGTERM)
        log = server.log.read_text()
        assert "Traceback" not in log, log


# ---------------------------------------------------------------------------------------------
# The approval message


def test_request_is_posted_to_the_policys_channel(slack_server: Callable[..., Slack]) -> None:
    slack = slack_server(requiredApprovers=2)
    approval_id, call = slack.request("rm notes.txt")
    assert call.args["channel"] == CHANNEL
    blocks = call.args["blocks"]
    text = text_of(blocks)
    assert blocks[0]["type"] == "header"
    assert "Approval needed: Bash (medium risk)" in blocks[0]["text"]["text"]
    assert "agent-alice" in text and "sess-1" in text
    assert "*Command*\n```\nrm notes.txt\n```" in text
    assert "file_operations.delete_requires_approval" in text and "*Risk* medium" in text
    assert "0 of 2 approvals" in text and approval_id in text
    assert buttons(blocks) == [views.APPROVE_ACTION, views.DENY_ACTION]
    assert "rm notes.txt" in call.args["text"]  # the notification's fallback text
    assert slack.stub.problems == []


# ---------------------------------------------------------------------------------------------
# Votes


def test_pool_member_approves_and_the_requester_hears_of_it(
    slack_server: Callable[..., Slack],
) -> None:
    slack = slack_server()
    approval_id, _ = slack.request()
    slack.click(approval_id, LEAD1)
    assert len(slack.wait_updates(approval_id, 1)) == 1
    blocks = slack.blocks(approval_id)
    assert buttons(blocks) == []
    assert "✅ Approved: Bash (medium risk)" in blocks[0]["text"]["text"]
    assert f"✅ *Approved* by <@{LEAD1}>" in text_of(blocks)
    assert "1 of 1 approvals" in text_of(blocks)
    # The user map names agent-alice's Slack id: the DM goes there.
    wait_until(lambda: slack.dms_to(ALICE), what="no DM to the requester")
    (dm,) = slack.dms_to(ALICE)
    assert "Your request was *approved*" in text_of(dm.args["blocks"])
    assert "rm notes.txt" in text_of(dm.args["blocks"])

    # A requester known only by email is found with users.lookupByEmail.
    slack.stub.users_by_email["bob@example.com"] = "UBOB"
    other_id, _ = slack.request(session="sess-bob", GOVERNANCE_USER="bob@example.com")
    slack.click(other_id, LEAD2)
    wait_until(lambda: slack.dms_to("UBOB"), what="no DM to the requester found by email")
    (lookup,) = slack.stub.calls_to("users.lookupByEmail")
    assert lookup.args["email"] == "bob@example.com"
    assert "approved" in slack.dms_to("UBOB")[0].args["text"]
    assert slack.stub.problems == []


def test_two_of_n_quorum(slack_server: Callable[..., Slack]) -> None:
    slack = slack_server(requiredApprovers=2)
    approval_id, _ = slack.request()
    slack.click(approval_id, LEAD1)
    slack.wait_updates(approval_id, 1)
    blocks = slack.blocks(approval_id)
    assert "1 of 2 approvals" in text_of(blocks)
    assert f"Votes: ✅ <@{LEAD1}>" in text_of(blocks)
    assert buttons(blocks) == [views.APPROVE_ACTION, views.DENY_ACTION]  # still open
    assert slack.server.pending_ids() == [approval_id]

    slack.click(approval_id, LEAD2)
    slack.wait_updates(approval_id, 2)
    blocks = slack.blocks(approval_id)
    assert buttons(blocks) == []
    assert "2 of 2 approvals" in text_of(blocks)
    assert f"✅ *Approved* by <@{LEAD1}>, <@{LEAD2}>" in text_of(blocks)
    assert slack.audit("approval_approved", approval_id)
    assert slack.stub.problems == []


def test_requester_cannot_approve_their_own_request(slack_server: Callable[..., Slack]) -> None:
    slack = slack_server()
    approval_id, _ = slack.request()  # asked by agent-alice, who is ALICE in Slack
    slack.click(approval_id, ALICE)
    (ephemeral,) = slack.stub.wait_for("chat.postEphemeral")
    assert ephemeral.args["user"] == ALICE
    assert ephemeral.args["channel"] == slack.where(approval_id)[0]
    assert "separation of duties" in ephemeral.args["text"]
    (refused,) = slack.audit("vote_refused", approval_id)
    assert refused["user"] == ALICE and "separation of duties" in refused["reason"]
    assert slack.audit("vote", approval_id) == []
    assert slack.updates(approval_id) == []
    assert slack.server.pending_ids() == [approval_id]
    assert slack.stub.problems == []


def test_one_human_is_one_vote_across_the_console_and_slack(
    slack_server: Callable[..., Slack],
) -> None:
    """Issue 8, item 5: this test's OS user approves at the console, then clicks Approve in
    Slack as the id `user_map` gives that same OS user: one vote, the quorum of 2 is not met."""
    me = getpass.getuser()
    slack = slack_server(
        separate_agent=True,  # the agent's hook runs as uid nobody
        user_map={"agent-alice": ALICE, me: LEAD1},
        approvers=["team-lead", "local-admins"],  # local-admins: unmapped, so console votes count
        requiredApprovers=2,
    )
    approval_id, _ = slack.request()
    console = slack.server.cli("approve", approval_id)
    assert console.returncode == 0 and "1 of 2 approvals" in console.stdout
    slack.click(approval_id, LEAD1)
    (ephemeral,) = slack.stub.wait_for("chat.postEphemeral")
    assert ephemeral.args["user"] == LEAD1 and "one person is one vote" in ephemeral.args["text"]
    assert slack.server.pending_ids() == [approval_id]
    slack.click(approval_id, LEAD2)
    wait_until(lambda: slack.audit("approval_approved", approval_id), what="no approval")
    votes = slack.audit("vote", approval_id)
    assert sorted(v["user"] for v in votes) == sorted([me, LEAD2])
    assert slack.stub.problems == []


def test_outsider_is_refused_with_an_ephemeral(slack_server: Callable[..., Slack]) -> None:
    slack = slack_server()
    approval_id, _ = slack.request()
    slack.click(approval_id, OUTSIDER, views.DENY_ACTION)
    (ephemeral,) = slack.stub.wait_for("chat.postEphemeral")
    assert ephemeral.args["user"] == OUTSIDER
    assert "not in the approver pool" in ephemeral.args["text"]
    assert "team-lead" in ephemeral.args["text"]
    wait_until(lambda: slack.audit("vote_refused", approval_id), what="no audit of the refusal")
    assert slack.audit("vote_refused", approval_id)[0]["user"] == OUTSIDER
    assert slack.updates(approval_id) == []
    assert slack.server.pending_ids() == [approval_id]
    assert slack.stub.problems == []


def test_one_deny_vetoes_a_quorum(slack_server: Callable[..., Slack]) -> None:
    slack = slack_server(requiredApprovers=2)
    waiting = slack.server.hook_process(pre_tool_use("rm notes.txt"), wait_s=30)
    (approval_id,) = slack.server.pending_ids()
    slack.click(approval_id, LEAD1)
    slack.wait_updates(approval_id, 1)
    slack.click(approval_id, LEAD2, views.DENY_ACTION)
    slack.wait_updates(approval_id, 2)
    blocks = slack.blocks(approval_id)
    assert buttons(blocks) == []
    assert "⛔ Denied" in blocks[0]["text"]["text"]
    assert f"⛔ *Denied* by <@{LEAD2}>" in text_of(blocks)
    assert slack.audit("approval_denied", approval_id)
    # The agent is told, and so is the person it works for.
    out, _ = waiting.communicate(timeout=30)
    decision, reason = decision_of(json.loads(out))
    assert decision == "deny" and f"{approval_id} was denied" in reason
    wait_until(lambda: slack.dms_to(ALICE), what="no DM to the requester")
    assert "*denied*" in text_of(slack.dms_to(ALICE)[0].args["blocks"])
    assert slack.stub.problems == []


def test_duplicate_clicks_and_slack_retries_count_once(slack_server: Callable[..., Slack]) -> None:
    slack = slack_server(requiredApprovers=2)
    approval_id, _ = slack.request()
    payload = slack.click(approval_id, LEAD1)
    slack.click(approval_id, LEAD1)  # a double click
    status, _ = slack.interact(payload, headers={"X-Slack-Retry-Num": "1"})  # Slack's retry
    assert status == 200
    wait_until(
        lambda: len(slack.audit("vote_refused", approval_id)) == 2,
        what="the repeated clicks were not all handled",
    )
    assert len(slack.audit("vote", approval_id)) == 1
    assert len(slack.wait_updates(approval_id, 1)) == 1
    assert "1 of 2 approvals" in text_of(slack.blocks(approval_id))
    assert slack.server.pending_ids() == [approval_id]
    for ephemeral in slack.stub.wait_for("chat.postEphemeral", 2):
        assert "already voted" in ephemeral.args["text"]
    assert slack.stub.problems == []


# ---------------------------------------------------------------------------------------------
# MFA step-up


def _enroll(slack: Slack, approver: str) -> pyotp.TOTP:
    result = slack.server.cli("mfa", "enroll", approver, "--db", str(slack.server.db))
    assert result.returncode == 0, result.stderr
    match = re.search(r"otpauth://\S+", result.stdout)
    assert match is not None, result.stdout
    secret = urllib.parse.parse_qs(urllib.parse.urlsplit(match.group(0)).query)["secret"][0]
    return pyotp.TOTP(secret)


def _wrong_code(totp: pyotp.TOTP) -> str:
    return next(c for c in ("000000", "111111", "222222") if not totp.verify(c, valid_window=1))


def _open_modal(slack: Slack, approval_id: str, user: str) -> dict[str, Any]:
    """Click Approve on an MFA request; the app answers with a modal asking for the code."""
    before = len(slack.stub.calls_to("views.open"))
    payload = slack.click(approval_id, user)
    opened = slack.stub.wait_for("views.open", before + 1)[-1]
    assert opened.args["trigger_id"] == payload["trigger_id"]
    modal = opened.args["view"]
    assert modal["callback_id"] == views.MFA_CALLBACK
    assert modal["private_metadata"] == approval_id
    return modal


def test_mfa_code_approves_once_and_wrong_codes_lock_out(
    slack_server: Callable[..., Slack],
) -> None:
    slack = slack_server(require_mfa=True)
    totp = _enroll(slack, LEAD1)
    first, call = slack.request("rm notes.txt")
    assert "Approving needs an MFA code" in text_of(call.args["blocks"])

    modal = _open_modal(slack, first, LEAD1)
    assert "Authentication code" in text_of(modal["blocks"])
    assert slack.updates(first) == []  # opening the modal is not a vote
    code = totp.now()
    assert slack.submit_mfa(modal, LEAD1, code) == {}  # accepted: the modal closes
    slack.wait_updates(first, 1)
    assert f"✅ *Approved* by <@{LEAD1}>" in text_of(slack.blocks(first))

    # The same code on another request is a replay.
    second, _ = slack.request("rm other.txt")
    answer = slack.submit_mfa(_open_modal(slack, second, LEAD1), LEAD1, code)
    assert answer["response_action"] == "errors"
    assert "already used" in answer["errors"][views.MFA_BLOCK]
    assert second in slack.server.pending_ids()

    # Three wrong codes lock the approver out of a request, even for a good fourth code.
    third, _ = slack.request("rm third.txt")
    modal = _open_modal(slack, third, LEAD1)
    answers = [slack.submit_mfa(modal, LEAD1, _wrong_code(totp)) for _ in range(3)]
    messages = [a["errors"][views.MFA_BLOCK] for a in answers]
    assert "2 attempts left" in messages[0] and "1 attempt left" in messages[1]
    assert "locked out" in messages[2]
    fresh = totp.at(time.time(), counter_offset=1)  # valid, never used
    fourth = slack.submit_mfa(modal, LEAD1, fresh)
    assert "locked out" in fourth["errors"][views.MFA_BLOCK]
    assert third in slack.server.pending_ids()
    assert slack.audit("vote", third) == []
    assert len([r for r in slack.audit("mfa_check", third) if r["decision"] == "refused"]) == 4
    assert slack.stub.problems == []


# ---------------------------------------------------------------------------------------------
# Timers: escalation and expiry, also across a restart


def test_escalation_dms_on_call_then_expiry_closes_the_message(
    slack_server: Callable[..., Slack],
) -> None:
    slack = slack_server(
        timeout_minutes=0.02, escalation=[{"after_minutes": 0.02, "notify": [ONCALL]}]
    )
    approval_id, _ = slack.request()
    channel, ts = slack.where(approval_id)

    wait_until(lambda: slack.dms_to(ONCALL), 10, "no escalation DM")
    (dm,) = slack.dms_to(ONCALL)
    assert "Escalation level 1" in text_of(dm.args["blocks"])
    assert approval_id in text_of(dm.args["blocks"])
    assert buttons(dm.args["blocks"]) == [views.APPROVE_ACTION, views.DENY_ACTION]

    def notes() -> list[Any]:
        return [c for c in slack.stub.calls_to("chat.postMessage") if c.args.get("thread_ts") == ts]

    # The thread note follows the DM: wait for it rather than race it.
    wait_until(notes, 10, "no escalation note in the request's thread")
    (note,) = notes()
    assert note.args["channel"] == channel
    assert "escalated to level 1" in note.args["text"] and f"<@{ONCALL}>" in note.args["text"]

    assert len(slack.wait_updates(approval_id, 1)) == 1
    blocks = slack.blocks(approval_id)
    assert "⌛ Expired" in blocks[0]["text"]["text"]
    assert buttons(blocks) == []
    assert slack.audit("approval_expired", approval_id)
    assert slack.stub.problems == []


def test_escalation_due_while_the_server_was_down_fires_after_restart(
    slack_server: Callable[..., Slack],
) -> None:
    slack = slack_server(escalation=[{"after_minutes": 0.1, "notify": [ONCALL]}])
    approval_id, _ = slack.request()
    slack.server.kill(signal.SIGKILL)
    (escalation,) = _deadlines(slack, approval_id, "escalate")
    assert escalation["state"] == "pending", "set-up: the escalation fired before the kill"
    assert slack.dms_to(ONCALL) == []
    wait_until(lambda: time.time() > escalation["due_at"], 30, "the escalation never fell due")

    slack.server.start()
    wait_until(lambda: slack.dms_to(ONCALL), 30, "the escalation was lost in the restart")
    wait_until(lambda: _thread_notes(slack, slack.where(approval_id)[1]), 30, "no thread note")
    # Fired is final: the scheduler only runs pending deadlines, so there is no second DM.
    (fired,) = _deadlines(slack, approval_id, "escalate")
    assert fired["state"] == "fired"
    assert len(slack.dms_to(ONCALL)) == 1
    assert len(slack.audit("approval_escalated", approval_id)) == 1
    _, ts = slack.where(approval_id)
    assert len(_thread_notes(slack, ts)) == 1
    assert slack.server.pending_ids() == [approval_id]
    assert slack.stub.problems == []


# ---------------------------------------------------------------------------------------------
# Slash command, App Home


def test_report_command_acks_at_once_and_answers_via_response_url(
    slack_server: Callable[..., Slack],
) -> None:
    slack = slack_server()
    for command in ("ls", "git status", "rm -rf /"):
        slack.server.hook(pre_tool_use(command))
    status, body = slack.command("report 7", LEAD1, slack.stub.response_url("report-1"))
    # Acked empty, answered later: the report is never in the ack, so Slack's 3 s never bind.
    assert status == 200 and body == b""
    (answer,) = slack.stub.wait_for("response/report-1")
    assert answer.args["response_type"] == "ephemeral"
    text = text_of(answer.args["blocks"])
    assert "Governance report" in text
    assert "*Decisions*\n3" in text and "*Allowed*\n2" in text and "*Blocked*\n1" in text
    assert "builtin.rm_root" in text  # the top block reason
    assert slack.stub.problems == []


def test_break_glass_from_slack_overrides_and_tells_security(
    slack_server: Callable[..., Slack],
) -> None:
    slack = slack_server()
    status, _ = slack.command(
        "break-glass 10 db failover", LEAD1, slack.stub.response_url("bg-refused")
    )
    (refused,) = slack.stub.wait_for("response/bg-refused")
    assert status == 200 and "not in break_glass.allowed_users" in refused.args["text"]
    # The seed's high-risk rule asks for MFA, so the window opens behind a code, in a modal.
    totp = _enroll(slack, ALICE)
    slack.command("break-glass 10 db failover INC-9", ALICE, slack.stub.response_url("bg"))
    (modal_call,) = slack.stub.wait_for("views.open")
    modal = modal_call.args["view"]
    wrong = slack.submit_mfa(modal, ALICE, _wrong_code(totp))
    assert "wrong code" in wrong["errors"][views.MFA_BLOCK]
    assert slack.submit_mfa(modal, ALICE, totp.now()) == {}
    posted = slack.stub.wait_for("chat.postMessage", 2)  # the opener's DM and the alert
    assert any("open for 10 min" in c.args.get("text", "") for c in posted)
    decision, reason = decision_of(slack.server.hook(pre_tool_use("rm notes.txt")))
    assert decision == "allow" and "db failover INC-9" in reason
    posts = slack.stub.wait_for("chat.postMessage")
    alerts = [c for c in posts if c.args["channel"] == "#security-alerts"]
    assert alerts and "Break-glass" in text_of(alerts[0].args["blocks"])
    assert slack.stub.problems == []


def test_critical_block_alerts_security_and_can_be_flagged_as_false_positive(
    slack_server: Callable[..., Slack],
) -> None:
    slack = slack_server()
    assert decision_of(slack.server.hook(pre_tool_use("rm -rf /")))[0] == "deny"
    alert = next(
        call
        for call in slack.stub.wait_for("chat.postMessage")
        if call.args["channel"] == "#security-alerts"
    )
    assert "builtin.rm_root" in text_of(alert.args["blocks"])
    message = slack.stub.message(alert.response["channel"], alert.response["ts"])
    assert message is not None
    block = next(b for b in message["blocks"] if b["type"] == "actions")
    (button,) = [e for e in block["elements"] if e["action_id"] == alerts.FLAG_ACTION]
    payload = Slack.block_action(
        LEAD1, alert.response["channel"], alert.response["ts"], block["block_id"], button
    )
    assert slack.interact(payload)[0] == 200
    deadline = time.time() + 10
    flags: list[dict[str, Any]] = []
    while time.time() < deadline and not flags:
        flags = [r for r in slack.server.audit() if r["kind"] == "false_positive"]
        time.sleep(0.1)
    assert flags and flags[0]["rule"] == "builtin.rm_root" and flags[0]["user"] == LEAD1
    assert slack.stub.problems == []


def test_app_home_shows_the_viewers_pending_approvals_and_the_week(
    slack_server: Callable[..., Slack],
) -> None:
    slack = slack_server()
    approval_id, _ = slack.request()
    assert slack.event({"type": "app_home_opened", "user": LEAD1, "tab": "home"}) == 200
    (published,) = slack.stub.wait_for("views.publish")
    assert published.args["user_id"] == LEAD1
    view = published.args["view"]
    assert view["type"] == "home"
    text = text_of(view["blocks"])
    assert "Your pending approvals" in text and approval_id in text and "rm notes.txt" in text
    assert buttons(view["blocks"]) == [views.APPROVE_ACTION, views.DENY_ACTION]
    assert "This week" in text and "*approvals requested*\n1" in text

    assert slack.event({"type": "app_home_opened", "user": OUTSIDER, "tab": "home"}) == 200
    outsider_view = slack.stub.wait_for("views.publish", 2)[-1].args["view"]
    assert "Nothing is waiting for you" in text_of(outsider_view["blocks"])
    assert approval_id not in text_of(outsider_view["blocks"])
    assert slack.stub.problems == []


# ---------------------------------------------------------------------------------------------
# Request verification


def test_unsigned_or_stale_requests_are_refused(slack_server: Callable[..., Slack]) -> None:
    slack = slack_server()
    approval_id, _ = slack.request()
    channel, ts = slack.where(approval_id)
    block_id = views.APPROVAL_BLOCK_PREFIX + approval_id
    button = {
        "action_id": views.APPROVE_ACTION,
        "value": approval_id,
        "text": {"type": "plain_text", "text": "Approve"},
    }
    payload = slack.block_action(LEAD1, channel, ts, block_id, button)
    assert slack.interact(payload, secret="not-the-secret")[0] == 401
    assert slack.interact(payload, timestamp=int(time.time()) - 600)[0] == 401
    assert slack.interact(payload)[0] == 200  # the same click, properly signed, counts
    slack.wait_updates(approval_id, 1)
    # Requests are handled in order: by the time the good click shows, the refused ones would
    # have too. Exactly one vote, one update.
    assert [row["user"] for row in slack.audit("vote", approval_id)] == [LEAD1]
    assert len(slack.updates(approval_id)) == 1
    assert slack.stub.problems == []


# ---------------------------------------------------------------------------------------------
# From the agent's hook to a click and back


def test_waiting_hook_is_released_by_a_slack_click(slack_server: Callable[..., Slack]) -> None:
    slack = slack_server()
    waiting = slack.server.hook_process(pre_tool_use("rm notes.txt"), wait_s=30)
    (approval_id,) = slack.server.pending_ids()
    slack.click(approval_id, LEAD3)
    out, err = waiting.communicate(timeout=30)
    decision, reason = decision_of(json.loads(out))
    assert decision == "allow", err
    assert approval_id in reason
    assert slack.stub.problems == []


def test_a_huge_command_is_truncated_within_slack_limits(
    slack_server: Callable[..., Slack],
) -> None:
    slack = slack_server()
    command = "rm notes.txt && echo " + "lorem ipsum dolor sit amet " * 3800
    assert len(command) > 100_000
    approval_id, call = slack.request(command)
    assert slack.stub.problems == []
    assert call.response["ok"]
    text = text_of(call.args["blocks"])
    assert "truncated: showing" in text and f"of {len(command)} characters" in text
    assert buttons(call.args["blocks"]) == [views.APPROVE_ACTION, views.DENY_ACTION]
    slack.click(approval_id, LEAD1)  # and it can still be decided
    slack.wait_updates(approval_id, 1)
    assert slack.stub.problems == []
