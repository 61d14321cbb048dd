"""Reading a statement's leading keywords by hand, for what sqlglot cannot parse or accepts only
as a Command: the phrase (DROP TABLE, ALTER … DROP COLUMN) and the names it acts on."""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.analysis.sql.schema import _unquote
from engine.analysis.sql.types import SqlOperation, _Chunk, _clip, _words

_READ_KEYWORDS = _words(
    "SELECT WITH VALUES TABLE SHOW EXPLAIN DESCRIBE DESC SET RESET USE BEGIN START COMMIT "
    "END ROLLBACK ABORT SAVEPOINT RELEASE PRAGMA ANALYZE ANALYSE LISTEN UNLISTEN FETCH MOVE "
    "CLOSE DECLARE DEALLOCATE DISCARD CHECKPOINT ATTACH DETACH LOCK HELP"
)

_WRITE_KEYWORDS = _words(
    "DROP CREATE ALTER TRUNCATE DELETE INSERT UPDATE UPSERT MERGE REPLACE RENAME GRANT "
    "REVOKE COPY DO CALL EXEC EXECUTE VACUUM REINDEX CLUSTER REFRESH COMMENT LOAD IMPORT "
    "REASSIGN SECURITY OPTIMIZE REPAIR FLUSH KILL PREPARE NOTIFY"
)

# Statements that fail to parse still get an operation when they start with one of these.
_FALLBACK_KEYWORDS = _words(
    "DROP TRUNCATE DELETE ALTER CREATE INSERT UPDATE REPLACE MERGE RENAME GRANT REVOKE"
)

# Objects that live beside schemas rather than in one; a search_path must not qualify them.
_GLOBAL_KINDS = _words(
    "SCHEMA DATABASE ROLE USER GROUP EXTENSION TABLESPACE OWNED SERVER LANGUAGE PUBLICATION "
    "SUBSCRIPTION CATALOG WAREHOUSE"
) | {"EVENT TRIGGER", "USER MAPPING", "FOREIGN DATA"}

_TOKEN = re.compile(
    r"""(?P<skip>\s+|--[^\n]*|\#[^\n]*|/\*.*?(?:\*/|\Z))
    |(?P<word>[^\W\d][\w$]*)
    |(?P<quoted>"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\])
    |(?P<other>\S)""",
    re.S | re.X,
)

_MODIFIERS = _words(
    "OR REPLACE TEMP TEMPORARY UNIQUE GLOBAL LOCAL UNLOGGED EXTERNAL RECURSIVE VIRTUAL "
    "TRUSTED PROCEDURAL CONSTRAINT"
)

_TWO_WORD_KINDS = frozenset(
    {
        ("MATERIALIZED", "VIEW"),
        ("FOREIGN", "TABLE"),
        ("FOREIGN", "DATA"),
        ("EVENT", "TRIGGER"),
        ("USER", "MAPPING"),
        ("ACCESS", "METHOD"),
        ("DEFAULT", "PRIVILEGES"),
        ("TEXT", "SEARCH"),
        ("OPERATOR", "CLASS"),
        ("OPERATOR", "FAMILY"),
        ("LARGE", "OBJECT"),
        ("RESOURCE", "GROUP"),
        ("LOGFILE", "GROUP"),
        ("UNDO", "TABLESPACE"),
    }
)

_NAME_PREFIXES = _words("IF NOT EXISTS CONCURRENTLY ONLY")

# ALTER SYSTEM SET ..., DROP OWNED BY ...: what follows the kind is not an object name.
_NAMELESS_KINDS = _words("SYSTEM OWNED INSTANCE") | {"DEFAULT PRIVILEGES"}

_TRUNCATE_OPTIONS = _words("CASCADE RESTRICT RESTART CONTINUE")

# Object kinds that DROP, CREATE and ALTER take in Postgres, MySQL and SQLite.
_KNOWN_KINDS = _words(
    "TABLE VIEW INDEX SCHEMA DATABASE SEQUENCE FUNCTION PROCEDURE ROUTINE TRIGGER TYPE DOMAIN "
    "EXTENSION ROLE USER GROUP TABLESPACE OWNED SERVER LANGUAGE PUBLICATION SUBSCRIPTION "
    "AGGREGATE CAST COLLATION CONVERSION OPERATOR POLICY RULE STATISTICS TRANSFORM EVENT "
    "PREPARE SYSTEM INSTANCE"
) | {" ".join(pair) for pair in _TWO_WORD_KINDS}

