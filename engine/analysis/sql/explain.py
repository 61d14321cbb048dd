"""Statements sqlglot accepts only by their first keyword: EXPLAIN (which runs its statement
only with ANALYZE) and DO blocks. Judges nothing; finds operations."""

from __future__ import annotations

import re

from engine.analysis.sql.keywords import (
    _FALLBACK_KEYWORDS,
    _READ_KEYWORDS,
    _keyword_operations,
    _leading_words,
    _simple_phrase,
)
from engine.analysis.sql.types import SqlOperation, _Chunk, _clip, _unique, _words

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
        # EXPLAIN ANALYZE really runs the statement, writes included. It is analysed as a
        # statement of its own: the one import that points back up, done when needed.
        from engine.analysis.sql.analyze import _statement

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
