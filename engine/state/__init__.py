"""Opens the store a `--db` value names: a filesystem path is SQLite, a postgresql:// URL is
PostgreSQL. It chooses and opens a backend; it holds no SQL and no state of its own."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:  # engine.store builds on modules of this package: imported when called
    from engine.store import Store

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class StoreUnavailable(RuntimeError):
    """The database `--db` names cannot be reached or opened."""


def is_postgres_url(db: str | Path) -> bool:
    return isinstance(db, str) and db.startswith(POSTGRES_SCHEMES)


def describe(db: str | Path) -> str:
    """`db` fit for a console or a log: a URL's password is masked."""
    if not is_postgres_url(db):
        return str(db)
    parts = urlsplit(str(db))
    if parts.password is None:
        return str(db)
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def open_store(db: str | Path) -> Store:
    """The store for `db`, migrated to the current schema version."""
    if is_postgres_url(db):
        from engine.state.postgres import PostgresStore  # psycopg loads only when asked for

        return PostgresStore(str(db))
    from engine.store import Store

    return Store(db)
