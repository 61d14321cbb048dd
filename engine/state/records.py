"""What the store hands out and takes in: approval and deadline records, redacted JSON, and
the audit row to chain. Plain data and its preparation; it runs no SQL."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

from engine.approvals import ApprovalState, RuleSnapshot
from engine.audit import CHAINED_FIELDS
from engine.redact import redact

_TEXT_FIELDS = frozenset(CHAINED_FIELDS) - {"seq", "ts"}
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Deadline:
    """A timer that must fire once: escalate a request to the next level, or expire it."""

    id: int
    approval_id: str
    kind: str  # "escalate" or "expire"
    level: int
    due_at: float


def audit_record(kind: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The redacted row to chain, with every value in the type both backends store and return
    (text as str, ts as float), so the hash computed now is the hash `verify` recomputes."""
    payload = fields.pop("payload", None)
    record: dict[str, Any] = {name: None for name in CHAINED_FIELDS}
    record.update(redact({k: v for k, v in fields.items() if k in _TEXT_FIELDS}))
    for name in _TEXT_FIELDS:
        if record[name] is not None:
            record[name] = storable(str(record[name]))
    record.update(
        ts=float(fields.get("ts") or time.time()),
        kind=storable(kind),
        payload=payload.text
        if isinstance(payload, RedactedJson)
        else RedactedJson.of(payload).text
        if payload is not None
        else None,
    )
    return record


@dataclass(frozen=True, slots=True)
class RedactedJson:
    """A value already redacted and serialised, so a large one can be prepared off the event
    loop; only `of` makes one, so nothing reaches the store unredacted."""

    text: str

    @classmethod
    def of(cls, value: Any) -> RedactedJson:
        text = json.dumps(redact(value), sort_keys=True, ensure_ascii=False, default=str)
        return cls(storable(text))


def storable(text: str) -> str:
    """`text` as both databases store it: each NUL (PostgreSQL refuses it) and lone
    surrogate (JSON's "\\ud800"; no UTF-8 form) becomes U+FFFD: recorded, not lost."""
    return _UNSTORABLE.sub("\ufffd", text)


@dataclass(frozen=True, slots=True)
class ApprovalRecord:
    id: str
    state: ApprovalState
    created_at: float
    expires_at: float
    decided_at: float | None
    decided_note: str | None
    requester: str | None
    peer_user: str | None
    host: str | None
    repo: str | None
    branch: str | None
    session_id: str | None
    tool_name: str | None
    tool_input: dict[str, Any]
    cwd: str | None
    action_key: str
    rule: str | None
    reason: str | None
    risk: str | None
    snapshot: RuleSnapshot
    # The requester of record: the kernel's uid of the hook's process (SO_PEERCRED) on this
    # host. `requester` is only the label the hook reported; `peer_user` is the uid's name.
    requester_uid: int | None = None
    requester_host: str | None = None

    @property
    def requester_label(self) -> str:
        """`label (uid N name)` for messages: the claimed name beside the kernel's word."""
        label = self.requester or self.peer_user or "unknown"
        if self.requester_uid is None:
            return label
        name = f" {self.peer_user}" if self.peer_user and self.peer_user != label else ""
        return f"{label} (uid {self.requester_uid}{name})"


def approval_from_row(row: dict[str, Any]) -> ApprovalRecord:
    return ApprovalRecord(
        **{
            **row,
            "state": ApprovalState(row["state"]),
            "tool_input": json.loads(row["tool_input"] or "{}"),
            "snapshot": RuleSnapshot.model_validate_json(row["snapshot"]),
        }
    )
