"""Scripts a command line runs (`printf … > t.sh; sh t.sh`, `./deploy.sh`): each run is followed
by the script's commands. Pure: files on disk come only through the caller's `read` function."""

from __future__ import annotations

import posixpath
import shlex
from collections.abc import Callable
from dataclasses import dataclass, replace

from engine.analysis.code import code_argument, interpreter_language
from engine.analysis.commands import Access, effects
from engine.analysis.shell import (
    SHELLS,
    SSH_VALUE_OPTIONS,
    ShellAnalysis,
    SimpleCommand,
    Word,
    analyze,
    shell_code_argument,
)
from engine.analysis.sql_sources import written_file

_MAX_DEPTH = 4
_INLINE = {
    "shell": None,
    "python": "python3 -c",
    "node": "node -e",
    "perl": "perl -e",
    "ruby": "ruby -e",
    "php": "php -r",
}
# Options of an interpreter that take a value before the script's path.
_VALUE_OPTIONS = frozenset({"-W", "-X", "-r", "--require", "-I", "-M", "-o", "+o", "-O", "+O"})
# They change a file's metadata, not what running it does.
_METADATA_WRITERS = frozenset({"chmod", "chown", "chgrp", "chattr", "setfacl", "touch"})
_UNKNOWN = None  # content only known at run time


@dataclass(frozen=True, slots=True)
class DiskScript:
    """A script file found on disk: its text (None when it was not read, `unread` saying why)
    and whether the repository's git index holds it unchanged (the project's own code)."""

    text: str | None
    known_to_git: bool
    unread: str = ""


# Reads the script at a path (relative to the call's cwd); None when there is no such file.
ReadScript = Callable[[str], DiskScript | None]


@dataclass(frozen=True, slots=True)
class _Run:
    """A command that runs the file `path` as a program in `language` (None: by its #!)."""

    path: Word
    language: str | None


def runs_scripts(analysis: ShellAnalysis) -> bool:
    """Whether any command of the line runs a script file (so the disk may have its text)."""
    return any(_script_run(command) for command in analysis.commands)


def with_scripts(
    analysis: ShellAnalysis, depth: int = 0, read: ReadScript | None = None
) -> ShellAnalysis:
    """The analysis with each run of a script followed by the commands of that script: one
    written earlier in the line as written, else (given `read`) the file on disk. A script
    whose text is only known at run time is opaque."""
    runs = [_script_run(command) for command in analysis.commands]
    if not any(runs) or depth > _MAX_DEPTH:
        return analysis
    files: dict[str, str | None] = {}
    commands: list[SimpleCommand] = []
    opaque = list(analysis.opaque)
    for command, run in zip(analysis.commands, runs, strict=True):
        commands.append(command)
        key = _key(run.path.value, command.workdir) if run and not run.path.dynamic else None
        if run is not None and key is not None and key in files:
            text = files[key]
            if text is _UNKNOWN:
                opaque.append(
                    f"`{command.display()}` runs `{run.path.value}`, written earlier in this "
                    "command line with text only known at run time"
                )
            else:
                inner = with_scripts(analyze(_as_command_line(run, text)), depth + 1, read)
                commands.extend(_inside(c, command) for c in inner.commands)
                opaque.extend(f"in {run.path.value}: {reason}" for reason in inner.opaque)
        elif run is not None and key is not None and read is not None:
            script = read(key)
            if script is not None:
                _follow_file(run, command, script, depth, read, commands, opaque)
        _record_writes(command, files)
    return ShellAnalysis(tuple(commands), tuple(opaque), analysis.fork_bombs)


def _follow_file(
    run: _Run,
    command: SimpleCommand,
    script: DiskScript,
    depth: int,
    read: ReadScript,
    commands: list[SimpleCommand],
    opaque: list[str],
) -> None:
    """A script already on disk: its commands are judged like the line's own. What cannot be
    seen in it is opaque unless git holds the file unchanged: a project's own script, such as
    `./gradlew`, may run what only its run time knows; a file the agent could have written may
    not."""
    path = run.path.value
    if script.text is None:
        if not script.known_to_git:
            opaque.append(f"`{command.display()}` runs `{path}`, {script.unread}")
        return
    inner = with_scripts(analyze(_as_command_line(run, script.text)), depth + 1, read)
    commands.extend(_inside(c, command) for c in inner.commands)
    if not script.known_to_git:
        opaque.extend(
            f"in {path} (not committed to git as it is): {reason}" for reason in inner.opaque
        )


