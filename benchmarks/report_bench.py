"""How long `governance report` takes on a store with a million audit rows, on either backend.

Run: .venv/bin/python benchmarks/report_bench.py [--rows N] [--days D] [--hosts-at-random]
        [--db postgresql://…/empty_db | --postgres]
Builds the store (schema from the store's migrations; rows by executemany on SQLite, COPY on
PostgreSQL, with a cheap sha256 chain: the report never verifies hashes), then times
build_report three times: the first call warms caches, later calls are what users see.
SQLite goes to a temp file; `--db URL` fills that (empty) PostgreSQL database; `--postgres`
starts a throwaway PostgreSQL server from Debian's binaries (as the tests do) and fills it.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from engine.audit import GENESIS
from engine.report import build_report, to_html, to_slack_blocks
from engine.state import is_postgres_url, open_store

USERS = [f"user-{n}" for n in range(50)]
# A team: each user works on their own laptop; a quarter of the calls come from CI runners,
# where the agent runs as the CI user. `--hosts-at-random` spreads every row over them all.
CI_SHARE = 0.25
CI_USER = "ci"
RUNNERS = [f"ci-runner-{n}" for n in range(10)]
TOOLS = ["Bash", "Read", "Edit", "Write", "Grep", "Glob", "WebFetch", "mcp__postgres__query"]
RULES = [f"bash_commands.blocked_patterns[{n}]" for n in range(30)]
COLUMNS = (
    'seq, ts, kind, session_id, "user", host, tool_name, decision, would_be, mode, rule, risk, '
    "reason, approval_id, payload, prev_hash, hash"
)


def _who(rng: random.Random, hosts_at_random: bool) -> tuple[str, str]:
    """(user, host) of one call."""
    if hosts_at_random:
        return rng.choice(USERS), rng.choice([*RUNNERS, *(f"laptop-{u}" for u in USERS)])
    if rng.random() < CI_SHARE:
        return CI_USER, rng.choice(RUNNERS)
    user = rng.choice(USERS)
    return user, f"laptop-{user}"


def _rows(count: int, span_s: float, now: float, hosts_at_random: bool = False):
    rng = random.Random(7)
    prev = GENESIS
    seq = 0
    while seq < count:
        seq += 1
        ts = now - span_s + span_s * seq / count
        roll = rng.random()
        user, host = _who(rng, hosts_at_random)
        tool = rng.choice(TOOLS)
        approval_id = None
        if roll < 0.85:
            kind, decision, rule, reason = "decision", "allow", None, "allowed: no rule objects"
        elif roll < 0.95:
            rule = rng.choice(RULES)
            kind, decision, reason = "decision", "deny", f"{rule}: blocked by policy"
        elif roll < 0.975:
            rule = rng.choice(RULES)
            kind, decision, reason = "decision", "approve", f"{rule}: needs approval"
        else:
            kind, decision, rule, reason = "approval_requested", "pending", None, None
            approval_id = f"apr-{seq}"
        mode = "audit" if roll < 0.05 else "enforce"
        payload = '{"tool_input": {"command": "ls -la"}}'
        digest = hashlib.sha256(f"{prev}{seq}{ts}{kind}".encode()).hexdigest()
        yield (
            seq, ts, kind, f"s-{seq // 40}", user, host, tool, decision, decision, mode, rule,
            "high" if decision == "deny" else "low", reason, approval_id, payload, prev, digest,
        )  # fmt: skip
        prev = digest
        if approval_id is not None and seq < count:
            seq += 1
            outcome = rng.choice(["approved", "denied", "expired"])
            digest = hashlib.sha256(f"{prev}{seq}".encode()).hexdigest()
            yield (
                seq, ts + rng.uniform(5, 900), f"approval_{outcome}", None, user, host, tool,
                outcome, None, None, None, None, None, approval_id, None, prev, digest,
            )  # fmt: skip
            prev = digest


def _fill(db: str, rows: int, now: float, hosts_at_random: bool) -> None:
    store = open_store(db)
    if store.db.execute("SELECT COUNT(*) FROM audit").fetchone()[0]:
        raise SystemExit(f"{db} already holds audit rows: give an empty database")
    generated = _rows(rows, 45 * 86_400, now, hosts_at_random)
    if is_postgres_url(db):
        with store.db.connection() as connection:
            with connection.cursor().copy(f"COPY audit ({COLUMNS}) FROM STDIN") as copy:
                for row in generated:
                    copy.write_row(row)
            # What autovacuum does after a bulk load: statistics, and the visibility map that
            # lets the report's aggregates run as index-only scans.
            connection.execute("VACUUM ANALYZE audit")
    else:
        with store.batch():
            store.db.conn.executemany(
                f"INSERT INTO audit ({COLUMNS}) VALUES ({', '.join('?' * 17)})", generated
            )
    store.close()


@contextlib.contextmanager
def _database(args: argparse.Namespace) -> Iterator[str]:
    if args.db:
        yield args.db
        return
    if args.postgres:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from tests.pg import PgServer

        server = PgServer()
        try:
            yield server.fresh_database()
        finally:
            server.stop()
        return
    with tempfile.TemporaryDirectory() as tmp:
        yield str(Path(tmp) / "audit.db")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=float, default=30)
    parser.add_argument(
        "--hosts-at-random",
        action="store_true",
        help="worst case: every row from any host, whatever its user (60 hosts)",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--db", help="an empty PostgreSQL database URL (or a new SQLite path)")
    where.add_argument("--postgres", action="store_true", help="start a throwaway PostgreSQL")
    args = parser.parse_args()
    now = time.time()
    with _database(args) as db:
        backend = "PostgreSQL" if is_postgres_url(db) else "SQLite"
        started = time.perf_counter()
        _fill(db, args.rows, now, args.hosts_at_random)
        print(f"{backend}: built {args.rows:,} rows in {time.perf_counter() - started:.1f} s")

        # A fresh connection, as `governance report` would open one.
        store = open_store(db)
        for attempt in ("first", "second", "third"):
            started = time.perf_counter()
            report = build_report(store.db, days=args.days, now=now)
            elapsed = time.perf_counter() - started
            print(f"build_report(days={args.days:g}) {attempt}: {elapsed:.3f} s")
        started = time.perf_counter()
        to_html(report)
        to_slack_blocks(report)
        print(f"render html + slack: {time.perf_counter() - started:.3f} s")
        print(
            f"  {report.total_decisions:,} decisions, {report.blocked:,} blocked "
            f"({report.block_rate:.1%}, {report.health}), {report.approvals_requested:,} "
            f"approvals, p50 {report.latency_p50_s:.0f} s, {len(report.by_host)} hosts"
        )
        store.close()


if __name__ == "__main__":
    main()
