"""The `governance-hook` command Claude Code runs around each tool call: asks the server, answers.
Standard library only and nothing slow at import (no engine/bot, argparse, pathlib, subprocess)."""

import json
import os
import socket
import sys
import time

MAX_STDIN = 16 * 1024 * 1024
# The server's cap on one request line (bot/config.py): the event plus its envelope.
MAX_LINE = 17 * 1024 * 1024
MAX_RESPONSE = 1024 * 1024
CONNECT_TIMEOUT_S = 3.0
DEFAULT_WAIT_S = 540.0
DEFAULT_HOOK_TIMEOUT_S = 600.0
# The server answers within wait_s; these margins leave time to print the answer before
# Claude Code's own timeout, after which it would treat the call as undecided and run it.
WAIT_MARGIN_S = 20.0
READ_MARGIN_S = 15.0

PRE = "PreToolUse"
PROMPT = "UserPromptSubmit"
# Claude Code's own permission prompt: answered from Slack, or left to the terminal.
PERMISSION = "PermissionRequest"

ALLOWING = frozenset({"allow", "approved"})
DENYING = frozenset({"deny", "denied", "expired", "approval_pending"})
RECORDED = "recorded"


class ServerError(Exception):
    """The server was not reached or gave no usable answer; str() is the short cause."""


# ---------------------------------------------------------------- configuration


def _float_env(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name) or default)
    except ValueError:
        return default
    # NaN or a negative number would make every timeout below meaningless.
    return value if value >= 0 else default


def state_dir() -> str:
    return os.path.join(os.path.expanduser("~"), ".local", "state", "governance")


def socket_path() -> str:
    explicit = option("--socket") or os.environ.get("GOVERNANCE_SOCKET")
    if explicit:
        return explicit
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return os.path.join(runtime, "governance", "governance.sock")
    return os.path.join(state_dir(), "governance.sock")


def spool_dir() -> str:
    # Never under XDG_RUNTIME_DIR: that is a tmpfs, and the spool must survive a reboot.
    return os.environ.get("GOVERNANCE_SPOOL_DIR") or os.path.join(state_dir(), "spool")


def fail_open() -> bool:
    return os.environ.get("GOVERNANCE_FAIL_MODE", "closed").strip().lower() == "open"


USAGE = """usage: governance-hook [--socket PATH] [--timeout SECONDS] < event.json

The Claude Code hook of the governance layer (installed by `governance install-hook`).
Reads one hook event (PreToolUse, PostToolUse, UserPromptSubmit) as JSON on stdin, asks the
governance server and prints Claude Code's answer on stdout.

  --socket PATH      server socket (else $GOVERNANCE_SOCKET, else the default path)
  --timeout SECONDS  Claude Code's timeout for this hook (else $GOVERNANCE_HOOK_TIMEOUT, 600)

environment: GOVERNANCE_SOCKET, GOVERNANCE_WAIT_S (540), GOVERNANCE_FAIL_MODE (closed|open),
GOVERNANCE_SPOOL_DIR, GOVERNANCE_USER, GOVERNANCE_HOOK_TIMEOUT
"""


def option(name: str) -> str | None:
    """The value of `--name V` or `--name=V` on our command line (argparse is too slow here)."""
    argv = sys.argv[1:]
    for index, word in enumerate(argv):
        if word == name and index + 1 < len(argv):
            return argv[index + 1]
        if word.startswith(name + "="):
            return word[len(name) + 1 :]
    return None


def hook_timeout() -> float:
    """Claude Code's timeout for this hook: `--timeout N` (written by install-hook), else env."""
    value = option("--timeout")
    if value is not None:
        try:
            seconds = float(value)
        except ValueError:
            seconds = -1.0
        if seconds >= 0:
            return seconds
    return _float_env("GOVERNANCE_HOOK_TIMEOUT", DEFAULT_HOOK_TIMEOUT_S)


