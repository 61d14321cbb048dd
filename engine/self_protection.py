"""What built-in self-protection guards: where this machine's governance state lives, and the
rule ids of the guard (engine/rules/self_protection.py). Configuration only; it judges nothing."""

from __future__ import annotations

from dataclasses import dataclass

RULE_PREFIX = "builtin.self_protection."
STATE_RULE = RULE_PREFIX + "state"
SETTINGS_RULE = RULE_PREFIX + "hook_settings"
CLI_RULE = RULE_PREFIX + "governance_cli"
STOP_RULE = RULE_PREFIX + "stop_server"
RULES = (STATE_RULE, SETTINGS_RULE, CLI_RULE, STOP_RULE)

# Claude Code's settings files that can hold (or drop) our hook: project and user level
# (`<dir>/.claude/settings.json`, `settings.local.json`) and the organisation's managed file.
SETTINGS_TAILS = ("/.claude/settings.json", "/.claude/settings.local.json")
MANAGED_SETTINGS = (
    "/etc/claude-code/managed-settings.json",
    "/Library/Application Support/ClaudeCode/managed-settings.json",
)
# `find` options that act on every file found (run it, delete it, print it to a file).
FIND_ACTIONS = frozenset({"-exec", "-execdir", "-ok", "-okdir", "-delete", "-fprint"})


def path_candidates(value: str) -> tuple[str, ...]:
    """The paths an argument may name: itself, an option's value (`--db=PATH`) and what follows
    an address prefix (`UNIX-CONNECT:PATH`, `unix:PATH`), which socat or a driver opens."""
    candidates = [value]
    if value.startswith("-") and "=" in value:
        candidates.append(value.split("=", 1)[1])
    if ":" in value:
        candidates.append(value.rsplit(":", 1)[1])
    return tuple(dict.fromkeys(c for c in candidates if c))


@dataclass(frozen=True, slots=True)
class ProtectedState:
    """Where this machine's governance state lives, as the server is configured.

    `server_command` is the server's argv (its process name and command line, for `pkill`);
    `server_pid` its pid. Paths may be None when unknown (e.g. `governance policy test`).
    """

    database: str | None = None
    socket: str | None = None
    spool: str | None = None
    policy: str | None = None
    server_pid: int | None = None
    server_name: str = "governance"  # the process name `pkill NAME` and `killall` match
    server_command: tuple[str, ...] = ("governance", "serve")  # the line `pkill -f` matches
    witness: str | None = None  # the audit chain's witness file (anchors of its head)
