"""Approval requests, votes, deadlines, grants, break-glass windows, alert levels and Slack
message ids on both backends. Rows in and out; the approval rules live in engine/approvals.py."""

from __future__ import annotations

import threading
import time
from typing import Any

from engine.approvals import ApprovalState, Approver, Vote, VoteRecord
from engine.breakglass import Window
from engine.redact import redact
from engine.state.records import (
    ApprovalRecord,
    Deadline,
    RedactedJson,
    approval_from_row,
    storable,
)

_APPROVAL_COLUMNS = (
    "id", "state", "created_at", "expires_at", "decided_at", "decided_note", "requester",
    "peer_user", "host", "repo", "branch", "session_id", "tool_name", "tool_input", "cwd",
    "action_key", "rule", "reason", "risk", "snapshot", "requester_uid", "requester_host",
)  # fmt: skip


class ApprovalStore:
    """The approval-side methods of `Store` (its connection and lock are the store's)."""

    db: Any
    _lock: threading.RLock

    def create_approval(self, record: dict[str, Any]) -> None:
        snapshot = record["snapshot"]
        tool_input = record.get("tool_input")
        fields = redact({k: v for k, v in record.items() if k not in ("snapshot", "tool_input")})
        row = dict.fromkeys(_APPROVAL_COLUMNS) | {
            name: storable(value) if isinstance(value, str) else value
            for name, value in fields.items()
        }
        row["tool_input"] = (
            tool_input if isinstance(tool_input, RedactedJson) else RedactedJson.of(tool_input)
        ).text
        row["snapshot"] = snapshot.model_dump_json()
        row["state"] = str(ApprovalState.PENDING)
        unknown = set(row) - set(_APPROVAL_COLUMNS)
        if unknown:
            raise ValueError(f"unknown approval fields: {sorted(unknown)}")
        self.db.execute(
            f"INSERT INTO approval_requests ({', '.join(_APPROVAL_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in _APPROVAL_COLUMNS)})",
            [row[name] for name in _APPROVAL_COLUMNS],
        )

    def approval(self, approval_id: str) -> ApprovalRecord | None:
        rows = list(
            self.db.query("SELECT * FROM approval_requests WHERE id = :id", {"id": approval_id})
        )
        return approval_from_row(rows[0]) if rows else None

    def pending_for_action(self, key: str) -> ApprovalRecord | None:
        rows = list(
            self.db.query(
                "SELECT * FROM approval_requests WHERE action_key = :key AND state = 'pending' "
                "ORDER BY created_at DESC LIMIT 1",
                {"key": key},
            )
        )
        return approval_from_row(rows[0]) if rows else None

    def pending_approvals(self) -> list[ApprovalRecord]:
        return [
            approval_from_row(row)
            for row in self.db.query(
                "SELECT * FROM approval_requests WHERE state = 'pending' ORDER BY created_at"
            )
        ]

    def cancelled_for_host(self, host: str) -> list[ApprovalRecord]:
        """The requests of remote `host` that were cancelled (by its revocation)."""
        return [
            approval_from_row(row)
            for row in self.db.query(
                "SELECT * FROM approval_requests WHERE requester_host = :host "
                "AND state = 'cancelled' ORDER BY created_at",
                {"host": host},
            )
        ]

    def votes(self, approval_id: str) -> tuple[VoteRecord, ...]:
        return tuple(
            VoteRecord(
                row["approver"],
                Vote(row["vote"]),
                row["via"],
                tuple((row["names"] or row["approver"]).split("\n")),
                row["approver_uid"],
            )
            for row in self.db.query(
                "SELECT * FROM approval_votes WHERE request_id = :id ORDER BY at",
                {"id": approval_id},
            )
        )

    def add_vote(self, approval_id: str, approver: Approver, vote: Vote, note: str | None) -> bool:
        """Store a vote once per (request, approver); False if it was already there."""
        cursor = self.db.execute(
            "INSERT INTO approval_votes (request_id, approver, vote, via, at, note, "
            "names, approver_uid) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [
                approval_id,
                approver.identity,
                str(vote),
                approver.via,
                time.time(),
                redact(note),
                "\n".join(sorted(approver.names)),
                approver.uid,
            ],
        )
        return cursor.rowcount == 1

    def finish_approval(
        self, approval_id: str, state: ApprovalState, note: str | None, now: float | None = None
    ) -> bool:
        """Move a pending request to a final state; False if something else got there first."""
        cursor = self.db.execute(
            "UPDATE approval_requests SET state = ?, decided_at = ?, decided_note = ? "
            "WHERE id = ? AND state = 'pending'",
            [str(state), now or time.time(), redact(note), approval_id],
        )
        return cursor.rowcount == 1

    def announce_finished(self, approval_id: str, state: ApprovalState) -> None:
        """Wake the other servers on this database; on SQLite there are none."""

    # ------------------------------------------------------------ deadlines

    def add_deadlines(self, approval_id: str, due: list[tuple[str, int, float]]) -> list[Deadline]:
        created = []
        for kind, level, due_at in due:
            (deadline_id,) = self.db.execute(
                "INSERT INTO deadlines (approval_id, kind, level, due_at) VALUES (?, ?, ?, ?) "
                "RETURNING id",
                [approval_id, kind, level, due_at],
            ).fetchone()
            created.append(Deadline(deadline_id, approval_id, kind, level, due_at))
        return created

    def pending_deadlines(self) -> list[Deadline]:
        return [
            Deadline(r["id"], r["approval_id"], r["kind"], r["level"], r["due_at"])
            for r in self.db.query(
                "SELECT * FROM deadlines WHERE state = 'pending' ORDER BY due_at"
            )
        ]

    def claim_deadline(self, deadline_id: int, now: float) -> Deadline | None:
        """Mark a due deadline fired; only the first caller gets it (at most once)."""
        cursor = self.db.execute(
            "UPDATE deadlines SET state = 'fired', fired_at = ? "
            "WHERE id = ? AND state = 'pending' AND due_at <= ?",
            [now, deadline_id, now],
        )
        if cursor.rowcount != 1:
            return None
        row = next(self.db.query("SELECT * FROM deadlines WHERE id = :id", {"id": deadline_id}))
        return Deadline(row["id"], row["approval_id"], row["kind"], row["level"], row["due_at"])

    def cancel_deadlines(self, approval_id: str) -> list[int]:
        ids = [
            r["id"]
            for r in self.db.query(
                "SELECT id FROM deadlines WHERE approval_id = :id AND state = 'pending'",
                {"id": approval_id},
            )
        ]
        self.db.execute(
            "UPDATE deadlines SET state = 'cancelled' WHERE approval_id = ? AND state = 'pending'",
            [approval_id],
        )
        return ids

    # ------------------------------------------------------------ break-glass and alerts

    def open_break_glass(self, window: Window) -> None:
        self.db.execute(
            'INSERT INTO break_glass (id, "user", reason, opened_at, closes_at) '
            "VALUES (?, ?, ?, ?, ?)",
            [window.id, window.user, window.reason, window.opened_at, window.closes_at],
        )

    def active_break_glass(self, names: tuple[str, ...], now: float) -> Window | None:
        marks = ", ".join("?" for _ in names) or "NULL"
        row = self.db.execute(
            f'SELECT id, "user", reason, opened_at, closes_at FROM break_glass WHERE "user" IN '
            f"({marks}) AND closed_at IS NULL AND closes_at > ? ORDER BY opened_at DESC LIMIT 1",
            [*names, now],
        ).fetchone()
        return Window(*row) if row else None

    def close_break_glass(self, window_id: str, now: float) -> Window | None:
        """Close an open window once; the window, or None if it was already closed."""
        cursor = self.db.execute(
            "UPDATE break_glass SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
            [now, window_id],
        )
        if cursor.rowcount != 1:
            return None
        row = self.db.execute(
            'SELECT id, "user", reason, opened_at, closes_at FROM break_glass WHERE id = ?',
            [window_id],
        ).fetchone()
        return Window(*row)

    def alert_level(self, key: str) -> str | None:
        row = self.db.execute("SELECT level FROM alert_state WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_alert_level(self, key: str, level: str, now: float) -> None:
        self.db.execute(
            "INSERT INTO alert_state (key, level, since) VALUES (?, ?, ?) ON CONFLICT (key) "
            "DO UPDATE SET level = excluded.level, since = excluded.since",
            [key, level, now],
        )

    # ------------------------------------------------------------ Slack messages

    def set_slack_message(self, approval_id: str, channel: str, ts: str) -> None:
        self.db.execute(
            "INSERT INTO slack_messages (approval_id, channel, ts) VALUES (?, ?, ?) "
            "ON CONFLICT (approval_id) DO UPDATE SET channel = excluded.channel, ts = excluded.ts",
            [approval_id, channel, ts],
        )

    def slack_message(self, approval_id: str) -> tuple[str, str] | None:
        row = self.db.execute(
            "SELECT channel, ts FROM slack_messages WHERE approval_id = ?", [approval_id]
        ).fetchone()
        return (row[0], row[1]) if row else None

    # ------------------------------------------------------------ grants

    def add_grant(self, approval_id: str, key: str) -> None:
        self.db.execute(
            "INSERT INTO grants (request_id, action_key, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            [approval_id, key, time.time()],
        )

    def has_live_grant(self, key: str) -> bool:
        """Whether this action holds a grant neither used nor expired: one indexed read, so
        the decisions of actions never approved (nearly all) skip the writes below."""
        return (
            self.db.execute(
                "SELECT 1 FROM grants WHERE action_key = ? AND used_at IS NULL "
                "AND expired_at IS NULL LIMIT 1",
                [key],
            ).fetchone()
            is not None
        )

    def expire_grants(self, created_before: float, key: str | None = None) -> list[str]:
        """Mark unused grants older than `created_before` expired (of one action, or all);
        the approval ids of the grants this call expired, each reported once."""
        where = "used_at IS NULL AND expired_at IS NULL AND created_at < ?"
        params: list[Any] = [created_before]
        if key is not None:
            where += " AND action_key = ?"
            params.append(key)
        with self._lock:
            rows = self.db.execute(
                f"UPDATE grants SET expired_at = ? WHERE {where} RETURNING request_id",
                [time.time(), *params],
            ).fetchall()
        return [row[0] for row in rows]

    def use_grant(self, key: str) -> str | None:
        """Consume the oldest live grant for this action; its approval id, or None."""
        with self._lock:
            row = self.db.execute(
                "SELECT request_id FROM grants WHERE action_key = ? AND used_at IS NULL "
                "AND expired_at IS NULL ORDER BY created_at LIMIT 1",
                [key],
            ).fetchone()
            if row is None:
                return None
            cursor = self.db.execute(
                "UPDATE grants SET used_at = ? WHERE request_id = ? AND used_at IS NULL",
                [time.time(), row[0]],
            )
            return row[0] if cursor.rowcount == 1 else None
