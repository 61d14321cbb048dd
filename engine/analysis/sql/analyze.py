"""Finds what SQL text would do, using sqlglot: split it into statements, parse each, fall back
to reading keywords. Pure: it never reads files or judges against a policy; the rules do that."""

from __future__ import annotations

import logging
from functools import lru_cache

from sqlglot.dialects.dialect import Dialect

from engine.analysis.sql.schema import _schema_after
from engine.analysis.sql.split import _split
from engine.analysis.sql.trees import _statement
from engine.analysis.sql.types import SqlAnalysis, SqlOperation, _clip
from engine.analysis.sql_dialects import dialect_forms

log = logging.getLogger(__name__)


class _ToOurLogger(logging.Handler):
    """sqlglot warns on stderr ("Falling back to parsing as a 'Command'") for SQL we then judge
    ourselves: its records go to our logger at DEBUG instead of the user's terminal."""

    def emit(self, record: logging.LogRecord) -> None:
        log.debug("sqlglot: %s", record.getMessage())


_sqlglot_log = logging.getLogger("sqlglot")
_sqlglot_log.addHandler(_ToOurLogger())
_sqlglot_log.propagate = False
# Long texts are rarely repeated verbatim and would pin a lot of memory in the cache.
_MAX_CACHED_TEXT = 20_000


def analyze_sql(text: str, dialect: str | None = None) -> SqlAnalysis:
    """What `text` would do when run, statement by statement. Never raises."""
    if not isinstance(text, str):
        return SqlAnalysis((), ())
    dialect = _dialect(dialect if isinstance(dialect, str) else None)
    text = dialect_forms(text)
    if len(text) > _MAX_CACHED_TEXT:
        return _analyze_guarded(text, dialect)
    return _analyze_cached(text, dialect)


def phrase_matches(policy_phrase: str, operation: SqlOperation) -> bool:
    """Whether a policy's keyword phrase covers `operation`.

    The policy's words must be a prefix of the operation's words, so "ALTER TABLE DROP"
    covers "ALTER TABLE DROP COLUMN" but "DROP TABLE" does not cover "DROP TABLESPACE".
    """
    wanted = policy_phrase.upper().split()
    actual = operation.phrase.upper().split()
    if not wanted:
        return False
    if actual == ["TRUNCATE"]:
        actual = ["TRUNCATE", "TABLE"]
    if actual[: len(wanted)] == wanted:
        return True
    # Containment: dropping a schema or database drops every table in it, so a policy
    # that guards against dropping tables must also see those.
    return wanted == ["DROP", "TABLE"] and actual[:2] in (["DROP", "SCHEMA"], ["DROP", "DATABASE"])


@lru_cache(maxsize=64)
def _dialect(dialect: str | None) -> str | None:
    if not dialect:
        return None
    name = dialect.strip().lower()
    try:
        Dialect.get_or_raise(name)
    except Exception:
        # An unknown dialect name should degrade to the generic parser, not to "unparsed".
        return None
    return name


@lru_cache(maxsize=1024)
def _analyze_cached(text: str, dialect: str | None) -> SqlAnalysis:
    return _analyze_guarded(text, dialect)


def _analyze_guarded(text: str, dialect: str | None) -> SqlAnalysis:
    try:
        return _analyze(text, dialect)
    except Exception:
        # Callers treat unparsed SQL with suspicion; that is the safe answer to a bug here.
        return SqlAnalysis((), (_clip(text),) if text.strip() else ())


def _analyze(text: str, dialect: str | None) -> SqlAnalysis:
    operations: list[SqlOperation] = []
    unparsed: list[str] = []
    schema: str | None = None
    for chunk in _split(text, dialect):
        ops, failed = _statement(chunk, dialect, schema)
        schema = _schema_after(chunk.sql, schema)
        operations.extend(ops)
        if failed:
            unparsed.append(_clip(chunk.source))
    return SqlAnalysis(tuple(operations), tuple(unparsed))
