"""Engine throughput and latency over a realistic mix of agent tool calls.

Run: .venv/bin/python benchmarks/engine_bench.py [--count N]
Prints decisions/s and p50/p99 latency of one decision, for a warm mix (agents repeat
commands, so the parse cache hits) and a cold mix (every command text unique, and the
filesystem caches emptied). The calls run in a realistic project tree built for the run
(tests/project_tree.py), so glob expansion and tree walks look at real files.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from engine.analysis.shell import analyze
from engine.evaluate import Engine
from engine.events import CallContext, ToolEvent
from engine.fs import FileSystem
from engine.policy import load_policy
from engine.self_protection import ProtectedState

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.project_tree import build_project_tree  # noqa: E402

SEED = REPO / "tests" / "fixtures" / "seed-policies.json"
CWD = "/srv/app"

# Roughly the shape of a coding session: mostly reads, edits, ls/git/test runs.
BASE_MIX: list[tuple[str, dict, int]] = [
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
# Globs expanded and trees walked on the real disk.
DISK_MIX: list[tuple[str, dict, int]] = [
    ("Bash", {"command": "grep -n FIXME lib/*"}, 2),
    ("Bash", {"command": "rm -rf out/*"}, 1),
    ("Bash", {"command": "tar czf site.tgz public/*"}, 1),
    ("Bash", {"command": "grep -rn password ."}, 1),
    ("Bash", {"command": "rg TODO"}, 2),
    ("Bash", {"command": "git grep -n FIXME"}, 1),
    ("Bash", {"command": "cp -a src /tmp/snapshot"}, 1),
    ("Bash", {"command": "find src -name '*.ts' | xargs wc -l"}, 1),
]
MIX = BASE_MIX + DISK_MIX


def _events(unique: bool, count: int, cwd: str, mix: list | None = None) -> list[ToolEvent]:
    mix = MIX if mix is None else mix
    weighted = [(tool, tool_input) for tool, tool_input, weight in mix for _ in range(weight)]
    events = []
    for index in range(count):
        tool, tool_input = weighted[index % len(weighted)]
        if unique and tool == "Bash":
            tool_input = {"command": f"{tool_input['command']} # {index}"}
        if "file_path" in tool_input:
            tool_input = {**tool_input, "file_path": tool_input["file_path"].replace(CWD, cwd)}
        if "path" in tool_input:
            tool_input = {**tool_input, "path": tool_input["path"].replace(CWD, cwd)}
        events.append(ToolEvent(tool_name=tool, tool_input=tool_input, cwd=cwd))
    return events


def _run(engine: Engine, events: list[ToolEvent], fresh_disk: bool = False) -> _Figures:
    context = CallContext(git_branch="feature/x", repo=events[0].cwd)
    wall, cpu = [], []
    started = time.perf_counter()
    for event in events:
        if fresh_disk:
            engine.filesystem.close()
            engine.filesystem = FileSystem()
        before, before_cpu = time.perf_counter(), time.thread_time()
        engine.evaluate(event, context)
        cpu.append(time.thread_time() - before_cpu)
        wall.append(time.perf_counter() - before)
    elapsed = sum(wall) if fresh_disk else time.perf_counter() - started
    return _Figures(elapsed, sorted(wall), sorted(cpu))


@dataclass(frozen=True)
class _Figures:
    elapsed: float
    wall: list[float]
    cpu: list[float]


def _report(label: str, figures: _Figures) -> None:
    wall, cpu = figures.wall, figures.cpu
    p99 = int(len(wall) * 0.99)
    print(
        f"{label:<40} {len(wall) / figures.elapsed:>8,.0f} decisions/s "
        f"({len(cpu) / sum(cpu):>7,.0f}/CPU-s)   "
        f"p50 {statistics.median(wall) * 1e6:6.1f} µs   p99 {wall[p99] * 1e6:7.1f} µs "
        f"(CPU p99 {cpu[p99] * 1e6:6.1f} µs)"
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
    with tempfile.TemporaryDirectory() as base:
        cwd = str(build_project_tree(Path(base), bulk=False))
        policy = load_policy(SEED)
        engine = Engine(policy, filesystem=FileSystem())
        _run(engine, _events(False, 2_000, cwd))  # warm imports and caches
        baseline = _run(engine, _events(False, args.count, cwd, BASE_MIX))
        _report("baseline: mix without disk work, warm", baseline)
        full = _run(engine, _events(False, args.count, cwd))
        _report("full mix (globs, walks), warm", full)
        guarded = Engine(policy, SERVER_STATE, FileSystem())
        _run(guarded, _events(False, 2_000, cwd))
        _report(
            "full mix, warm, with the server's state",
            _run(guarded, _events(False, args.count, cwd)),
        )
        ratio = (sum(full.cpu) / len(full.cpu)) / (sum(baseline.cpu) / len(baseline.cpu))
        print(f"{'full mix CPU per decision / baseline':<40} {ratio:8.2f}x")
        analyze.cache_clear()
        # Cold: every command new; the disk caches start empty.
        cold = Engine(policy, filesystem=FileSystem())
        unique = _events(True, args.count // 5, cwd)
        _report("full mix, cold (every command new)", _run(cold, unique))
        disk = _events(False, 400, cwd, DISK_MIX)
        _report("disk calls only, warm", _run(engine, disk))
        _report("disk calls only, nothing cached on disk", _run(cold, disk, fresh_disk=True))


if __name__ == "__main__":
    main()