def _script_run(command: SimpleCommand) -> _Run | None:
    if not command.words:
        return None
    words, name = command.words, command.name
    if name in {".", "source"}:
        return _Run(words[1], "shell") if len(words) > 1 else None
    if name in SHELLS and name not in {"busybox", "fish"}:
        has_code, _ = shell_code_argument(words)
        script = None if has_code else _first_operand(words)
        if script is None and not has_code:
            script = next((r.target for r in command.redirects if r.op == "<"), None)
        return _Run(script, "shell") if script is not None else None
    language = interpreter_language(name)
    if language is not None:
        if code_argument(language, command.argv) is not None:
            return None
        if any(w.value == "-m" for w in words[1:]):
            return None  # a module
        stdin = any(w.value == "-" for w in words[1:])
        script = None if stdin else _first_operand(words)
        if script is None:  # `python3 < t.py`, `python3 - < t.py`: the program from stdin
            script = next((r.target for r in command.redirects if r.op == "<"), None)
        return _Run(script, language) if script is not None else None
    if name == "ssh":
        return _remote_run(command)
    if "/" in words[0].value:
        return _Run(words[0], None)  # `./t.sh`: run by its #! line
    return None


def _remote_run(command: SimpleCommand) -> _Run | None:
    """`ssh host 'bash -s' < t.sh`: the remote shell or interpreter reads the local file."""
    script = next((r.target for r in command.redirects if r.op == "<"), None)
    words = command.words
    index = 1
    while index < len(words) and words[index].value.startswith("-"):
        index += 2 if words[index].value in SSH_VALUE_OPTIONS else 1
    remote = [w.value for w in words[index + 1 :] if w.value != "--"]
    program = remote[0].split()[0] if remote and remote[0].split() else "sh"
    language = "shell" if program in SHELLS else interpreter_language(program)
    if script is None or language is None:
        return None
    return _Run(script, language)


def _first_operand(words: tuple[Word, ...]) -> Word | None:
    index = 1
    while index < len(words):
        value = words[index].value
        if value == "--":
            return words[index + 1] if index + 1 < len(words) else None
        if not value.startswith(("-", "+")):
            return words[index]
        index += 2 if value in _VALUE_OPTIONS else 1
    return None


def _key(path: str, workdir: str | None) -> str:
    return posixpath.normpath(posixpath.join(workdir or "", path))


def _record_writes(command: SimpleCommand, files: dict[str, str | None]) -> None:
    if command.name in _METADATA_WRITERS:
        return
    known = written_file(command)
    appends = any(r.op == ">>" for r in command.redirects)
    known_key = _key(known[0], command.workdir) if known is not None else None
    for access in effects(command).files:
        if access.access in {Access.WRITE, Access.DELETE} and not access.word.dynamic:
            key = _key(access.word.value, command.workdir)
            if key != known_key:
                files[key] = _UNKNOWN
    if command.name in {"cp", "mv", "install"} and len(command.words) == 3:
        source = _key(command.words[1].value, command.workdir)
        if source in files:
            files[_key(command.words[2].value, command.workdir)] = files[source]
    if known is not None and known_key is not None:
        before = files.get(known_key, "")
        if appends and before is _UNKNOWN:
            return
        ends_line = command.name == "echo" and "-n" not in command.argv
        files[known_key] = (before if appends else "") + known[1] + ("\n" if ends_line else "")


def _as_command_line(run: _Run, text: str) -> str:
    language = run.language
    first = text.split("\n", 1)[0]
    if language is None:
        language = _shebang_language(first)
    inline = _INLINE[language]
    if inline is None:
        return text
    if first.startswith("#!"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
    if language == "php":
        text = text.strip().removeprefix("<?php").removesuffix("?>")
    return f"{inline} {shlex.quote(text)}"


def _shebang_language(first_line: str) -> str:
    """`#!/usr/bin/env -S python3 -u` is Python; no `#!` line, or a shell's, is the shell."""
    if not first_line.startswith("#!"):
        return "shell"
    try:
        words = shlex.split(first_line[2:])
    except ValueError:
        return "shell"
    if words and words[0].endswith("/env"):
        words = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
    found = interpreter_language(words[0]) if words else None
    return found or "shell"


def _inside(command: SimpleCommand, runner: SimpleCommand) -> SimpleCommand:
    """A command of the script, in the directory the runner ran from."""
    workdir = command.workdir
    if runner.workdir:
        workdir = _key(workdir, runner.workdir) if workdir else runner.workdir
    return replace(
        command, prefix=(*runner.prefix, *runner.argv[:2], *command.prefix), workdir=workdir
    )
