"""What a command does, as data: the files it reads, writes or deletes, the SQL it runs, the
hosts it reaches. Plain frozen types; effects.py fills them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from engine.analysis.shell import Word
from engine.fs import WalkSpec


class Access(StrEnum):
    READ = "read"
    WRITE = "write"
    DELETE = "delete"
    # Passed as an argument to a program whose behaviour we don't model: it may read it.
    MENTION = "mention"


@dataclass(frozen=True, slots=True)
class FileAccess:
    """`walk` set: the access reaches every file the tool visits below `word`."""

    access: Access
    word: Word
    by: str
    walk: WalkSpec | None = None
    hint: str = ""
    contents_only: bool = False  # the files the walk finds, not `word` itself


@dataclass(frozen=True, slots=True)
class SqlSource:
    """SQL a client would run: inline text, a file to read, or nothing we can see."""

    client: str
    dialect: str | None
    text: str | None = None
    file: Word | None = None
    unseen: str | None = None


@dataclass(frozen=True, slots=True)
class CommandEffects:
    """`canonical`: the action the command names, spelled as the CLI tables' program would
    (`pnpm publish` is `npm publish`); `noop`: an option makes it do nothing (`--dry-run`)."""

    regex_text: str
    files: tuple[FileAccess, ...]
    hosts: tuple[str, ...]
    sql: tuple[SqlSource, ...]
    canonical: tuple[str, ...] = ()
    noop: bool = False
