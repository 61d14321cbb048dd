"""The audit trail's hash chain: how a row's hash is made and how a chain is verified.
Pure: rows come in as mappings; reading and writing them is the store's job."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
# Every stored column except the hash itself is covered, so editing any of them shows.
CHAINED_FIELDS = (
    "seq",
    "ts",
    "kind",
    "session_id",
    "user",
    "peer_user",
    "host",
    "repo",
    "branch",
    "tool_name",
    "decision",
    "would_be",
    "mode",
    "rule",
    "risk",
    "reason",
    "approval_id",
    "payload",
    "prev_hash",
)


def canonical(record: Mapping[str, Any]) -> str:
    return json.dumps(
        {name: record.get(name) for name in CHAINED_FIELDS},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )


def row_hash(record: Mapping[str, Any]) -> str:
    """sha256 over the previous hash (a field of the record) and the record's content."""
    return hashlib.sha256(canonical(record).encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None


def verify_chain(
    rows: Iterable[Mapping[str, Any]], start_hash: str = GENESIS, start_seq: int | None = None
) -> ChainReport:
    """Walk rows in seq order; name the first row whose link or content does not check out."""
    expected_prev = start_hash
    expected_seq = start_seq
    checked = 0
    for row in rows:
        seq = row["seq"]
        if expected_seq is not None and seq != expected_seq:
            return ChainReport(
                False, checked, expected_seq, f"row {expected_seq} is missing (next row is {seq})"
            )
        if row["prev_hash"] != expected_prev:
            return ChainReport(False, checked, seq, f"row {seq} does not link to the row before it")
        if row_hash(row) != row["hash"]:
            return ChainReport(False, checked, seq, f"row {seq} was changed after it was written")
        expected_prev = row["hash"]
        expected_seq = seq + 1
        checked += 1
    return ChainReport(True, checked)
