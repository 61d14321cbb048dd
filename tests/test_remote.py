"""The team service's HTTPS API end to end: a real `governance serve --listen` process with a
self-signed certificate, a real HTTPS client holding a token from `governance hosts add`."""

from __future__ import annotations

import concurrent.futures
import getpass
import http.client
import json
import signal
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SEED_POLICY
from tests.harness import Server, free_port, pre_tool_use
from tests.tls import self_signed

HOST = "laptop-7"


class Remote:
    """An edge's view of the service: HTTPS with the test certificate as the only CA."""

    def __init__(self, port: int, cert: Path, token: str | None = None) -> None:
        self.port = port
        self.tls = ssl.create_default_context(cafile=str(cert))
        self.token = token

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> tuple[int, Any, dict[str, str]]:
        connection = http.client.HTTPSConnection(
            "127.0.0.1", self.port, context=self.tls, timeout=120
        )
        sent = dict(headers or {})
        bearer = token if token is not None else self.token
        if bearer:
            sent["Authorization"] = f"Bearer {bearer}"
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if data is not None:
            sent["Content-Type"] = "application/json"
        try:
            connection.request(method, path, body=data, headers=sent)
            response = connection.getresponse()
            text = response.read()
            parsed = json.loads(text) if text else None
            return response.status, parsed, dict(response.getheaders())
        finally:
            connection.close()

    def decide(self, command: str, wait_s: float = 0, **extra: Any) -> tuple[int, Any]:
        body = {
            "event": pre_tool_use(command),
            "context": {"user": "alice", "host": "spoofed-host", "git_branch": "feature/x"},
            "os_user": "alice",
            "wait_s": wait_s,
            **extra,
        }
        status, reply, _ = self.request("POST", "/v1/decide", body)
        return status, reply


@pytest.fixture
def service(tmp_path: Path, db_location: str) -> Iterator[tuple[Server, Remote]]:
    cert, key = self_signed(tmp_path)
    policy = tmp_path / "policies.json"
    policy.write_text(SEED_POLICY.read_text())
    port = free_port()
    server = Server(
        tmp_path,
        policy=policy,
        database=db_location if db_location.startswith("postgresql") else None,
        serve_args=[
            "--listen",
            f"127.0.0.1:{port}",
            "--tls-cert",
            str(cert),
            "--tls-key",
            str(key),
        ],
        http_port=port,
    ).start()
    added = server.cli("hosts", "add", HOST)
    assert added.returncode == 0, added.stderr
    token = added.stdout.split()[-1]
    yield server, Remote(port, cert, token)
    server.kill(signal.SIGTERM)


def _wait_until(check: Any, timeout: float = 20) -> Any:
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("the condition was not met in time")


def test_requests_without_a_valid_token_get_401_and_are_audited(
    service: tuple[Server, Remote],
) -> None:
    server, remote = service
    assert remote.request("GET", "/v1/health", token="")[:2] == (200, {"ok": True, "api": "v1"})
    status, reply, _ = remote.request("POST", "/v1/decide", {"event": {}}, token="")
    assert status == 401 and "no bearer token" in reply["error"]
    wrong = "gvh_not-the-token-of-anyone-0123456789abcdef"
    status, reply, _ = remote.request("GET", "/v1/policy", token=wrong)
    assert status == 401 and "unknown or revoked token" in reply["error"]
    failures = [row for row in server.audit() if row["kind"] == "remote_auth_failed"]
    assert [row["reason"] for row in failures] == ["no bearer token", "unknown or revoked token"]
    assert all(json.loads(row["payload"])["peer"] == "127.0.0.1" for row in failures)
    assert not any(wrong in json.dumps(row, default=str) for row in server.audit())
    assert not any(remote.token in json.dumps(row, default=str) for row in server.audit())


def test_remote_decisions_allow_and_deny_with_the_host_of_the_token(
    service: tuple[Server, Remote],
) -> None:
    server, remote = service
    status, reply = remote.decide("ls -la")
    assert status == 200 and reply["decision"] == "allow"
    status, reply = remote.decide("sudo /bin/rm -r -f /")
    assert status == 200 and reply["decision"] == "deny" and "builtin.rm_root" in reply["reason"]
    decisions = [row for row in server.audit() if row["kind"] == "decision"]
    assert [row["decision"] for row in decisions] == ["allow", "deny"]
    # The host of record is the token's, not what the body claims; the OS user is the edge's.
    assert {(row["host"], row["peer_user"], row["user"]) for row in decisions} == {
        (HOST, "alice", "alice")
    }
    listed = server.cli("hosts", "list", "--json")
    (host,) = json.loads(listed.stdout)
    assert host["name"] == HOST and host["last_contact_at"] and host["revoked_at"] is None


