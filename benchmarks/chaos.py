"""Chaos against a real `governance serve` on a temp socket and database (Unix socket only).

Run: .venv/bin/python benchmarks/chaos.py [--seconds 60] [--hooks 200] [--real-hooks 12]
While `--hooks` socket clients speaking the hook protocol (and a stream of real
`governance-hook` processes) ask for decisions, some of them waiting on approvals, it kills
random waiting hooks, opens and drops connections, and sends oversized and garbage lines.
At the end it checks the server is up, every live hook got an answer and `governance audit
verify` passes, stops the server with SIGTERM, and prints its figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import SEED_POLICY  # noqa: E402
from tests.harness import GOVERNANCE, HOOK, Server, pre_tool_use  # noqa: E402

HOOK_WAIT_S = 30.0
# Approvals nobody decides expire after 6 s, so every waiting hook gets an answer.
APPROVAL_TIMEOUT_MIN = 0.1


def _rss(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _request(index: int, serial: int) -> dict[str, object]:
    kind = random.random()
    command = (
        f"rm notes-{index}-{serial}.txt"  # needs approval: the hook waits
        if kind < 0.4
        else "rm -rf /"
        if kind < 0.5
        else random.choice(["ls -la", "git status", "cat README.md"])
    )
    event = pre_tool_use(command, session=f"chaos-{index}")
    return {"v": 1, "event": event, "context": {"user": "agent-chaos"}, "wait_s": HOOK_WAIT_S}


class Chaos:
    def __init__(self, server: Server, seconds: float) -> None:
        self.server = server
        self.deadline = time.monotonic() + seconds
        self.figures: Counter[str] = Counter()
        self.waiting: set[asyncio.Task[None]] = set()
        self.unanswered: list[str] = []

    def running(self) -> bool:
        return time.monotonic() < self.deadline

    async def hook_client(self, index: int) -> None:
        """A socket client speaking the hook protocol, one request after another."""
        serial = 0
        while self.running():
            serial += 1
            task = asyncio.ensure_future(self._ask(_request(index, serial)))
            self.waiting.add(task)
            try:
                await task
            except asyncio.CancelledError:
                self.figures["killed socket hooks"] += 1
            finally:
                self.waiting.discard(task)

    async def _ask(self, request: dict[str, object]) -> None:
        reader, writer = await asyncio.open_unix_connection(str(self.server.socket), limit=2**20)
        self.figures["connections"] += 1
        connected = time.monotonic()
        try:
            writer.write(json.dumps(request).encode() + b"\n")
            await writer.drain()
            line = await asyncio.wait_for(reader.readline(), HOOK_WAIT_S + 30)
            reply = json.loads(line) if line else {}
            if isinstance(reply.get("decision"), str):
                self.figures["answers"] += 1
            else:
                self.unanswered.append(
                    f"socket hook ({request['event']['tool_input'].get('command', 'Write')}) got "  # type: ignore[index]
                    f"{line[:80]!r} after {time.monotonic() - connected:.1f} s"
                )
        except (OSError, TimeoutError, ValueError) as error:
            command = request["event"]["tool_input"].get("command", "Write")  # type: ignore[index]
            self.unanswered.append(
                f"socket hook ({command}) after {time.monotonic() - connected:.1f} s: "
                f"{type(error).__name__}: {error}"
            )
        finally:
            writer.transport.abort()  # a killed hook just vanishes

    async def killer(self) -> None:
        while self.running():
            await asyncio.sleep(random.uniform(0.05, 0.3))
            if self.waiting:
                random.choice(list(self.waiting)).cancel()

    async def real_hooks(self, concurrent: int) -> None:
        async def one(n: int) -> None:
            event = json.dumps(_request(10_000 + n, n)["event"]).encode()
            process = await asyncio.create_subprocess_exec(
                HOOK,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=self.server.env(GOVERNANCE_WAIT_S=str(HOOK_WAIT_S)),
            )
            self.figures["hook processes"] += 1
            doomed = random.random() < 0.25
            talk = asyncio.ensure_future(process.communicate(event))
            if doomed:
                await asyncio.sleep(random.uniform(0.2, 2.0))
                if process.returncode is None:
                    process.kill()
                    self.figures["killed hook processes"] += 1
                await talk
                return
            out, err = await talk
            try:
                answer = json.loads(out)["hookSpecificOutput"]["permissionDecision"]
            except (ValueError, KeyError, TypeError):
                self.unanswered.append(f"hook process rc {process.returncode}: {err[:200]!r}")
                return
            self.figures["hook process answers"] += 1
            self.figures[f"hook process {answer}"] += 1

        running: set[asyncio.Task[None]] = set()
        n = 0
        while self.running():
            while len(running) < concurrent:
                n += 1
                task = asyncio.ensure_future(one(n))
                running.add(task)
                task.add_done_callback(running.discard)
            await asyncio.sleep(0.05)
        await asyncio.gather(*running)

    async def vandal(self) -> None:
        """Connections dropped at once or mid-line, garbage lines, oversized lines."""
        path = str(self.server.socket)
        garbage = [b"\xff\xfe\x00garbage\n", b"[1,2,3]\n", b'{"event": 7}\n', b"not json\n"]
        while self.running():
            choice = random.random()
            try:
                reader, writer = await asyncio.open_unix_connection(path)
            except OSError as error:
                self.unanswered.append(f"vandal could not connect: {error}")
                continue
            self.figures["connections"] += 1
            try:
                if choice < 0.3:
                    self.figures["dropped connections"] += 1
                elif choice < 0.5:
                    writer.write(b'{"v":1,"event":{"tool_na')
                    self.figures["dropped mid-line"] += 1
                elif choice < 0.8:
                    writer.write(random.choice(garbage))
                    await writer.drain()
                    await asyncio.wait_for(reader.readline(), 10)
                    self.figures["garbage lines"] += 1
                else:
                    block = b"x" * (1024 * 1024)
                    with_newline = random.random() < 0.5
                    self.figures["oversized lines (20 MB)"] += 1
                    for _ in range(20):
                        writer.write(block)
                        await writer.drain()
                    if with_newline:
                        writer.write(b"\n")
                        await writer.drain()
            except (OSError, TimeoutError):
                pass  # the server hung up on an oversized line, as it should
            finally:
                writer.transport.abort()
            await asyncio.sleep(random.uniform(0.01, 0.1))

    async def large_writer(self, megabytes: float, every_s: float) -> None:
        """A legitimate large Write now and then: judged and redacted off the event loop."""
        words = [f"w{n:x}ord" for n in range(5000)]
        line_count = int(megabytes * 1024 * 1024 / 97)
        content = "\n".join(
            " ".join(words[(i * 7 + j) % 5000] for j in range(12)) for i in range(line_count)
        )
        serial = 0
        while self.running():
            serial += 1
            event = pre_tool_use("unused", session="chaos-large")
            event.update(
                tool_name="Write",
                tool_input={"file_path": f"/tmp/chaos-{serial}.txt", "content": content},
            )
            self.figures[f"large Writes ({megabytes:g} MB)"] += 1
            await self._ask({"v": 1, "event": event, "context": {}, "wait_s": 0})
            await asyncio.sleep(every_s)

    async def approver(self) -> None:
        """Approve some pending requests from the console, as a person would."""
        while self.running():
            await asyncio.sleep(0.5)
            pending = (await asyncio.to_thread(self.server.call, {"op": "pending"})).get(
                "pending"
            ) or []
            for item in random.sample(pending, min(3, len(pending))):
                reply = await asyncio.to_thread(
                    self.server.call, {"op": "approve", "approval_id": item["id"]}
                )
                self.figures["approvals " + ("counted" if reply.get("ok") else "refused")] += 1


# Pings every 50 ms from its own process (the chaos process is busy itself) until its stdin
# closes, printing each round trip in seconds: the slowest bounds the server loop's stall.
_PROBE = """
import select, socket, sys, time
while not select.select([sys.stdin], [], [], 0.05)[0]:
    started = time.perf_counter()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(30)
            connection.connect(sys.argv[1])
            connection.sendall(b'{"op":"ping"}\\n')
            while not connection.recv(4096).endswith(b"\\n"):
                pass
        print(time.perf_counter() - started, flush=True)
    except OSError:
        print("inf", flush=True)
