"""Builds the Facts of one tool call from its parsed text: commands, files after expansion,
SQL, pushes, hosts. Reads the disk only through FileFinder and SQL files; judges nothing."""

from __future__ import annotations

import shlex
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from engine.analysis.commands import Access, CommandEffects, FileAccess, SqlSource, effects
from engine.analysis.mcp import classify
from engine.analysis.routes import with_routes
from engine.analysis.scripts import DiskScript, runs_scripts, with_scripts
from engine.analysis.shell import ShellAnalysis, SimpleCommand, Word, analyze
from engine.analysis.sql import analyze_sql
from engine.analysis.sql_sources import embedded_sql, split_escapes, written_file
from engine.analysis.substitutions import substituted_files
from engine.events import CallContext, ToolEvent
from engine.facts.files import FileFinder, fed_by_find
from engine.facts.guarded import PathLooker, ProtectedPaths, delete_targets
from engine.facts.model import (
    CommandFacts,
    CommandLine,
    Facts,
    FileFact,
    PathFact,
    SqlFact,
    SqlText,
    WebFact,
    Where,
)
from engine.facts.script_files import ScriptFiles
from engine.fs import FileSystem
from engine.git import GitPush, analyze_push
from engine.paths import resolve_path
from engine.policy import Policy
from engine.walks import grep_tool_walk

_MAX_SQL_FILE_BYTES = 1_000_000
_MAX_SQL_INCLUDES = 4
_READ_TOOLS = frozenset({"Read", "NotebookRead"})
_SEARCH_TOOLS = frozenset({"Grep", "Glob", "LS"})
_WRITE_TOOLS = frozenset({"Write", "Edit", "MultiEdit", "NotebookEdit"})
_AGENT_TOOLS = frozenset({"Agent", "Task"})
_BASH_CHECKS = (
    "bash command patterns",
    "built-in detectors",
    "git, SQL, path and network rules",
)


@lru_cache(maxsize=8192)
def _effects(command: SimpleCommand) -> CommandEffects:
    return effects(command)


@lru_cache(maxsize=8192)
def _followed(command: str) -> ShellAnalysis:
    """The commands a line runs, scripts it writes and runs and routes to known commands
    followed: pure, so cached by text like the parse."""
    return with_routes(with_scripts(analyze(command)))


@lru_cache(maxsize=8192)
def _runs_scripts(command: str) -> bool:
    return runs_scripts(analyze(command))