def test_remote_approval_is_decided_at_the_console_while_the_edge_long_polls(
    service: tuple[Server, Remote],
) -> None:
    server, remote = service
    status, reply = remote.decide("rm notes.txt")
    assert status == 200 and reply["decision"] == "approval_pending"
    approval_id = reply["approval_id"]
    with concurrent.futures.ThreadPoolExecutor() as pool:
        polled = pool.submit(remote.request, "GET", f"/v1/approvals/{approval_id}/wait?timeout=60")
        _wait_until(lambda: server.call({"op": "pending"}).get("pending"))
        approved = server.cli("approve", approval_id)  # this test's uid, not the requester
        assert approved.returncode == 0, approved.stdout + approved.stderr
        status, state, _ = polled.result(timeout=60)
    assert status == 200 and state["state"] == "approved" and state["retry"] is True
    # The retry uses the single-use grant, once.
    assert remote.decide("rm notes.txt")[1]["decision"] == "approved"
    assert remote.decide("rm notes.txt")[1]["decision"] == "approval_pending"
    requested = [row for row in server.audit() if row["kind"] == "approval_requested"]
    assert requested[0]["host"] == HOST
    assert json.loads(requested[0]["payload"])["requester_host"] == HOST


def test_the_requester_named_by_the_edge_cannot_approve_at_the_console(
    service: tuple[Server, Remote],
) -> None:
    server, remote = service
    # The edge says the agent runs as the very OS user who sits at the service's console.
    body = {"event": pre_tool_use("rm notes.txt"), "os_user": getpass.getuser()}
    status, reply, _ = remote.request("POST", "/v1/decide", body)
    approval_id = reply["approval_id"]
    refused = server.cli("approve", approval_id)
    assert refused.returncode == 1 and "your own agent" in refused.stdout


def test_an_edge_token_cannot_approve_anything(service: tuple[Server, Remote]) -> None:
    server, remote = service
    approval_id = remote.decide("rm notes.txt")[1]["approval_id"]
    for method, path, body in (
        ("POST", f"/v1/approvals/{approval_id}/approve", {}),
        ("POST", f"/v1/approvals/{approval_id}", {"vote": "approve"}),
        ("POST", "/v1/approve", {"approval_id": approval_id}),
        ("POST", "/v1/decide", {"op": "approve", "approval_id": approval_id}),
        (
            "POST",
            "/v1/audit/events",
            {"events": [{"event_id": "1", "kind": "approval_approved"}]},
        ),
    ):
        status, reply, _ = remote.request(method, path, body)
        assert 400 <= status < 500 and "error" in reply, (path, status, reply)
    (pending,) = server.call({"op": "pending"})["pending"]
    assert pending["id"] == approval_id
    assert not [row for row in server.audit() if row["kind"] in {"vote", "approval_approved"}]


def test_audit_upload_is_stored_once_however_often_it_is_resent(
    service: tuple[Server, Remote],
) -> None:
    server, remote = service
    secret = "ghp_" + "a1B2" * 9
    events = [
        {
            "event_id": "1",
            "kind": "decision",
            "ts": time.time() - 60,
            "user": "alice",
            "tool_name": "Bash",
            "decision": "allow",
            "rule": "bash_commands.allowed_patterns[0]",
            "payload": {"tool_input": {"command": f"echo {secret}"}},
        },
        {"event_id": "2", "kind": "tool_outcome", "tool_name": "Bash"},
    ]
    status, reply, _ = remote.request("POST", "/v1/audit/events", {"events": events})
    assert status == 200 and (reply["stored"], reply["duplicates"]) == (2, 0)
    resent = [*events, {"event_id": "3", "kind": "prompt", "user": "alice"}]
    status, reply, _ = remote.request("POST", "/v1/audit/events", {"events": resent})
    assert status == 200 and (reply["stored"], reply["duplicates"]) == (1, 2)
    uploaded = [row for row in server.audit() if row["payload"] and '"edge"' in row["payload"]]
    assert [json.loads(row["payload"])["edge"]["event_id"] for row in uploaded] == [
        "1",
        "2",
        "3",
    ]
    assert {row["host"] for row in uploaded} == {HOST}
    assert secret not in json.dumps(uploaded)
    verify = server.cli("audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_policy_fetch_answers_304_while_unchanged_and_the_long_poll_sees_a_change(
    service: tuple[Server, Remote],
) -> None:
    server, remote = service
    status, document, headers = remote.request("GET", "/v1/policy")
    assert status == 200 and headers["ETag"] == f'"{document["version"]}"'
    assert (
        document["policy"]["approval_rules"].keys()
        == json.loads(SEED_POLICY.read_text())["approval_rules"].keys()
    )
    etag = headers["ETag"]
    assert remote.request("GET", "/v1/policy", headers={"If-None-Match": etag})[0] == 304
    with concurrent.futures.ThreadPoolExecutor() as pool:
        polled = pool.submit(
            remote.request, "GET", "/v1/policy?wait=60", None, None, {"If-None-Match": etag}
        )
        changed = json.loads(server.policy.read_text())
        changed["mode"] = "audit"
        server.policy.write_text(json.dumps(changed))
        status, document, headers = polled.result(timeout=60)
    assert status == 200 and headers["ETag"] != etag and document["policy"]["mode"] == "audit"


