"""Witnesses of the audit chain's head: the interface every witness implements, the append-only
witness file, and reading a table's state (archives included) for the anchor check. No policy."""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any, Protocol

from engine.anchors import Anchor, TableState, WitnessLog, read_witness, witness_line
from engine.audit import verify_chain
from engine.store import Store


class Witness(Protocol):
    """Somewhere the chain's head is published that the agent cannot write. Another witness
    (the team service) is one more class with this method."""

    name: str

    async def publish(self, anchor: Anchor) -> None: ...


class WitnessFile:
    """An append-only JSON-lines file owned by the service user (0600 in a 0700 folder); each
    line carries the digest of the line before, so an edit in the middle shows."""

    name = "witness file"

    def __init__(self, path: Path) -> None:
        self.path = path

    async def publish(self, anchor: Anchor) -> None:
        self.append(anchor)

    def append(self, anchor: Anchor) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(descriptor, "r+b") as handle:
            # The server and `audit prune` may both append: one writer at a time keeps the links.
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                line = witness_line(anchor, _last_line(handle))
                handle.write(line.encode() + b"\n")
                handle.flush()
                os.fsync(handle.fileno())
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def read(self) -> WitnessLog | None:
        """The anchors in the file; None when there is no file yet."""
        try:
            with open(self.path, encoding="utf-8", errors="replace") as handle:
                return read_witness(handle)
        except FileNotFoundError:
            return None


def _last_line(handle: Any) -> str | None:
    end = handle.seek(0, os.SEEK_END)
    window = 4096
    while True:
        start = max(0, end - window)
        handle.seek(start)
        lines = handle.read(end - start).rstrip(b"\n").split(b"\n")
        if len(lines) > 1 or start == 0:
            last = lines[-1].decode("utf-8", "replace")
            return last or None
        window *= 4


def current_anchor(store: Store, reason: str) -> Anchor | None:
    """The head as it stands, with the checkpoint it stands on; None for an empty table."""
    head = store.head()
    if head is None:
        return None
    checkpoint = store.latest_checkpoint()
    return Anchor(
        seq=head[0],
        hash=head[1],
        rows=store.audit_count(),
        ts=time.time(),
        reason=reason,
        checkpoint_seq=checkpoint["last_pruned_seq"] if checkpoint else None,
        checkpoint_hash=checkpoint["last_pruned_hash"] if checkpoint else None,
    )


def table_state(store: Store, anchor: Anchor) -> TableState:
    head = store.head()
    checkpoints = store.checkpoints()
    latest = checkpoints[-1] if checkpoints else None
    archive_problem, archived = None, None
    if latest is not None:
        archive_problem, hashes = read_archive(latest)
        covering = next((c for c in checkpoints if anchor.seq <= c["last_pruned_seq"]), None)
        if covering is not None and covering is not latest:
            problem, hashes = read_archive(covering)
            archive_problem = archive_problem or problem
        archived = hashes.get(anchor.seq)
    return TableState(
        rows=store.audit_count(),
        last_seq=head[0] if head else None,
        hash_at_anchor=store.hash_at(anchor.seq),
        checkpoint_seq=latest["last_pruned_seq"] if latest else None,
        checkpoint_hash=latest["last_pruned_hash"] if latest else None,
        archive_problem=archive_problem,
        archived_hash_at_anchor=archived,
    )


def read_archive(checkpoint: dict[str, Any]) -> tuple[str | None, dict[int, str]]:
    """(what is wrong with a prune's archive or None, seq -> hash of the rows it holds)."""
    path = Path(checkpoint["archive"])
    try:
        data = path.read_bytes()
    except OSError as error:
        return f"its archive {path} cannot be read ({error.strerror})", {}
    if hashlib.sha256(data).hexdigest() != checkpoint["archive_sha256"]:
        return f"its archive {path} does not match the sha256 recorded at the prune", {}
    rows = []
    with contextlib.suppress(OSError, EOFError, ValueError):
        lines = gzip.decompress(data).decode("utf-8").splitlines()
        rows = [json.loads(line) for line in lines[1:]]
    if not rows:
        return f"its archive {path} holds no rows", {}
    chain = verify_chain(rows, start_hash=rows[0]["prev_hash"], start_seq=rows[0]["seq"])
    last = rows[-1]
    if (
        not chain.ok
        or last["seq"] != checkpoint["last_pruned_seq"]
        or last["hash"] != checkpoint["last_pruned_hash"]
    ):
        return f"its archive {path} does not chain up to the checkpoint", {}
    return None, {row["seq"]: row["hash"] for row in rows}
