"""What an MCP tool call (`mcp__<server>__<tool>`) does: paths, SQL, shell, pushes, URLs.
Pure: reads the tool name, its arguments and the policy's `mcp_tools`; judges nothing."""

from __future__ import annotations

import fnmatch
import re
import shlex
from dataclasses import dataclass
from typing import Any

from engine.analysis.commands import Access
from engine.policy import McpKind, McpTools

_PATH_KEYS = frozenset(
    {
        "path",
        "paths",
        "file",
        "files",
        "file_path",
        "filepath",
        "file_paths",
        "filename",
        "filenames",
        "directory",
        "dir",
        "dirname",
        "folder",
        "source",
        "src",
        "destination",
        "dest",
        "dst",
        "target",
        "target_path",
        "source_path",
        "destination_path",
        "new_path",
        "old_path",
        "notebook_path",
    }
)
_DESTINATION_KEYS = frozenset(
    {"destination", "dest", "dst", "target", "target_path", "destination_path", "new_path"}
)
_SOURCE_KEYS = frozenset({"source", "src", "source_path", "old_path"})
_SQL_KEYS = ("sql", "query", "statement", "statements")
_SHELL_KEYS = ("command", "cmd", "script", "shell_command")
_URL_KEYS = ("url", "uri", "href")
_BRANCH_KEYS = ("branch", "ref", "base", "head_branch", "target_branch")
_DATABASE_HINT = re.compile(
    r"postgres|mysql|maria|sqlite|sql|database|\bdb\b|_db|db_|bigquery|snowflake|duckdb|"
    r"clickhouse|supabase|neon",
    re.I,
)
# The tool's verb says what a path argument is for.
_VERB_ACCESS = (
    (re.compile(r"(^|_)(delete|remove|rm|unlink|rmdir|trash)(_|$)"), McpKind.DELETE),
    (re.compile(r"(^|_)(move|rename|mv)(_|$)"), McpKind.MOVE),
    (
        re.compile(
            r"(^|_)(write|create|edit|update|put|save|append|patch|replace|insert|copy|"
            r"mkdir|touch|set)(_|$)"
        ),
        McpKind.WRITE,
    ),
)


@dataclass(frozen=True, slots=True)
class ConventionEntry:
    """One row of the convention table: tools of servers named like `server` do `kind`."""

    server: str
    tool: str
    kind: McpKind
    arguments: tuple[str, ...] = ()
    note: str = ""


# Common MCP servers, by the names their authors publish. A reader extends this table, not code.
CONVENTIONS: tuple[ConventionEntry, ...] = (
    ConventionEntry("*github*", "push_files", McpKind.PUSH, ("branch",), "commits to a branch"),
    ConventionEntry("*github*", "create_or_update_file", McpKind.PUSH, ("branch",)),
    ConventionEntry("*github*", "delete_file", McpKind.PUSH, ("branch",)),
    ConventionEntry("*github*", "merge_pull_request", McpKind.PUSH, ("base",), "merges into base"),
    ConventionEntry("*github*", "update_ref", McpKind.PUSH, ("ref", "branch")),
    ConventionEntry("*gitlab*", "push_files", McpKind.PUSH, ("branch",)),
    ConventionEntry("*gitlab*", "create_or_update_file", McpKind.PUSH, ("branch",)),
    ConventionEntry("*gitlab*", "merge_merge_request", McpKind.PUSH, ("target_branch",)),
    ConventionEntry("*github*", "*", McpKind.NONE, (), "issues, pull requests, searches"),
    ConventionEntry("*gitlab*", "*", McpKind.NONE, (), "issues, merge requests, searches"),
    ConventionEntry("*puppeteer*", "*navigate*", McpKind.FETCH, ("url",)),
    ConventionEntry("*playwright*", "*navigate*", McpKind.FETCH, ("url",)),
    ConventionEntry("*puppeteer*", "*", McpKind.NONE, (), "acts inside the browser page"),
    ConventionEntry("*playwright*", "*", McpKind.NONE, (), "acts inside the browser page"),
    ConventionEntry("fetch", "*", McpKind.FETCH, ("url",)),
    ConventionEntry("*postgres*", "*", McpKind.SQL, ("sql", "query", "statement")),
    ConventionEntry("*sqlite*", "*", McpKind.SQL, ("sql", "query", "statement")),
    ConventionEntry("*mysql*", "*", McpKind.SQL, ("sql", "query", "statement")),
    ConventionEntry("*shell*", "*", McpKind.SHELL, ("command", "cmd", "script")),
    ConventionEntry("*terminal*", "*", McpKind.SHELL, ("command", "cmd", "script")),
    ConventionEntry("*filesystem*", "*", McpKind.AUTO, (), "path arguments, access by verb"),
)