"""


async def _run(chaos: Chaos, hooks: int, real_hooks: int) -> None:
    tasks = [chaos.hook_client(index) for index in range(hooks)]
    tasks += [chaos.killer(), chaos.vandal(), chaos.vandal(), chaos.approver()]
    tasks.append(chaos.large_writer(4, 5.0))
    tasks.append(chaos.real_hooks(real_hooks))
    await asyncio.gather(*tasks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--hooks", type=int, default=200)
    parser.add_argument("--real-hooks", type=int, default=12, help="concurrent hook processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="governance-chaos-") as directory:
        root = Path(directory)
        document = json.loads(SEED_POLICY.read_text())
        document["approval_rules"]["medium_risk_actions"]["timeout_minutes"] = APPROVAL_TIMEOUT_MIN
        policy = root / "policies.json"
        policy.write_text(json.dumps(document))
        server = Server(root, policy=policy).start()
        assert server.process is not None
        pid = server.process.pid
        rss_before = _rss(pid)
        time.sleep(3)
        idle = server.call({"op": "ping"})
        probe = subprocess.Popen(
            [sys.executable, "-c", _PROBE, str(server.socket)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        chaos = Chaos(server, args.seconds)
        started = time.monotonic()
        try:
            asyncio.run(_run(chaos, args.hooks, args.real_hooks))
        finally:
            probe_out, _ = probe.communicate(timeout=60)
        stalls = [float(line) for line in probe_out.split()]
        elapsed = time.monotonic() - started
        pong = server.call({"op": "ping"})
        alive = server.process.poll() is None and bool(pong.get("ok"))
        rss_after, rss_peak = _rss(pid), _rss(pid, "VmHWM")
        verify = subprocess.run(
            [GOVERNANCE, "audit", "verify", "--db", str(server.db)],
            capture_output=True,
            text=True,
            env=server.env(),
        )
        server.process.send_signal(signal.SIGTERM)
        exit_code = server.process.wait(timeout=60)
        rows = len(server.audit())
        errors = [
            line
            for line in server.log.read_text().splitlines()
            if "Error" in line or "failed" in line or "Traceback" in line
        ]
        refused = Counter(
            row["reason"].split(":")[0]
            for row in server.audit()
            if row["kind"] == "malformed_request"
        )

    figures = chaos.figures
    print(f"chaos: {elapsed:.0f} s, {args.hooks} socket hooks + {args.real_hooks} hook processes")
    for name in sorted(figures):
        print(f"  {name:<28} {figures[name]}")
    print(f"  {'unanswered live hooks':<28} {len(chaos.unanswered)}")
    for problem in chaos.unanswered[:10]:
        print(f"    {problem}")
    finite = sorted(s for s in stalls if s != float("inf"))
    print(
        f"  {'server RSS before/after/peak':<28} {rss_before:.0f} / {rss_after:.0f} / "
        f"{rss_peak:.0f} MB"
    )
    if finite:
        p99 = finite[int(len(finite) * 0.99) - 1] if len(finite) >= 100 else finite[-1]
        print(
            f"  {'ping round trip (stall)':<28} max {finite[-1] * 1e3:.0f} ms, "
            f"p99 {p99 * 1e3:.0f} ms, median {finite[len(finite) // 2] * 1e3:.1f} ms "
            f"over {len(stalls)} pings ({len(stalls) - len(finite)} failed)"
        )
    for when, figures_of in (("idle, before", idle), ("under chaos", pong)):
        print(
            f"  {'event-loop lag, ' + when:<28} max {figures_of.get('max_loop_lag_ms')} ms "
            f"late, {figures_of.get('max_loop_busy_ms')} ms of server CPU in one window"
        )
    print(f"  {'server alive at the end':<28} {alive}")
    print(f"  {'audit verify':<28} {verify.stdout.strip() or verify.stderr.strip()}")
    print(f"  {'audit rows':<28} {rows}")
    print(f"  {'server log errors':<28} {len(errors)}")
    for line in errors[:10]:
        print(f"    {line[:200]}")
    for reason, count in refused.most_common():
        print(f"  {'refused: ' + reason[:60]:<28} {count}")
    print(f"  {'exit code after SIGTERM':<28} {exit_code}")
    ok = alive and not chaos.unanswered and verify.returncode == 0 and exit_code == 0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
