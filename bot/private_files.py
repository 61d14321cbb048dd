"""Owner-only modes for what the server keeps on disk: its umask, its folders, the database check.
It refuses or creates; it never loosens or tightens the mode of a file someone else made."""

from __future__ import annotations

import os
import stat
from pathlib import Path

# Files 0600, folders 0700: the audit trail and the TOTP secrets are nobody else's business.
SERVER_UMASK = 0o077
# The socket's folder: the developers' group may reach the socket inside, not list the folder.
SOCKET_DIR_MODE = 0o710
# The spool: hooks run as the developers and drop their files here when the server is down.
# Group may create (w, x) but not list (no r); sticky: nobody removes another's file;
# setgid: every file gets the folder's group, so a server running as a service user reads it.
SPOOL_DIR_MODE = 0o3730


class LooseDatabaseMode(RuntimeError):
    """The database (or its WAL/SHM) is open to group or others: the server will not start."""


def database_files(db: Path) -> list[Path]:
    return [db, Path(f"{db}-wal"), Path(f"{db}-shm")]


def check_database(db: Path) -> None:
    """Refuse a database that group or others may read or write, naming the file and the fix."""
    for path in database_files(db):
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            continue
        if mode & 0o077:
            raise LooseDatabaseMode(
                f"{path} is open to group or others (mode {mode:04o}); it holds the audit "
                f"trail and the MFA secrets: run `chmod 600 {path}` and start again"
            )


def make_dir(path: Path, mode: int) -> bool:
    """Create `path` (and missing parents, owner-only) with exactly `mode`, if it is missing;
    True when this call created it."""
    if path.is_dir():
        return False
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        return False
    # mkdir's mode passes through the umask and drops setgid/sticky: set it as asked.
    os.chmod(path, mode)
    return True
