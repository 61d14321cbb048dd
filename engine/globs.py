"""Bash's matching of one file name against one glob segment, as a compiled regex.
Pure: it matches names it is given and never looks at the disk."""

from __future__ import annotations

import re
from functools import lru_cache


def is_glob(segment: str) -> bool:
    return any(c in segment for c in "*?[")


_POSIX_CLASSES = {
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "alnum": "a-zA-Z0-9",
    "upper": "A-Z",
    "lower": "a-z",
    "space": r"\s",
    "xdigit": "0-9a-fA-F",
    "punct": r"!-/:-@\[-`{-~",
}


@lru_cache(maxsize=4096)
def segment_regex(segment: str, dotted: bool = False) -> re.Pattern[str]:
    """Bash's matching of one name: a leading `.` must be written unless `dotted`."""
    out: list[str] = []
    i = 0
    while i < len(segment):
        char = segment[i]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[" and (parsed := _bracket(segment, i)) is not None:
            text, i = parsed
            out.append(text)
            continue
        else:
            out.append(re.escape(char))
        i += 1
    regex = "".join(out)
    if not dotted and not segment.startswith("."):
        regex = f"(?!\\.){regex}"
    try:
        return re.compile(regex, re.DOTALL)
    except re.error:
        # A class bash would reject (`[z-a]`): the word then only names itself.
        return re.compile(re.escape(segment), re.DOTALL)


def _bracket(segment: str, start: int) -> tuple[str, int] | None:
    """The regex for the bracket expression at `start`, and the index after it; None when
    the `[` opens nothing (bash then reads it literally)."""
    j = start + 1
    negated = j < len(segment) and segment[j] in "!^"
    j += negated
    parts: list[str] = []
    first = True
    while j < len(segment):
        char = segment[j]
        if char == "]" and not first:
            return f"[{'^' if negated else ''}{''.join(parts)}]", j + 1
        first = False
        if segment.startswith("[:", j) and (close := segment.find(":]", j + 2)) != -1:
            # An unknown class cannot be reasoned about: any character, as the safe reading.
            parts.append(_POSIX_CLASSES.get(segment[j + 2 : close], "\\x00-\\U0010ffff"))
            j = close + 2
            continue
        ranged = parts and parts[-1] != "-" and j + 1 < len(segment)
        if char == "-" and ranged and segment[j + 1] not in "]-":
            parts.append("-")
        else:
            parts.append(re.escape(char))
        j += 1
    return None


def glob_match(glob: str, name: str, dotted: bool = True) -> bool:
    """A tool's own glob on a base name (grep --exclude, find -name): `*` matches dots."""
    return segment_regex(glob, dotted).fullmatch(name) is not None
