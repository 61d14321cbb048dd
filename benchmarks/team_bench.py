"""Team service benchmark: remote decisions over HTTPS, every one written to the audit trail.

Run: .venv/bin/python benchmarks/team_bench.py [--seconds 10] [--clients 50] [--replicas 2]
1. PostgreSQL (a throwaway server from tests/pg.py) behind `--replicas` `governance serve
   --listen` processes: decisions/s from `--clients` concurrent HTTPS clients (keep-alive,
   spread over the replicas; target >= 2,000/s), then the p50/p99 of one remote decision
   from a single client;
2. the same on SQLite with one server (its single-machine figure, for comparison).
Client, servers and PostgreSQL share this machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import ssl
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness import Server, free_port, pre_tool_use  # noqa: E402
from tests.pg import PgServer  # noqa: E402
from tests.tls import self_signed  # noqa: E402


def _body(index: int, count: int) -> dict:
    command = "git status" if count % 2 else "ls -la"
    return {
        "event": pre_tool_use(command, session=f"bench-{index}"),
        "context": {"user": "bench", "git_branch": "main"},
        "os_user": "bench",
    }


async def _client(
    session: aiohttp.ClientSession, url: str, index: int, deadline: float, tls: ssl.SSLContext
) -> int:
    done = 0
    while time.perf_counter() < deadline:
        async with session.post(f"{url}/v1/decide", json=_body(index, done), ssl=tls) as reply:
            assert reply.status == 200, await reply.text()
            await reply.read()
        done += 1
    return done


async def _throughput(
    urls: list[str], token: str, tls: ssl.SSLContext, clients: int, seconds: float
) -> float:
    headers = {"Authorization": f"Bearer {token}"}
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as session:
        warm = time.perf_counter() + 1.0  # TLS handshakes and first-call caches
        await asyncio.gather(
            *(_client(session, urls[i % len(urls)], i, warm, tls) for i in range(clients))
        )
        started = time.perf_counter()
        deadline = started + seconds
        counts = await asyncio.gather(
            *(_client(session, urls[i % len(urls)], i, deadline, tls) for i in range(clients))
        )
        return sum(counts) / (time.perf_counter() - started)


async def _latency(url: str, token: str, tls: ssl.SSLContext, runs: int) -> list[float]:
    headers = {"Authorization": f"Bearer {token}"}
    timings = []
    async with aiohttp.ClientSession(headers=headers) as session:
        for count in range(runs + 20):
            started = time.perf_counter()
            async with session.post(f"{url}/v1/decide", json=_body(0, count), ssl=tls) as reply:
                await reply.read()
            if count >= 20:  # the first calls warm the connection
                timings.append(time.perf_counter() - started)
    return timings


@contextlib.contextmanager
def _service(
    root: Path, database: str | None, replicas: int
) -> Iterator[tuple[list[str], str, ssl.SSLContext]]:
    root.mkdir(parents=True, exist_ok=True)
    cert, key = self_signed(root)
    servers: list[Server] = []
    try:
        for replica in range(replicas):
            port = free_port()
            folder = root / f"replica-{replica}"
            folder.mkdir()
            listen = [
                "--listen",
                f"127.0.0.1:{port}",
                "--tls-cert",
                str(cert),
                "--tls-key",
                str(key),
            ]
            servers.append(
                Server(folder, database=database, serve_args=listen, http_port=port).start()
            )
        added = servers[0].cli("hosts", "add", "bench-host")
        assert added.returncode == 0, added.stderr
        token = added.stdout.split()[-1]
        urls = [f"https://127.0.0.1:{server.http_port}" for server in servers]
        yield urls, token, ssl.create_default_context(cafile=str(cert))
    finally:
        for server in servers:
            server.kill(signal.SIGTERM)


def _run(
    label: str, root: Path, database: str | None, replicas: int, args: argparse.Namespace
) -> None:
    with _service(root, database, replicas) as (urls, token, tls):
        rate = asyncio.run(_throughput(urls, token, tls, args.clients, args.seconds))
        print(
            f"{label}: {rate:,.0f} remote decisions/s with audit writes, {args.clients} HTTPS "
            f"clients, {replicas} server(s) (target >= 2,000)"
        )
        timings = sorted(asyncio.run(_latency(urls[0], token, tls, args.runs)))
        p50 = statistics.median(timings) * 1e3
        p99 = timings[int(len(timings) * 0.99) - 1] * 1e3
        print(f"{label}: one remote decision p50 {p50:.2f} ms, p99 {p99:.2f} ms ({args.runs} runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--replicas", type=int, default=2, help="servers on PostgreSQL")
    parser.add_argument("--runs", type=int, default=500, help="sequential calls for p50/p99")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pg = PgServer()
        try:
            _run("PostgreSQL", Path(tmp) / "pg", pg.fresh_database(), args.replicas, args)
        finally:
            pg.stop()
        _run("SQLite", Path(tmp) / "sqlite", None, 1, args)


if __name__ == "__main__":
    main()
