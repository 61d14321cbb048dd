"""Whether a shell glob could name a file a policy pattern protects, reasoned on the glob's
text when its directory is not here. Token-level set reasoning; it decides nothing."""

from __future__ import annotations

import glob
import re
from collections.abc import Iterator
from functools import lru_cache

from engine.paths.table import _Kind, _Root, _Rule

# Bounds the filesystem walk for `cat */*/*`-style words; the lexical check still runs after it.
_GLOB_EXPANSION_LIMIT = 2000

_MAX_CODEPOINT = 0x10FFFF

Token = tuple

Segment = tuple[Token, ...]

_STAR: Token = ("*",)

_ANY: Token = ("?",)

_DOUBLE_STAR: Segment = (("**",),)

_POSIX_CLASSES = {
    "alpha": ((65, 90), (97, 122)),
    "upper": ((65, 90),),
    "lower": ((97, 122),),
    "digit": ((48, 57),),
    "alnum": ((48, 57), (65, 90), (97, 122)),
    "xdigit": ((48, 57), (65, 70), (97, 102)),
    "space": ((9, 13), (32, 32)),
}


@lru_cache(maxsize=4096)
def _tokenize(segment: str) -> Segment:
    tokens: list[Token] = []
    i = 0
    while i < len(segment):
        char = segment[i]
        if char == "\\" and i + 1 < len(segment):
            tokens.append(("L", segment[i + 1]))
            i += 2
        elif char == "*":
            if not tokens or tokens[-1] != _STAR:
                tokens.append(_STAR)
            i += 1
        elif char == "?":
            tokens.append(_ANY)
            i += 1
        elif char == "[":
            parsed = _parse_class(segment, i)
            if parsed is None:
                tokens.append(("L", "["))
                i += 1
            else:
                token, i = parsed
                tokens.append(token)
        else:
            tokens.append(("L", char))
            i += 1
    return tuple(tokens)


def _parse_class(segment: str, start: int) -> tuple[Token, int] | None:
    i = start + 1
    negated = i < len(segment) and segment[i] in "!^"
    if negated:
        i += 1
    ranges: list[tuple[int, int]] = []
    unknown_class = False
    first = True
    while i < len(segment):
        char = segment[i]
        if char == "]" and not first:
            if unknown_class:
                # An unsupported [:name:] cannot be reasoned about; any character is the
                # conservative reading, whichever way the class is negated.
                return _ANY, i + 1
            return ("C", negated, tuple(ranges)), i + 1
        first = False
        if char == "[" and segment.startswith("[:", i):
            end = segment.find(":]", i + 2)
            if end != -1:
                known = _POSIX_CLASSES.get(segment[i + 2 : end])
                if known is None:
                    unknown_class = True
                else:
                    ranges.extend(known)
                i = end + 2
                continue
        if char == "\\" and i + 1 < len(segment):
            i += 1
            char = segment[i]
        low = ord(char)
        if i + 2 < len(segment) and segment[i + 1] == "-" and segment[i + 2] != "]":
            high_char = segment[i + 2]
            skip = 3
            if high_char == "\\" and i + 3 < len(segment):
                high_char = segment[i + 3]
                skip = 4
            ranges.append((low, ord(high_char)))
            i += skip
        else:
            ranges.append((low, low))
            i += 1
    return None


def _has_wildcard(tokens: Segment) -> bool:
    return any(token[0] != "L" for token in tokens)


def _literal_text(tokens: Segment) -> str:
    return "".join(token[1] for token in tokens)


def _literal_segment(name: str) -> Segment:
    return tuple(("L", char) for char in name)


def _absolute_segments(word: str, word_segments: list[Segment], base: str) -> list[Segment]:
    start = [] if word.startswith("/") else [_literal_segment(s) for s in base.split("/") if s]
    out: list[Segment] = start
    for tokens in word_segments:
        if tokens == (("L", "."),):
            continue
        if tokens == (("L", "."), ("L", ".")):
            # `x/*/..` is `x` when some subdirectory exists; assuming one is conservative.
            if out:
                out.pop()
            continue
        out.append(tokens)
    return out


def _could_be_inside(glob_segments: list[Segment], root_segments: tuple[str, ...]) -> bool:
    if len(glob_segments) <= len(root_segments):
        return False
    for tokens, name in zip(glob_segments, root_segments, strict=False):
        if _has_wildcard(tokens):
            return False
        if _literal_text(tokens) != name:
            return False
    return True


