"""Edge mode end to end: one team service (real PostgreSQL, real TLS, the real Bolt app over
HTTP with the Slack stand-in) and three `governance serve --upstream` edges, each with its own
socket and state folder, asked by real `governance-hook` processes."""

from __future__ import annotations

import collections
import concurrent.futures
import json
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bot.edge.shipper import edge_event
from bot.remote import EdgeEvent
from tests.harness import GOVERNANCE, Server, decision_of, free_port, pre_tool_use
from tests.pg import PgServer
from tests.slack_api_stub import SlackApiStub
from tests.test_slack import BOT_TOKEN, LEAD1, SIGNING_SECRET, Slack, write_policy
from tests.tls import self_signed

EDGES = ("edge-1", "edge-2", "edge-3")


@dataclass
class Team:
    service: Server
    slack: Slack
    url: str
    cert: Path
    edges: dict[str, Server]

    def restart_service(self, sig: int = signal.SIGTERM) -> None:
        self.service.kill(sig)
        self.start_service()

    def start_service(self) -> None:
        self.service.start()
        _wait_until(lambda: _accepts(self.url), "the service's API did not come up")

    def shipped(self, host: str) -> list[str]:
        """The event ids the service stored for `host`, one entry per audit row."""
        with psycopg.connect(str(self.service.db)) as connection:
            rows = connection.execute(
                "SELECT payload::jsonb -> 'edge' ->> 'event_id' FROM audit "
                "WHERE host = %s AND payload::jsonb -> 'edge' IS NOT NULL ORDER BY seq",
                [host],
            ).fetchall()
        return [row[0] for row in rows]

    def wait_all_shipped(self, timeout: float = 90) -> None:
        """Every local audit row of every edge is in the service's audit."""

        def complete() -> bool:
            return all(
                set(_local_ids(edge)) <= set(self.shipped(host))
                for host, edge in self.edges.items()
            )

        _wait_until(complete, "the edges' audit did not reach the service", timeout)


def _local_ids(edge: Server) -> list[str]:
    return [str(row["seq"]) for row in edge.audit()]


def _accepts(url: str) -> bool:
    import socket
    from urllib.parse import urlsplit

    where = urlsplit(url)
    try:
        with socket.create_connection((where.hostname, where.port), timeout=1):
            return True
    except OSError:
        return False


def _wait_until(check: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s: {what}")


def _edge(root: Path, url: str, token: str, cert: Path) -> Server:
    root.mkdir()
    token_file = root / "host.token"
    token_file.write_text(token + "\n")
    token_file.chmod(0o600)
    upstream = ["--upstream", url, "--token-file", str(token_file), "--ca-file", str(cert)]
    return Server(root, serve_args=upstream)


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory, pg_server: PgServer) -> Iterator[Team]:
    root = tmp_path_factory.mktemp("team")
    cert, key = self_signed(root)
    slack_port, api_port = free_port(), free_port()
    url = f"https://127.0.0.1:{api_port}"
    (root / "service").mkdir()
    with SlackApiStub() as stub:
        service = Server(
            root / "service",
            policy=write_policy(root / "service" / "policies.json"),
            database=pg_server.fresh_database(),
            serve_env={
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "GOVERNANCE_SLACK_API_URL": stub.base_url,
            },
            serve_args=[
                *("--http", "--port", str(slack_port), "--host", "127.0.0.1"),
                *("--listen", f"127.0.0.1:{api_port}"),
                *("--tls-cert", str(cert), "--tls-key", str(key)),
            ],
            http_port=slack_port,
        )
        team = Team(service, Slack(service, stub), url, cert, {})
        team.start_service()
        for name in EDGES:
            added = service.cli("hosts", "add", name)
            assert added.returncode == 0, added.stderr
            team.edges[name] = _edge(root / name, url, added.stdout.split()[-1], cert)
        with concurrent.futures.ThreadPoolExecutor() as pool:
            list(pool.map(Server.start, team.edges.values()))
        try:
            yield team
        finally:
            everyone = [*team.edges.values(), service]
            with concurrent.futures.ThreadPoolExecutor() as pool:
                list(pool.map(lambda server: server.kill(signal.SIGTERM), everyone))
            for server in everyone:
                assert "Traceback" not in server.log.read_text(), server.log.read_text()


def _hook(edge: Server, command: str, wait_s: float = 5) -> tuple[str, str]:
    return decision_of(edge.hook(pre_tool_use(command, session=f"s-{edge.root.name}"), wait_s))