def test_revoking_a_host_closes_its_waiting_request_at_once(
    service: tuple[Server, Remote],
) -> None:
    server, remote = service
    with concurrent.futures.ThreadPoolExecutor() as pool:
        waiting = pool.submit(remote.decide, "rm notes.txt", 3000)
        (approval_id,) = _wait_until(
            lambda: [a["id"] for a in server.call({"op": "pending"}).get("pending") or []]
        )
        revoked = server.cli("hosts", "revoke", HOST)
        assert revoked.returncode == 0 and approval_id in revoked.stdout
        status, reply = waiting.result(timeout=60)
    assert status == 401 and f"host {HOST} was revoked" in reply["error"]
    assert server.call({"op": "pending"})["pending"] == []
    assert remote.decide("ls")[0] == 401
    cancelled = [row for row in server.audit() if row["kind"] == "approval_cancelled"]
    assert [row["approval_id"] for row in cancelled] == [approval_id]
    listed = json.loads(server.cli("hosts", "list", "--json").stdout)
    assert listed[0]["revoked_at"] is not None
    # `hosts revoke` ran in another process: the service shows the request as final wherever
    # it was announced (here the console approver; Slack's message the same way).
    _wait_until(lambda: f"{approval_id}: cancelled without a decision" in server.log.read_text())


def test_bad_input_gets_a_clear_4xx_and_the_service_keeps_serving(
    service: tuple[Server, Remote],
) -> None:
    server, remote = service
    status, reply, _ = remote.request("POST", "/v1/decide", raw=b"{not json")
    assert status == 400 and "not JSON" in reply["error"]
    status, reply, _ = remote.request("POST", "/v1/decide", {"os_user": "alice"})
    assert status == 422 and reply["error"].startswith("event:")
    status, reply, _ = remote.request(
        "POST", "/v1/decide", {"event": pre_tool_use("ls"), "os_user": "a b; rm"}
    )
    assert status == 422 and reply["error"].startswith("os_user:")
    status, reply, _ = remote.request("POST", "/v1/audit/events", {"events": []})
    assert status == 422 and reply["error"].startswith("events:")
    judged = {"action_key": "k", "tool_name": "Bash", "tool_input": {}, "reason": "r"}
    status, reply, _ = remote.request("POST", "/v1/approvals", {**judged, "os_user": "alice"})
    assert status == 422 and reply["error"].startswith("risk:")
    status, reply, _ = remote.request("POST", "/v1/grants/use", {"action_key": ""})
    assert status == 422 and reply["error"].startswith("action_key:")
    status, reply, _ = remote.request("GET", "/v1/approvals/APR-NOPE/wait?timeout=x")
    assert status == 400
    status, reply, _ = remote.request("GET", "/v1/approvals/APR-NOPE/wait")
    assert status == 404 and "APR-NOPE" in reply["error"]
    status, reply, _ = remote.request("GET", "/v2/anything")
    assert status == 404 and "error" in reply
    assert remote.decide("ls -la") == (200, remote.decide("ls -la")[1])
    assert remote.decide("ls -la")[1]["decision"] == "allow"


def test_a_remote_request_waiting_on_one_replica_is_answered_by_a_vote_on_another(
    tmp_path: Path, pg_url: str
) -> None:
    cert, key = self_signed(tmp_path)
    replicas = []
    for name in ("a", "b"):
        port = free_port()
        (tmp_path / name).mkdir()
        listen = ["--listen", f"127.0.0.1:{port}", "--tls-cert", str(cert), "--tls-key", str(key)]
        replicas.append(
            Server(
                tmp_path / name,
                policy=SEED_POLICY,
                database=pg_url,
                serve_args=listen,
                http_port=port,
            ).start()
        )
    first, second = replicas
    try:
        token = first.cli("hosts", "add", HOST).stdout.split()[-1]
        assert first.http_port is not None
        remote = Remote(first.http_port, cert, token)
        with concurrent.futures.ThreadPoolExecutor() as pool:
            waiting = pool.submit(remote.decide, "rm notes.txt", 60)
            (approval_id,) = second.pending_ids()  # the request is in the shared database
            approved = second.cli("approve", approval_id)
            assert approved.returncode == 0, approved.stdout + approved.stderr
            status, reply = waiting.result(timeout=60)
        assert status == 200 and reply["decision"] == "approved", reply
        assert reply["approval_id"] == approval_id
    finally:
        for replica in replicas:
            replica.kill(signal.SIGTERM)


def test_sigterm_answers_a_waiting_remote_request_and_exits_cleanly(
    service: tuple[Server, Remote],
) -> None:
    server, remote = service
    assert server.process is not None
    with concurrent.futures.ThreadPoolExecutor() as pool:
        waiting = pool.submit(remote.decide, "rm notes.txt", 3000)
        _wait_until(lambda: server.call({"op": "pending"}).get("pending"))
        server.process.send_signal(signal.SIGTERM)
        status, reply = waiting.result(timeout=60)
    assert status == 503 and "shutting down" in reply["error"]
    assert server.process.wait(timeout=30) == 0
    assert "Traceback" not in server.log.read_text()
