"""The SQL a database client (psql, mysql, sqlite3…) would run: inline with -c/-e, from a
file with -f, from stdin, or nothing we can see. Reads words only; reads no file."""

from __future__ import annotations

from engine.analysis.commands.types import SqlSource
from engine.analysis.shell import SimpleCommand, Word

_SQL_CLIENTS: dict[str, tuple[str | None, frozenset[str]]] = {
    "psql": ("postgres", frozenset({"-c", "--command"})),
    "mysql": ("mysql", frozenset({"-e", "--execute"})),
    "mariadb": ("mysql", frozenset({"-e", "--execute"})),
    "sqlite3": ("sqlite", frozenset({"-cmd"})),
    "duckdb": (None, frozenset({"-c", "-cmd"})),
    "clickhouse-client": (None, frozenset({"-q", "--query"})),
    "sqlcmd": ("tsql", frozenset({"-Q", "-q"})),
    "snowsql": ("snowflake", frozenset({"-q", "--query"})),
    "cockroach": ("postgres", frozenset({"-e", "--execute"})),
}

_SQL_FILE_OPTIONS = frozenset({"-f", "--file", "-i", "--input-file"})

_SQL_VALUE_OPTIONS = frozenset(
    [
        "-h",
        "-p",
        "-U",
        "-d",
        "-W",
        "-P",
        "-v",
        "-u",
        "-D",
        "-S",
        "--host",
        "--port",
        "--username",
        "--dbname",
        "--user",
        "--database",
        "--set",
        "--variable",
        "-o",
        "--output",
        "-F",
        "-R",
    ]
)


def _sql_sources(command: SimpleCommand, name: str) -> list[SqlSource]:
    dialect, inline_options = _SQL_CLIENTS[name]
    words = command.words
    sources: list[SqlSource] = []
    positional: list[Word] = []
    index = 1
    while index < len(words):
        word = words[index]
        value = word.value
        option, eq, glued = value.partition("=")
        if value in inline_options or (eq and option in inline_options):
            text_word = (
                Word(glued, dynamic=word.dynamic)
                if eq
                else (words[index + 1] if index + 1 < len(words) else None)
            )
            index += 0 if eq else 1
            if text_word is not None:
                sources.append(_inline(name, dialect, text_word))
        elif value in _SQL_FILE_OPTIONS or (eq and option in _SQL_FILE_OPTIONS):
            file_word = (
                Word(glued) if eq else (words[index + 1] if index + 1 < len(words) else None)
            )
            index += 0 if eq else 1
            if file_word is not None:
                sources.append(SqlSource(name, dialect, file=file_word))
        elif (
            value.startswith("-")
            and len(value) > 2
            and not value.startswith("--")
            and value[:2] in inline_options
        ):
            sources.append(_inline(name, dialect, Word(value[2:], dynamic=word.dynamic)))
        elif value in _SQL_VALUE_OPTIONS:
            index += 1
        elif not value.startswith("-"):
            positional.append(word)
        index += 1
    if name in {"sqlite3", "duckdb"} and len(positional) > 1:
        sources.extend(_inline(name, dialect, w) for w in positional[1:])
    if name == "cockroach" and positional[:1] and positional[0].value != "sql":
        return []
    if command.stdin_text is not None:
        sources.append(SqlSource(name, dialect, text=command.stdin_text))
    elif command.piped_input:
        sources.append(
            SqlSource(name, dialect, unseen=f"{name} runs SQL piped from another command")
        )
    for redirect in command.redirects:
        if redirect.op == "<":
            sources.append(SqlSource(name, dialect, file=redirect.target))
    return sources


def _sql_database_file(command: SimpleCommand, name: str) -> Word | None:
    """The database file an embedded-database client opens (`sqlite3 app.db …`), if named."""
    if name not in {"sqlite3", "duckdb"}:
        return None
    takes_value = _SQL_CLIENTS[name][1] | _SQL_FILE_OPTIONS | _SQL_VALUE_OPTIONS
    words = command.words
    index = 1
    while index < len(words):
        value = words[index].value
        if value in takes_value:
            index += 2
            continue
        if not value.startswith("-"):
            return None if value == ":memory:" else words[index]
        index += 1
    return None


def _inline(name: str, dialect: str | None, word: Word) -> SqlSource:
    if word.dynamic:
        return SqlSource(name, dialect, unseen=f"{name} runs SQL built at run time: {word.value!r}")
    return SqlSource(name, dialect, text=word.value)
