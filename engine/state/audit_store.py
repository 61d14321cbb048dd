"""The audit trail's table on both backends: chained appends, reads, stream cursors, verify
and retention prune. The chain's rules are engine/audit.py's; it decides nothing."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from engine.audit import CHAINED_FIELDS, GENESIS, ChainReport, row_hash, verify_chain
from engine.state.records import ApprovalRecord, audit_record

_DELETE_GUARD = (
    "CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit "
    "BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END"
)
_AUDIT_COLUMNS = (*CHAINED_FIELDS, "hash")
# Quoted: `user` is a reserved word in PostgreSQL (it means CURRENT_USER there).
_QUOTED_AUDIT_COLUMNS = ", ".join(f'"{name}"' for name in _AUDIT_COLUMNS)
_AUDIT_INSERT = (
    f"INSERT INTO audit ({_QUOTED_AUDIT_COLUMNS}) VALUES ({', '.join('?' for _ in _AUDIT_COLUMNS)})"
)


class AuditStore:
    """The audit methods of `Store` (its connection and write transaction are the store's)."""

    db: Any
    _write: Callable[[], contextlib.AbstractContextManager[None]]

    def _tail(self) -> tuple[int, str]:
        """(seq, hash) of the newest row; after a prune that left nothing, its checkpoint's."""
        row = self.db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        if row:
            return row[0], row[1]
        checkpoint = self.latest_checkpoint()
        return (
            (checkpoint["last_pruned_seq"], checkpoint["last_pruned_hash"])
            if checkpoint
            else (0, GENESIS)
        )

    def append_audit(self, kind: str, **fields: Any) -> int:
        """Append one redacted, hash-chained row; returns its seq."""
        (seq,) = self.append_audit_records([audit_record(kind, fields)])
        return seq

    def append_approval_audit(self, kind: str, approval: ApprovalRecord, **fields: Any) -> int:
        """A row about `approval`: its id, session, tool and requester, and `fields`."""
        return self.append_audit(
            kind,
            approval_id=approval.id,
            session_id=approval.session_id,
            tool_name=approval.tool_name,
            user=approval.requester,
            **fields,
        )

    def append_audit_records(self, records: list[dict[str, Any]]) -> list[int]:
        """Chain rows made by `audit_record`, in order, and append them in one transaction
        (one commit, all or none); their seqs."""
        with self._write():
            seq, previous = self._tail()
            rows = []
            for record in records:
                seq += 1
                record.update(seq=seq, prev_hash=previous)
                previous = record["hash"] = row_hash(record)
                rows.append([record[name] for name in _AUDIT_COLUMNS])
            # The hot path of every decision: a prepared statement, not per-row introspection.
            self._insert_many(_AUDIT_INSERT, rows)
        return [record["seq"] for record in records]

    def _insert_many(self, sql: str, rows: list[list[Any]]) -> None:
        self.db.conn.executemany(sql, rows)

    def audit_rows(
        self, where: str = "", params: dict[str, Any] | None = None, order: str = "seq"
    ) -> Iterator[dict[str, Any]]:
        sql = f"SELECT * FROM audit {('WHERE ' + where) if where else ''} ORDER BY {order}"
        yield from self.db.query(sql, params or {})

    def decision_rows(self, since: float) -> Iterator[dict[str, Any]]:
        """Recorded tool-call decisions since `since`, oldest first, streamed, for policy
        replay: seq, ts, user, tool_name, decision, rule, repo, branch, payload."""
        yield from self._stream(
            'SELECT seq, ts, "user", tool_name, decision, rule, repo, branch, payload '
            "FROM audit WHERE kind = 'decision' AND ts >= :since ORDER BY seq",
            {"since": since},
        )

    def _stream(self, sql: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield from self.db.query(sql, params)

    def rows_after(self, seq: int, limit: int) -> list[dict[str, Any]]:
        """Up to `limit` audit rows after `seq`, oldest first (what a stream has not sent)."""
        return list(
            self.db.query(
                "SELECT * FROM audit WHERE seq > :seq ORDER BY seq LIMIT :limit",
                {"seq": seq, "limit": limit},
            )
        )

    def last_seq(self) -> int:
        return self._tail()[0]

    def stream_cursor(self, sink: str) -> int | None:
        row = self.db.execute("SELECT seq FROM stream_cursors WHERE sink = ?", [sink]).fetchone()
        return None if row is None else row[0]

    def set_stream_cursor(self, sink: str, seq: int) -> None:
        self.db.execute(
            "INSERT INTO stream_cursors (sink, seq) VALUES (?, ?) "
            "ON CONFLICT (sink) DO UPDATE SET seq = excluded.seq",
            [sink, seq],
        )

    def flag_false_positive(self, audit_id: int, user: str, note: str) -> tuple[int, str] | None:
        """Record that a decision was wrong; (new row's seq, the flagged rule), or None."""
        row = self.db.execute("SELECT rule FROM audit WHERE seq = ?", [audit_id]).fetchone()
        if row is None:
            return None
        seq = self.append_audit(
            "false_positive",
            user=user,
            decision="flagged",
            rule=row[0],
            reason=note,
            payload={"audit_id": audit_id, "rule": row[0]},
        )
        return seq, row[0]

    def head(self) -> tuple[int, str] | None:
        """(seq, hash) of the newest row, or None for an empty table."""
        row = self.db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        return (row[0], row[1]) if row else None

    def audit_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM audit").fetchone()[0]

    def hash_at(self, seq: int) -> str | None:
        row = self.db.execute("SELECT hash FROM audit WHERE seq = ?", [seq]).fetchone()
        return row[0] if row else None

    def checkpoints(self) -> list[dict[str, Any]]:
        """Every retention checkpoint, oldest first."""
        return list(self.db.query("SELECT * FROM audit_checkpoints ORDER BY id"))

    def latest_checkpoint(self) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM audit_checkpoints ORDER BY id DESC LIMIT 1"))
        return rows[0] if rows else None

    def verify(self) -> ChainReport:
        """Walk the chain; after a prune, from the checkpoint the prune recorded in the chain."""
        checkpoint = self.latest_checkpoint()
        if checkpoint is None:
            return verify_chain(self.audit_rows())
        recorded = self.db.execute(
            "SELECT seq FROM audit WHERE kind = 'retention_prune' AND reason = ?",
            [f"checkpoint {checkpoint['last_pruned_hash']}"],
        ).fetchone()
        if recorded is None:
            return ChainReport(
                False,
                0,
                checkpoint["last_pruned_seq"] + 1,
                "the latest prune checkpoint is not recorded in the audit chain",
            )
        return verify_chain(
            self.audit_rows(),
            start_hash=checkpoint["last_pruned_hash"],
            start_seq=checkpoint["last_pruned_seq"] + 1,
        )

    def prune(self, before: float, archive_dir: Path) -> dict[str, Any] | None:
        """Archive rows older than `before` to compressed JSONL, then remove them.

        The archive holds the rows and the checkpoint (the last pruned row's seq and hash);
        the chain of what remains restarts from that checkpoint, which is itself recorded as
        a `retention_prune` row. Returns the checkpoint, or None when nothing was old enough.
        """
        archive_dir.mkdir(parents=True, exist_ok=True)
        with self._write():
            rows = list(
                self.db.query(
                    "SELECT * FROM audit WHERE ts < :before ORDER BY seq", {"before": before}
                )
            )
            if not rows:
                return None
            last = rows[-1]
            path = archive_dir / f"audit-{rows[0]['seq']}-{last['seq']}.jsonl.gz"
            with gzip.open(path, "wt", encoding="utf-8") as archive:
                archive.write(
                    json.dumps(
                        {
                            "checkpoint": {
                                "last_pruned_seq": last["seq"],
                                "last_pruned_hash": last["hash"],
                            }
                        }
                    )
                    + "\n"
                )
                for row in rows:
                    archive.write(json.dumps(row, ensure_ascii=False) + "\n")
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            self._delete_audit_through(last["seq"])
            checkpoint = {
                "created_at": time.time(),
                "last_pruned_seq": last["seq"],
                "last_pruned_hash": last["hash"],
                "archive": str(path),
                "archive_sha256": digest,
                "rows": len(rows),
            }
            self.db.execute(
                "INSERT INTO audit_checkpoints (created_at, last_pruned_seq, last_pruned_hash, "
                "archive, archive_sha256, rows) VALUES (?, ?, ?, ?, ?, ?)",
                list(checkpoint.values()),
            )
        self.append_audit(
            "retention_prune",
            decision="pruned",
            reason=f"checkpoint {last['hash']}",
            payload=checkpoint,
        )
        return checkpoint

    def _delete_audit_through(self, seq: int) -> None:
        # The one sanctioned delete: lift the guard, delete, restore it, in one transaction.
        self.db.execute("DROP TRIGGER audit_append_only_delete")
        self.db.execute("DELETE FROM audit WHERE seq <= ?", [seq])
        self.db.execute(_DELETE_GUARD)