def wait_seconds(event_name: str) -> float:
    """How long the server may hold the call: a PreToolUse waits for approvals, a
    PermissionRequest for the person's click in Slack."""
    if event_name not in (PRE, PERMISSION):
        return 0.0
    wanted = _float_env("GOVERNANCE_WAIT_S", DEFAULT_WAIT_S)
    return max(0.0, min(wanted, hook_timeout() - WAIT_MARGIN_S))


def read_timeout(wait_s: float) -> float:
    # With a hook timeout under the margins, still answer before Claude Code gives up on us.
    return max(1.0, min(wait_s + READ_MARGIN_S, hook_timeout() - 5.0))


# ---------------------------------------------------------------- context


def current_user() -> str | None:
    for name in ("GOVERNANCE_USER", "USER", "LOGNAME"):
        value = os.environ.get(name)
        if value:
            return value
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError, OSError):
        return None


def _read_small(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return handle.read(4096).decode("utf-8", "replace").strip()
    except OSError:
        return None


def git_context(cwd: str | None) -> tuple[str | None, str | None]:
    """(repo root, checked-out branch) found by reading files, never by running git."""
    try:
        start = os.path.abspath(cwd) if cwd else os.getcwd()
    except OSError:
        return None, None
    directory = start
    while True:
        dot_git = os.path.join(directory, ".git")
        if os.path.isdir(dot_git):
            return directory, _branch(dot_git)
        if os.path.isfile(dot_git):
            # Worktrees and submodules: `.git` is a file naming the real git dir.
            text = _read_small(dot_git) or ""
            if not text.startswith("gitdir:"):
                return directory, None
            gitdir = os.path.join(directory, text[len("gitdir:") :].strip())
            return directory, _branch(gitdir)
        parent = os.path.dirname(directory)
        if parent == directory:
            return None, None
        directory = parent


def _branch(gitdir: str) -> str | None:
    head = _read_small(os.path.join(gitdir, "HEAD"))
    prefix = "ref: refs/heads/"
    if head and head.startswith(prefix):
        return head[len(prefix) :] or None
    return None  # detached HEAD, or unreadable


def build_context(event: dict) -> dict:
    cwd = event.get("cwd")
    repo, branch = git_context(cwd if isinstance(cwd, str) and cwd else None)
    try:
        host = socket.gethostname() or None
    except OSError:
        host = None
    return {
        "user": current_user(),
        "host": host,
        "repo": repo,
        "git_branch": branch,
        "home": os.path.expanduser("~"),
    }


# ---------------------------------------------------------------- socket


class TooLarge(Exception):
    """The event is over what the server accepts in one call."""


def encode_request(request: dict) -> bytes:
    """The request line, UTF-8 as it came (escaping every non-ASCII character could triple a
    large Write); raises TooLarge over the server's cap."""
    try:
        text = json.dumps(request, separators=(",", ":"), ensure_ascii=False)
        payload = (text + "\n").encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a \ud800 escape in the input
        payload = (json.dumps(request, separators=(",", ":")) + "\n").encode("utf-8")
    if len(payload) > MAX_LINE:
        raise TooLarge
    return payload


def ask_server(path: str, request: dict, wait_s: float) -> dict:
    """Send one request line, return the one response line as a dict, or raise ServerError."""
    payload = encode_request(request)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(CONNECT_TIMEOUT_S)
        try:
            sock.connect(path)
        except FileNotFoundError:
            raise ServerError("no socket file") from None
        except ConnectionRefusedError:
            raise ServerError("connection refused") from None
        except TimeoutError:
            raise ServerError(f"connect timed out after {CONNECT_TIMEOUT_S:g} s") from None
        except OSError as error:
            raise ServerError(_os_error(error)) from None
        limit = read_timeout(wait_s)
        deadline = time.monotonic() + limit
        try:
            sock.settimeout(limit)
            sock.sendall(payload)
            return _read_line(sock, deadline)
        except TimeoutError:
            raise ServerError(f"did not answer within {limit:g} s") from None
        except OSError as error:
            raise ServerError(_os_error(error)) from None
    finally:
        sock.close()


def _read_line(sock: socket.socket, deadline: float) -> dict:
    buffer = bytearray()
    while True:
        # One deadline for the whole line, so a server trickling bytes cannot hold us past it.
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        sock.settimeout(remaining)
        chunk = sock.recv(65536)
        if not chunk:
            break
        newline = chunk.find(b"\n")
        buffer += chunk if newline < 0 else chunk[:newline]
        if len(buffer) > MAX_RESPONSE:
            raise ServerError("response larger than 1 MB")
        if newline >= 0:
            break
    line = bytes(buffer).strip()
    if not line:
        raise ServerError("empty response, the server closed the connection")
    try:
        response = json.loads(line.decode("utf-8"))
    except ValueError:
        raise ServerError(f"response is not JSON: {_clip(line)}") from None
    if not isinstance(response, dict) or not isinstance(response.get("decision"), str):
        raise ServerError(f"response has no decision: {_clip(line)}")
    return response


def _os_error(error: OSError) -> str:
    return error.strerror or str(error) or error.__class__.__name__


def _clip(raw: bytes, limit: int = 80) -> str:
    text = raw.decode("utf-8", "replace")
    return repr(text if len(text) <= limit else text[:limit] + "...")


# ---------------------------------------------------------------- spool


def spool(record: dict) -> str:
    """Write one record atomically into the spool dir; return its path. Raises OSError."""
    directory = spool_dir()
    os.makedirs(directory, mode=0o700, exist_ok=True)
    name = f"{time.time_ns()}-{os.getpid()}-{os.urandom(4).hex()}.json"
    temporary = os.path.join(directory, ".tmp-" + name)
    final = os.path.join(directory, name)
    data = json.dumps(record).encode("utf-8")
    # Group-readable: a server running as a service user reads it through the group the
    # spool folder (mode 3730, setgid) gives every file; others never can.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    try:
        try:
            _write_all(fd, data)
            # The audit trail relies on this file after a crash, so it must reach the disk.
            os.fsync(fd)
        finally:
            os.close(fd)
        # The server ingests only `*.json`, so it never sees a half-written file.
        os.rename(temporary, final)
    except BaseException:
        _remove(temporary)
        raise
    return final


def _remove(path: str) -> bool:
    try:
        os.unlink(path)
    except OSError:
        return False
    return True


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


# ---------------------------------------------------------------- answers


def pre_answer(decision: str, reason: str) -> dict:
    return {
        "hookSpecificOutput": {
            "hookEventName": PRE,
            "permissionDecision": decision,
            "permissionDecisionReason": reason,
        }
    }


def _server_reason(response: dict) -> str:
    reason = response.get("reason")
    reason = reason.strip() if isinstance(reason, str) else ""
    approval = response.get("approval_id")
    decision = response["decision"]
    if not reason:
        rule = response.get("rule")
        reason = f"{decision} by rule {rule}" if isinstance(rule, str) and rule else decision
    if isinstance(approval, str) and approval and approval not in reason:
        # The agent needs the id to tell the human what to approve.
        reason += f" (approval {approval}; retry the same call after it is approved)"
    return "governance: " + reason


def permission_answer(decision: str, reason: object) -> dict | None:
    """Allow or deny from the remote prompt; anything else leaves the prompt to the terminal."""
    if decision not in ("allow", "deny"):
        return None
    answer: dict = {"behavior": decision}
    if decision == "deny":
        answer["message"] = "governance: " + (reason if isinstance(reason, str) else "denied")
    return {"hookSpecificOutput": {"hookEventName": PERMISSION, "decision": answer}}


def unreachable_reason(path: str, error: str) -> str:
    if error.startswith("did not answer"):
        return (
            f"governance: governance server at {path} {error}; the call is denied "
            "(is `governance serve` overloaded or stuck?)"
        )
    return (
        f"governance: governance server not reachable at {path} ({error}); "
        "start it with `governance serve`"
    )


def too_large() -> dict:
    return pre_answer(
        "deny",
        "governance: this tool call's input is over 16 MB, the most the governance server "
        "accepts in one call; the call is denied. Write a large file in smaller parts",
    )


def malformed(what: str) -> dict:
    return pre_answer(
        "deny", f"governance hook: malformed input from Claude Code: {what}; the call is denied"
    )


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