_GRANT_NON_TABLES = _words(
    "ALL SCHEMA DATABASE FUNCTION PROCEDURE ROUTINE SEQUENCE LANGUAGE TABLESPACE TYPE DOMAIN "
    "FOREIGN LARGE"
)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "word", "quoted" or "other"
    text: str

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""


def _tokens(sql: str, limit: int) -> list[_Token]:
    out: list[_Token] = []
    for found in _TOKEN.finditer(sql):
        kind = found.lastgroup
        if kind == "skip" or kind is None:
            continue
        out.append(_Token(kind, found.group()))
        if len(out) >= limit:
            break
    return out


def _leading_words(sql: str) -> list[str]:
    words: list[str] = []
    for token in _tokens(sql, 4):
        if token.kind != "word":
            break
        words.append(token.upper)
    return words


def _simple_phrase(words: list[str]) -> str:
    if words[:2] == ["START", "TRANSACTION"]:
        return "START TRANSACTION"
    return words[0] if words else ""


class _Reader:
    """A cursor over tokens for the keyword fallback."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self, ahead: int = 0) -> str:
        j = self.i + ahead
        return self.tokens[j].upper if j < len(self.tokens) else ""

    def skip(self, words: frozenset[str]) -> None:
        while self.peek() and self.peek() in words:
            self.i += 1

    def take(self) -> str:
        self.i += 1
        return self.tokens[self.i - 1].upper if self.i <= len(self.tokens) else ""

    def seek(self, word: str, within: int = 12) -> bool:
        for j in range(self.i, min(len(self.tokens), self.i + within)):
            if self.tokens[j].upper == word:
                self.i = j + 1
                return True
        return False

    def name(self) -> tuple[str, ...] | None:
        """A possibly dotted name, as its parts, or None when none is next."""
        parts: list[str] = []
        while self.i < len(self.tokens):
            token = self.tokens[self.i]
            if token.kind not in ("word", "quoted"):
                break
            parts.append(_unquote(token.text).lower())
            self.i += 1
            if not (self.i + 1 < len(self.tokens) and self.tokens[self.i].text == "."):
                break
            self.i += 1
        return tuple(parts) or None

    def names(self) -> list[tuple[str, ...]]:
        found: list[tuple[str, ...]] = []
        while (name := self.name()) is not None:
            found.append(name)
            if self.i >= len(self.tokens) or self.tokens[self.i].text != ",":
                break
            self.i += 1
        return found


def _keyword_operations(
    chunk: _Chunk, schema: str | None, allowed: frozenset[str] | None
) -> list[SqlOperation]:
    """Operations read from the leading keywords alone.

    [] when the first word is not allowed, or when the words lack the shape the statement
    must have (DELETE without FROM, DROP of no known object kind): prose such as "Update
    the README" or "Drop me a line" reaches this code too and must not pass for SQL.
    """
    tokens = _tokens(chunk.sql, 4000)
    if not tokens or tokens[0].kind != "word":
        return []
    first = tokens[0].upper
    if allowed is not None and first not in allowed:
        return []
    reader = _Reader(tokens)
    reader.take()
    is_write = first not in _READ_KEYWORDS
    plausible = True
    kind = ""
    targets: list[tuple[str, ...]] = []
    phrases = [first]
    if first in ("DROP", "CREATE", "ALTER"):
        reader.skip(_MODIFIERS)
        kind = reader.take()
        if (kind, reader.peek()) in _TWO_WORD_KINDS:
            kind = f"{kind} {reader.take()}"
        plausible = kind in _KNOWN_KINDS
        reader.skip(_NAME_PREFIXES)
        if first == "CREATE" and kind == "INDEX" and reader.seek("ON"):
            reader.skip(_NAME_PREFIXES)
        if kind in _NAMELESS_KINDS:
            targets = []
        else:
            targets = reader.names() if first == "DROP" else _first(reader.name())
        phrases = [f"{first} {kind}"]
        if first == "ALTER" and kind == "TABLE":
            phrases = _alter_phrases(reader)
    elif first == "TRUNCATE":
        said_table = reader.peek() == "TABLE"
        reader.skip(_words("TABLE ONLY IF EXISTS"))
        kind, targets, phrases = "TABLE", reader.names(), ["TRUNCATE TABLE"]
        ends = reader.i >= len(tokens) or reader.peek() in _TRUNCATE_OPTIONS
        plausible = bool(targets) and (said_table or ends)
    elif first in ("DELETE", "INSERT", "REPLACE", "MERGE"):
        keyword = "FROM" if first == "DELETE" else "INTO"
        plausible = reader.seek(keyword, within=6)
        reader.skip(_NAME_PREFIXES)
        targets, phrases = _first(reader.name()), [f"{first} {keyword}"]
    elif first == "UPDATE":
        reader.skip(_words("ONLY LOW_PRIORITY IGNORE OR ROLLBACK ABORT REPLACE FAIL"))
        targets = _first(reader.name())
        plausible = bool(targets) and reader.seek("SET", within=len(tokens))
    elif first == "RENAME":
        kind = reader.take()
        plausible = kind in ("TABLE", "USER")
        targets, phrases = _first(reader.name()), [f"RENAME {kind}"]
    elif first in ("GRANT", "REVOKE"):
        plausible = any(t.upper in ("ON", "TO", "FROM") for t in tokens)
        if reader.seek("ON", within=40):
            reader.skip(frozenset({"TABLE"}))
            if reader.peek() not in _GRANT_NON_TABLES:
                targets = _first(reader.name())
    elif first == "COPY":
        targets = _first(reader.name())
        # Only COPY ... FROM loads rows into the table; COPY ... TO reads it out.
        is_write = reader.seek("FROM", within=4)
    if not plausible:
        return []
    qualify = schema if kind not in _GLOBAL_KINDS else None
    tables = tuple(dict.fromkeys(_join_name(t, qualify) for t in targets))
    statement = _clip(chunk.source)
    return [SqlOperation(p, is_write, tables, statement) for p in dict.fromkeys(phrases)]


def _first(name: tuple[str, ...] | None) -> list[tuple[str, ...]]:
    return [name] if name else []


def _join_name(parts: tuple[str, ...], schema: str | None) -> str:
    if schema and len(parts) == 1:
        parts = (schema, *parts)
    return ".".join(parts)


def _alter_phrases(reader: _Reader) -> list[str]:
    """One phrase per comma-separated ALTER TABLE action, read from the tokens."""
    phrases: list[str] = []
    depth = 0
    at_action = True
    while reader.i < len(reader.tokens):
        token = reader.tokens[reader.i]
        reader.i += 1
        if token.text == "(":
            depth += 1
        elif token.text == ")":
            depth = max(0, depth - 1)
        elif token.text == "," and depth == 0:
            at_action = True
        elif at_action and token.kind == "word":
            at_action = False
            phrases.append(f"ALTER TABLE {_alter_word(token.upper, reader.peek())}".strip())
    return phrases or ["ALTER TABLE"]


def _alter_word(action: str, following: str) -> str:
    if action == "ADD":
        if following in ("CONSTRAINT", "PRIMARY", "FOREIGN", "UNIQUE", "CHECK", "EXCLUDE"):
            return "ADD CONSTRAINT"
        return "ADD INDEX" if following in ("INDEX", "KEY") else "ADD COLUMN"
    if action == "DROP":
        return {
            "CONSTRAINT": "DROP CONSTRAINT",
            "PRIMARY": "DROP PRIMARY KEY",
            "FOREIGN": "DROP FOREIGN KEY",
            "INDEX": "DROP INDEX",
            "KEY": "DROP INDEX",
            "PARTITION": "DROP PARTITION",
        }.get(following, "DROP COLUMN")
    if action == "RENAME":
        if following in ("TO", "AS"):
            return "RENAME"
        if following in ("CONSTRAINT", "INDEX", "KEY"):
            return f"RENAME {'CONSTRAINT' if following == 'CONSTRAINT' else 'INDEX'}"
        return "RENAME COLUMN"
    return {
        "ALTER": "ALTER COLUMN",
        "MODIFY": "MODIFY COLUMN",
        "CHANGE": "CHANGE COLUMN",
    }.get(action, "")
