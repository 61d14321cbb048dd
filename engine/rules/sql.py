"""The database_operations section: blocked and approval-needing statements, read-only
schemas, unlisted schema changes, SQL that cannot be seen. Judges analysed SQL; parses none."""

from __future__ import annotations

from collections.abc import Iterable

from engine.analysis.sql import SqlAnalysis, phrase_matches
from engine.decide import Finding, Outcome, Risk
from engine.facts.model import SqlFact
from engine.rules.book import RuleBook, finding
from engine.rules.paths import path_fact

_SCHEMA_CHANGES = frozenset({"DROP", "CREATE", "ALTER", "TRUNCATE", "RENAME", "GRANT", "REVOKE"})


def source(book: RuleBook, fact: SqlFact) -> Iterable[Finding]:
    """A client's SQL: what cannot be seen, the file it reads, then its statements.
    (The commands its shell escapes run and the files it includes are facts of their own.)"""
    if fact.unseen:
        yield _unseen(fact.client, fact.unseen)
        return
    if fact.file is not None:
        yield from path_fact(book, fact.file)
        if fact.unreadable:
            shown = fact.file.shown
            yield finding(
                "database_operations.unseen_sql",
                Outcome.APPROVE,
                f"{fact.client} runs SQL from `{shown}`, which cannot be read "
                "here; SQL that cannot be checked needs approval",
                shown,
                Risk.HIGH,
            )
            return
    if fact.analysis is None:
        return
    if fact.script_unseen:
        yield _unseen(fact.client, fact.script_unseen)
    yield from statements(book, fact.analysis, fact.client)


def _unseen(client: str, why: str) -> Finding:
    return finding(
        "database_operations.unseen_sql",
        Outcome.APPROVE,
        f"{why}; SQL that cannot be checked needs approval",
        client,
        Risk.HIGH,
    )


def statements(book: RuleBook, analysis: SqlAnalysis, client: str) -> Iterable[Finding]:
    database = book.policy.policies.database_operations
    readonly = {schema.lower() for schema in database.readonly_schemas}
    for statement in analysis.unparsed:
        yield finding(
            "database_operations.unparsed_sql",
            Outcome.APPROVE,
            f"{client} would run SQL that does not parse; it needs approval",
            statement,
            Risk.MEDIUM,
        )
    for operation in analysis.operations:
        handled = False
        for index, phrase in enumerate(database.blocked_operations):
            if phrase_matches(phrase, operation):
                handled = True
                yield finding(
                    f"database_operations.blocked_operations[{index}]",
                    Outcome.DENY,
                    f"`{operation.phrase}` is blocked by the database policy ({phrase}); "
                    "ask a human to run destructive SQL",
                    operation.statement,
                    Risk.CRITICAL,
                )
        if operation.is_write:
            touched = [t for t in operation.tables if set(t.split(".")[:-1]) & readonly]
            if touched:
                yield finding(
                    "database_operations.readonly_schemas",
                    Outcome.DENY,
                    f"writes into read-only schema `{touched[0].rsplit('.', 1)[0]}` "
                    f"({operation.phrase} {touched[0]})",
                    operation.statement,
                    Risk.HIGH,
                )
        for index, phrase in enumerate(database.requires_approval):
            if phrase_matches(phrase, operation):
                handled = True
                yield finding(
                    f"database_operations.requires_approval[{index}]",
                    Outcome.APPROVE,
                    f"`{operation.phrase}` changes the schema and needs approval",
                    operation.statement,
                    Risk.MEDIUM,
                )
        if (
            not handled
            and operation.phrase.split(" ", 1)[0] in _SCHEMA_CHANGES
            and database.unlisted_schema_changes != "allow"
        ):
            yield finding(
                "database_operations.unlisted_schema_changes",
                Outcome(database.unlisted_schema_changes),
                f"`{operation.phrase}` changes the schema; the policy does not list it, so it "
                f"gets `{database.unlisted_schema_changes}`",
                operation.statement,
                Risk.MEDIUM,
            )
