"""Hook and server benchmarks, each against a baseline measured in the same run.

Run: .venv/bin/python benchmarks/hook_bench.py [--edge]
With --edge, 1 and 2 run against an edge (`governance serve --upstream`) of a team service on
this machine (SQLite, TLS), so the edge also ships every audit row upstream meanwhile:
1. the real `governance-hook` process end to end for an allowed `ls`, against a bare
   `python -c "import json, socket"` with the same interpreter (target: within 1.5x);
2. server decisions/s, every one written to the audit trail, from 16 concurrent clients;
3. 500 clients waiting on approvals at once: the server's memory and thread count then.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness import HOOK, Server, free_port, pre_tool_use  # noqa: E402
from tests.tls import self_signed  # noqa: E402


def _time(args: list[str], stdin: bytes, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, input=stdin, env=env, capture_output=True, check=True)
    return time.perf_counter() - started


def bench_hook(server: Server, runs: int = 40) -> None:
    event = json.dumps(pre_tool_use("ls -la")).encode()
    env = server.env()
    baseline_args = [sys.executable, "-c", "import json, socket"]
    hook, bare = [], []
    for _ in range(3):  # warm the page cache for both
        _time([HOOK], event, env)
        _time(baseline_args, b"", env)
    for _ in range(runs):
        hook.append(_time([HOOK], event, env))
        bare.append(_time(baseline_args, b"", env))
    hook_ms, bare_ms = statistics.median(hook) * 1e3, statistics.median(bare) * 1e3
    print(f"hook end to end (allowed ls)      median {hook_ms:6.1f} ms")
    print(f"bare python -c 'import json, socket' median {bare_ms:6.1f} ms")
    print(f"ratio hook / bare                 {hook_ms / bare_ms:6.2f}x  (target <= 1.5x)")


async def _client(socket_path: Path, deadline: float, index: int) -> int:
    done = 0
    while time.perf_counter() < deadline:
        reader, writer = await asyncio.open_unix_connection(str(socket_path))
        event = pre_tool_use("git status" if done % 2 else "ls -la", session=f"bench-{index}")
        writer.write(
            json.dumps({"v": 1, "event": event, "context": {"user": "bench"}, "wait_s": 0}).encode()
            + b"\n"
        )
        await writer.drain()
        reply = json.loads(await reader.readline())
        assert reply["decision"] == "allow", reply
        writer.close()
        done += 1
    return done


async def _throughput(socket_path: Path, clients: int, seconds: float) -> float:
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    counts = await asyncio.gather(*(_client(socket_path, deadline, i) for i in range(clients)))
    return sum(counts) / (time.perf_counter() - started)


def _status(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return dict(line.split(":", 1) for line in lines if ":" in line)


async def _waiters(server: Server, count: int) -> None:
    connections = []
    for index in range(count):
        reader, writer = await asyncio.open_unix_connection(str(server.socket))
        event = pre_tool_use(f"rm file-{index}.txt", session=f"wait-{index}")
        writer.write(
            json.dumps(
                {"v": 1, "event": event, "context": {"user": "bench"}, "wait_s": 120}
            ).encode()
            + b"\n"
        )
        await writer.drain()
        connections.append((reader, writer))
    deadline = time.time() + 60
    while time.time() < deadline:
        pending = server.call({"op": "pending"}).get("pending") or []
        if len(pending) >= count:
            break
        await asyncio.sleep(0.2)
    assert server.process is not None
    status = _status(server.process.pid)
    print(
        f"{count} hooks waiting on approvals: {len(pending)} pending, server RSS "
        f"{status['VmRSS'].strip()}, threads {status['Threads'].strip()}"
    )
    for _reader, writer in connections:
        writer.close()


def _edge_of_a_service(tmp: Path) -> tuple[Server, Server]:
    """(team service, edge): the service on SQLite with --listen, the edge with a host token."""
    cert, key = self_signed(tmp)
    port = free_port()
    (tmp / "service").mkdir()
    (tmp / "edge").mkdir()
    listen = ["--listen", f"127.0.0.1:{port}", "--tls-cert", str(cert), "--tls-key", str(key)]
    service = Server(tmp / "service", serve_args=listen, http_port=port).start()
    token = service.cli("hosts", "add", "bench-edge").stdout.split()[-1]
    (tmp / "edge" / "host.token").write_text(token)
    upstream = [
        *("--upstream", f"https://127.0.0.1:{port}"),
        *("--token-file", str(tmp / "edge" / "host.token"), "--ca-file", str(cert)),
    ]
    return service, Server(tmp / "edge", serve_args=upstream).start()


def _shipped(service: Server) -> int:
    return sum(1 for row in service.audit() if row["payload"] and '"edge"' in row["payload"])


def main_edge() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        service, edge = _edge_of_a_service(Path(tmp))
        try:
            bench_hook(edge)
            rate = asyncio.run(_throughput(edge.socket, clients=16, seconds=5))
            print(f"edge decisions/s with audit writes, 16 clients: {rate:,.0f}")
            local = len(edge.audit())
            started = time.perf_counter()
            while _shipped(service) < local and time.perf_counter() - started < 120:
                time.sleep(0.2)
            print(
                f"edge audit rows shipped to the service: {_shipped(service):,} of {local:,} "
                f"({time.perf_counter() - started:.1f} s after the load stopped)"
            )
        finally:
            edge.kill(signal.SIGTERM)
            service.kill(signal.SIGTERM)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edge", action="store_true", help="measure against an edge")
    if parser.parse_args().edge:
        main_edge()
        return
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp)).start()
        try:
            assert server.process is not None
            idle = _status(server.process.pid)
            print(f"server idle: RSS {idle['VmRSS'].strip()}, threads {idle['Threads'].strip()}")
            bench_hook(server)
            rate = asyncio.run(_throughput(server.socket, clients=16, seconds=5))
            print(
                f"server decisions/s with audit writes, 16 clients: {rate:,.0f} (target >= 2,000)"
            )
            asyncio.run(_waiters(server, 500))
        finally:
            server.kill(signal.SIGTERM)


if __name__ == "__main__":
    main()
