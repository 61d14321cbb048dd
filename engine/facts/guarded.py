"""Where the built-in guards' paths are on this machine: the protected state located once, and
per command the words, globs and delete targets they judge. Reads the disk; judges nothing."""

from __future__ import annotations

import glob
import os
from itertools import islice

from engine.analysis.commands import Access
from engine.analysis.shell import SimpleCommand, Word
from engine.facts.model import HeldPath, NamedPath, ProtectedPaths, Where
from engine.paths import resolve_path
from engine.self_protection import (
    FIND_ACTIONS,
    MANAGED_SETTINGS,
    SETTINGS_TAILS,
    ProtectedState,
    path_candidates,
)

# A glob the guard expands on disk is read this far: enough to find a protected file in any
# ordinary folder, bounded for `/**`-like patterns.
GLOB_LIMIT = 2000
_DATABASE_FILES = (
    ("", "the governance database"),
    ("-wal", "the governance database's WAL"),
    ("-shm", "the governance database's shared memory"),
    ("-journal", "the governance database's journal"),
)


def locate(state: ProtectedState) -> ProtectedPaths:
    """The state's paths resolved on disk, once per engine."""
    entries: dict[str, str] = {}
    if state.database:
        for suffix, what in _DATABASE_FILES:
            entries[resolve_path(state.database + suffix, "/")] = what
    for path, what in (
        (state.socket, "the governance server's socket"),
        (state.spool, "the governance spool"),
        (state.policy, "the policy file in use"),
        (state.witness, "the audit trail's witness file"),
    ):
        if path:
            entries[resolve_path(path, "/")] = what
    names = {os.path.basename(path) for path in entries}
    names |= {os.path.basename(path) for path in (*SETTINGS_TAILS, *MANAGED_SETTINGS)}
    return ProtectedPaths(tuple(entries.items()), os.path.expanduser("~"), frozenset(names))


class PathLooker:
    """Resolves what the guards judge, with one call's memo of settings files found."""

    def __init__(self, protected: ProtectedPaths) -> None:
        self.protected = protected
        self._settings: dict[str, tuple[str, ...]] = {}

    def new_call(self) -> None:
        self._settings.clear()

    def held(self, path: str, access: Access, by: str) -> tuple[str, ...]:
        """The Claude Code settings files inside `path`, when a delete or a move of it would
        take them along (a write into it would not)."""
        if not (access is Access.DELETE or (access is Access.WRITE and by == "mv")):
            return ()
        found = self._settings.get(path)
        if found is None:
            tails = (os.path.join(path, tail.lstrip("/")) for tail in SETTINGS_TAILS)
            found = self._settings[path] = tuple(c for c in tails if os.path.exists(c))
        return found

    def glob(self, word: Word, cwd: str, access: Access, by: str) -> NamedPath:
        """A glob as the guard reads it: the pattern resolved as a path, what it matches."""
        pattern = resolve_path(word.value, cwd)
        matches = tuple(
            HeldPath(path, self.held(path, access, by))
            for path in (resolve_path(hit, cwd) for hit in _expand(pattern))
        )
        return NamedPath(word.value, pattern, matches)

    def named(self, command: SimpleCommand, cwd: str) -> tuple[NamedPath, ...]:
        """The words the guard reads as paths: the start of a `find` that acts on what it
        finds, and any word holding the name of a protected file (also as `--opt=PATH`)."""
        found: dict[str, NamedPath] = {}
        if command.name == "find" and FIND_ACTIONS.intersection(command.argv):
            for start in _find_starts(command):
                if start.glob:
                    found[start.value] = self.glob(start, cwd, Access.READ, "find -exec")
                elif not start.dynamic:
                    found[start.value] = NamedPath(start.value, resolve_path(start.value, cwd))
        names = self.protected.names
        for word in command.words[1:]:
            value = word.value
            if word.dynamic or not any(name in value for name in names):
                continue
            for text in path_candidates(value):
                if text not in found:
                    found[text] = NamedPath(text, resolve_path(text, cwd))
        return tuple(found.values())


def delete_targets(command: SimpleCommand, where: Where) -> tuple[NamedPath, ...]:
    """What a recursive delete starts from, resolved with the call's home: each `rm` target
    and the start of a `find` that deletes or runs a command; for a glob, its folder."""
    if command.name == "rm":
        words = _rm_targets(command.words)
    elif command.name == "find" and FIND_ACTIONS.intersection(command.argv):
        words = _find_starts(command)
    else:
        return ()
    targets = []
    for word in words:
        if word.dynamic:
            continue
        value = word.value
        folder = (value.rsplit("/", 1)[0] if "/" in value else ".") if word.glob else value
        targets.append(NamedPath(value, resolve_path(folder or "/", where.cwd, where.home)))
    return tuple(targets)


def _find_starts(command: SimpleCommand) -> list[Word]:
    starts = []
    for start in command.words[1:]:
        if start.value.startswith(("-", "(", "!")):
            break
        starts.append(start)
    return starts


def _rm_targets(words: tuple[Word, ...]) -> list[Word]:
    targets = []
    only_targets = False
    for word in words[1:]:
        value = word.value
        if only_targets or not value.startswith("-") or value == "-":
            targets.append(word)
        elif value == "--":
            only_targets = True
    return targets


def _expand(pattern: str) -> list[str]:
    try:
        return list(islice(glob.iglob(pattern), GLOB_LIMIT))
    except (OSError, ValueError):  # a NUL byte or an unreadable folder: the text check stands
        return []
