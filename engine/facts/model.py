"""The typed facts of one tool call: what it will really do on this machine, built once.
Immutable data (named tuples: built on every call, so cheap to make); building them is
engine/facts/build.py's job, judging them engine/rules/'s."""

from __future__ import annotations

import os
from pathlib import PurePosixPath
from typing import Any, NamedTuple

from engine.analysis.commands import Access, CommandEffects, FileAccess
from engine.analysis.shell import SimpleCommand
from engine.analysis.sql import SqlAnalysis
from engine.fs import Walk
from engine.git import GitPush


class Where(NamedTuple):
    """Where the call happens: what relative paths and `HEAD` mean."""

    cwd: str
    root: str
    home: str | None
    branch: str | None

    def is_catastrophic(self, path: str) -> bool:
        """`/`, a top-level directory such as /etc or /home, or a home directory."""
        parts = PurePosixPath(path).parts
        if len(parts) <= 2:
            return True
        if path in {os.path.expanduser("~"), self.home or ""}:
            return True
        return len(parts) == 3 and parts[1] in {"home", "Users"}


class PathFact(NamedTuple):
    """One resolved file that a tool reads, writes or deletes, as the caller named it.

    `settings`: the Claude Code settings files inside it, when a delete or a move of it
    would take them along (see HeldPath)."""

    access: Access
    path: str
    shown: str
    by: str
    root: str | None = None
    settings: tuple[str, ...] = ()


class ProtectedPaths(NamedTuple):
    """The governance state's files as this machine has them (links followed), this process's
    home, and the file names that may name them in a command's words. Found once per engine."""

    entries: tuple[tuple[str, str], ...]  # (real path, what it is)
    home: str
    names: frozenset[str]


class HeldPath(NamedTuple):
    """A path on this machine, and the Claude Code settings files (`.claude/settings*.json`)
    found inside it: looked for only where a delete or a move would take them along."""

    path: str
    settings: tuple[str, ...] = ()


class NamedPath(NamedTuple):
    """A shell word as the path it names on this machine: joined to the cwd, links followed;
    for a glob, the files it expands to on disk (at most a bounded number)."""

    value: str
    path: str
    matches: tuple[HeldPath, ...] = ()


class SeenFile(NamedTuple):
    """A file a shell word names on this machine, and the tree walked below it, if any.

    `walkable`: a directory the access walks (even when the walk is skipped, as for `/`)."""

    shown: str
    path: str
    walk: Walk | None = None
    walkable: bool = False
    settings: tuple[str, ...] = ()  # Claude Code settings inside it (see HeldPath)


class FileFact(NamedTuple):
    """One file access of a command after glob expansion: the files it really touches.

    A word only known at run time has no files; a glob whose directory is not here is
    `unseen_glob` and judged by what it could match. `named`: a glob as the self-protection
    guard reads it (the pattern resolved as a path, its matches on disk).
    """

    access: FileAccess
    where: Where
    files: tuple[SeenFile, ...] = ()
    unseen_glob: bool = False
    named: NamedPath | None = None


class SqlFact(NamedTuple):
    """SQL that a client runs: from its text, a file, and the files and shell escapes in it."""

    client: str
    unseen: str | None = None  # why the SQL cannot be seen at all
    file: PathFact | None = None  # the SQL file read, when the SQL comes from one
    unreadable: bool = False  # that file cannot be read here
    script_unseen: str | None = None  # part of the SQL comes from a command's output
    analysis: SqlAnalysis | None = None
    escapes: tuple[CommandLine, ...] = ()  # commands the client's shell escapes run
    included: tuple[SqlFact, ...] = ()  # SQL files the script includes


class CommandFacts(NamedTuple):
    """One simple command that would execute, with its effects after expansion.

    `named`: its words that name the protected state or are the start of a `find` that acts
    on what it finds, as paths (`~` is this process's home). `targets`: the paths a recursive
    delete (`rm`, `find -delete`) starts from, resolved with the call's home.
    """

    command: SimpleCommand
    where: Where
    effects: CommandEffects
    push: GitPush | None
    sql: tuple[SqlFact, ...]
    files: tuple[FileFact, ...]
    named: tuple[NamedPath, ...] = ()
    targets: tuple[NamedPath, ...] = ()

    def named_path(self, value: str) -> NamedPath:
        """The word `value` as a path; facts/guarded.py resolves every word a guard reads."""
        for named in self.named:
            if named.value == value:
                return named
        raise KeyError(value)

    def target(self, value: str) -> str:
        """The resolved start of a recursive delete named by the word `value`."""
        for named in self.targets:
            if named.value == value:
                return named.path
        raise KeyError(value)


class CommandLine(NamedTuple):
    """A shell command line: its commands in order, and what in it cannot be seen."""

    opaque: tuple[str, ...]
    fork_bombs: tuple[str, ...]
    commands: tuple[CommandFacts, ...]


class SqlText(NamedTuple):
    """SQL handed over as text (an MCP tool's argument), already analysed."""

    analysis: SqlAnalysis
    by: str


class WebFact(NamedTuple):
    """A URL a tool fetches; `host` is None when it is not a valid URL."""

    url: Any
    host: str | None
    by: str


class Facts(NamedTuple):
    """Everything one tool call will do, as the rules judge it.

    `checks` names the policy sections that apply, `commands` the commands seen (as shown
    to people), `hosts` the network destinations in the order they are reached.
    """

    tool: str
    checks: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    malformed: str | None = None  # why the call's input cannot be judged
    prompt: str | None = None
    paths: tuple[PathFact, ...] = ()
    files: tuple[FileFact, ...] = ()
    sql: tuple[SqlText, ...] = ()
    lines: tuple[CommandLine, ...] = ()
    timeout: Any = None  # the Bash call's timeout, in ms
    urls: tuple[WebFact, ...] = ()
    model: str | None = None
    unclassified: str | None = None  # an MCP tool whose effect is unknown: how it was classified
