"""What an execution vector's finder reads and returns: the simple command (`Call`), its
payload (`Payload`) and the argv readers every finder shares. Pure: it must not find payloads."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from engine.analysis.vector_table import Vector


@dataclass(frozen=True, slots=True)
class Payload:
    """What a vector will run: shell `code`, the command at argv index `start`, or nothing seen.

    `unseen` says why the payload cannot be checked; it is set exactly when nothing else is.
    `stdin_from` names where the payload reads its input, when that is not this command line.
    """

    construct: str
    code: str | None = None
    start: int | None = None
    unseen: str = ""
    stdin_from: str | None = None


@dataclass(frozen=True, slots=True)
class Call:
    name: str  # the program, without its folder
    argv: tuple[str, ...]
    dynamic: tuple[bool, ...]
    stdin_text: str | None
    piped: bool
    stdin_file: str | None = None  # `cmd < FILE`


def code_payload(
    construct: str, value: str, dynamic: bool, stdin_from: str | None = None
) -> Payload:
    if dynamic:
        return Payload(construct, unseen=f"{construct} runs code built at run time: {value!r}")
    return Payload(construct, code=value, stdin_from=stdin_from)


def option_values(call: Call, spellings: Sequence[str]) -> list[tuple[str, str, bool]]:
    """(spelling, value, dynamic) of every use of the options, in any of getopt's forms."""
    found: list[tuple[str, str, bool]] = []
    argv = call.argv
    for index in range(1, len(argv)):
        word = argv[index]
        if word[:1] != "-":
            continue
        if word == "--":
            break
        for option in spellings:
            if word == option and index + 1 < len(argv):
                found.append((option, argv[index + 1], call.dynamic[index + 1]))
            elif word.startswith(option + "="):
                found.append((option, word[len(option) + 1 :], call.dynamic[index]))
            elif len(option) == 2 and len(word) > 2 and word.startswith(option):
                found.append((option, word[2:], call.dynamic[index]))
    return found


def shell_join(words: Sequence[str]) -> str:
    """Quote words back into shell text; a leading `~` stays unquoted so it still means home."""
    quoted = []
    for word in words:
        if word == "~" or word.startswith("~/"):
            quoted.append("~" + (shlex.quote(word[1:]) if len(word) > 1 else ""))
        elif word:
            quoted.append(shlex.quote(word))
    return " ".join(quoted)


# How one kind of vector finds its payloads: the matching rows of the table, and the command.
Finder = Callable[[list[Vector], Call], list[Payload]]
