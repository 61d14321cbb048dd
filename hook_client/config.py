"""The hook's settings from its command line and environment: socket, spool, fail mode, timeouts.
Standard library only, no argparse (too slow at every tool call); it reads, never writes."""

import os
import sys

from hook_client.answers import PERMISSION, PRE

DEFAULT_WAIT_S = 540.0
DEFAULT_HOOK_TIMEOUT_S = 600.0

# The server answers within wait_s; these margins leave time to print the answer before
# Claude Code's own timeout, after which it would treat the call as undecided and run it.
WAIT_MARGIN_S = 20.0
READ_MARGIN_S = 15.0


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
