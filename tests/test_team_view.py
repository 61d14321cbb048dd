"""The team's view of a service with remote hosts, on both backends: `hosts list`, `audit verify`
over each host's uploaded stream, `audit search --host`, and the report by host in the CLI and in
Slack. Edges upload through the real HTTPS API with real host tokens, as an edge does."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.harness import Server, free_port, pre_tool_use
from tests.pg import PgServer
from tests.slack_api_stub import SlackApiStub
from tests.test_remote import Remote
from tests.test_slack import BOT_TOKEN, LEAD1, SIGNING_SECRET, Slack, text_of, write_policy
from tests.tls import self_signed

# What each edge uploads: (event id, kind, decision). laptop-2's stream misses 3-4 and 7-8.
LAPTOP_1 = [(1, "decision", "allow"), (2, "decision", "deny"), (3, "tool_outcome", None)]
LAPTOP_2 = [(n, "decision", "deny" if n in (2, 9) else "allow") for n in (1, 2, 5, 6, 9)]


def _events(stream: list[tuple[int, str, str | None]]) -> list[dict[str, Any]]:
    return [
        {
            "event_id": str(number),
            "kind": kind,
            "ts": time.time() - 60,
            "user": "alice",
            "tool_name": "Bash",
            "decision": decision,
            "rule": "bash_commands.blocked_patterns[0]" if decision == "deny" else None,
        }
        for number, kind, decision in stream
    ]


def _edge_headers(policy: str, backlog: str, hook: str) -> dict[str, str]:
    return {
        "X-Governance-Policy-Version": policy,
        "X-Governance-Spool-Backlog": backlog,
        "X-Governance-Hook-Version": hook,
    }


@dataclass
class Team:
    server: Server
    slack: Slack
    edges: dict[str, Remote]
    policy_version: str

    def cli(self, *args: str) -> Any:
        return self.server.cli(*args)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def team(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Team]:
    """One service (Slack over HTTP, remote hosts over HTTPS) with three hosts: laptop-1 and
    laptop-2 upload their streams, ci-1 is registered and silent."""
    root = tmp_path_factory.mktemp(f"team-{request.param}")
    database = None
    if request.param == "postgresql":
        pg_server: PgServer = request.getfixturevalue("pg_server")
        database = pg_server.fresh_database()
    cert, key = self_signed(root)
    slack_port, api_port = free_port(), free_port()
    with SlackApiStub() as stub:
        server = Server(
            root,
            policy=write_policy(root / "policies.json"),
            database=database,
            serve_env={
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "GOVERNANCE_SLACK_API_URL": stub.base_url,
            },
            serve_args=[
                *("--http", "--port", str(slack_port), "--host", "127.0.0.1"),
                *("--listen", f"127.0.0.1:{api_port}", "--tls-cert", str(cert)),
                *("--tls-key", str(key)),
            ],
            http_port=slack_port,
        ).start()
        edges = {}
        for name in ("laptop-1", "laptop-2", "ci-1"):
            added = server.cli("hosts", "add", name)
            assert added.returncode == 0, added.stderr
            edges[name] = Remote(api_port, cert, added.stdout.split()[-1])
        status, document, _ = edges["laptop-1"].request("GET", "/v1/policy")
        assert status == 200
        version = document["version"]
        for name, stream, headers in (
            ("laptop-1", LAPTOP_1, _edge_headers(version, "0", "0.3.0")),
            ("laptop-2", LAPTOP_2, _edge_headers("0ld" + version[3:], "12", "0.2.9")),
        ):
            status, reply, _ = edges[name].request(
                "POST", "/v1/audit/events", {"events": _events(stream)}, headers=headers
            )
            assert status == 200 and reply["stored"] == len(stream), reply
        yield Team(server, Slack(server, stub), edges, version)
        server.kill(signal.SIGTERM)
        assert "Traceback" not in server.log.read_text()


def test_hosts_list_shows_each_hosts_last_contact_policy_backlog_and_hook(team: Team) -> None:
    listed = {host["name"]: host for host in json.loads(team.cli("hosts", "list", "--json").stdout)}
    laptop_1, laptop_2, ci_1 = listed["laptop-1"], listed["laptop-2"], listed["ci-1"]
    assert (laptop_1["policy_version"], laptop_1["spool_backlog"], laptop_1["hook_version"]) == (
        team.policy_version,
        0,
        "0.3.0",
    )
    assert (laptop_2["spool_backlog"], laptop_2["hook_version"]) == (12, "0.2.9")
    assert laptop_2["policy_version"].startswith("0ld")
    assert laptop_1["last_contact_at"] and ci_1["last_contact_at"] is None
    assert "token_sha256" not in laptop_1
    table = team.cli("hosts", "list").stdout.splitlines()
    assert table[0].split() == ["NAME", "LAST", "CONTACT", "POLICY", "BACKLOG", "HOOK", "REVOKED"]
    (line,) = [row for row in table if row.startswith("laptop-2 ")]
    assert line.split()[3:7] == [laptop_2["policy_version"][:12], "12", "0.2.9", "-"]
    assert [row.split()[1:] for row in table if row.startswith("ci-1 ")] == [["-"] * 5]

    # A new policy version is written at once, whatever the contact period; a version may
    # come as the policy's ETag (quoted), and a secret in a header never reaches the table.
    new_policy = _edge_headers(f'"f00d{team.policy_version[4:]}"', "3", "0.3.1 (dev)")
    assert team.edges["laptop-1"].request("GET", "/v1/policy", headers=new_policy)[0] == 200
    secret = "ghp_" + "a1B2" * 9
    leaky = {"X-Governance-Hook-Version": f"0.2.9 {secret}"}
    assert team.edges["laptop-2"].request("GET", "/v1/policy", headers=leaky)[0] == 200
    listed = {host["name"]: host for host in json.loads(team.cli("hosts", "list", "--json").stdout)}
    assert listed["laptop-1"]["policy_version"] == "f00d" + team.policy_version[4:]
    assert (listed["laptop-1"]["spool_backlog"], listed["laptop-1"]["hook_version"]) == (
        3,
        "0.3.1 (dev)",
    )
    assert listed["laptop-2"]["spool_backlog"] == 12  # a header not sent keeps its value
    assert secret not in json.dumps(listed) and "[REDACTED]" in listed["laptop-2"]["hook_version"]


def test_a_malformed_edge_header_gets_a_clear_400_and_the_service_keeps_serving(
    team: Team,
) -> None:
    edge = team.edges["ci-1"]
    for header, value in (
        ("X-Governance-Spool-Backlog", "lots"),
        ("X-Governance-Spool-Backlog", "-1"),
        ("X-Governance-Policy-Version", "v1-\u00e9"),
        ("X-Governance-Hook-Version", "x" * 500),
    ):
        status, reply, _ = edge.request("GET", "/v1/policy", headers={header: value})
        assert status == 400 and reply["error"].startswith(header), (header, reply)
    assert edge.request("GET", "/v1/health")[0] == 200
    (ci_1,) = [
        h for h in json.loads(team.cli("hosts", "list", "--json").stdout) if h["name"] == "ci-1"
    ]
    assert ci_1["spool_backlog"] is None and ci_1["policy_version"] is None


def test_an_event_id_that_is_no_sequence_number_is_refused(team: Team) -> None:
    for event_id in ("laptop-1:4", "0", "007", "-4", ""):
        status, reply, _ = team.edges["ci-1"].request(
            "POST", "/v1/audit/events", {"events": [{"event_id": event_id, "kind": "prompt"}]}
        )
        assert status == 422 and reply["error"].startswith("events.0.event_id"), reply


def test_audit_search_by_host_shows_that_hosts_rows_only(team: Team) -> None:
    search = team.cli("audit", "search", "--host", "laptop-2")
    assert search.returncode == 0, search.stderr
    *rows, summary = search.stdout.splitlines()
    # Its registration, then the five events it uploaded; no other host's row.
    assert summary == f"{len(LAPTOP_2) + 1} of {len(LAPTOP_2) + 1} matching rows"
    assert [row.split()[3] for row in rows] == ["host_added"] + ["decision"] * len(LAPTOP_2)
    assert all(row.split()[5] == "laptop-2" for row in rows)
    denied = team.cli("audit", "search", "--host", "laptop-1", "--status", "deny")
    assert denied.stdout.splitlines()[-1] == "1 of 1 matching rows"
    assert team.cli("audit", "search", "--host", "nowhere").stdout.strip() == "0 of 0 matching rows"


def test_the_report_covers_every_host_with_a_table_and_chart(team: Team) -> None:
    report = json.loads(team.cli("report", "--format", "json").stdout)
    by_host = {row["host"]: (row["decisions"], row["blocked"]) for row in report["by_host"]}
    assert by_host == {"laptop-2": (5, 2), "laptop-1": (2, 1), "ci-1": (0, 0)}
    assert [row["host"] for row in report["by_host"]] == ["laptop-2", "laptop-1", "ci-1"]
    markdown = team.cli("report").stdout
    assert "## By host" in markdown and "| laptop-2 | 5 | 2 |" in markdown
    assert f"    laptop-2 {'█' * 14}{'▒' * 10} 5 (2 blocked)" in markdown
    page = team.cli("report", "--format", "html").stdout
    assert 'aria-label="Decisions by host"' in page and "<td>ci-1</td>" in page


def test_the_slack_report_has_the_by_host_chart(team: Team) -> None:
    slack = team.slack
    status, _ = slack.command("report 7", LEAD1, slack.stub.response_url("team-report"))
    assert status == 200
    (answer,) = slack.stub.wait_for("response/team-report")
    text = text_of(answer.args["blocks"])
    assert "*By host*" in text
    assert f"laptop-2 {'█' * 14}{'▒' * 10} 5 (2 blocked)" in text
    assert "ci-1" in text
    assert slack.stub.problems == []


def test_audit_verify_names_each_hosts_gaps_until_the_events_arrive(team: Team) -> None:
    verify = team.cli("audit", "verify")
    assert verify.returncode == 1, verify.stdout + verify.stderr
    assert "audit chain intact" in verify.stdout  # the chain is whole: the gap is upstream
    assert "host laptop-1: events 1-3 all received" in verify.stdout
    assert (
        "host laptop-2: stream has GAPS: 4 of events 1-9 missing: 3-4, 7-8; "
        "12 more were spooled on it at its last contact"
    ) in verify.stdout
    # The edge's spool drains: the missing events arrive (as outcomes, so the report holds).
    late = [{"event_id": str(n), "kind": "tool_outcome", "tool_name": "Bash"} for n in (3, 4, 7, 8)]
    status, reply, _ = team.edges["laptop-2"].request(
        "POST", "/v1/audit/events", {"events": late}, headers=_edge_headers("v", "0", "0.2.9")
    )
    assert status == 200 and reply["stored"] == 4
    verify = team.cli("audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "host laptop-2: events 1-9 all received\n" in verify.stdout


def test_a_local_decision_appears_under_the_services_own_host(team: Team) -> None:
    team.server.hook(pre_tool_use("ls -la"))
    report = json.loads(team.cli("report", "--format", "json").stdout)
    hosts = [row["host"] for row in report["by_host"]]
    assert len(hosts) == 4 and {"laptop-1", "laptop-2", "ci-1"} < set(hosts)
