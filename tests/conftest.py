"""Shared fixtures: the seed policy exactly as users receive it, an engine built from it, and
the databases every store test runs on (a SQLite file, a fresh database on a real PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.cases import load_cases, run_cases
from engine.decide import Decision
from engine.evaluate import Engine
from engine.events import CallContext, ToolEvent
from engine.policy import load_policy
from engine.redact import keys as redaction_keys
from engine.redact import text as redaction_text
from tests.pg import PgServer

FIXTURES = Path(__file__).parent / "fixtures"
SEED_POLICY = FIXTURES / "seed-policies.json"


@pytest.fixture(autouse=True)
def _redaction_computed_afresh() -> None:
    """Each test redacts from scratch. Results cached by an earlier test (or by the clean run
    mutmut forks each mutant from) would answer for the code this test means to exercise."""
    redaction_text._redact_short.cache_clear()
    redaction_keys._key_facts_cached.cache_clear()


@pytest.fixture(scope="session")
def seed_engine() -> Engine:
    return Engine(load_policy(SEED_POLICY))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One PostgreSQL server for the whole session; a missing server fails loudly, never skips."""
    try:
        server = PgServer()
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh, empty PostgreSQL database for one test. Its witness file would default to the
    real ~/.local/state/governance, so it goes to the test's tmp dir (servers inherit it)."""
    monkeypatch.setenv("GOVERNANCE_WITNESS", str(tmp_path / "pg.witness.jsonl"))
    return pg_server.fresh_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """What `--db` takes, once per backend: a SQLite file path, then a PostgreSQL URL."""
    if request.param == "sqlite":
        return str(tmp_path / "governance.db")
    return request.getfixturevalue("pg_url")


def case_failures(engine: Engine, suite: Path, tree: str | None = None) -> list[str]:
    """Each failing case of a policy case file, with what the engine said instead."""
    return [
        f"{r.case.id}: expected {r.case.expected}, got {r.decision.would_be} "
        f"({r.decision.rule}: {r.decision.reason})"
        for r in run_cases(engine, load_cases(suite, tree))
        if not r.passed
    ]


def bash_in(engine: Engine, command: str, cwd: Path) -> Decision:
    """The engine's decision on a Bash call run in the project `cwd`, on a feature branch."""
    event = ToolEvent(tool_name="Bash", tool_input={"command": command}, cwd=str(cwd))
    return engine.evaluate(event, CallContext(repo=str(cwd), git_branch="feature/x"))
