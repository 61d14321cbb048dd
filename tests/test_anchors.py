"""The audit chain's head anchored outside the table: a real server publishes anchors to its
witness file and the security channel; each attack on the trail a file owner could make (the
triggers dropped, as an attacker owning the file would) then fails `governance audit verify`."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
import signal
import sqlite3
import stat
import time
from pathlib import Path

import pytest

from bot.config import ServerConfig
from engine.audit import row_hash
from engine.evaluate import Engine
from engine.events import ToolEvent
from engine.policy import load_policy
from engine.self_protection import ProtectedState
from engine.store import Store
from tests.conftest import SEED_POLICY
from tests.harness import Server, decision_of, pre_tool_use


@pytest.fixture(scope="module")
def trail(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A trail written by a real server through the real hook, ended with SIGTERM."""
    root = tmp_path_factory.mktemp("trail")
    server = Server(root).start()
    try:
        for command in ("ls", "git status", "rm -rf /", "npm test", "cat README.md", "pwd"):
            server.hook(pre_tool_use(command))
    finally:
        server.kill(signal.SIGTERM)
    return root


@pytest.fixture
def copy(trail: Path, tmp_path: Path) -> Server:
    """A private copy of the trail to attack; its CLI finds the witness beside the database."""
    root = tmp_path / "copy"
    shutil.copytree(trail, root, ignore=shutil.ignore_patterns("*.sock"))
    return Server(root)


def witness(server: Server) -> list[dict]:
    path = server.root / "gov.witness.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def attack(server: Server, sql: str) -> None:
    with sqlite3.connect(server.db) as connection:
        connection.executescript(
            "DROP TRIGGER IF EXISTS audit_append_only_update; "
            "DROP TRIGGER IF EXISTS audit_append_only_delete; " + sql
        )


def rechain(server: Server, start_seq: int) -> None:
    """Recompute every hash from `start_seq` on, as an attacker hiding an edit would."""
    with sqlite3.connect(server.db) as connection:
        connection.row_factory = sqlite3.Row
        rows = [dict(r) for r in connection.execute("SELECT * FROM audit ORDER BY seq")]
        previous = None
        for row in rows:
            if row["seq"] >= start_seq:
                row["prev_hash"] = previous["hash"] if previous else row["prev_hash"]
                row["hash"] = row_hash(row)
                connection.execute(
                    "UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?",
                    [row["prev_hash"], row["hash"], row["seq"]],
                )
            previous = row


def verify(server: Server, *extra: str) -> tuple[int, str]:
    result = server.cli("audit", "verify", *extra)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout


def test_shutdown_anchors_the_head_in_an_owner_only_chained_witness_file(copy: Server) -> None:
    server = copy
    lines = witness(server)
    head = server.audit()[-1]
    assert lines[-1]["reason"] == "shutdown"
    assert (lines[-1]["seq"], lines[-1]["hash"]) == (head["seq"], head["hash"])
    assert lines[-1]["rows"] == len(server.audit())
    assert lines[0]["prev"] == "0" * 64
    mode = stat.S_IMODE((server.root / "gov.witness.jsonl").stat().st_mode)
    assert mode == 0o600
    # The console notifier is the security channel without Slack: the anchor is shown there.
    assert f"{head['seq']}:{head['hash']}" in server.log.read_text()
    code, out = verify(server)
    assert code == 0, out
    assert f"the trail extends the anchor row {head['seq']}" in out


def test_edited_row_with_every_later_hash_recomputed_fails_its_anchor(copy: Server) -> None:
    target = next(r for r in copy.audit() if r["decision"] == "deny")["seq"]
    attack(copy, f"UPDATE audit SET decision = 'allow', reason = 'fine' WHERE seq = {target};")
    rechain(copy, target)
    assert Store(copy.db).verify().ok  # the chain alone cannot see it
    code, out = verify(copy)
    anchored = witness(copy)[-1]["seq"]
    assert code == 1
    assert "audit chain intact" in out
    assert f"row {anchored} does not match its anchor" in out and "rewritten" in out


