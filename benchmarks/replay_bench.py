"""How long `governance policy replay` takes over a million recorded tool calls.

Run: .venv/bin/python benchmarks/replay_bench.py [--rows N] [--distinct D]
Builds a store of decision rows (realistic payloads: Bash commands, Read/Edit paths, with D
distinct inputs among N rows), then times, in the same run: reading and parsing the rows
alone (the floor), the replay with one process, and the replay with two.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import tempfile
import time
from pathlib import Path

from engine.audit import GENESIS
from engine.policy import builtin_policy
from engine.replay import replay
from engine.store import Store

COLUMNS = "seq, ts, kind, user, tool_name, decision, rule, repo, payload, prev_hash, hash"
COMMANDS = [
    "ls -la {d}",
    "git status",
    "git diff {d}/mod_{n}.py",
    "pytest -q tests/test_{n}.py",
    "grep -rn 'def handler_{n}' {d}",
    "rm -rf build/{n}",
    "psql -c 'SELECT * FROM orders WHERE id = {n}'",
    "curl -s https://api.example.com/v1/items/{n}",
    "cat {d}/config_{n}.yaml | jq .name",
    "npm run build -- --scope pkg{n}",
]


def _inputs(distinct: int, rng: random.Random) -> list[tuple[str, dict]]:
    made = []
    for n in range(distinct):
        d = f"/srv/app/src/pkg{n % 97}"
        roll = rng.random()
        if roll < 0.6:
            command = rng.choice(COMMANDS).format(d=d, n=n)
            made.append(("Bash", {"command": command, "description": "run"}))
        elif roll < 0.85:
            made.append(("Read", {"file_path": f"{d}/mod_{n}.py"}))
        else:
            made.append(
                ("Edit", {"file_path": f"{d}/mod_{n}.py", "old_string": "a", "new_string": "b"})
            )
    return made


def _rows(count: int, distinct: int, now: float):
    rng = random.Random(11)
    inputs = _inputs(distinct, rng)
    prev = GENESIS
    for seq in range(1, count + 1):
        ts = now - 29 * 86_400 + 29 * 86_400 * seq / count
        # Half the calls repeat a hot few hundred (git status, the same test file), half are
        # spread over every distinct input.
        pick = rng.randrange(300) if rng.random() < 0.5 else rng.randrange(distinct)
        tool, tool_input = inputs[pick]
        decision = "allow" if rng.random() < 0.9 else rng.choice(("deny", "approve"))
        payload = json.dumps({"tool_input": tool_input, "cwd": "/srv/app", "findings": []})
        digest = hashlib.sha256(f"{prev}{seq}".encode()).hexdigest()
        yield (
            seq, ts, "decision", f"user-{seq % 40}", tool, decision, None, "/srv/app", payload,
            prev, digest,
        )  # fmt: skip
        prev = digest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--distinct", type=int, default=100_000)
    args = parser.parse_args()
    now = time.time()
    policy = builtin_policy()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "audit.db"
        store = Store(path)
        started = time.perf_counter()
        store.db.execute("BEGIN")
        store.db.conn.executemany(
            f"INSERT INTO audit ({COLUMNS}) VALUES ({', '.join('?' * 11)})",
            _rows(args.rows, args.distinct, now),
        )
        store.db.execute("COMMIT")
        print(f"built {args.rows:,} decision rows in {time.perf_counter() - started:.1f} s")
        since = now - 30 * 86_400

        started = time.perf_counter()
        payloads = {row["payload"] for row in store.decision_rows(since)}
        floor = time.perf_counter() - started
        print(f"read rows only (the floor):    {floor:6.1f} s  ({len(payloads):,} distinct calls)")
        for workers in (1, 2):
            started = time.perf_counter()
            rows = store.decision_rows(since)
            result = replay(rows, policy, "builtin", "30d", workers=workers)
            elapsed = time.perf_counter() - started
            print(
                f"replay, {workers} process(es):     {elapsed:6.1f} s  "
                f"({result.replayed / elapsed:,.0f} rows/s, {elapsed / floor:.2f}x the floor)"
            )
        print(f"  changes vs recorded: {dict(result.by_change)}")
        store.close()


if __name__ == "__main__":
    main()
