"""Where things live: every path has a flag and an environment variable, the flag winning.
Resolves paths only; it opens nothing (the hook has its own stdlib copy of the socket rule)."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_POLICY = Path(".claude/governance/policies.json")


def state_dir() -> Path:
    return Path(os.path.expanduser("~/.local/state/governance"))


def default_socket() -> Path:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return Path(runtime) / "governance" / "governance.sock"
    return state_dir() / "governance.sock"


def socket_path(flag: str | None = None) -> Path:
    return Path(flag or os.environ.get("GOVERNANCE_SOCKET") or default_socket())


def db_path(flag: str | None = None) -> Path:
    return Path(flag or os.environ.get("GOVERNANCE_DB") or state_dir() / "governance.db")


def spool_dir(flag: str | None = None) -> Path:
    return Path(flag or os.environ.get("GOVERNANCE_SPOOL_DIR") or state_dir() / "spool")


def current_user() -> str:
    return getpass.getuser()


def policy_path(flag: str | None = None) -> str | None:
    """Flag, then $GOVERNANCE_POLICY, then the project's file; None means the built-in policy."""
    if flag:
        return flag
    if os.environ.get("GOVERNANCE_POLICY"):
        return os.environ["GOVERNANCE_POLICY"]
    return str(PROJECT_POLICY) if PROJECT_POLICY.exists() else None


@dataclass(frozen=True, slots=True)
class ServerConfig:
    socket: Path
    db: Path
    spool: Path
    policy: str | None
    max_wait_s: float = 3600.0
    idle_timeout_s: float = 10.0
    # The hook accepts 16 MB of event on stdin (a large Write); the line adds the envelope.
    max_line_bytes: int = 17 * 1024 * 1024


DB_HELP = "audit database (default $GOVERNANCE_DB, else ~/.local/state/governance/governance.db)"
SOCKET_HELP = "server socket (default $GOVERNANCE_SOCKET, else the per-user runtime socket)"


def product_version() -> str:
    """The installed distribution's version, for --version and exported events."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("claude-governance")
    except PackageNotFoundError:
        return "unknown (not installed)"
