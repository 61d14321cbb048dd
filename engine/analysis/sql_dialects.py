"""Dialect forms that run something, respelled as the standard SQL with the same effect.
Pure text rewriting before parsing; it must not decide anything or know about policies."""

from __future__ import annotations

import re

_EXECUTABLE_COMMENT = re.compile(r"/\*!(?:M?\d{5,6})?(?P<body>.*?)\*/", re.S)
_CLICKHOUSE_MUTATION = re.compile(
    r"\bALTER\s+TABLE\s+(?P<table>[\w.`\"]+)(?:\s+ON\s+CLUSTER\s+[\w`\"]+)?\s+"
    r"(?P<verb>DELETE|UPDATE)\s+(?P<rest>.*?)(?=;|$)",
    re.I | re.S,
)


def dialect_forms(text: str) -> str:
    """Spell dialect forms that run something as the standard SQL with the same effect."""
    if "/*!" in text:  # MySQL runs the body of an executable comment
        text = _EXECUTABLE_COMMENT.sub(lambda m: f" {m.group('body')} ", text)
    if re.search(r"\bALTER\b", text, re.I):  # ClickHouse mutations change rows, not the schema
        text = _CLICKHOUSE_MUTATION.sub(_standard_mutation, text)
    return text


def _standard_mutation(match: re.Match[str]) -> str:
    table, rest = match.group("table"), match.group("rest")
    if match.group("verb").upper() == "DELETE":
        return f"DELETE FROM {table} {rest}"
    return f"UPDATE {table} SET {rest}"
