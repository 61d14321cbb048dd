"""Where things live: every path has a flag and an environment variable, the flag winning.
Resolves paths only; it opens nothing but /proc/self (the hook has its own stdlib copy of the
socket rule)."""

from __future__ import annotations

import getpass
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from engine.self_protection import ProtectedState
from engine.state import POSTGRES_SCHEMES

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


def db_path(flag: str | None = None) -> Path | str:
    """A SQLite file's path, or a postgresql:// URL kept as text (a Path would mangle it)."""
    value = flag or os.environ.get("GOVERNANCE_DB")
    if value and value.startswith(("postgresql://", "postgres://")):
        return value
    return Path(value or state_dir() / "governance.db")


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
    db: Path | str
    spool: Path
    policy: str | None
    # The group whose members (the developers' accounts) may reach the socket (mode 0660).
    socket_group: str | None = None
    max_wait_s: float = 3600.0
    idle_timeout_s: float = 10.0
    # The hook accepts 16 MB of event on stdin (a large Write); the line adds the envelope.
    max_line_bytes: int = 17 * 1024 * 1024

    def protected_state(self) -> ProtectedState:
        """What the engine's self-protection rules keep agents away from: this server's state,
        its pid, and its process name and command line (what `pkill` would match)."""
        return protected_state(self.db, self.socket, self.spool, self.policy, server=True)


def protected_state(
    db: Path | str, socket: Path, spool: Path, policy: str | None, server: bool = False
) -> ProtectedState:
    """Self-protection's view of the state at these paths; `server` adds this process."""
    local_db = None if isinstance(db, str) and db.startswith(POSTGRES_SCHEMES) else db
    absolute = [os.path.abspath(p) if p else None for p in (local_db, socket, spool, policy)]
    if not server:
        return ProtectedState(*absolute)
    return ProtectedState(*absolute, os.getpid(), *_this_process())


def _this_process() -> tuple[str, tuple[str, ...]]:
    try:
        with open("/proc/self/comm", encoding="utf-8") as comm:
            name = comm.read().strip()
        with open("/proc/self/cmdline", "rb") as cmdline:
            line = tuple(a.decode("utf-8", "replace") for a in cmdline.read().split(b"\0") if a)
    except OSError:  # no /proc (macOS): the script's name and argv are what ps shows
        return os.path.basename(sys.argv[0]), (sys.executable, *sys.argv)
    return name, line


DB_HELP = (
    "audit database: a SQLite file or a postgresql:// URL (default $GOVERNANCE_DB, else "
    "~/.local/state/governance/governance.db)"
)
SOCKET_HELP = "server socket (default $GOVERNANCE_SOCKET, else the per-user runtime socket)"


def product_version() -> str:
    """The installed distribution's version, for --version and exported events."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("claude-governance")
    except PackageNotFoundError:
        return "unknown (not installed)"
