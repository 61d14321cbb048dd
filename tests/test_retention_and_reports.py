"""Retention (prune, then verify what remains), the report command in every format, the
per-rule tuning view, false-positive feedback and audit mode's "would have blocked", each on a
SQLite file and on a PostgreSQL database."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import time
from pathlib import Path

import psycopg
import pytest

from engine.state import is_postgres_url, open_store
from engine.store import Store
from tests.harness import GOVERNANCE


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([GOVERNANCE, *args], capture_output=True, text=True, timeout=120)


def _store_with_history(db: str) -> Store:
    store = open_store(db)
    now = time.time()
    for day in range(400, -1, -40):
        store.append_audit(
            "decision",
            ts=now - day * 86400,
            decision="deny",
            user="alice",
            tool_name="Bash",
            rule="builtin.rm_root",
            risk="critical",
            reason="recursive delete of `/`",
            mode="enforce",
            would_be="deny",
        )
        store.append_audit(
            "decision",
            ts=now - day * 86400 + 1,
            decision="allow",
            user="bob",
            tool_name="Read",
            mode="enforce",
            would_be="allow",
        )
    return store


def test_prune_archives_old_rows_and_verify_still_passes(db_location: str, tmp_path: Path) -> None:
    db = db_location
    store = _store_with_history(db)
    total = len(list(store.audit_rows()))
    result = run(
        "audit",
        "prune",
        "--db",
        str(db),
        "--days",
        "365",
        "--archive-dir",
        str(tmp_path / "archive"),
    )
    assert result.returncode == 0, result.stderr
    assert "archived 2 rows" in result.stdout  # day 400 only: one deny, one allow
    remaining = list(open_store(db).audit_rows())
    assert len(remaining) == total - 2 + 1  # the prune itself is an audited event
    assert remaining[-1]["kind"] == "retention_prune"
    verify = run("audit", "verify", "--db", str(db))
    assert verify.returncode == 0, verify.stdout
    (archive,) = (tmp_path / "archive").glob("*.jsonl.gz")
    with gzip.open(archive, "rt") as handle:
        lines = handle.read().splitlines()
    checkpoint = json.loads(lines[0])["checkpoint"]
    assert checkpoint["last_pruned_hash"] == json.loads(lines[-1])["hash"]
    assert remaining[0]["prev_hash"] == checkpoint["last_pruned_hash"]


def test_a_row_deleted_behind_the_prune_is_still_caught(db_location: str, tmp_path: Path) -> None:
    db = db_location
    _store_with_history(db)
    run(
        "audit",
        "prune",
        "--db",
        str(db),
        "--days",
        "365",
        "--archive-dir",
        str(tmp_path / "archive"),
    )
    # An attacker with the owner's rights lifts the guard and deletes a row.
    delete = "DELETE FROM audit WHERE seq = (SELECT MIN(seq) + 1 FROM audit)"
    if is_postgres_url(db):
        with psycopg.connect(db) as connection:
            connection.execute("ALTER TABLE audit DISABLE TRIGGER audit_append_only")
            connection.execute(delete)
    else:
        import sqlite3

        with sqlite3.connect(db) as connection:
            connection.executescript(f"DROP TRIGGER audit_append_only_delete; {delete};")
    verify = run("audit", "verify", "--db", str(db))
    assert verify.returncode == 1 and "missing" in verify.stdout


def test_report_formats_and_rules(db_location: str, tmp_path: Path) -> None:
    db = db_location
    _store_with_history(db)
    markdown = run("report", "--db", str(db), "--days", "30")
    assert markdown.returncode == 0 and "builtin.rm\\_root" in markdown.stdout  # md-escaped
    as_json = json.loads(run("report", "--db", str(db), "--days", "30", "--format", "json").stdout)
    assert as_json["blocked"] == 1 and as_json["allowed"] == 1
    rules = run("report", "--db", str(db), "--days", "400", "--rules")
    assert "builtin.rm_root" in rules.stdout
    assert rules.stdout.splitlines()[0].split()[:2] == ["rule", "decided"]
    quiet = [
        line for line in rules.stdout.splitlines() if line.endswith("decided no call in 400 days")
    ]
    assert any(line.startswith("git_operations.blocked_branches") for line in quiet)


def test_false_positive_feedback_reaches_report_and_rules(db_location: str, tmp_path: Path) -> None:
    db = db_location
    store = _store_with_history(db)
    denied = next(
        r for r in store.audit_rows() if r["decision"] == "deny" and r["ts"] > time.time() - 86400
    )
    result = run(
        "feedback", str(denied["seq"]), "--false-positive", "--note", "test data", "--db", str(db)
    )
    assert result.returncode == 0, result.stderr
    as_json = json.loads(run("report", "--db", str(db), "--format", "json").stdout)
    assert as_json["false_positives"] == 1
    rules = run("report", "--db", str(db), "--days", "400", "--rules").stdout
    line = next(line for line in rules.splitlines() if line.startswith("builtin.rm_root"))
    assert line.split()[-1] == "1"


def test_audit_mode_reports_what_it_would_have_blocked(db_location: str) -> None:
    store = open_store(db_location)
    for _ in range(37):
        store.append_audit(
            "decision",
            decision="allow",
            would_be="deny",
            mode="audit",
            tool_name="Bash",
            user="carol",
            rule="builtin.rm_root",
        )
    store.append_audit(
        "decision", decision="allow", would_be="allow", mode="audit", tool_name="Bash", user="carol"
    )
    as_json = json.loads(run("report", "--db", db_location, "--format", "json").stdout)
    assert as_json["would_have_blocked"] == 37
    assert as_json["blocked"] == 0
    assert "37" in run("report", "--db", db_location).stdout


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(
            "headless Chromium is missing: run the set-up step in .ci/run "
            "(as root: apt-get update && apt-get install -y chromium), see README, Testing"
        )
    return found


def test_html_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    db = str(tmp_path / "gov.db")
    _store_with_history(db)
    page = tmp_path / "report.html"
    assert (
        run(
            "report", "--db", str(db), "--days", "30", "--format", "html", "-o", str(page)
        ).returncode
        == 0
    )
    browser = _chromium()
    result = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    dom = result.stdout
    assert "<svg" in dom and "builtin.rm_root" in dom
    assert "Blocked" in dom or "blocked" in dom
