"""Engine throughput and latency over a realistic mix of agent tool calls.

Run: .venv/bin/python benchmarks/engine_bench.py [--seconds N]
Prints decisions/s and p50/p99 latency of one decision, for a warm mix (agents repeat
commands, so the parse cache hits) and a cold mix (every command text unique).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from engine.evaluate import Engine
from engine.events import CallContext, ToolEvent
from engine.policy import load_policy
from engine.self_protection import ProtectedState
from engine.shell import analyze

SEED = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "seed-policies.json"
CWD = "/srv/app"

# Roughly the shape of a coding session: mostly reads, edits, ls/git/test runs.
MIX: list[tuple[str, dict, int]] = [
    ("Read", {"file_path": "/srv/app/src/app.py"}, 20),
    ("Read", {"file_path": "/srv/app/src/models/user.py"}, 10),
    ("Edit", {"file_path": "/srv/app/src/app.py", "old_string": "a", "new_string": "b"}, 15),
    ("Write", {"file_path": "/srv/app/tests/test_new.py", "content": "def test(): pass\n"}, 4),
    ("Bash", {"command": "ls -la"}, 8),
    ("Bash", {"command": "git status"}, 8),
    ("Bash", {"command": "git diff --stat && git status"}, 4),
    ("Bash", {"command": "pytest -q tests/"}, 8),
    ("Bash", {"command": "npm test"}, 3),
    ("Bash", {"command": "grep -rn 'def main' src/ | head -20"}, 4),
    ("Bash", {"command": "cat src/app.py | wc -l"}, 3),
    ("Bash", {"command": "git add -A && git commit -m 'fix: handle empty input'"}, 3),
    ("Bash", {"command": "python -m pytest tests/test_app.py -x -q 2>&1 | tail -20"}, 3),
    ("Grep", {"pattern": "TODO", "path": "/srv/app/src"}, 3),
    ("Glob", {"pattern": "**/*.py"}, 2),
    ("Bash", {"command": "rm -rf /"}, 1),
    ("Bash", {"command": "cat .env"}, 1),
]


def _events(unique: bool, count: int) -> list[ToolEvent]:
    weighted = [(tool, tool_input) for tool, tool_input, weight in MIX for _ in range(weight)]
    events = []
    for index in range(count):
        tool, tool_input = weighted[index % len(weighted)]
        if unique and tool == "Bash":
            tool_input = {"command": f"{tool_input['command']} # {index}"}
        events.append(ToolEvent(tool_name=tool, tool_input=tool_input, cwd=CWD))
    return events


def _run(engine: Engine, events: list[ToolEvent]) -> tuple[float, list[float]]:
    context = CallContext(git_branch="feature/x")
    latencies = []
    started = time.perf_counter()
    for event in events:
        before = time.perf_counter()
        engine.evaluate(event, context)
        latencies.append(time.perf_counter() - before)
    return time.perf_counter() - started, latencies


def _report(label: str, elapsed: float, latencies: list[float]) -> None:
    latencies.sort()
    p50 = statistics.median(latencies) * 1e6
    p99 = latencies[int(len(latencies) * 0.99)] * 1e6
    print(
        f"{label:<34} {len(latencies) / elapsed:>9,.0f} decisions/s   "
        f"p50 {p50:7.1f} µs   p99 {p99:7.1f} µs"
    )


# What a service install tells the engine (the server passes its own configuration).
SERVER_STATE = ProtectedState(
    database="/var/lib/governance/governance.db",
    socket="/run/governance/governance.sock",
    spool="/var/lib/governance/spool",
    policy="/etc/governance/policies.json",
    server_pid=4242,
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=50_000)
    args = parser.parse_args()
    for label, state in (("", None), (", server's state", SERVER_STATE)):
        engine = Engine(load_policy(SEED), state)
        _run(engine, _events(False, 2_000))  # warm imports and caches
        warm = _run(engine, _events(False, args.count))
        _report(f"warm mix (repeated commands){label}", *warm)
        analyze.cache_clear()
        _report(
            f"cold mix (every command new){label}", *_run(engine, _events(True, args.count // 5))
        )


if __name__ == "__main__":
    main()
