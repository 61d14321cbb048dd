"""Audit streaming from a real `governance serve` to receivers this test starts on loopback:
syslog over UDP, TCP (down first, then up: nothing lost) and a Unix socket, and a Splunk
HEC-style HTTP collector that fails before it accepts."""

from __future__ import annotations

import json
import re
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import SEED_POLICY
from tests.harness import Server, decision_of, free_port, pre_tool_use

RFC5424 = re.compile(
    r"^<(\d+)>1 (\S+) (\S+) claude-governance (\d+) (\S+) "
    r'\[governance@32473 seq="(\d+)" hash="([0-9a-f]{64})"\] (.*)$',
    re.S,
)
WAIT_S = 30


def _policy(tmp_path: Path, *sinks: dict) -> Path:
    document = json.loads(SEED_POLICY.read_text())
    document["audit"]["stream"] = list(sinks)
    path = tmp_path / "policies.json"
    path.write_text(json.dumps(document))
    return path


def _until(condition, what: str) -> None:
    deadline = time.time() + WAIT_S
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _seqs(messages: list[str]) -> list[int]:
    return [int(RFC5424.match(m).group(6)) for m in messages]  # type: ignore[union-attr]


class DatagramReceiver:
    def __init__(self, family: int, address: object) -> None:
        self.socket = socket.socket(family, socket.SOCK_DGRAM)
        self.socket.bind(address)
        self.socket.settimeout(0.1)
        self.messages: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.socket.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            self.messages.append(data.decode())

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.socket.close()


class TcpReceiver:
    """Newline-framed syslog over TCP (RFC 6587 non-transparent framing)."""

    def __init__(self, port: int) -> None:
        self.listener = socket.create_server(("127.0.0.1", port))
        self.listener.settimeout(0.1)
        self.messages: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._read, args=(connection,), daemon=True).start()

    def _read(self, connection: socket.socket) -> None:
        buffer = b""
        with connection:
            while chunk := connection.recv(65536):
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                self.messages.extend(line.decode() for line in lines)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.listener.close()


def _audit_seqs(server: Server) -> list[int]:
    return [row["seq"] for row in server.audit()]


def test_syslog_udp_gets_every_event_as_rfc5424_cef(tmp_path: Path) -> None:
    receiver = DatagramReceiver(socket.AF_INET, ("127.0.0.1", 0))
    port = receiver.socket.getsockname()[1]
    sink = {"type": "syslog", "address": f"udp://127.0.0.1:{port}", "format": "cef"}
    server = Server(tmp_path, policy=_policy(tmp_path, sink)).start()
    try:
        assert decision_of(server.hook(pre_tool_use("sudo rm -rf /")))[0] == "deny"
        _until(lambda: any("builtin.rm_root" in m for m in receiver.messages), "the deny")
        deny = next(m for m in receiver.messages if "builtin.rm_root" in m)
        match = RFC5424.match(deny)
        assert match, deny
        priority, stamp, _host, _pid, msgid, seq, digest, body = match.groups()
        assert int(priority) == 4 * 8 + 2  # facility auth, severity critical
        assert stamp.endswith("Z") and msgid == "decision"
        row = next(r for r in server.audit() if r["seq"] == int(seq))
        assert row["hash"] == digest and row["rule"] == "builtin.rm_root"
        assert body.startswith("CEF:0|claude-governance|") and "act=Blocked" in body
    finally:
        server.kill(signal.SIGTERM)
        receiver.close()


def test_syslog_tcp_collector_down_blocks_nothing_and_loses_nothing(tmp_path: Path) -> None:
    port = free_port()
    sink = {"type": "syslog", "address": f"tcp://127.0.0.1:{port}"}
    server = Server(tmp_path, policy=_policy(tmp_path, sink)).start()
    receiver = None
    try:
        _until(lambda: server.call({"op": "ping"}).get("ok"), "the server")
        # Nobody listens: decisions are still answered at once.
        for command in ("ls", "git status", "sudo rm -rf /", "cat README.md"):
            server.hook(pre_tool_use(command))
        receiver = TcpReceiver(port)
        expected = _audit_seqs(server)
        _until(lambda: set(expected) <= set(_seqs(receiver.messages)), "the backlog")
        server.hook(pre_tool_use("pwd"))
        _until(lambda: set(_audit_seqs(server)) <= set(_seqs(receiver.messages)), "a new event")
        events = [json.loads(RFC5424.match(m).group(8)) for m in receiver.messages]  # type: ignore[union-attr]
        assert {e["class_uid"] for e in events} >= {1007}
        assert _seqs(receiver.messages) == sorted(_seqs(receiver.messages))
    finally:
        server.kill(signal.SIGTERM)
        if receiver is not None:
            receiver.close()


def test_syslog_over_a_unix_socket(tmp_path: Path) -> None:
    directory = Path(tempfile.mkdtemp(prefix="gs-"))  # AF_UNIX paths must be short
    path = directory / "log.sock"
    receiver = DatagramReceiver(socket.AF_UNIX, str(path))
    sink = {"type": "syslog", "address": f"unix:{path}"}
    server = Server(tmp_path, policy=_policy(tmp_path, sink)).start()
    try:
        server.hook(pre_tool_use("ls -la"))
        _until(lambda: any('"cmd_line": "ls -la"' in m for m in receiver.messages), "the decision")
    finally:
        server.kill(signal.SIGTERM)
        receiver.close()
        path.unlink(missing_ok=True)
        directory.rmdir()


class Collector(ThreadingHTTPServer):
    """A Splunk HEC stand-in: refuses the first `fail` requests with 503, then stores events."""

    def __init__(self, fail: int) -> None:
        self.fail = fail
        self.events: list[dict] = []
        self.authorizations: list[str | None] = []
        super().__init__(("127.0.0.1", 0), _CollectorHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


class _CollectorHandler(BaseHTTPRequestHandler):
    server: Collector

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self.server.authorizations.append(self.headers.get("Authorization"))
        if self.server.fail > 0:
            self.server.fail -= 1
            self.send_response(503)
            self.end_headers()
            return
        self.server.events.extend(json.loads(line) for line in body.splitlines())
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"text":"Success","code":0}')

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[Collector]:
    running = Collector(fail=3)
    yield running
    running.shutdown()
    running.server_close()


def test_http_collector_retries_until_accepted_with_the_token_from_the_environment(
    tmp_path: Path, collector: Collector
) -> None:
    url = f"http://127.0.0.1:{collector.server_address[1]}/services/collector/event"
    sink = {"type": "http", "url": url, "token_env": "TEST_HEC_TOKEN"}
    server = Server(
        tmp_path, policy=_policy(tmp_path, sink), serve_env={"TEST_HEC_TOKEN": "hec-7f3a9c"}
    ).start()
    try:
        for command in ("ls", "sudo rm -rf /"):
            server.hook(pre_tool_use(command))
        expected = _audit_seqs(server)
        _until(
            lambda: set(expected) <= {e["event"]["metadata"]["sequence"] for e in collector.events},
            "the collector to accept the events",
        )
        assert collector.fail == 0  # the 503s were retried
        assert set(collector.authorizations) == {"Splunk hec-7f3a9c"}
        deny = next(e for e in collector.events if e["event"].get("disposition") == "Blocked")
        assert (
            deny["sourcetype"] == "claude-governance:ocsf" and deny["source"] == "claude-governance"
        )
        assert deny["event"]["policy"]["uid"] == "builtin.rm_root"
        assert "hec-7f3a9c" not in (tmp_path / "gov.db").read_bytes().decode("latin-1")
    finally:
        server.kill(signal.SIGTERM)
