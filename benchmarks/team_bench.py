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
import multiprocessing
import os
import signal
import ssl
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.hook_bench import _throughput as _socket_throughput  # noqa: E402
from bot.client import call  # noqa: E402
from tests.harness import Server, free_port, pre_tool_use  # noqa: E402
from tests.pg import PgServer  # noqa: E402

SEED = ROOT / "tests" / "fixtures" / "seed-policies.json"
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


async def _clients(
    urls: list[str],
    token: str,
    cafile: str,
    first: int,
    count: int,
    start_at: float,
    seconds: float,
) -> tuple[int, float]:
    """`count` keep-alive clients, warmed until `start_at` (wall clock), then counted: the
    decisions they got and the CPU seconds this process spent meanwhile."""
    tls = ssl.create_default_context(cafile=cafile)
    headers = {"Authorization": f"Bearer {token}"}
    connector = aiohttp.TCPConnector(limit=count)
    indexes = range(first, first + count)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as session:
        warm = time.perf_counter() + max(0.0, start_at - time.time())
        await asyncio.gather(
            *(_client(session, urls[i % len(urls)], i, warm, tls) for i in indexes)
        )
        deadline = time.perf_counter() + seconds
        cpu = time.process_time()
        counts = await asyncio.gather(
            *(_client(session, urls[i % len(urls)], i, deadline, tls) for i in indexes)
        )
        return sum(counts), time.process_time() - cpu


def _client_process(job: tuple) -> tuple[int, float]:
    return asyncio.run(_clients(*job))


