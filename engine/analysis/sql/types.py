"""What SQL does, as data: one operation (phrase, tables, whether it writes) and the analysis of
a text. Plain frozen types and their small helpers."""

from __future__ import annotations

from dataclasses import dataclass

_MAX_TEXT = 200


@dataclass(frozen=True, slots=True)
class SqlOperation:
    """One thing a statement does: its keyword phrase and the objects it touches."""

    phrase: str
    is_write: bool
    tables: tuple[str, ...]
    statement: str


@dataclass(frozen=True, slots=True)
class SqlAnalysis:
    """Everything found in one SQL text, plus the statements nobody could read."""

    operations: tuple[SqlOperation, ...]
    unparsed: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Chunk:
    sql: str  # what goes to the parser
    source: str  # what the user wrote, for reports


def _unique(ops: list[SqlOperation]) -> list[SqlOperation]:
    return list(dict.fromkeys(ops))


def _clip(text: str) -> str:
    return text.strip()[:_MAX_TEXT]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())
