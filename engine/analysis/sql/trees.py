"""From a statement to operations through sqlglot's tree: what it (and statements nested in it)
reads, writes, creates or drops, with the tables it names; EXPLAIN and DO, which sqlglot
accepts only by their first keyword, included."""

from __future__ import annotations

import re
from collections.abc import Iterator

import sqlglot
from sqlglot import exp

from engine.analysis.sql.keywords import (
    _FALLBACK_KEYWORDS,
    _GLOBAL_KINDS,
    _READ_KEYWORDS,
    _WRITE_KEYWORDS,
    _keyword_operations,
    _leading_words,
    _simple_phrase,
)
from engine.analysis.sql.types import SqlOperation, _Chunk, _clip, _unique, _words

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


# Statements sqlglot accepted only by their first keyword

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
