"""Where things live: every path has a flag and an environment variable, the flag winning.
Resolves paths only; it opens nothing but /proc/self (the hook has its own stdlib copy of the
socket rule)."""

from __future__ import annotations

import getpass
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

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


def witness_path(flag: str | None = None, db: Path | str | None = None) -> Path:
    """The witness file: flag, $GOVERNANCE_WITNESS, else beside a SQLite database (in the state
    folder for a PostgreSQL one)."""
    chosen = flag or os.environ.get("GOVERNANCE_WITNESS")
    if chosen:
        return Path(chosen)
    db = db or db_path()
    if isinstance(db, str):  # one file per PostgreSQL database, named without its password
        where = urlsplit(db)
        name = f"{where.hostname or 'local'}-{where.port or 5432}{where.path.replace('/', '-')}"
        return state_dir() / f"{name}.witness.jsonl"
    db = Path(db)
    return db.with_name(f"{db.stem}.witness.jsonl")


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
    # A connection silent this long is dropped; a whole request line must arrive within
    # line_timeout_s however steadily it trickles.
    idle_timeout_s: float = 10.0
    line_timeout_s: float = 60.0
    # One request line: the hook's event (16 MB at most, a large Write) plus its envelope.
    # The hook refuses a bigger event itself, with a clear reason, before sending it.
    max_line_bytes: int = 17 * 1024 * 1024
    # The chain's head goes to the witnesses when it changed and this long has passed, or this
    # many rows were added, and at shutdown. None: beside the database.
    witness: Path | None = None
    anchor_interval_s: float = 60.0
    anchor_rows: int = 1000
    # What all connections together may hold of requests not yet parsed.
    max_buffered_bytes: int = 64 * 1024 * 1024

    def protected_state(self) -> ProtectedState:
        """What the engine's self-protection rules keep agents away from: this server's state,
        its pid, and its process name and command line (what `pkill` would match)."""
        return protected_state(
            self.db, self.socket, self.spool, self.policy, server=True, witness=self.witness
        )


def protected_state(
    db: Path | str,
    socket: Path,
    spool: Path,
    policy: str | None,
    server: bool = False,
    witness: Path | None = None,
) -> ProtectedState:
    """Self-protection's view of the state at these paths; `server` adds this process."""
    local_db = None if isinstance(db, str) and db.startswith(POSTGRES_SCHEMES) else db
    absolute = [os.path.abspath(p) if p else None for p in (local_db, socket, spool, policy)]
    anchors = os.path.abspath(witness or witness_path(None, db))
    if not server:
        return ProtectedState(*absolute, witness=anchors)
    return ProtectedState(*absolute, os.getpid(), *_this_process(), witness=anchors)


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
