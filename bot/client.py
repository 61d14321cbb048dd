"""Talks to a running server over its Unix socket, for the admin commands of the CLI.
The kernel tells the server who we are (SO_PEERCRED); nothing here claims an identity."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any


class ServerUnreachable(RuntimeError):
    pass


def call(socket_path: Path, request: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(timeout)
            connection.connect(str(socket_path))
            connection.sendall(json.dumps({"v": 1, **request}).encode() + b"\n")
            reply = connection.makefile("rb").readline()
    except OSError as error:
        raise ServerUnreachable(
            f"governance server not reachable at {socket_path} ({error}); "
            "start it with `governance serve`"
        ) from None
    if not reply:
        raise ServerUnreachable(f"governance server at {socket_path} closed the connection")
    return json.loads(reply)
