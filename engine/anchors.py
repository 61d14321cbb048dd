"""Anchors of the audit chain: the head (seq, hash, row count) published to witnesses the agent
cannot write, and the check of a table against the latest one. Pure: no file or network I/O."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from engine.audit import GENESIS

GIVEN = "given"  # an anchor typed on the command line, copied from the security channel


@dataclass(frozen=True, slots=True)
class Anchor:
    """The chain's head at one moment, and the retention checkpoint it stood on."""

    seq: int
    hash: str
    rows: int
    ts: float
    reason: str  # "interval", "shutdown", "prune", …
    checkpoint_seq: int | None = None
    checkpoint_hash: str | None = None

    def describe(self) -> str:
        if self.reason == GIVEN:
            return f"the anchor row {self.seq} (hash {self.hash[:16]}…) given with --anchor"
        return (
            f"the anchor row {self.seq} (hash {self.hash[:16]}…, {self.rows} rows) "
            f"published {_when(self.ts)} ({self.reason})"
        )

    def short(self) -> str:
        """What a person copies from Slack to `audit verify --anchor`."""
        return f"{self.seq}:{self.hash}"


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


# --- the witness file: one JSON line per anchor, each carrying the digest of the line before ---


def line_digest(line: str) -> str:
    return hashlib.sha256(line.encode("utf-8")).hexdigest()


def witness_line(anchor: Anchor, previous_line: str | None) -> str:
    """The line to append: the anchor plus `prev`, the digest of the line before (or GENESIS),
    so an edited or removed line in the middle of the file shows."""
    record = {**asdict(anchor), "prev": line_digest(previous_line) if previous_line else GENESIS}
    return json.dumps(record, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class WitnessLog:
    anchors: tuple[Anchor, ...]
    problem: str | None = None

    @property
    def latest(self) -> Anchor | None:
        return self.anchors[-1] if self.anchors else None


def read_witness(lines: Iterable[str]) -> WitnessLog:
    """Parse and link-check witness lines; a broken link or bad line is a problem, not a crash."""
    anchors: list[Anchor] = []
    expected_prev = GENESIS
    for number, line in enumerate(lines, 1):
        line = line.rstrip("\n")
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            prev = record.pop("prev")
            anchor = Anchor(**record)
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            return WitnessLog(tuple(anchors), f"witness line {number} is not an anchor: {error}")
        if prev != expected_prev:
            return WitnessLog(
                tuple(anchors),
                f"witness line {number} does not link to the line before it: the witness "
                "file was edited",
            )
        anchors.append(anchor)
        expected_prev = line_digest(line)
    return WitnessLog(tuple(anchors))


def parse_anchor(text: str) -> Anchor:
    """`SEQ:HASH`, as a Slack anchor message shows it, for `audit verify --anchor`."""
    seq, sep, digest = text.strip().partition(":")
    if not sep or not seq.isdigit() or len(digest) != 64:
        raise ValueError(f"--anchor {text!r}: expected SEQ:SHA256 as the anchor message shows it")
    return Anchor(int(seq), digest.lower(), 0, 0.0, GIVEN)


# --- the table against an anchor ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TableState:
    """What the store says about the table, as far as one anchor needs it."""

    rows: int
    last_seq: int | None
    hash_at_anchor: str | None  # hash of the row at the anchor's seq, if that row is there
    checkpoint_seq: int | None = None
    checkpoint_hash: str | None = None
    # The checkpoint's archive, checked by the store: None if intact, else what is wrong.
    archive_problem: str | None = None
    # Hash of the anchor's row inside the checkpoint's archive, when the prune took that row.
    archived_hash_at_anchor: str | None = None


def check_anchor(anchor: Anchor, table: TableState) -> str | None:
    """None when the table extends the anchored head; otherwise what is missing or changed."""
    anchored = anchor.describe()
    if table.rows == 0:
        return f"the audit table is empty, but the witness holds {anchored}"
    if anchor.checkpoint_seq is not None and (
        table.checkpoint_seq is None or table.checkpoint_seq < anchor.checkpoint_seq
    ):
        return (
            f"the retention checkpoint after row {anchor.checkpoint_seq} that the witness saw "
            f"with {anchored} is missing"
        )
    if (
        anchor.checkpoint_seq is not None
        and table.checkpoint_seq == anchor.checkpoint_seq
        and table.checkpoint_hash != anchor.checkpoint_hash
    ):
        return f"the retention checkpoint after row {anchor.checkpoint_seq} was replaced"
    if table.checkpoint_seq is not None and table.archive_problem is not None:
        return f"the retention checkpoint after row {table.checkpoint_seq}: {table.archive_problem}"
    if table.checkpoint_seq is not None and anchor.seq <= table.checkpoint_seq:
        if table.archived_hash_at_anchor != anchor.hash:
            return (
                f"the retention checkpoint after row {table.checkpoint_seq} covers {anchored}, "
                "but its archive does not hold that row with the anchored hash"
            )
        return None
    if table.hash_at_anchor is None:
        last = table.last_seq or 0
        if last < anchor.seq:
            missing = (
                f"row {anchor.seq} is"
                if last + 1 == anchor.seq
                else (f"rows {last + 1}..{anchor.seq} are")
            )
            return (
                f"{missing} missing: the table ends at row {last}, but the witness holds {anchored}"
            )
        return f"row {anchor.seq} is missing, but the witness holds {anchored}"
    if table.hash_at_anchor != anchor.hash:
        return (
            f"row {anchor.seq} does not match its anchor (hash {table.hash_at_anchor[:16]}… "
            f"instead of {anchored}): the trail up to it was rewritten"
        )
    return None
