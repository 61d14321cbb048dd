"""Files a command loads or uploads through an option value or `@file` (`--from-file=k=path`,
`--env-file=.env`, `src=.env`, `@.env`). Pure: names candidate paths; never reads or judges."""

from __future__ import annotations

import re

from engine.analysis.shell import Word
from engine.fs import WalkSpec

# Options that load every file of a directory they are given (kubectl reads its top level).
_DIRECTORY_LOADERS = {"--from-file": WalkSpec(max_depth=1)}
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
# Numbers and booleans are values, not files; `.` and `..` are folders.
_NOT_A_PATH = re.compile(
    r"^$|^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)$|^(true|false|yes|no|none|null)$", re.IGNORECASE
)


def option_files(words: tuple[Word, ...]) -> list[tuple[Word, WalkSpec | None]]:
    """Paths named inside `--option=value`, `key=path` and `@file` words, with the walk of the
    options that load a whole directory."""
    found: list[tuple[Word, WalkSpec | None]] = []
    for position, word in enumerate(words[1:], start=1):
        value = word.value
        option = ""
        if value.startswith("--") and "=" in value:
            option, _, value = value.partition("=")
        elif words[position - 1].value in _DIRECTORY_LOADERS:
            option = words[position - 1].value  # `--from-file DIR`: the value is its own word
        elif "@" in value and not _URL.match(value):
            value = value.rsplit("@", 1)[1]
        elif "=" not in value or value.startswith("-") or _URL.match(value):
            continue  # `id=npm,src=.env` (docker --secret), `tls.key=certs/x.key` name files
        for piece in value.split(","):
            path = piece.rsplit("=", 1)[-1].removeprefix("@").split(";", 1)[0]
            if path and not _URL.match(path) and not _NOT_A_PATH.match(path):
                found.append((Word(path, word.glob, word.dynamic), _DIRECTORY_LOADERS.get(option)))
    return found