class FactFinder:
    """Turns tool calls into Facts, with one policy's MCP mapping and one filesystem cache;
    `protected` says which words the self-protection guard needs resolved."""

    def __init__(self, policy: Policy, filesystem: FileSystem, protected: ProtectedPaths) -> None:
        self.policy = policy
        self.looker = PathLooker(protected)
        self.files = FileFinder(filesystem, self.looker)
        self.scripts = ScriptFiles(filesystem)

    def facts(self, event: ToolEvent, context: CallContext | None = None) -> Facts:
        context = context or CallContext()
        self.files.new_call()
        cwd = event.cwd or context.repo or "/"
        where = Where(cwd, context.repo or cwd, context.home, context.git_branch)
        tool = event.tool_name
        tool_input = event.tool_input
        if event.hook_event_name == "UserPromptSubmit":
            return Facts(tool, ("prompt limits",), prompt=event.prompt or "")
        if tool == "Bash":
            return self._bash(tool_input, where)
        if tool == "Grep":
            return Facts(tool, ("path rules",), files=(self._grep(tool_input, where),))
        if tool in _READ_TOOLS or tool in _WRITE_TOOLS or tool in _SEARCH_TOOLS:
            return self._file_tool(tool, tool_input, where)
        if tool == "WebFetch":
            web = _web(tool_input.get("url"), tool)
            hosts = (web.host,) if web.host else ()
            return Facts(tool, ("network rules",), hosts=hosts, urls=(web,))
        if tool in _AGENT_TOOLS:
            model = tool_input.get("model")
            return Facts(
                tool, ("model rules",), model=model if isinstance(model, str) and model else None
            )
        if tool.startswith("mcp__"):
            return self._mcp(tool, tool_input, where)
        return Facts(tool)

    # ------------------------------------------------------------ tools

    def _bash(self, tool_input: dict[str, Any], where: Where) -> Facts:
        command = tool_input.get("command")
        if not isinstance(command, str):
            return Facts("Bash", _BASH_CHECKS, malformed="Bash call without a command string")
        analysis = _followed(command)
        if _runs_scripts(command):
            # A script already on disk is followed as its text: not cached by the line's text.
            def read(path: str) -> DiskScript | None:
                return self.scripts.script(resolve_path(path, where.cwd, where.home))

            analysis = with_routes(with_scripts(analyze(command), read=read))
        line = self.line(analysis, where)
        return Facts(
            "Bash",
            _BASH_CHECKS,
            commands=tuple(c.display() for c in analysis.commands),
            hosts=_hosts(line),
            lines=(line,),
            timeout=tool_input.get("timeout"),
        )

    def _file_tool(self, tool: str, tool_input: dict[str, Any], where: Where) -> Facts:
        checks = ("path rules",)
        raw = (
            tool_input.get("file_path") or tool_input.get("notebook_path") or tool_input.get("path")
        )
        if not isinstance(raw, str) or not raw:
            if tool in _SEARCH_TOOLS:
                return Facts(tool, checks)
            return Facts(tool, checks, malformed=f"{tool} call without a file path")
        if "\x00" in raw:
            return Facts(
                tool,
                checks,
                malformed=f"{tool} call with a NUL byte in its file path, which no file can have",
            )
        access = Access.WRITE if tool in _WRITE_TOOLS else Access.READ
        path = self.files.resolve(raw, where)
        return Facts(tool, checks, paths=(PathFact(access, path, raw, tool, where.root),))

    def _grep(self, tool_input: dict[str, Any], where: Where) -> FileFact:
        """Grep searches a tree (the cwd when no path is given): the files it reads."""
        raw = tool_input.get("path")
        path = raw if isinstance(raw, str) and raw else "."
        tree = grep_tool_walk(path, tool_input.get("glob"))
        access = FileAccess(Access.READ, tree.word, tree.by, tree.spec, tree.hint)
        return self.files.fact(access, where)

    def _mcp(self, tool: str, tool_input: dict[str, Any], where: Where) -> Facts:
        found = classify(tool, tool_input, self.policy.policies.mcp_tools)
        paths = tuple(
            PathFact(access, path, raw, tool, where.root, self.looker.held(path, access, tool))
            for access, raw in found.paths
            for path in (resolve_path(raw, where.cwd, where.home),)
        )
        sql = [SqlText(analyze_sql(text), tool) for text in found.sql]
        for text in found.maybe_sql:
            analysis = analyze_sql(text)
            if analysis.operations:
                sql.append(SqlText(analysis, tool))
        lines = [self.line(analyze(command), where) for command in found.commands]
        for push in found.pushes:  # judged as `git push` of that branch, from no checkout
            target = f"HEAD:{shlex.quote(push.branch)}" if push.branch else ""
            flag = "--force " if push.force else ""
            command = analyze(f"git push {flag}origin {target}")
            lines.append(self.line(command, where._replace(branch=None)))
        urls = tuple(_web(url, tool) for url in found.urls)
        hosts = [host for line in lines for host in _hosts(line)]
        hosts += [web.host for web in urls if web.host]
        return Facts(
            tool,
            ("MCP effects: path, SQL, shell, git hosting and network rules",),
            hosts=tuple(hosts),
            paths=paths,
            sql=tuple(sql),
            lines=tuple(lines),
            urls=urls,
            unclassified=found.classified_by if found.unknown else None,
        )

    # ------------------------------------------------------------ shell

    def line(self, analysis: ShellAnalysis, where: Where) -> CommandLine:
        """The facts of a command line, command by command, in the order they run."""
        base = where
        globstar = False
        previous: SimpleCommand | None = None
        written: dict[str, str] = {}  # files this command line writes before it runs them
        commands = []
        for command in analysis.commands:
            where = base
            if command.workdir:
                where = base._replace(cwd=resolve_path(command.workdir, base.cwd, base.home))
            if command.name == "shopt" and "globstar" in command.argv:
                globstar = "-s" in command.argv
            upstream = previous
            if command.name != "xargs":  # `xargs CMD` is followed by CMD itself
                previous = command
            command_effects = _effects(command)
            push = self._push(command, where) if command.name == "git" else None
            sql = tuple(
                [
                    self.sql(source, where, written)
                    for source in (*command_effects.sql, *embedded_sql(command))
                ]
            )
            if (write := written_file(command)) is not None:
                written[resolve_path(write[0], where.cwd, where.home)] = write[1]
            files = tuple(
                [
                    self.files.fact(access, where, globstar)
                    for listed in command_effects.files
                    for substituted in substituted_files(listed)
                    for access in fed_by_find(substituted, command, upstream)
                ]
            )
            named = self.looker.named(command, where.cwd)
            targets = delete_targets(command, where)
            commands.append(
                CommandFacts(command, where, command_effects, push, sql, files, named, targets)
            )
        return CommandLine(analysis.opaque, analysis.fork_bombs, tuple(commands))

    def _push(self, command: SimpleCommand, where: Where) -> GitPush | None:
        # A bare `git push` follows the repository's own config (remote.*.push, push.default).
        config = self.files.git_config(where) if "push" in command.argv else ()
        return analyze_push(command.argv, where.branch, config)

    def sql(
        self, source: SqlSource, where: Where, written: dict[str, str], depth: int = 0
    ) -> SqlFact:
        """What a SQL client runs: its text, or the file it reads, with escapes and includes."""
        if source.unseen:
            return SqlFact(source.client, unseen=source.unseen)
        text = source.text
        read = None
        if source.file is not None:
            path = resolve_path(source.file.value, where.cwd, where.home)
            read = PathFact(Access.READ, path, source.file.value, source.client)
            text = None if source.file.dynamic else written.get(path) or _read_sql_file(path)
            if text is None:
                return SqlFact(source.client, file=read, unreadable=True)
        if text is None:
            return SqlFact(source.client, file=read)
        script = split_escapes(text, source.client)
        included = ()
        if depth < _MAX_SQL_INCLUDES:
            included = tuple(
                self.sql(
                    SqlSource(source.client, source.dialect, file=Word(f)),
                    where,
                    written,
                    depth + 1,
                )
                for f in script.files
            )
        return SqlFact(
            source.client,
            file=read,
            script_unseen=script.unseen,
            analysis=analyze_sql(script.sql, source.dialect),
            # The client's shell escape runs each as a command line of its own.
            escapes=tuple(self.line(analyze(command), where) for command in script.commands),
            included=included,
        )


def _hosts(line: CommandLine) -> tuple[str, ...]:
    return tuple([host for command in line.commands for host in command.effects.hosts])


def _web(url: Any, by: str) -> WebFact:
    try:
        host = urlsplit(url).hostname if isinstance(url, str) else None
    except ValueError:
        host = None
    return WebFact(url, host, by)


def _read_sql_file(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return handle.read(_MAX_SQL_FILE_BYTES).decode("utf-8", "replace")
    except OSError:
        return None
