"""Policy path patterns compiled gitignore-style: each rule's kind (name, rooted, absolute) and
the fused regex tables that match many rules at once. Compiles and matches; decides nothing."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from pathspec.util import lookup_pattern

# "gitignore" is pathspec 1.x's documented-behaviour pattern; its regexes carry no capture
# groups, which lets us fuse many of them into one alternation (see _Table).
_GITIGNORE = lookup_pattern("gitignore")

_GLOB_CHARS = frozenset("*?[")


class _Kind(Enum):
    NAME = "name"  # no `/`: a name at any depth below the root
    ROOTED = "rooted"  # contains `/`: relative to the project root
    ABSOLUTE = "absolute"  # `~/...` or `/<existing top-level dir>/...`: relative to `/`


@dataclass(frozen=True, slots=True)
class _Rule:
    index: int
    text: str
    negated: bool
    kind: _Kind
    regex: str
    segments: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Table:
    """Rules that apply to one subject string, fused so the common miss costs one regex call."""

    combined: re.Pattern[str] | None
    group_to_index: dict[int, int]
    positives: tuple[tuple[int, re.Pattern[str]], ...]
    negatives: tuple[tuple[int, re.Pattern[str]], ...]

    @classmethod
    def build(cls, rules: Iterable[_Rule]) -> _Table:
        ordered = sorted(rules, key=lambda r: r.index)
        pos = [r for r in ordered if not r.negated]
        parts: list[str] = []
        group_to_index: dict[int, int] = {}
        group = 1
        for rule in pos:
            parts.append(f"({rule.regex})")
            group_to_index[group] = rule.index
            group += 1 + re.compile(rule.regex).groups
        return cls(
            combined=re.compile("|".join(parts)) if parts else None,
            group_to_index=group_to_index,
            positives=tuple((r.index, re.compile(r.regex)) for r in pos),
            negatives=tuple((r.index, re.compile(r.regex)) for r in ordered if r.negated),
        )

    def first_positive(self, subject: str) -> int | None:
        if self.combined is None:
            return None
        # Alternation is tried left to right, so the group that closed is the earliest rule.
        found = self.combined.match(subject)
        return None if found is None else self.group_to_index[found.lastindex or 0]

    def last_negative(self, subject: str) -> int:
        for index, regex in reversed(self.negatives):
            if regex.match(subject):
                return index
        return -1

    def first_positive_after(self, subject: str, after: int) -> int | None:
        for index, regex in self.positives:
            if index > after and regex.match(subject):
                return index
        return None


@dataclass(frozen=True, slots=True)
class _Root:
    prefix: str  # "/srv/app/" ("/" for the filesystem root)
    segments: tuple[str, ...]


def _min_index(indices: Iterable[int | None]) -> int | None:
    present = [i for i in indices if i is not None]
    return min(present) if present else None


def _escape_glob(text: str) -> str:
    return re.sub(r"([*?\[\\])", r"\\\1", text)


def _compile_rule(index: int, text: str, home: str) -> _Rule | None:
    if not isinstance(text, str):
        raise ValueError(f"path pattern #{index} is not a string: {text!r}")
    # Policies are hand-written; stray whitespace must not silently disable a pattern.
    body = text.strip()
    if not body or body.startswith("#"):
        return None
    negated = body.startswith("!")
    if negated:
        body = body[1:]
    kind: _Kind | None = None
    if body == "~" or body.startswith("~/"):
        body = _escape_glob(home.rstrip("/")) + body[1:]
        kind = _Kind.ABSOLUTE
    body = _cover_directory_itself(body)
    if kind is None:
        if body.startswith("/"):
            first = body[1:].split("/", 1)[0]
            is_literal = first and not (_GLOB_CHARS & set(first)) and "\\" not in first
            exists = is_literal and os.path.lexists("/" + first)
            kind = _Kind.ABSOLUTE if exists else _Kind.ROOTED
        else:
            kind = _Kind.ROOTED if "/" in body else _Kind.NAME
    try:
        regex, include = _GITIGNORE.pattern_to_regex(body)
    except ValueError as error:
        raise ValueError(f"invalid path pattern {text!r}: {error}") from error
    if regex is None or include is None:
        return None
    segments = tuple(s for s in body.split("/") if s)
    return _Rule(index, text, negated, kind, regex, segments)


def _cover_directory_itself(body: str) -> str:
    """`X/**`, `X/*` and `X/` become `X`, which in gitignore matches X and everything below."""
    for suffix in ("/**", "/*", "/"):
        if body.endswith(suffix) and not body.endswith("\\" + suffix):
            stripped = body[: -len(suffix)].rstrip("/")
            if not stripped or stripped == "**":
                return body
            # Stripping the slash must not turn an anchored pattern into a name pattern.
            anchored = suffix != "/" or "/" in stripped
            if anchored and "/" not in stripped:
                stripped = "/" + stripped
            return stripped
    return body