def _rule_template(rule: _Rule, root: _Root, inside: bool) -> tuple[Segment, ...]:
    """The rule as absolute path segments; a trailing `**` stands for "and anything below"."""
    pattern = [_DOUBLE_STAR if s == "**" else _tokenize(s) for s in rule.segments]
    if rule.kind is _Kind.ABSOLUTE:
        prefix: list[Segment] = []
    else:
        prefix = [_literal_segment(s) for s in root.segments]
        if rule.kind is _Kind.NAME:
            # Outside the root (or when unsure) a name pattern matches anywhere on the path.
            prefix = [*prefix, _DOUBLE_STAR] if inside else [_DOUBLE_STAR]
    return tuple([*prefix, *pattern, _DOUBLE_STAR])


@lru_cache(maxsize=8192)
def _segments_intersect(glob_segments: tuple[Segment, ...], template: tuple[Segment, ...]) -> bool:
    """Whether one path can match both the shell glob and the gitignore template."""
    seen: set[tuple[int, int]] = set()
    stack = [(0, 0)]
    while stack:
        state = stack.pop()
        if state in seen:
            continue
        seen.add(state)
        g, t = state
        if g == len(glob_segments) and t == len(template):
            return True
        if t < len(template) and template[t] == _DOUBLE_STAR:
            stack.append((g, t + 1))
            if g < len(glob_segments):
                stack.append((g + 1, t))
        elif (
            g < len(glob_segments)
            and t < len(template)
            and _names_intersect(glob_segments[g], template[t])
        ):
            stack.append((g + 1, t + 1))
    return False


@lru_cache(maxsize=8192)
def _names_intersect(shell: Segment, gitignore: Segment) -> bool:
    """Whether one file name matches both a shell glob segment and a gitignore segment.

    The shell side follows bash: a leading `.` must be written literally.
    """
    if not _has_wildcard(shell) and not _has_wildcard(gitignore):
        return shell == gitignore
    hides_dot = not (shell and shell[0] == ("L", "."))
    seen: set[tuple[int, int, bool]] = set()
    stack = [(0, 0, False)]
    while stack:
        state = stack.pop()
        if state in seen:
            continue
        seen.add(state)
        a, b, started = state
        if a == len(shell) and b == len(gitignore) and started:
            return True
        if a < len(shell) and shell[a] == _STAR:
            stack.append((a + 1, b, started))
        if b < len(gitignore) and gitignore[b] == _STAR:
            stack.append((a, b + 1, started))
        if a < len(shell) and b < len(gitignore):
            forbid_dot = hides_dot and not started
            if _common_char(shell[a], gitignore[b], forbid_dot):
                next_a = a if shell[a] == _STAR else a + 1
                next_b = b if gitignore[b] == _STAR else b + 1
                stack.append((next_a, next_b, True))
    return False


def _accepts(token: Token, code: int) -> bool:
    kind = token[0]
    if kind == "L":
        return ord(token[1]) == code
    if kind == "C":
        inside = any(low <= code <= high for low, high in token[2])
        return inside != token[1]
    return True


def _boundaries(token: Token) -> Iterator[int]:
    if token[0] == "L":
        yield ord(token[1])
    elif token[0] == "C":
        for low, high in token[2]:
            yield from (low - 1, low, high, high + 1)


def _common_char(first: Token, second: Token, forbid_dot: bool) -> bool:
    # The set of characters both accept is a union of intervals whose ends sit next to a
    # class boundary or an excluded character, so testing those points is exact.
    excluded = {0, ord("/")} | ({ord(".")} if forbid_dot else set())
    candidates = {1, ord("x"), *_boundaries(first), *_boundaries(second)}
    for code in excluded:
        candidates.update((code - 1, code + 1))
    return any(
        0 < code <= _MAX_CODEPOINT
        and code not in excluded
        and _accepts(first, code)
        and _accepts(second, code)
        for code in candidates
    )


def _expand_on_disk(word: str, word_segments: list[Segment], base: str) -> Iterator[str]:
    # Python's glob has no backslash escapes and reads `[^...]` differently from bash, so
    # classes are widened to `?` here and every hit is re-checked with bash semantics.
    pattern = "/".join(_python_glob(tokens) for tokens in word_segments)
    if word.startswith("/"):
        pattern = "/" + pattern
    try:
        for hit in glob.iglob(pattern, root_dir=base):
            names = [_literal_segment(name) for name in hit.split("/") if name]
            if len(names) == len(word_segments) and all(
                _names_intersect(shell, name)
                for shell, name in zip(word_segments, names, strict=True)
            ):
                yield hit
    except (OSError, ValueError, re.error):
        return


def _python_glob(tokens: Segment) -> str:
    out: list[str] = []
    for token in tokens:
        if token[0] == "L":
            out.append(f"[{token[1]}]" if token[1] in "*?[" else token[1])
        else:
            out.append("?" if token[0] == "C" else token[0])
    return "".join(out)
