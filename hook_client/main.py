"""The `governance-hook` command Claude Code runs around each tool call: asks the server, answers.
Standard library only and nothing slow at import (no engine/bot, argparse, pathlib, subprocess)."""

import json
import sys
import time

from hook_client.answers import (
    PERMISSION,
    PRE,
    PROMPT,
    _server_reason,
    malformed,
    permission_answer,
    pre_answer,
    too_large,
    unreachable_reason,
)
from hook_client.config import fail_open, socket_path, spool_dir, wait_seconds
from hook_client.context import build_context
from hook_client.spool import spool
from hook_client.transport import ServerError, TooLarge, _os_error, ask_server

MAX_STDIN = 16 * 1024 * 1024
ALLOWING = frozenset({"allow", "approved"})
DENYING = frozenset({"deny", "denied", "expired", "approval_pending"})
RECORDED = "recorded"

USAGE = """usage: governance-hook [--socket PATH] [--timeout SECONDS] < event.json

The Claude Code hook of the governance layer (installed by `governance install-hook`).
Reads one hook event (PreToolUse, PostToolUse, UserPromptSubmit) as JSON on stdin, asks the
governance server and prints Claude Code's answer on stdout.

  --socket PATH      server socket (else $GOVERNANCE_SOCKET, else the default path)
  --timeout SECONDS  Claude Code's timeout for this hook (else $GOVERNANCE_HOOK_TIMEOUT, 600)

environment: GOVERNANCE_SOCKET, GOVERNANCE_WAIT_S (540), GOVERNANCE_FAIL_MODE (closed|open),
GOVERNANCE_SPOOL_DIR, GOVERNANCE_USER, GOVERNANCE_HOOK_TIMEOUT
"""


def parse_stdin(raw: bytes) -> dict | str:
    """The event, or a string saying what is wrong with the input."""
    if len(raw) > MAX_STDIN:
        return "input larger than 16 MB"
    if not raw.strip():
        return "empty input"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return f"input is not UTF-8 (bad byte at offset {error.start})"
    try:
        event = json.loads(text)
    except ValueError as error:
        return f"input is not JSON ({error})"
    if not isinstance(event, dict):
        return f"input is a JSON {type(event).__name__}, not an object"
    return event


def event_name(event: dict) -> str:
    name = event.get("hook_event_name")
    return name if isinstance(name, str) and name else PRE


def decide(event: dict) -> tuple[dict | None, str | None]:
    """(what to print or None, a note for stderr or None) for one well-formed event."""
    name = event_name(event)
    wait_s = wait_seconds(name)
    context = build_context(event)
    path = socket_path()
    request = {"v": 1, "event": event, "context": context, "wait_s": wait_s}
    try:
        response = ask_server(path, request, wait_s)
        decision = response["decision"]
        if name == PERMISSION:
            return permission_answer(decision, response.get("reason")), None
        if name not in (PRE, PROMPT):
            return None, None  # PostToolUse and others are only recorded.
        if decision in ALLOWING or (name == PROMPT and decision == RECORDED):
            return (pre_answer("allow", _server_reason(response)) if name == PRE else None), None
        if decision in DENYING:
            reason = _server_reason(response)
            if name == PRE:
                return pre_answer("deny", reason), None
            return {"decision": "block", "reason": reason}, None
        raise ServerError(f"unknown decision {decision!r}")
    except TooLarge:
        return (too_large() if name == PRE else None), "governance-hook: event over 16 MB"
    except ServerError as error:
        return on_failure(name, request, path, str(error))


def on_failure(name: str, request: dict, path: str, error: str) -> tuple[dict | None, str | None]:
    opened = fail_open()
    spool_note = None
    if opened or name not in (PRE, PROMPT):
        record = dict(request)
        record.update(spooled_at=time.time(), fail_mode="open" if opened else "closed", error=error)
        try:
            spool(record)
        except OSError as spool_error:
            spool_note = f"spooling to {spool_dir()} failed: {_os_error(spool_error)}"
    note = f"governance-hook: {error} ({path})" + (f"; {spool_note}" if spool_note else "")
    if name not in (PRE, PROMPT):
        return None, note
    if opened:
        if name == PROMPT:
            return None, note
        if spool_note:
            reason = (
                "governance: server unreachable, allowed by GOVERNANCE_FAIL_MODE=open; "
                f"the event could NOT be spooled for the audit trail ({spool_note})"
            )
        else:
            reason = (
                "governance: server unreachable, allowed by GOVERNANCE_FAIL_MODE=open; "
                "the event was spooled for the audit trail"
            )
        return pre_answer("allow", reason), note
    reason = unreachable_reason(path, error)
    if name == PRE:
        return pre_answer("deny", reason), note
    return {"decision": "block", "reason": reason}, note


def run(raw: bytes) -> tuple[dict | None, str | None]:
    if len(raw) > MAX_STDIN:
        return too_large(), None
    parsed = parse_stdin(raw)
    if isinstance(parsed, str):
        return malformed(parsed), None
    return decide(parsed)


def _crash_answer(raw: bytes | None, error: BaseException) -> dict | None:
    """Answer for a bug in this hook: denied unless fail-open, never a traceback."""
    what = f"{error.__class__.__name__}: {error}"[:200]
    name = PRE
    event = None
    try:
        parsed = parse_stdin(raw) if raw is not None else None
        if isinstance(parsed, dict):
            event, name = parsed, event_name(parsed)
    except BaseException:
        pass
    if fail_open() or name not in (PRE, PROMPT):
        spooled = "the event was spooled"
        try:
            spool(
                {
                    "v": 1,
                    "event": event,
                    "context": None,
                    "wait_s": 0.0,
                    "spooled_at": time.time(),
                    "fail_mode": "open" if fail_open() else "closed",
                    "error": f"hook internal error: {what}",
                }
            )
        except BaseException:
            spooled = "the event could NOT be spooled"
        if name == PRE:
            reason = (
                f"governance: hook internal error ({what}), allowed by "
                f"GOVERNANCE_FAIL_MODE=open; {spooled}"
            )
            return pre_answer("allow", reason)
        return None
    reason = f"governance: hook internal error ({what}); the call is denied"
    if name == PROMPT:
        return {"decision": "block", "reason": reason}
    return pre_answer("deny", reason)


def _emit(answer: dict | None, note: str | None) -> None:
    if note:
        try:
            sys.stderr.write(note + "\n")
            sys.stderr.flush()
        except BaseException:
            pass
    if answer is not None:
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


def main() -> int:
    if "-h" in sys.argv[1:] or "--help" in sys.argv[1:]:
        sys.stdout.write(USAGE)
        return 0
    raw = None
    try:
        raw = sys.stdin.buffer.read(MAX_STDIN + 1)
        answer, note = run(raw)
    except BaseException as error:
        answer, note = _crash_answer(raw, error), None
    try:
        _emit(answer, note)
    except BaseException:
        # stdout is gone (Claude Code closed the pipe): nobody is left to answer.
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
