"""The spool: an event the server could not take, written atomically and synced for the audit
trail, for the server to ingest later. Standard library only; it never deletes a spooled event."""

import json
import os
import time

from hook_client.config import spool_dir


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
