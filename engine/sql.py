"""Finds what SQL text would do, using sqlglot.
Pure: it never reads files or judges against a policy; the checks do that."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

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

_MAX_TEXT = 200
# Long texts are rarely repeated verbatim and would pin a lot of memory in the cache.
_MAX_CACHED_TEXT = 20_000


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


# ---------------------------------------------------------------------------------------
# Orchestration


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


def _statement(
    chunk: _Chunk, dialect: str | None, schema: str | None
) -> tuple[list[SqlOperation], bool]:
    """The operations of one statement, and whether it failed to parse."""
    try:
        trees = [t for t in sqlglot.parse(chunk.sql, read=dialect) if t is not None]
    except Exception:
        trees = []
    statements = [s for t in trees for s in _unblock(t)]
    if not statements:
        fallback = _keyword_operations(chunk, schema, _FALLBACK_KEYWORDS)
        return fallback, True
    ops: list[SqlOperation] = []
    failed = False
    for tree in statements:
        try:
            found = _operations(tree, chunk, dialect, schema)
        except Exception:
            found = None
        if found is None:
            failed = True
            ops.extend(_keyword_operations(chunk, schema, _FALLBACK_KEYWORDS))
        else:
            ops.extend(found)
    return _unique(ops), failed


def _unblock(tree: exp.Expression) -> Iterator[exp.Expression]:
    # Newer sqlglot wraps several statements in a Block instead of returning a list.
    block = getattr(exp, "Block", None)
    if block is not None and isinstance(tree, block):
        for child in tree.expressions:
            if not isinstance(child, getattr(exp, "Semicolon", ())):
                yield from _unblock(child)
    else:
        yield tree


def _unique(ops: list[SqlOperation]) -> list[SqlOperation]:
    return list(dict.fromkeys(ops))


def _clip(text: str) -> str:
    return text.strip()[:_MAX_TEXT]


# ---------------------------------------------------------------------------------------
# Splitting into statements

_SPECIAL = re.compile(r"[-'\"`;$/\\\n#]")
_SQ_PLAIN = re.compile(r"[^']*(?:''[^']*)*'")
_SQ_ESCAPED = re.compile(r"[^'\\]*(?:(?:\\.|'')[^'\\]*)*'", re.S)
_DQ_PLAIN = re.compile(r'[^"]*(?:""[^"]*)*"')
_DQ_ESCAPED = re.compile(r'[^"\\]*(?:(?:\\.|"")[^"\\]*)*"', re.S)
_BACKTICK = re.compile(r"[^`]*(?:``[^`]*)*`")
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_][A-Za-z_0-9]*)?\$")
_DOT_COMMAND = re.compile(r"[ \t\r\f\v]*\.")
_META_COPY = re.compile(r"\\copy\b(.*)", re.I | re.S)


def _split(text: str, dialect: str | None) -> Iterator[_Chunk]:
    """Statements in `text`, cut at top-level `;`, without comments-only pieces.

    psql meta-commands (a backslash outside quotes, to the end of the line) and sqlite
    dot-commands (a line starting with `.` between statements) are client commands,
    not SQL; both end the statement before them.
    """
    mysql = dialect == "mysql"
    dollar_quotes = dialect in (None, "postgres")
    n = len(text)
    content: int | None = None  # first non-comment character of the current statement
    pos = 0

    def mark(lo: int, hi: int) -> None:
        nonlocal content
        if content is None:
            stripped = text[lo:hi].lstrip()
            if stripped:
                content = hi - len(stripped)

    def flush(end: int) -> Iterator[_Chunk]:
        if content is not None:
            piece = text[content:end].strip()
            if piece:
                yield _Chunk(piece, piece)

    if _DOT_COMMAND.match(text):
        pos = _line_end(text, 0)
    while pos < n:
        match = _SPECIAL.search(text, pos)
        if match is None:
            mark(pos, n)
            break
        i = match.start()
        mark(pos, i)
        ch = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if ch == ";":
            yield from flush(i)
            content, pos = None, i + 1
        elif ch == "\n":
            pos = i + 1
            if content is None and _DOT_COMMAND.match(text, pos):
                pos = _line_end(text, pos)
        elif ch == "\\":
            yield from flush(i)
            end = _line_end(text, i)
            copy = _META_COPY.match(text, i, end)
            if copy:
                # \copy runs COPY from the client side; it writes the table all the same.
                line = text[i:end].strip()
                yield _Chunk("COPY " + copy.group(1).strip(), line)
            content, pos = None, end
        elif (ch == "-" and nxt == "-") or (ch == "#" and mysql):
            pos = _line_end(text, i)
        elif ch == "/" and nxt == "*":
            close = text.find("*/", i + 2)
            if close < 0:
                mark(i, n)  # a comment never closed is not SQL we can read: keep it as unparsed
            pos = n if close < 0 else close + 2
        elif ch in "'\"`":
            mark(i, i + 1)
            escaped = mysql or (ch == "'" and _is_escape_string(text, i))
            pattern = {
                "'": _SQ_ESCAPED if escaped else _SQ_PLAIN,
                '"': _DQ_ESCAPED if mysql else _DQ_PLAIN,
                "`": _BACKTICK,
            }[ch]
            found = pattern.match(text, i + 1)
            pos = n if found is None else found.end()
        elif ch == "$" and dollar_quotes and not _ident_char_before(text, i):
            tag = _DOLLAR_TAG.match(text, i)
            if tag is None:
                mark(i, i + 1)
                pos = i + 1
            else:
                mark(i, i + 1)
                close = text.find(tag.group(), tag.end())
                pos = n if close < 0 else close + len(tag.group())
        else:
            mark(i, i + 1)
            pos = i + 1
    yield from flush(n)


def _line_end(text: str, pos: int) -> int:
    end = text.find("\n", pos)
    return len(text) if end < 0 else end


def _ident_char_before(text: str, i: int) -> bool:
    return i > 0 and (text[i - 1].isalnum() or text[i - 1] in "_$")


def _is_escape_string(text: str, i: int) -> bool:
    # Postgres E'...' strings take backslash escapes; plain ones do not.
    return i > 0 and text[i - 1] in "Ee" and not _ident_char_before(text, i - 1)


# ---------------------------------------------------------------------------------------
# search_path and USE: the schema that unqualified names resolve to

_SEARCH_PATH = re.compile(
    r"SET\s+(?:SESSION\s+|LOCAL\s+)?(?:search_path\s*(?:=|\bTO\b)|SCHEMA\b)\s*(?P<value>.*)",
    re.I | re.S,
)
_USE = re.compile(r"USE\s+(?P<value>.+)", re.I | re.S)
_PATH_ENTRY = re.compile(r"\s*('(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`[^`]*`|[^\s,;]+)\s*,?")


def _schema_after(sql: str, schema: str | None) -> str | None:
    found = _SEARCH_PATH.match(sql) or _USE.match(sql)
    if found is None:
        return schema
    value = found.group("value")
    for entry in _PATH_ENTRY.finditer(value):
        name = _unquote(entry.group(1)).lower()
        if name == "$user":
            # Resolves to a schema named after the login role, which we cannot know.
            continue
        if name == "default":
            return None
        return name or None
    return schema


def _unquote(name: str) -> str:
    if len(name) >= 2 and name[0] == name[-1] and name[0] in "'\"`":
        return name[1:-1]
    if len(name) >= 2 and name[0] == "[" and name[-1] == "]":
        return name[1:-1]
    return name


# ---------------------------------------------------------------------------------------
# From a parsed tree to operations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


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

# Writes nested below the root, e.g. a DELETE inside a WITH clause.
_NESTED_WRITES = (
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Drop,
    exp.Create,
    exp.Alter,
    exp.TruncateTable,
)
# Roots that are a bare expression: sqlglot's way of accepting words it does not know.
_BARE = (exp.Condition, exp.Alias, exp.Identifier, exp.Tuple, exp.Star, exp.Var)


def _operations(
    tree: exp.Expression, chunk: _Chunk, dialect: str | None, schema: str | None
) -> list[SqlOperation] | None:
    """Operations for one parsed statement, or None when the tree is not a statement."""
    ops = _root_operations(tree, chunk, dialect, schema)
    if ops is None:
        return None
    for node in _nested(tree):
        ops.extend(_node_operations(node, chunk, schema))
    return ops


def _nested(tree: exp.Expression) -> Iterator[exp.Expression]:
    stack: list[exp.Expression] = [tree]
    while stack:
        node = stack.pop()
        if node is not tree and isinstance(node, _NESTED_WRITES):
            yield node
        if isinstance(node, exp.Describe):
            # EXPLAIN shows a plan; the statement under it does not run.
            continue
        children: list[exp.Expression] = []
        for key, value in node.args.items():
            # ALTER actions and MERGE branches are part of their statement, not new ones.
            if (key == "actions" and isinstance(node, exp.Alter)) or (
                key == "whens" and isinstance(node, exp.Merge)
            ):
                continue
            if isinstance(value, exp.Expression):
                children.append(value)
            elif isinstance(value, list):
                children.extend(v for v in value if isinstance(v, exp.Expression))
        stack.extend(reversed(children))


def _root_operations(
    tree: exp.Expression, chunk: _Chunk, dialect: str | None, schema: str | None
) -> list[SqlOperation] | None:
    node_ops = _node_operations(tree, chunk, schema)
    if node_ops:
        return node_ops
    statement = _clip(chunk.source)
    words = _leading_words(chunk.sql)
    first = words[0] if words else ""
    if isinstance(tree, exp.Query):
        return [SqlOperation("SELECT", False, _read_tables(tree, schema), statement)]
    if isinstance(tree, exp.Command):
        return _command_operations(chunk, dialect, schema)
    if isinstance(tree, exp.Pragma):
        assigns = re.match(r"PRAGMA\s+[\w.\"`\[\]]+\s*=", chunk.sql, re.I) is not None
        return [SqlOperation("PRAGMA", assigns, (), statement)]
    if isinstance(tree, (exp.Set, exp.Use, exp.Show, exp.Transaction, exp.Commit, exp.Rollback)):
        return [SqlOperation(_simple_phrase(words), False, (), statement)]
    if isinstance(tree, (exp.Describe, exp.Analyze)):
        return [SqlOperation(_simple_phrase(words), False, _read_tables(tree, schema), statement)]
    if isinstance(tree, (exp.Attach, exp.Detach)):
        return [SqlOperation(f"{first} DATABASE", False, (), statement)]
    if isinstance(tree, _BARE):
        if first in _READ_KEYWORDS:
            return [SqlOperation(_simple_phrase(words), False, (), statement)]
        if first in _WRITE_KEYWORDS:
            return _keyword_operations(chunk, schema, _WRITE_KEYWORDS) or None
        return None
    # A statement class this module has no rule for: trust its leading keyword.
    if first in _READ_KEYWORDS:
        return [SqlOperation(_simple_phrase(words), False, _read_tables(tree, schema), statement)]
    return _keyword_operations(chunk, schema, None) or None


def _node_operations(node: exp.Expression, chunk: _Chunk, schema: str | None) -> list[SqlOperation]:
    """Operations for the statement kinds that have a fixed phrase; [] for the rest."""
    statement = _clip(chunk.source)

    def op(phrase: str, targets: list[exp.Expression], kind: str = "") -> SqlOperation:
        qualify = kind not in _GLOBAL_KINDS
        return SqlOperation(phrase, True, _names(targets, schema, qualify), statement)

    if isinstance(node, exp.Drop):
        kind = _kind(node)
        if node.args.get("materialized"):
            kind = f"MATERIALIZED {kind}"
        return [op(f"DROP {kind}".strip(), node.args.get("tables") or [], kind)]
    if isinstance(node, exp.Create):
        kind = _kind(node)
        properties = node.args.get("properties")
        if properties is not None and properties.find(exp.MaterializedProperty):
            kind = f"MATERIALIZED {kind}"
        return [op(f"CREATE {kind}".strip(), _create_targets(node), kind)]
    if isinstance(node, exp.Alter):
        return _alter_operations(node, statement, schema)
    if isinstance(node, exp.TruncateTable):
        kind = "DATABASE" if node.args.get("is_database") else "TABLE"
        return [op(f"TRUNCATE {kind}", node.expressions, kind)]
    if isinstance(node, exp.Delete):
        targets = node.args.get("tables") or [node.this]
        return [op("DELETE FROM", [_base_table(t) for t in targets])]
    if isinstance(node, exp.Insert):
        return [op("INSERT INTO", [_base_table(node.this)])]
    if isinstance(node, exp.Update):
        return [op("UPDATE", [_base_table(node.this)])]
    if isinstance(node, exp.Merge):
        return [op("MERGE INTO", [_base_table(node.this)])]
    if isinstance(node, exp.Copy):
        if not node.args.get("kind"):
            # COPY ... TO only reads the table (it writes a file, which is not ours to judge).
            return [SqlOperation("COPY", False, _read_tables(node, schema), statement)]
        return [op("COPY", [_base_table(node.this)])]
    if isinstance(node, (exp.Grant, exp.Revoke)):
        phrase = "GRANT" if isinstance(node, exp.Grant) else "REVOKE"
        return [op(phrase, [node.args.get("securable")])]
    if isinstance(node, exp.Comment):
        return [op("COMMENT ON", [node.this], (node.args.get("kind") or "").upper())]
    if isinstance(node, exp.Select) and isinstance(node.args.get("into"), exp.Into):
        # Postgres SELECT ... INTO creates a table from the result.
        return [op("SELECT INTO", [node.args["into"].this])]
    return []


def _alter_operations(node: exp.Alter, statement: str, schema: str | None) -> list[SqlOperation]:
    kind = _kind(node) or "TABLE"
    tables = _names([node.this], schema, kind not in _GLOBAL_KINDS)
    if kind != "TABLE":
        return [SqlOperation(f"ALTER {kind}", True, tables, statement)]
    actions = node.args.get("actions") or []
    # One operation per action, so an ADD COLUMN cannot hide a DROP COLUMN beside it.
    phrases = [f"ALTER TABLE {_alter_action(a)}".strip() for a in actions] or ["ALTER TABLE"]
    return [SqlOperation(p, True, tables, statement) for p in dict.fromkeys(phrases)]


def _alter_action(action: exp.Expression) -> str:
    if isinstance(action, exp.ColumnDef):
        return "ADD COLUMN"
    if isinstance(action, exp.AddConstraint):
        return "ADD CONSTRAINT"
    if isinstance(action, exp.Drop):
        return f"DROP {_kind(action) or 'COLUMN'}"
    if isinstance(action, exp.DropPrimaryKey):
        return "DROP PRIMARY KEY"
    if type(action).__name__ == "DropPartition":
        return "DROP PARTITION"
    if isinstance(action, exp.AlterRename):
        return "RENAME"
    if isinstance(action, exp.RenameColumn):
        return "RENAME COLUMN"
    if isinstance(action, exp.AlterColumn):
        return "ALTER COLUMN"
    if isinstance(action, exp.ModifyColumn):
        return "CHANGE COLUMN" if action.args.get("rename_from") else "MODIFY COLUMN"
    return ""


def _kind(node: exp.Expression) -> str:
    kind = node.args.get("kind")
    return " ".join(kind.upper().split()) if isinstance(kind, str) else ""


def _create_targets(node: exp.Create) -> list[exp.Expression]:
    target = node.this
    if isinstance(target, exp.Index):
        # The index is new; the table it is built on is what changes.
        return [target.args.get("table")]
    return [_base_table(target)]


def _base_table(node: exp.Expression | None) -> exp.Expression | None:
    if node is None or isinstance(node, exp.Table):
        return node
    return node.find(exp.Table)


def _names(
    nodes: list[exp.Expression | None], schema: str | None, qualify: bool
) -> tuple[str, ...]:
    names: list[str] = []
    for node in nodes:
        name = _name(node, schema if qualify else None)
        if name:
            names.append(name)
    return tuple(dict.fromkeys(names))


def _name(node: exp.Expression | None, schema: str | None) -> str:
    if isinstance(node, exp.Table):
        if node.this is not None and not isinstance(node.this, exp.Identifier):
            return ""  # a table function such as generate_series(), not a stored table
        parts = [node.catalog, node.db, node.name]
        if schema and not node.catalog and not node.db and node.name:
            parts = [schema, node.name]
    elif isinstance(node, (exp.Identifier, exp.Column, exp.Var)):
        parts = [schema or "", node.name] if node.name else []
    else:
        return ""
    return ".".join(p.lower() for p in parts if p)


def _read_tables(tree: exp.Expression, schema: str | None) -> tuple[str, ...]:
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    names: list[str] = []
    for table in tree.find_all(exp.Table):
        if not table.db and not table.catalog and table.name.lower() in ctes:
            continue
        name = _name(table, schema)
        if name:
            names.append(name)
    return tuple(dict.fromkeys(names))


# ---------------------------------------------------------------------------------------
# sqlglot Commands: statements it accepted only by their first keyword

_EXPLAIN = re.compile(r"EXPLAIN\b\s*(?:\((?P<options>[^)]*)\))?(?P<rest>.*)", re.I | re.S)
_EXPLAIN_FLAGS = re.compile(r"\s*(ANALYZE|ANALYSE|VERBOSE)\b", re.I)
_ANALYZE_OFF = re.compile(r"\bANALY[SZ]E\s+(?:FALSE|OFF|0)\b", re.I)
_DO_BODY = re.compile(r"DO\b.*?(?P<tag>\$(?:[A-Za-z_]\w*)?\$)(?P<body>.*?)(?P=tag)", re.I | re.S)
_DO_QUOTED_BODY = re.compile(r"DO\b.*?'(?P<body>(?:[^']|'')*)'", re.I | re.S)
_BODY_WRITE = re.compile(
    r"\b(?:DROP|TRUNCATE|DELETE\s+FROM|ALTER|CREATE|INSERT\s+INTO|UPDATE|MERGE|GRANT|REVOKE)\b",
    re.I,
)
_NOT_A_STATEMENT_BEFORE = _words("FOR ON BEFORE AFTER OR OF INSTEAD KEY")


def _command_operations(
    chunk: _Chunk, dialect: str | None, schema: str | None
) -> list[SqlOperation] | None:
    statement = _clip(chunk.source)
    words = _leading_words(chunk.sql)
    first = words[0] if words else ""
    if first == "EXPLAIN":
        return _explain_operations(chunk, dialect, schema)
    if first == "DO":
        return [SqlOperation("DO", True, (), statement), *_do_operations(chunk, schema)]
    if first in _READ_KEYWORDS:
        return [SqlOperation(_simple_phrase(words), False, (), statement)]
    # sqlglot takes any leading keyword as a Command; words we cannot place are not SQL to us.
    return _keyword_operations(chunk, schema, None) or None


def _explain_operations(
    chunk: _Chunk, dialect: str | None, schema: str | None
) -> list[SqlOperation]:
    statement = _clip(chunk.source)
    ops = [SqlOperation("EXPLAIN", False, (), statement)]
    found = _EXPLAIN.match(chunk.sql)
    if found is None:
        return ops
    options = found.group("options") or ""
    rest = found.group("rest")
    analyze = bool(re.search(r"\bANALY[SZ]E\b", options, re.I)) and not _ANALYZE_OFF.search(options)
    while flag := _EXPLAIN_FLAGS.match(rest):
        analyze = analyze or flag.group(1).upper() != "VERBOSE"
        rest = rest[flag.end() :]
    if analyze and rest.strip():
        # EXPLAIN ANALYZE really runs the statement, writes included.
        inner, _ = _statement(_Chunk(rest.strip(), chunk.source), dialect, schema)
        ops.extend(inner)
    return _unique(ops)


def _do_operations(chunk: _Chunk, schema: str | None) -> list[SqlOperation]:
    """Best-effort look inside an anonymous code block for the writes it would run."""
    found = _DO_BODY.match(chunk.sql) or _DO_QUOTED_BODY.match(chunk.sql)
    if found is None:
        return []
    body = found.group("body")
    ops: list[SqlOperation] = []
    for hit in _BODY_WRITE.finditer(body):
        before = body[: hit.start()].split()
        if before and before[-1].upper() in _NOT_A_STATEMENT_BEFORE:
            continue
        inner = _Chunk(body[hit.start() :], chunk.source)
        ops.extend(_keyword_operations(inner, schema, _FALLBACK_KEYWORDS))
    return _unique(ops)


# ---------------------------------------------------------------------------------------
# Reading leading keywords by hand, for Commands and for text sqlglot rejects

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