def _cpu_seconds(pids: list[int]) -> float:
    """user + system CPU seconds of these processes (all their threads) so far."""
    total = 0
    for pid in pids:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def _machine_busy_seconds() -> float:
    """CPU seconds every core of this machine has spent busy so far (/proc/stat)."""
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _children(parent: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            if int(stat.read_text().rpartition(")")[2].split()[1]) == parent:
                found.append(int(stat.parent.name))
    return found


@dataclass(frozen=True)
class Load:
    """Decisions/s, and where the CPU went during the counted seconds (CPU-s per second)."""

    rate: float
    servers: float
    database: float
    clients: float
    machine: float

    def split(self) -> str:
        others = max(0.0, self.machine - self.servers - self.database - self.clients)
        return (
            f"CPU (cores busy) servers {self.servers:.2f}, database {self.database:.2f}, "
            f"clients {self.clients:.2f}, rest of the machine {others:.2f}; per decision "
            f"{self._per_decision(self.servers)} server, {self._per_decision(self.database)} "
            f"database, {self._per_decision(self.clients)} client CPU-µs"
        )

    def capacity(self) -> str:
        """What the run's CPU cost per decision allows when nothing else shares the cores."""
        ours = self.servers + self.database + self.clients
        cores = os.cpu_count() or 1
        service = self.servers + self.database
        return (
            f"{self.rate / ours * cores:,.0f} decisions/s if its {cores} cores ran only this "
            f"benchmark; {self.rate / service * cores:,.0f}/s with the clients on other machines "
            "(both estimates from the CPU-s per decision above)"
        )

    def _per_decision(self, cores: float) -> str:
        return f"{cores / self.rate * 1e6:,.0f}"


def _throughput(
    urls: list[str],
    token: str,
    cafile: str,
    clients: int,
    processes: int,
    seconds: float,
    server_pids: list[int],
    database_pid: int | None,
) -> Load:
    """Decisions/s from `clients` HTTPS clients spread over `processes` client processes, so
    the load generator's own TLS and JSON work is not the bottleneck measured."""
    start_at = time.time() + 3.0  # every process connected and warm by then
    share = [clients // processes + (p < clients % processes) for p in range(processes)]
    jobs = [
        (urls, token, cafile, sum(share[:p]), share[p], start_at, seconds)
        for p in range(processes)
        if share[p]
    ]
    with multiprocessing.Pool(len(jobs)) as pool:
        counting = pool.map_async(_client_process, jobs)
        time.sleep(max(0.0, start_at - time.time()))
        database = [database_pid, *_children(database_pid)] if database_pid else []
        before = (_cpu_seconds(server_pids), _cpu_seconds(database), _machine_busy_seconds())
        time.sleep(seconds)
        after = (_cpu_seconds(server_pids), _cpu_seconds(database), _machine_busy_seconds())
        results = counting.get()
    servers, database_cpu, machine = (b - a for a, b in zip(before, after, strict=True))
    return Load(
        sum(count for count, _ in results) / seconds,
        servers / seconds,
        database_cpu / seconds,
        sum(cpu for _, cpu in results) / seconds,
        machine / seconds,
    )


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


async def _round_trips(
    url: str, other: Path, token: str, tls: ssl.SSLContext, runs: int
) -> list[float]:
    """Request on one replica, approve at the other's console socket, the long-poll answered."""
    headers = {"Authorization": f"Bearer {token}"}
    loop = asyncio.get_running_loop()
    timings = []
    async with aiohttp.ClientSession(headers=headers) as session:
        for run in range(runs):
            body = _body(run, 0)
            body["event"] = pre_tool_use(f"rm bench-{run}.txt", session=f"trip-{run}")
            started = time.perf_counter()
            async with session.post(f"{url}/v1/decide", json=body, ssl=tls) as reply:
                approval_id = (await reply.json())["approval_id"]
            wait_url = f"{url}/v1/approvals/{approval_id}/wait?timeout=60"
            waiting = asyncio.ensure_future(session.get(wait_url, ssl=tls))
            vote = {"op": "approve", "approval_id": approval_id}
            voted = await loop.run_in_executor(None, call, other, vote)
            assert voted.get("ok"), voted
            async with await waiting as answer:
                assert (await answer.json())["state"] == "approved"
            timings.append(time.perf_counter() - started)
    return timings


def _socket_latency(socket_path: Path, runs: int) -> list[float]:
    """The baseline: one decision through the server's Unix socket (a new connection each)."""
    timings = []
    for count in range(runs + 20):
        body = _body(0, count)
        request = {"v": 1, "event": body["event"], "context": body["context"], "wait_s": 0}
        started = time.perf_counter()
        assert call(socket_path, request)["decision"] == "allow"
        if count >= 20:
            timings.append(time.perf_counter() - started)
    return timings


@contextlib.contextmanager
def _service(
    root: Path, database: str | None, replicas: int
) -> Iterator[tuple[list[str], str, str, list[Server]]]:
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
                Server(
                    folder, policy=SEED, database=database, serve_args=listen, http_port=port
                ).start()
            )
        added = servers[0].cli("hosts", "add", "bench-host")
        assert added.returncode == 0, added.stderr
        token = added.stdout.split()[-1]
        urls = [f"https://127.0.0.1:{server.http_port}" for server in servers]
        yield urls, token, str(cert), servers
    finally:
        for server in servers:
            server.kill(signal.SIGTERM)


def _run(
    label: str,
    root: Path,
    database: str | None,
    replicas: int,
    args: argparse.Namespace,
    database_pid: int | None = None,
) -> None:
    with _service(root, database, replicas) as (urls, token, cafile, servers):
        tls = ssl.create_default_context(cafile=cafile)
        pids = [server.process.pid for server in servers if server.process]
        load = _throughput(
            urls, token, cafile, args.clients, args.processes, args.seconds, pids, database_pid
        )
        print(
            f"{label}: {load.rate:,.0f} remote decisions/s with audit writes, {args.clients} "
            f"HTTPS clients in {args.processes} processes, {replicas} server(s) "
            "(target >= 2,000)"
        )
        print(f"{label}: {load.split()}")
        print(f"{label}: capacity {load.capacity()}")
        timings = sorted(asyncio.run(_latency(urls[0], token, tls, args.runs)))
        p50 = statistics.median(timings) * 1e3
        p99 = timings[int(len(timings) * 0.99) - 1] * 1e3
        print(f"{label}: one remote decision p50 {p50:.2f} ms, p99 {p99:.2f} ms ({args.runs} runs)")
        socket_rate = asyncio.run(_socket_throughput(servers[0].socket, args.clients, args.seconds))
        print(
            f"{label}: baseline, the Unix socket of one server, {args.clients} clients: "
            f"{socket_rate:,.0f} decisions/s"
        )
        local = sorted(_socket_latency(servers[0].socket, args.runs))
        print(
            f"{label}: baseline, the same decision over the Unix socket: p50 "
            f"{statistics.median(local) * 1e3:.2f} ms, p99 "
            f"{local[int(len(local) * 0.99) - 1] * 1e3:.2f} ms"
        )
        if len(servers) > 1:
            trips = asyncio.run(_round_trips(urls[0], servers[1].socket, token, tls, 30))
            print(
                f"{label}: approval round trip (request on replica 1, approved at replica 2's "
                f"console, answered on replica 1) p50 {statistics.median(trips) * 1e3:.1f} ms"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--processes", type=int, default=4, help="client processes")
    parser.add_argument("--replicas", type=int, default=2, help="servers on PostgreSQL")
    parser.add_argument("--runs", type=int, default=500, help="sequential calls for p50/p99")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pg = PgServer()
        try:
            database = pg.fresh_database()
            _run("PostgreSQL", Path(tmp) / "pg", database, args.replicas, args, pg.postmaster_pid())
        finally:
            pg.stop()
        _run("SQLite", Path(tmp) / "sqlite", None, 1, args)


if __name__ == "__main__":
    main()
