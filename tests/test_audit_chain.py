"""The audit hash chain, judged directly: which edits `audit verify` catches and how it names
the first bad row. Rows are built the way the store writes them."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import pytest

from engine.audit import CHAINED_FIELDS, GENESIS, ChainReport, canonical, row_hash, verify_chain


def _chain(count: int, start_seq: int = 1, prev: str = GENESIS) -> list[dict[str, Any]]:
    rows = []
    for seq in range(start_seq, start_seq + count):
        row: dict[str, Any] = {name: None for name in CHAINED_FIELDS}
        row.update(
            seq=seq,
            ts=1_700_000_000.0 + seq,
            kind="decision",
            user="alice",
            tool_name="Bash",
            decision="deny" if seq % 2 else "allow",
            rule="builtin.rm_root",
            reason=f"reason {seq} — é",
            payload='{"tool_input": {"command": "rm -rf /"}}',
            prev_hash=prev,
        )
        row["hash"] = row_hash(row)
        prev = row["hash"]
        rows.append(row)
    return rows


def test_an_intact_chain_verifies_and_counts_its_rows() -> None:
    assert verify_chain(_chain(5)) == ChainReport(True, 5)
    assert verify_chain([]) == ChainReport(True, 0)


def test_the_hash_format_is_stable_so_old_databases_still_verify() -> None:
    # Changing how a row is hashed would make every existing trail look tampered with.
    (row,) = _chain(1)
    assert canonical(row).startswith('{"approval_id":null,"branch":null,"decision":"deny"')
    assert '"reason":"reason 1 — é"' in canonical(row)
    assert row_hash(row) == row_hash(dict(row, hash="anything", extra="not chained"))
    assert len(row_hash(row)) == 64 and row_hash(row) != GENESIS


@pytest.mark.parametrize("field", [f for f in CHAINED_FIELDS if f not in ("seq", "prev_hash")])
def test_editing_any_chained_field_names_the_row(field: str) -> None:
    rows = _chain(4)
    rows[2] = dict(rows[2], **{field: "edited"})
    report = verify_chain(rows)
    assert report == ChainReport(False, 2, 3, "row 3 was changed after it was written")


def test_an_edit_with_its_hash_recomputed_breaks_the_next_link() -> None:
    rows = _chain(4)
    forged = dict(rows[1], decision="deny")  # was an allow
    forged["hash"] = row_hash(forged)
    rows[1] = forged
    report = verify_chain(rows)
    assert report == ChainReport(False, 2, 3, "row 3 does not link to the row before it")


def test_a_row_pointing_elsewhere_is_named_even_with_its_own_hash_right() -> None:
    rows = _chain(3)
    rows[0] = dict(rows[0], prev_hash="f" * 64)
    rows[0]["hash"] = row_hash(rows[0])
    report = verify_chain(rows)
    assert report == ChainReport(False, 0, 1, "row 1 does not link to the row before it")


def test_a_deleted_row_is_named_as_missing() -> None:
    rows = _chain(5)
    del rows[2]
    report = verify_chain(rows)
    assert report == ChainReport(False, 2, 3, "row 3 is missing (next row is 4)")


def test_a_chain_after_a_prune_starts_from_its_checkpoint() -> None:
    pruned = _chain(3)
    rest = _chain(3, start_seq=4, prev=pruned[-1]["hash"])
    assert verify_chain(rest, pruned[-1]["hash"], 4) == ChainReport(True, 3)
    # The first kept row deleted too: the gap is named against the checkpoint.
    report = verify_chain(rest[1:], pruned[-1]["hash"], 4)
    assert report == ChainReport(False, 0, 4, "row 4 is missing (next row is 5)")
    # The wrong checkpoint hash: the first kept row does not link.
    report = verify_chain(rest, GENESIS, 4)
    assert report == ChainReport(False, 0, 4, "row 4 does not link to the row before it")
    # Without a starting seq any first seq is accepted; the links still must hold.
    assert verify_chain(rest, pruned[-1]["hash"]) == ChainReport(True, 3)
    assert verify_chain(rest, pruned[-1]["hash"], 5).first_bad_seq == 5


def test_rows_with_odd_text_still_hash_and_verify() -> None:
    # Undecodable bytes from a tool input arrive as lone surrogates; values that are not JSON
    # (a path) are hashed as their text. Neither may break writing or verifying the trail.
    (row,) = _chain(1)
    odd = dict(row, reason="bad \udcff byte")
    assert row_hash(odd) != row_hash(dict(row, reason="bad \udcfe byte"))
    assert row_hash(dict(row, reason=PurePosixPath("/srv/app"))) == row_hash(
        dict(row, reason="/srv/app")
    )
    odd["hash"] = row_hash(odd)
    assert verify_chain([odd]) == ChainReport(True, 1)