def test_three_edges_judge_locally_ask_the_service_and_ship_every_event_once(
    team: Team,
) -> None:
    # Ordinary work on all three: allow and deny are judged on each machine.
    for edge in team.edges.values():
        assert _hook(edge, "ls -la")[0] == "allow"
        decision, reason = _hook(edge, "sudo rm -rf /")
        assert decision == "deny" and "builtin.rm_root" in reason
    # An approval from edge 2: one request on the service, one Slack message.
    edge2, edge3 = team.edges["edge-2"], team.edges["edge-3"]
    waiting = edge2.hook_process(pre_tool_use("rm notes.txt", session="s-edge-2"), wait_s=180)
    (approval_id,) = team.service.pending_ids(timeout=30)
    team.slack.posted(approval_id)
    # The service restarts while edge 2's hook waits; edge 3 keeps working offline meanwhile.
    team.service.kill(signal.SIGTERM)
    assert _hook(edge3, "git status")[0] == "allow"
    assert _hook(edge3, "sudo rm -rf /")[0] == "deny"
    decision, reason = _hook(edge3, "rm old-notes.txt")
    assert decision == "deny"
    assert f"the approval service at {team.url} is unreachable" in reason
    assert "fail closed" in reason
    team.start_service()
    # The click on the service answers the hook still waiting on edge 2.
    team.slack.click(approval_id, LEAD1)
    out, err = waiting.communicate(timeout=180)
    decision, reason = decision_of(json.loads(out))
    assert decision == "allow" and approval_id in reason, err
    requested = team.service.wait_for_audit("approval_requested")
    assert [(row["approval_id"], row["host"]) for row in requested] == [(approval_id, "edge-2")]
    assert [row["host"] for row in team.service.wait_for_audit("grant_used")] == ["edge-2"]
    answered = [row for row in edge2.audit() if row["kind"] == "approval_answered"]
    assert [(row["approval_id"], row["decision"]) for row in answered] == [
        (approval_id, "approved")
    ]
    # Every event of every edge reaches the service's audit exactly once, chain intact.
    team.wait_all_shipped()
    for host, edge in team.edges.items():
        shipped = collections.Counter(team.shipped(host))
        assert set(shipped) == set(_local_ids(edge)), host
        assert set(shipped.values()) == {1}, host
    verify = team.service.cli("audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    # Each decision says which version of the service's policy judged it.
    (version,) = {
        json.loads(row["payload"])["policy_version"]
        for row in edge3.audit()
        if row["kind"] == "decision"
    }
    assert re.fullmatch(r"[0-9a-f]{64}", version)
    offline = [row for row in edge3.audit() if row["kind"] == "approval_unreachable"]
    assert len(offline) == 1 and team.url in offline[0]["reason"]


def test_kill_9_of_the_service_mid_upload_loses_and_duplicates_nothing(team: Team) -> None:
    edge = team.edges["edge-1"]
    team.wait_all_shipped()
    team.service.kill(signal.SIGTERM)
    # A backlog while the service is away: decisions straight on the edge's socket.
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        replies = list(
            pool.map(
                lambda n: edge.call({"event": pre_tool_use(f"ls dir-{n}"), "wait_s": 0}),
                range(600),
            )
        )
    assert {reply.get("decision") for reply in replies} == {"allow"}
    backlog = len(_local_ids(edge)) - len(team.shipped("edge-1"))
    assert backlog >= 600
    before = len(team.shipped("edge-1"))
    team.start_service()
    # Cut the service off while the upload is under way.
    _wait_until(lambda: len(team.shipped("edge-1")) > before, "the upload did not start")
    assert team.service.process is not None
    team.service.process.kill()
    team.service.process.wait(timeout=10)
    cut_at = len(team.shipped("edge-1"))
    assert before < cut_at < before + backlog, "the cut came after the upload finished"
    team.start_service()
    team.wait_all_shipped()
    shipped = collections.Counter(team.shipped("edge-1"))
    assert set(shipped) == set(_local_ids(edge))
    assert set(shipped.values()) == {1}
    verify = team.service.cli("audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_sigterm_of_an_edge_answers_its_waiting_hook_and_the_request_stays_upstream(
    team: Team,
) -> None:
    edge = team.edges["edge-1"]
    waiting = edge.hook_process(pre_tool_use("rm draft.txt", session="s-sigterm"), wait_s=300)
    (forwarded,) = _wait_until(
        lambda: [
            row
            for row in edge.audit()
            if row["kind"] == "approval_forwarded" and row["session_id"] == "s-sigterm"
        ],
        "the request was not forwarded",
    )
    assert edge.process is not None
    edge.process.send_signal(signal.SIGTERM)
    out, err = waiting.communicate(timeout=60)
    decision, reason = decision_of(json.loads(out))
    assert decision == "deny" and "shutting down" in reason
    assert forwarded["approval_id"] in reason
    assert edge.process.wait(timeout=30) == 0
    assert forwarded["approval_id"] in team.service.pending_ids()
    edge.start()


def test_a_policy_change_on_the_service_reaches_every_edge(team: Team) -> None:
    before = {name: len(edge.audit()) for name, edge in team.edges.items()}
    assert _hook(team.edges["edge-1"], "kraken-release --now")[0] == "allow"
    policy = json.loads(team.service.policy.read_text())  # type: ignore[union-attr]
    policy["policies"]["bash_commands"]["blocked_patterns"].append("kraken-release")
    team.service.policy.write_text(json.dumps(policy))  # type: ignore[union-attr]
    for name, edge in team.edges.items():
        _wait_until(
            lambda edge=edge, name=name: any(
                row["kind"] == "policy_reloaded" for row in edge.audit()[before[name] :]
            ),
            f"{name} did not reload the policy",
        )
        decision, reason = _hook(edge, "kraken-release --now")
        assert decision == "deny" and "kraken-release" in reason
    versions = [
        json.loads(row["payload"])["policy_version"]
        for row in team.edges["edge-1"].audit()
        if row["kind"] == "decision" and "kraken" in (row["payload"] or "")
    ]
    assert len(versions) == 2 and versions[0] != versions[1]


def test_every_local_audit_row_has_an_upload_form_keyed_by_its_seq() -> None:
    decision = {"seq": 7, "ts": 1.5, "kind": "decision", "rule": "r", "payload": '{"a": 1}'}
    assert edge_event(decision) == {
        "event_id": "7",
        "kind": "decision",
        "ts": 1.5,
        "rule": "r",
        "payload": {"a": 1},
    }
    # A kind the service does not list still ships, so the host's ids stay consecutive.
    unknown = edge_event({"seq": 8, "ts": 2.0, "kind": "brand_new", "payload": "[1]"})
    assert (unknown["kind"], unknown["payload"]) == (
        "edge_other",
        {"value": [1], "edge_kind": "brand_new"},
    )
    assert EdgeEvent.model_validate(unknown).kind == "edge_other"


def test_an_edge_without_a_cached_policy_or_a_service_fails_closed_naming_it(
    tmp_path: Path,
) -> None:
    url = f"https://127.0.0.1:{free_port()}"
    token = tmp_path / "host.token"
    token.write_text("gvh_whatever\n")
    edge = Server(tmp_path, serve_args=["--upstream", url, "--token-file", str(token)])
    started = subprocess.run(
        [
            GOVERNANCE, "serve", "--socket", str(edge.socket), "--db", str(edge.db),
            "--upstream", url, "--token-file", str(token),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=edge.env(),
    )  # fmt: skip
    assert started.returncode == 1
    assert url in started.stderr and "fails closed" in started.stderr
    decision, reason = decision_of(edge.hook(pre_tool_use("ls")))
    assert decision == "deny" and "not reachable" in reason


def test_an_edge_starts_offline_from_its_cache_and_denies_approvals_at_once(
    team: Team, tmp_path: Path
) -> None:
    dead = f"https://127.0.0.1:{free_port()}"
    source = team.edges["edge-1"].root
    token = tmp_path / "host.token"
    token.write_text("gvh_any-token-the-service-is-gone-anyway\n")
    shutil.copy(source / "upstream-policy.json", tmp_path / "upstream-policy.json")
    edge = Server(
        tmp_path,
        serve_args=["--upstream", dead, "--token-file", str(token), "--ca-file", str(team.cert)],
    ).start()
    try:
        assert "policy cached" in edge.log.read_text()
        assert _hook(edge, "ls -la")[0] == "allow"
        decision, reason = _hook(edge, "rm notes.txt")
        assert decision == "deny"
        assert f"the approval service at {dead} is unreachable" in reason
    finally:
        edge.kill(signal.SIGTERM)


def test_an_approval_rule_may_let_its_requests_through_while_the_service_is_away(
    team: Team, tmp_path: Path
) -> None:
    """`when_unreachable: allow` is a team's explicit fail-open for one rule; it is audited."""
    dead = f"https://127.0.0.1:{free_port()}"
    cached = json.loads((team.edges["edge-1"].root / "upstream-policy.json").read_text())
    for rule in cached["policy"]["approval_rules"].values():
        rule["when_unreachable"] = "allow"
    (tmp_path / "upstream-policy.json").write_text(json.dumps(cached))
    token = tmp_path / "host.token"
    token.write_text("gvh_any-token-the-service-is-gone-anyway\n")
    edge = Server(
        tmp_path,
        serve_args=["--upstream", dead, "--token-file", str(token), "--ca-file", str(team.cert)],
    ).start()
    try:
        decision, reason = _hook(edge, "rm notes.txt")
        assert decision == "allow"
        assert f"the approval service at {dead} is unreachable" in reason
        assert ".when_unreachable" in reason
        assert _hook(edge, "rm -rf /")[0] == "deny"  # a deny is judged locally, as ever
    finally:
        edge.kill(signal.SIGTERM)
    rows = edge.audit()
    assert [r["decision"] for r in rows if r["kind"] == "approval_unreachable"] == ["allow"]