@dataclass(frozen=True, slots=True)
class McpPush:
    branch: str | None
    force: bool


@dataclass(frozen=True, slots=True)
class McpFacts:
    """What one MCP call does, as the engine's other checks understand it."""

    server: str
    tool: str
    classified_by: str
    paths: tuple[tuple[Access, str], ...] = ()
    sql: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()
    pushes: tuple[McpPush, ...] = ()
    urls: tuple[str, ...] = ()
    unknown: bool = False
    # `query`-like arguments of tools that do not look like databases: SQL only if they parse so.
    maybe_sql: tuple[str, ...] = ()


def split_name(name: str) -> tuple[str, str]:
    """`mcp__github__push_files` -> (`github`, `push_files`); servers may contain `_`."""
    body = name.removeprefix("mcp__")
    server, _, tool = body.partition("__")
    return server, tool


def _glob(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value.lower(), pattern.lower())


def mapped_kind(name: str, tools: McpTools) -> tuple[McpKind, tuple[str, ...], str] | None:
    """The kind a tool name gets from the policy map, then the convention table."""
    for pattern, rule in tools.tools.items():
        if _glob(pattern, name) or _glob(pattern, name.removeprefix("mcp__")):
            return rule.kind, tuple(rule.arguments), f"policy mcp_tools.tools[{pattern!r}]"
    server, tool = split_name(name)
    for entry in CONVENTIONS:
        if _glob(entry.server, server) and _glob(entry.tool, tool):
            return entry.kind, entry.arguments, f"convention for `{entry.server}` servers"
    return None


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str) and item]
    return []


def _command(value: Any) -> str:
    """A command given as a string, or as an argv list (`["rm", "-rf", "/"]`)."""
    if isinstance(value, list):
        return shlex.join(str(part) for part in value)
    return value if isinstance(value, str) else ""


def _verb_kind(tool: str) -> McpKind:
    lowered = tool.lower()
    for pattern, kind in _VERB_ACCESS:
        if pattern.search(lowered):
            return kind
    return McpKind.READ


def _path_accesses(kind: McpKind, keys: list[str], tool_input: dict[str, Any]):
    for key in keys:
        for value in _strings(tool_input.get(key)):
            if kind is McpKind.MOVE:
                if key.lower() in _DESTINATION_KEYS:
                    yield Access.WRITE, value
                else:
                    yield Access.READ, value
                    yield Access.DELETE, value
            elif kind is McpKind.DELETE:
                yield Access.DELETE, value
            elif kind is McpKind.WRITE and key.lower() not in _SOURCE_KEYS:
                yield Access.WRITE, value
            else:
                yield Access.READ, value


def _pushes(keys: tuple[str, ...], tool_input: dict[str, Any]) -> tuple[McpPush, ...]:
    force = tool_input.get("force") is True
    for key in keys or _BRANCH_KEYS:
        for value in _strings(tool_input.get(key)):
            branch = value.removeprefix("refs/heads/").removeprefix("heads/")
            return (McpPush(branch, force),)
    return (McpPush(None, force),)


