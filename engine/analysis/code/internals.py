"""What the code analyzers share: labels, limits, the work budget, argv and mode helpers.
Private to engine/analysis/code/; it analyzes nothing itself."""

from __future__ import annotations

import shlex
from collections.abc import Sequence

_LABELS = {
    "python": "python -c",
    "node": "node -e",
    "perl": "perl -e",
    "ruby": "ruby -e",
    "php": "php -r",
}

# eval("eval('...')") is rare in honest code; past this depth we stop and say so.
_MAX_NESTING = 4

# Strings built by concatenation are capped so hostile code cannot make us build gigabytes.
_MAX_TEXT = 65_536

# Token-scanning work per analysis; deeply nested calls would otherwise cost quadratic time.
_MAX_STEPS = 2_000_000


class _Budget:
    __slots__ = ("left",)

    def __init__(self, steps: int) -> None:
        self.left = steps

    def take(self, steps: int) -> bool:
        self.left -= max(steps, 1)
        return self.left >= 0


def _argv_line(argv: Sequence[str]) -> str:
    return shlex.join(argv)


def _mode_access(mode: str) -> tuple[bool, bool]:
    """(reads, writes) for an fopen-style mode string such as 'r', 'wb', 'a+', 'r+'."""
    writes = any(letter in mode for letter in "wax+")
    reads = "r" in mode or ("+" in mode and "a" in mode) or not writes
    return reads, writes


_WRITE_FLAGS = frozenset({"O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND", "WRONLY", "RDWR",
                          "CREAT", "TRUNC", "APPEND"})  # fmt: skip

# A chmod whose file is computed or an open descriptor: the mode is judged all the same.
_SOME_FILE = shlex.quote("(a file only known at run time)")