def test_deleted_tail_is_named_by_the_rows_missing(copy: Server) -> None:
    last = copy.audit()[-1]["seq"]
    attack(copy, f"DELETE FROM audit WHERE seq > {last - 3};")
    assert Store(copy.db).verify().ok
    code, out = verify(copy)
    assert code == 1
    assert f"rows {last - 2}..{last} are missing: the table ends at row {last - 3}" in out


def test_every_row_deleted_fails(copy: Server) -> None:
    attack(copy, "DELETE FROM audit;")
    assert Store(copy.db).verify().ok
    code, out = verify(copy)
    assert code == 1 and "the audit table is empty" in out


def test_a_database_replaced_by_an_empty_one_fails(copy: Server) -> None:
    for path in copy.root.glob("gov.db*"):
        path.unlink()
    code, out = verify(copy)
    assert code == 1 and "the audit table is empty" in out


def _forge_prune(server: Server, archive: Path) -> None:
    """Delete every row and pass it off as a retention prune: a checkpoint, a prune row."""
    rows = server.audit()
    last = rows[-1]
    archive_hash = hashlib.sha256(archive.read_bytes()).hexdigest() if archive.exists() else "0"
    attack(
        server,
        "DELETE FROM audit; "
        "INSERT INTO audit_checkpoints (created_at, last_pruned_seq, last_pruned_hash, archive, "
        f"archive_sha256, rows) VALUES ({time.time()}, {last['seq']}, '{last['hash']}', "
        f"'{archive}', '{archive_hash}', {len(rows)});",
    )
    forged = {name: None for name in last}
    forged.update(
        seq=last["seq"] + 1,
        ts=time.time(),
        kind="retention_prune",
        decision="pruned",
        reason=f"checkpoint {last['hash']}",
        prev_hash=last["hash"],
    )
    forged["hash"] = row_hash(forged)
    with sqlite3.connect(server.db) as connection:
        columns = ", ".join(forged)
        marks = ", ".join("?" for _ in forged)
        connection.execute(f"INSERT INTO audit ({columns}) VALUES ({marks})", list(forged.values()))


def test_forged_checkpoint_without_its_archive_fails(copy: Server) -> None:
    _forge_prune(copy, copy.root / "archive" / "never-written.jsonl.gz")
    assert Store(copy.db).verify().ok  # the chain restarts cleanly from the forged checkpoint
    code, out = verify(copy)
    assert code == 1
    assert "retention checkpoint" in out and "cannot be read" in out


def test_forged_checkpoint_with_a_made_up_archive_fails(copy: Server) -> None:
    archive = copy.root / "archive" / "audit-forged.jsonl.gz"
    archive.parent.mkdir()
    made_up = {"seq": 1, "hash": "f" * 64, "prev_hash": "0" * 64, "kind": "decision"}
    archive.write_bytes(gzip.compress(b'{"checkpoint": {}}\n' + json.dumps(made_up).encode()))
    _forge_prune(copy, archive)
    code, out = verify(copy)
    assert code == 1 and "does not chain up to the checkpoint" in out


def test_a_real_prune_of_anchored_rows_still_verifies(copy: Server) -> None:
    anchored = witness(copy)[-1]["seq"]
    pruned = copy.cli("audit", "prune", "--days", "0", "--archive-dir", str(copy.root / "arc"))
    assert pruned.returncode == 0, pruned.stderr
    assert Store(copy.db).hash_at(anchored) is None  # the anchored row now lives in the archive
    assert witness(copy)[-1]["reason"] == "prune"
    code, out = verify(copy)
    assert code == 0, out
    # The anchor the server published before the prune is checked through the archive.
    code, out = verify(copy, "--anchor", f"{anchored}:{witness(copy)[-2]['hash']}")
    assert code == 0, out


def test_a_removed_checkpoint_fails(copy: Server) -> None:
    copy.cli("audit", "prune", "--days", "0", "--archive-dir", str(copy.root / "arc"))
    attack(copy, "DELETE FROM audit_checkpoints;")
    code, out = verify(copy)
    assert code == 1
    assert "retention checkpoint" in out and "is missing" in out


