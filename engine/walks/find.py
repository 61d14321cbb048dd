"""What `find` walks: its start paths and the tests it keeps files by (-name, -path,
-maxdepth). Pure: it reads argv, never the disk; tests it cannot model widen the walk."""

from __future__ import annotations

from engine.analysis.shell import Word
from engine.fs import WalkSpec


def find_walk(words: tuple[Word, ...]) -> tuple[list[Word], WalkSpec]:
    """The start paths of `find` and the files its tests keep (`-name`, `-maxdepth`).

    Tests it does not model (`-o`, `-path`, `-newer`…) are dropped, which keeps more files:
    the judgement is on a superset, never a subset.
    """
    starts: list[Word] = []
    index = 1
    follows = False
    while index < len(words) and words[index].value in {"-H", "-L", "-P", "-O0", "-O1", "-O2"}:
        follows = follows or words[index].value == "-L"
        index += 1
    while index < len(words) and not words[index].value.startswith(("-", "(", "!", ")")):
        starts.append(words[index])
        index += 1
    names: list[tuple[bool, str, bool]] = []
    paths: list[tuple[bool, str, bool]] = []
    depth: int | None = None
    alternatives = False
    negate = False
    while index < len(words):
        value = words[index].value
        if value in {"-exec", "-execdir", "-ok", "-okdir"}:
            while index < len(words) and words[index].value not in {";", "+"}:
                index += 1
        elif value in {"!", "-not"}:
            negate = True
            index += 1
            continue
        elif value in {"-o", "-or", "(", ")"}:
            alternatives = True
        elif value in {"-name", "-iname"} and index + 1 < len(words):
            names.append((negate, words[index + 1].value, value == "-iname"))
            index += 1
        elif value in _FIND_PATH_TESTS and index + 1 < len(words):
            below = _below_start(words[index + 1].value, starts)
            if below is not None:  # a test we cannot place is dropped: a superset
                paths.append((negate, below, value.startswith("-i")))
            index += 1
        elif value == "-maxdepth" and index + 1 < len(words):
            text = words[index + 1].value
            depth = int(text) if text.isdigit() else None
            index += 1
        negate = False
        index += 1
    spec = WalkSpec(
        names=() if alternatives else tuple(names),
        paths=() if alternatives else tuple(paths),
        max_depth=depth,
        follow_links=follows,
    )
    return starts or [Word(".")], spec


_FIND_PATH_TESTS = frozenset({"-path", "-ipath", "-wholename", "-iwholename"})


def _below_start(pattern: str, starts: list[Word]) -> str | None:
    """`-path './logs/*'` from `.` tests `/logs/*` below the start; `*/x/*` stays as it is."""
    start = (starts[0].value if len(starts) == 1 else "").rstrip("/") or "."
    if pattern.startswith("*"):
        return pattern
    if pattern.startswith(start + "/"):
        return pattern[len(start) :]
    return None
