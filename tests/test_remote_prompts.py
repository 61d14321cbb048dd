"""Claude Code's permission prompts answered from Slack: the real hook fed a PermissionRequest,
the real server with the Bolt app over signed HTTP, and the Slack Web API stand-in. The person
whose session asks gets a DM; the first click answers; no click leaves it to the terminal."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests import test_slack
from tests.conftest import SEED_POLICY
from tests.harness import Server, pre_tool_use
from tests.slack_api_stub import Call
from tests.test_slack import ALICE, LEAD1, Slack, buttons, text_of, wait_until

# The Slack world of test_slack.py: the Web API stand-in and a server with Bolt over HTTP.
stub = test_slack.stub
slack_server = test_slack.slack_server


def permission_event(command: str) -> dict[str, Any]:
    return dict(pre_tool_use(command), hook_event_name="PermissionRequest")


def _dm(slack: Slack) -> Call:
    wait_until(lambda: bool(slack.dms_to(ALICE)), 10, "no DM to the session's person")
    return slack.dms_to(ALICE)[-1]


def _press(slack: Slack, dm: Call, user: str, action: str) -> None:
    channel, ts = dm.response["channel"], dm.response["ts"]
    message = slack.stub.message(channel, ts)
    assert message is not None
    block = next(b for b in message["blocks"] if b["type"] == "actions")
    button = next(e for e in block["elements"] if e["action_id"] == action)
    status, _ = slack.interact(slack.block_action(user, channel, ts, block["block_id"], button))
    assert status == 200


def _answer(out: str) -> dict[str, Any] | None:
    return json.loads(out) if out.strip() else None


def test_the_person_allows_from_slack_and_the_hook_answers_allow(
    slack_server: Callable[..., Slack],
) -> None:
    slack = slack_server()
    waiting = slack.server.hook_process(permission_event("npm run build"), wait_s=60)
    dm = _dm(slack)
    text = text_of(dm.args["blocks"])
    assert "Claude Code asks to use Bash" in text and "npm run build" in text
    assert "/srv/app" in text
    assert buttons(dm.args["blocks"]) == ["governance_prompt_allow", "governance_prompt_deny"]
    _press(slack, dm, LEAD1, "governance_prompt_allow")  # not their prompt: not counted
    _press(slack, dm, ALICE, "governance_prompt_allow")
    out, _ = waiting.communicate(timeout=60)
    assert _answer(out) == {
        "hookSpecificOutput": {
            "hookEventName": "PermissionRequest",
            "decision": {"behavior": "allow"},
        }
    }
    wait_until(lambda: bool(slack.stub.calls_to("chat.update")), 10, "the DM was not closed")
    closed = slack.stub.message(dm.response["channel"], dm.response["ts"])
    assert closed is not None and buttons(closed["blocks"]) == []
    assert "Allowed" in text_of(closed["blocks"])
    kinds = [(r["kind"], r["decision"], r["user"]) for r in slack.server.audit()]
    assert ("remote_prompt_refused", "refused", LEAD1) in kinds
    assert any(k == "remote_prompt_answered" and d == "allow" for k, d, _ in kinds)
    assert slack.stub.problems == []


def test_a_deny_from_slack_reaches_claude_code_with_a_message(
    slack_server: Callable[..., Slack],
) -> None:
    slack = slack_server()
    waiting = slack.server.hook_process(permission_event("npm run build"), wait_s=60)
    _press(slack, _dm(slack), ALICE, "governance_prompt_deny")
    out, _ = waiting.communicate(timeout=60)
    decision = _answer(out)["hookSpecificOutput"]["decision"]  # type: ignore[index]
    assert decision["behavior"] == "deny" and "denied from Slack by UALICE" in decision["message"]


def test_no_click_in_time_leaves_the_prompt_to_the_terminal(tmp_path: Path, stub) -> None:
    document = json.loads(SEED_POLICY.read_text())
    document["slack"] = {"user_map": {"agent-alice": ALICE}, "remote_prompt_seconds": 1}
    (tmp_path / "p.json").write_text(json.dumps(document))
    from tests.harness import free_port

    port = free_port()
    server = Server(
        tmp_path,
        policy=tmp_path / "p.json",
        serve_env={
            "SLACK_BOT_TOKEN": "xoxb-test-bot-token",
            "SLACK_SIGNING_SECRET": "test-signing-secret-0f9e8d7c",
            "GOVERNANCE_SLACK_API_URL": stub.base_url,
        },
        serve_args=["--http", "--port", str(port), "--host", "127.0.0.1"],
        http_port=port,
    ).start()
    try:
        out, _ = server.hook_process(permission_event("npm run build"), wait_s=60).communicate(
            timeout=60
        )
        assert out.strip() == ""  # no decision: Claude Code shows its own prompt
        assert any(r["kind"] == "remote_prompt_unanswered" for r in server.audit())
        wait_until(lambda: bool(stub.calls_to("chat.update")), 10, "the DM was not closed")
        assert "left to the terminal" in text_of(stub.calls_to("chat.update")[-1].args["blocks"])
    finally:
        server.kill(signal.SIGTERM)


def test_a_call_the_policy_denies_never_reaches_a_prompt(
    slack_server: Callable[..., Slack],
) -> None:
    slack = slack_server()
    out, _ = slack.server.hook_process(permission_event("sudo rm -rf /"), wait_s=60).communicate(
        timeout=60
    )
    decision = _answer(out)["hookSpecificOutput"]["decision"]  # type: ignore[index]
    assert decision["behavior"] == "deny" and "builtin.rm_root" in decision["message"]
    assert slack.dms_to(ALICE) == []


def test_without_slack_the_prompt_stays_in_the_terminal(tmp_path: Path) -> None:
    server = Server(tmp_path, policy=SEED_POLICY).start()
    try:
        out, _ = server.hook_process(permission_event("npm run build"), wait_s=60).communicate(
            timeout=60
        )
        assert out.strip() == ""
        row = next(r for r in server.audit() if r["kind"] == "remote_prompt")
        assert row["decision"] == "ask" and "no Slack" in row["reason"]
    finally:
        server.kill(signal.SIGTERM)
