"""The table of execution vectors, loaded from the data file `vectors.toml` next to this module.
Data only: `vectors.py` reads it, and tests/test_unseen_code.py runs every row's example."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any


class Find(StrEnum):
    """How the payload of a vector is found (the file's header says what each one means)."""

    CODE = "code"
    WORDS = "words"
    STDIN = "stdin"
    FILE = "file"
    UNSEEN = "unseen"
    SSH_OPTION = "ssh-option"
    GIT_CONFIG = "git-config"
    EXT_URL = "ext-url"
    SOCAT = "socat"
    AWK = "awk"
    SED = "sed"
    VIM = "vim"
    CRONTAB = "crontab"
    PROMPT = "prompt"
    FUNCTION = "function"
    LANGUAGE = "language"


@dataclass(frozen=True, slots=True)
class Vector:
    """One way to run code. `example` is a command line whose payload has a known verdict."""

    programs: tuple[str, ...]
    trigger: str  # the option, `-o` key, config key or variable; "" for the program itself
    runs: str
    find: Find
    example: str
    verdict: str  # "deny" when the payload is found and judged, "approve" when it is unseen
    options: tuple[str, ...] = ()  # spellings of the trigger option
    subcommand: str = ""  # only after this subcommand (`npm exec -c`, `git rebase --exec`)


def _vector(row: dict[str, Any]) -> Vector:
    return Vector(
        programs=tuple(row.get("programs", ())),
        trigger=row["trigger"],
        runs=row["runs"],
        find=Find(row["find"]),
        example=row["example"],
        verdict=row["verdict"],
        options=tuple(row.get("options", ())),
        subcommand=row.get("subcommand", ""),
    )


_DATA = tomllib.loads((Path(__file__).parent / "vectors.toml").read_text(encoding="utf-8"))

VECTORS: tuple[Vector, ...] = tuple(_vector(row) for row in _DATA["vector"])
# Variables whose value a program or a child shell runs.
ENV_VECTORS: tuple[Vector, ...] = tuple(_vector(row) for row in _DATA["variable"])
# program -> (options consuming the next word, positional words before the command it runs)
WRAPPER_OPTIONS: dict[str, tuple[frozenset[str], int]] = {
    name: (frozenset(spec["options"]), spec["positionals"])
    for name, spec in _DATA["wrappers"].items()
}
# Git config keys whose value is a program git runs (`*` stands for any name).
GIT_CODE_KEYS: tuple[str, ...] = tuple(_DATA["git"]["code_keys"])
# Git config keys that point at files or folders of code.
GIT_FILE_KEYS: tuple[str, ...] = tuple(_DATA["git"]["file_keys"])
