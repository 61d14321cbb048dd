"""The schema unqualified names resolve to after `SET search_path` or `USE`. Reads one
statement's text; tracks no connection."""

from __future__ import annotations

import re

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