def classify(name: str, tool_input: dict[str, Any], tools: McpTools) -> McpFacts:
    server, tool = split_name(name)
    mapped = mapped_kind(name, tools)
    kind, arguments, by = mapped if mapped else (McpKind.AUTO, (), "argument names")
    keys = [k for k in tool_input if isinstance(k, str)]
    if kind is McpKind.NONE:
        return McpFacts(server, tool, by)
    if kind is McpKind.UNKNOWN:
        return McpFacts(server, tool, by, unknown=True)
    if kind is McpKind.PUSH:
        return McpFacts(server, tool, by, pushes=_pushes(arguments, tool_input))
    # A database or shell server's tool without SQL or a command (`list_tables`) reads metadata;
    # a tool the policy maps to SQL or shell but whose argument is missing is not understood.
    if kind is McpKind.SQL:
        sql_keys = arguments or _SQL_KEYS
        sql = tuple(s for k in sql_keys for s in _strings(tool_input.get(k)))
        return McpFacts(server, tool, by, sql=sql, unknown=not sql and by.startswith("policy"))
    if kind is McpKind.SHELL:
        shell_keys = arguments or _SHELL_KEYS
        commands = tuple(c for k in shell_keys if (c := _command(tool_input.get(k))))
        return McpFacts(
            server, tool, by, commands=commands, unknown=not commands and by.startswith("policy")
        )
    if kind is McpKind.FETCH:
        urls = tuple(s for k in arguments or _URL_KEYS for s in _strings(tool_input.get(k)))
        return McpFacts(server, tool, by, urls=urls)
    if kind in (McpKind.READ, McpKind.WRITE, McpKind.DELETE, McpKind.MOVE):
        path_keys = list(arguments) or [k for k in keys if k.lower() in _PATH_KEYS]
        return McpFacts(server, tool, by, paths=tuple(_path_accesses(kind, path_keys, tool_input)))
    return _by_arguments(server, tool, by, keys, tool_input)


def _nested_objects(value: Any, depth: int):
    """Objects inside the arguments (`{"files": [{"path": …}]}`), a few levels down."""
    if depth == 0:
        return
    children = value.values() if isinstance(value, dict) else value
    for child in children if isinstance(value, dict | list) else ():
        if isinstance(child, dict):
            yield child
        yield from _nested_objects(child, depth - 1)


def _by_arguments(
    server: str, tool: str, by: str, keys: list[str], tool_input: dict[str, Any]
) -> McpFacts:
    """No mapping names the kind: read it off the argument names (and the tool's verb)."""
    lowered = {k.lower(): k for k in keys}
    path_keys = [k for low, k in lowered.items() if low in _PATH_KEYS]
    verb = _verb_kind(tool)
    paths = tuple(_path_accesses(verb, path_keys, tool_input))
    for nested in _nested_objects(tool_input, depth=3):
        nested_keys = [k for k in nested if isinstance(k, str) and k.lower() in _PATH_KEYS]
        paths += tuple(_path_accesses(verb, nested_keys, nested))
    database = bool(_DATABASE_HINT.search(f"{server}__{tool}"))
    sql_keys = [key for key in _SQL_KEYS if key in lowered]
    sure = [key for key in sql_keys if key == "sql" or database]
    sql = tuple(s for key in sure for s in _strings(tool_input.get(lowered[key])))
    maybe_sql = tuple(
        s for key in sql_keys if key not in sure for s in _strings(tool_input.get(lowered[key]))
    )
    commands = tuple(
        c for key in _SHELL_KEYS if key in lowered if (c := _command(tool_input.get(lowered[key])))
    )
    urls = tuple(
        s for key in _URL_KEYS if key in lowered for s in _strings(tool_input.get(lowered[key]))
    )
    unknown = not (paths or sql or maybe_sql or commands or urls)
    return McpFacts(server, tool, by, paths, sql, commands, (), urls, unknown, maybe_sql)
