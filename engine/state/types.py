"""The narrow SQL surface shared by both backends: `execute` with sqlite3-style parameters.
Types only: sqlite-utils' Database and engine.state.postgres.PgDatabase both satisfy it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol


class Rows(Protocol):
    rowcount: int

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Database(Protocol):
    """Runs one statement; `?` or `:name` parameters; rows come back as tuples."""

    def execute(
        self, sql: str, parameters: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> Rows: ...
