"""Who is asking (the peer as the kernel reports it) and the shape of every reply the server
sends. Data and constructors only: nothing here decides, waits or writes the audit."""

from __future__ import annotations

import asyncio
import pwd
import socket
import struct
from dataclasses import dataclass
from typing import Any

# A Unix-socket peer is on this machine: its host of record is ours, not what it claims.
LOCAL_HOST = socket.gethostname()


@dataclass(frozen=True, slots=True)
class Peer:
    """The caller as the kernel reports it (SO_PEERCRED), not as the request claims."""

    pid: int
    uid: int
    user: str
    # A remote client's host, named by its token (bot/remote.py); None: this machine's socket,
    # where uid and user are the kernel's. A remote uid means nothing here, so it is -1.
    host: str | None = None


def peer_of(writer: asyncio.StreamWriter) -> Peer:
    sock = writer.get_extra_info("socket")
    try:
        raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        pid, uid, _gid = struct.unpack("3i", raw)
    except (OSError, AttributeError):
        return Peer(0, -1, "unknown")
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:
        user = f"uid{uid}"
    return Peer(pid, uid, user)


def _reply(
    decision: str,
    reason: str,
    rule: str | None,
    approval_id: str | None = None,
    risk: str | None = None,
) -> dict[str, Any]:
    return {
        "decision": decision,
        "reason": reason,
        "rule": rule,
        "approval_id": approval_id,
        "risk": risk,
    }


def _error_reply(reason: str) -> dict[str, Any]:
    return _reply("deny", f"malformed request: {reason}", "protocol.malformed")
