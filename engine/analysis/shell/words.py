"""The shapes of a parsed command line: words after quote removal, redirects, the simple
commands that would execute. Plain data; parsing is walker.py's job."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "busybox", "fish"})


@dataclass(frozen=True, slots=True)
class Word:
    """One argv entry after quote removal.

    `glob`: bash would expand it against the file system (unquoted `*`, `?`, `[`).
    `dynamic`: part of it is only known at run time (`$1`, `$(curl …)`).
    """

    value: str
    glob: bool = False
    dynamic: bool = False


@dataclass(frozen=True, slots=True)
class Redirect:
    op: str
    target: Word


@dataclass(frozen=True, slots=True)
class SimpleCommand:
    """A command that would execute, after wrappers (`sudo`, `env`, `xargs`…) are stripped.

    `prefix` holds the wrapper words that led to it (`("sudo", "-u", "root")`), so a policy
    that names the wrapper still sees it. `stdin_text` is text bash would feed it (heredoc,
    here-string, or the statically known output of an earlier pipeline stage).
    """

    words: tuple[Word, ...]
    redirects: tuple[Redirect, ...] = ()
    stdin_text: str | None = None
    piped_input: bool = False
    prefix: tuple[str, ...] = ()
    # Where an earlier `cd` in the same line moved to (relative to the call's cwd), if anywhere.
    workdir: str | None = None

    @property
    def argv(self) -> tuple[str, ...]:
        return tuple(word.value for word in self.words)

    @property
    def name(self) -> str:
        return command_name(self.words[0].value) if self.words else ""

    def display(self) -> str:
        if not self.words:
            return "(redirection only)"
        via = f"  (via {' '.join(self.prefix)})" if self.prefix else ""
        return shlex.join(self.argv) + via


@dataclass(frozen=True, slots=True)
class ShellAnalysis:
    commands: tuple[SimpleCommand, ...]
    opaque: tuple[str, ...] = field(default=())
    # Functions that call themselves in the background: `:(){ :|:& };:`.
    fork_bombs: tuple[str, ...] = field(default=())


def command_name(word: str) -> str:
    """`/usr/bin/rm` runs `rm`; `\\rm` and `r''m` are already unquoted by now."""
    return word.rsplit("/", 1)[-1]
