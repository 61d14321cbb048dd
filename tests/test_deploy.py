"""The deploy/ folder: the docker-compose file is valid YAML with PostgreSQL and two replicas
serving remote hosts over TLS, and the systemd unit runs the team service (neither is run here)."""

from __future__ import annotations

import configparser
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def test_the_compose_file_runs_postgresql_and_two_tls_replicas_on_one_database() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["postgres"]["image"].startswith("postgres:")
    replicas = [services[name] for name in ("governance-a", "governance-b")]
    for replica in replicas:
        command = replica["command"]
        assert command[0] == "serve"
        for flag in ("--listen", "--tls-cert", "--tls-key"):
            assert flag in command
        assert replica["depends_on"]["grants"]["condition"] == "service_completed_successfully"
    databases = {replica["environment"]["GOVERNANCE_DB"] for replica in replicas}
    assert len(databases) == 1 and databases.pop().endswith("@postgres/governance")
    assert services["grants"]["volumes"] == ["./grants.sql:/grants.sql:ro"]
    for mounted in ("grants.sql", "initdb", "Dockerfile"):
        assert (DEPLOY / mounted).exists()


def test_the_systemd_unit_serves_remote_hosts_over_tls() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(DEPLOY / "systemd" / "governance-team.service")
    start = unit["Service"]["ExecStart"]
    assert " serve " in start and "--listen 0.0.0.0:8443" in start
    assert "--tls-cert" in start and "--tls-key" in start
    assert unit["Service"]["EnvironmentFile"] == "/etc/governance/team.env"
    assert unit["Service"]["User"] == "governance"
    assert unit["Install"]["WantedBy"] == "multi-user.target"