def test_an_edited_witness_line_is_named(copy: Server) -> None:
    path = copy.root / "gov.witness.jsonl"
    first = witness(copy)[0]
    lines = path.read_text().splitlines()
    lines[0] = lines[0].replace(f'"rows":{first["rows"]}', f'"rows":{first["rows"] + 1}')
    path.write_text("\n".join([*lines, lines[-1]]) + "\n")  # and a copied line appended
    code, out = verify(copy)
    assert code == 1 and "witness line 2 does not link" in out


def test_an_anchor_copied_from_the_security_channel_catches_a_cut_with_the_file_gone(
    copy: Server,
) -> None:
    shown = re.findall(r"head (\d+:[0-9a-f]{64})", copy.log.read_text())[-1]
    seq = int(shown.split(":")[0])
    attack(copy, f"DELETE FROM audit WHERE seq >= {seq - 1};")
    (copy.root / "gov.witness.jsonl").unlink()
    code, out = verify(copy)
    assert code == 0 and "no witness file" in out  # nothing left on disk to compare with
    code, out = verify(copy, "--anchor", shown)
    assert code == 1 and f"rows {seq - 1}..{seq} are missing" in out
    assert verify(copy, "--anchor", "12:nothex")[0] != 0


def test_a_changed_head_is_anchored_at_intervals_while_serving(tmp_path: Path) -> None:
    path = tmp_path / "witness" / "anchors.jsonl"
    server = Server(
        tmp_path, serve_args=["--anchor-interval", "0.2", "--witness-file", str(path)]
    ).start()

    def anchors() -> list[dict]:
        return [json.loads(line) for line in path.read_text().splitlines()]

    try:
        server.hook(pre_tool_use("ls"))
        deadline = time.monotonic() + 30
        while not (path.exists() and any(a["reason"] == "interval" for a in anchors())):
            assert time.monotonic() < deadline, "no interval anchor was published"
            time.sleep(0.05)
        seen = max(a["seq"] for a in anchors())
        server.hook(pre_tool_use("pwd"))
        deadline = time.monotonic() + 30
        while max(a["seq"] for a in anchors()) <= seen:
            assert time.monotonic() < deadline, "the new head was not anchored"
            time.sleep(0.05)
    finally:
        server.kill(signal.SIGTERM)
    assert anchors()[-1]["reason"] == "shutdown"
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    code, out = verify(server)
    assert code == 0 and "no witness file" in out  # not beside the database this time
    result = server.cli("audit", "verify", GOVERNANCE_WITNESS=str(path))
    assert result.returncode == 0 and "the trail extends the anchor row" in result.stdout


def test_sigterm_answers_waiting_hooks_then_anchors_the_head(tmp_path: Path) -> None:
    server = Server(tmp_path).start()
    waiting = server.hook_process(pre_tool_use("rm notes.txt"), wait_s=120)
    assert server.pending_ids()
    server.kill(signal.SIGTERM)
    out, _err = waiting.communicate(timeout=60)
    decision, reason = decision_of(json.loads(out))
    assert decision == "deny" and "server is shutting down" in reason and "stays pending" in reason
    assert server.process is not None and server.process.returncode == 0
    assert "Traceback" not in server.log.read_text()
    assert witness(server)[-1]["reason"] == "shutdown"
    assert witness(server)[-1]["seq"] == server.audit()[-1]["seq"]


def test_the_witness_file_is_out_of_the_agents_reach(tmp_path: Path) -> None:
    served = ServerConfig(
        socket=tmp_path / "gov.sock", db=tmp_path / "gov.db", spool=tmp_path / "s", policy=None
    )
    assert served.protected_state().witness == str(tmp_path / "gov.witness.jsonl")
    path = "/var/lib/governance/governance.witness.jsonl"
    engine = Engine(load_policy(SEED_POLICY), ProtectedState(witness=path))
    for tool, tool_input in (
        ("Bash", {"command": f"truncate -s 0 {path}"}),
        ("Bash", {"command": f"echo '{{}}' >> {path}"}),
        ("Bash", {"command": f"rm {path}"}),
        ("Write", {"file_path": path, "content": ""}),
    ):
        decision = engine.evaluate(ToolEvent(tool_name=tool, tool_input=tool_input, cwd="/srv"))
        assert decision.outcome == "deny", tool_input
        assert decision.rule and decision.rule.startswith("builtin.self_protection."), tool_input
