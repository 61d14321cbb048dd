"""Path resolution and gitignore-style matching of paths and shell globs against policy patterns.
It resolves and matches only: it never decides allow, approve or deny, and never reads a policy."""

from __future__ import annotations

import glob
import os
import posixpath
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from itertools import islice

from pathspec.util import lookup_pattern

# "gitignore" is pathspec 1.x's documented-behaviour pattern; its regexes carry no capture
# groups, which lets us fuse many of them into one alternation (see _Table).
_GITIGNORE = lookup_pattern("gitignore")

_GLOB_CHARS = frozenset("*?[")
# Bounds the filesystem walk for `cat */*/*`-style words; the lexical check still runs after it.
_GLOB_EXPANSION_LIMIT = 2000
_ROOT_CACHE_LIMIT = 256
_MAX_CODEPOINT = 0x10FFFF


def resolve_path(path: str, cwd: str | None, home: str | None = None) -> str:
    """Absolute, normalised path as the OS would see it.

    `~` and `~/x` expand to `home` when given, else to the user's home; relative paths are
    joined to `cwd` (or `/`); `.` and `..` collapse; symlinks that exist on disk are followed,
    so `innocent.txt -> .env` resolves to the `.env` path. Never raises: input the OS would
    reject (NUL bytes, non-strings) comes back normalised but otherwise untouched.
    """
    try:
        text = path if isinstance(path, str) else os.fsdecode(path)
    except (TypeError, ValueError):
        text = str(path)
    base = cwd if isinstance(cwd, str) and cwd.startswith("/") else "/" + (cwd or "")
    if text == "~" or text.startswith("~/"):
        text = (home if home else os.path.expanduser("~")) + text[1:]
    elif text.startswith("~") and "\x00" not in text:
        # `~user` with a NUL byte names no user: the word stays as written.
        text = os.path.expanduser(text)
    joined = posixpath.join(base, text) if text else base
    if "\x00" not in joined:
        try:
            return os.path.realpath(joined)
        except (OSError, ValueError):
            pass
    normalised = posixpath.normpath(joined)
    # POSIX keeps a leading `//` as implementation-defined; Linux treats it as `/`.
    return "/" + normalised.lstrip("/") if normalised.startswith("//") else normalised


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


class PathPatterns:
    """Compiled policy path patterns with gitignore semantics.

    * A pattern without `/` (`.env*`, `*.pem`, `secrets/`) matches a name at any depth below
      the project root; for paths outside the root, any component of the absolute path.
    * A pattern with `/` (`.git/**`, `/build`) is anchored at the project root.
    * Exception: `~/...` and `/<first>/...` where `/<first>` exists at the filesystem root
      (`/etc/**`, `/root/.ssh/*`) are absolute and match the absolute path, wherever the
      project is. This is decided once, when the patterns are compiled.
    * `**` spans folders; `!pattern` re-includes (the last matching pattern wins); matching is
      case-sensitive.
    * A match on a directory covers everything beneath it, and a pattern for the contents of a
      directory (`X/**`, `X/*`, `X/`) also covers `X` itself, since deleting or replacing `X`
      touches its contents.
    * `project_root=None` means `/`.
    """

    __slots__ = ("_rules", "_text", "_has_negation", "_tables", "_roots")

    def __init__(self, patterns: Sequence[str]) -> None:
        home = os.path.expanduser("~")
        rules = [
            rule
            for index, text in enumerate(patterns)
            if (rule := _compile_rule(index, text, home)) is not None
        ]
        self._rules: tuple[_Rule, ...] = tuple(rules)
        self._text = {rule.index: rule.text for rule in rules}
        self._has_negation = any(r.negated for r in rules)
        by_kind = {kind: [r for r in rules if r.kind is kind] for kind in _Kind}
        self._tables = {
            "rel": _Table.build(by_kind[_Kind.NAME] + by_kind[_Kind.ROOTED]),
            "abs": _Table.build(by_kind[_Kind.ABSOLUTE]),
            "outside": _Table.build(by_kind[_Kind.NAME] + by_kind[_Kind.ABSOLUTE]),
            "all": _Table.build(rules),
        }
        self._roots: dict[str | None, _Root] = {}

    def match(self, absolute_path: str, project_root: str | None) -> str | None:
        """The first policy pattern (original text) that matches, else None."""
        index = self._match_index(absolute_path, project_root)
        return None if index is None else self._text[index]

    def could_match_glob(
        self, glob_word: str, cwd: str | None, project_root: str | None
    ) -> str | None:
        """For an unexpanded shell glob (e.g. `.e*`, `*.pe?`, `secret[s].json`, `config/*`):
        the first policy pattern that some file the glob could expand to would match, else None.

        Two checks: the glob is expanded on disk (catching symlinks to protected files), then
        compared lexically with every pattern (catching files that do not exist yet, or live
        on another machine). Negations are not credited in the lexical check: a glob can
        expand to names a negation does not cover.
        """
        try:
            return self._could_match_glob(glob_word, cwd, project_root)
        except (TypeError, ValueError, OSError, RecursionError):
            # An unreadable word cannot be cleared, so the answer is the broadest pattern.
            first = next((r for r in self._rules if not r.negated), None)
            return None if first is None else first.text

    # -- matching ---------------------------------------------------------------------------

    def _root(self, project_root: str | None) -> _Root:
        root = self._roots.get(project_root)
        if root is None:
            if len(self._roots) >= _ROOT_CACHE_LIMIT:
                self._roots.clear()
            text = project_root if isinstance(project_root, str) and project_root else "/"
            normalised = posixpath.normpath("/" + text.lstrip("/"))
            segments = tuple(s for s in normalised.split("/") if s)
            prefix = "/" if not segments else normalised + "/"
            root = self._roots[project_root] = _Root(prefix, segments)
        return root

    def _match_index(self, absolute_path: str, project_root: str | None) -> int | None:
        if not isinstance(absolute_path, str) or not self._rules:
            return None
        root = self._root(project_root)
        path = absolute_path
        if not path.startswith("/"):
            path = root.prefix + path
        if "//" in path or "/./" in path or "/../" in path or path.endswith(("/", "/.", "/..")):
            path = posixpath.normpath(path)
            if path.startswith("//"):
                path = "/" + path.lstrip("/")
        absolute = path[1:]
        if root.prefix == "/":
            return self._evaluate(((self._tables["all"], absolute),))
        if path.startswith(root.prefix):
            relative = path[len(root.prefix) :]
            return self._evaluate(
                ((self._tables["rel"], relative), (self._tables["abs"], absolute))
            )
        if path == root.prefix[:-1]:
            return self._evaluate(((self._tables["rel"], ""), (self._tables["abs"], absolute)))
        return self._evaluate(((self._tables["outside"], absolute),))

    def _evaluate(self, pairs: tuple[tuple[_Table, str], ...]) -> int | None:
        first = _min_index(table.first_positive(subject) for table, subject in pairs)
        if first is None or not self._has_negation:
            return first
        negated = max(table.last_negative(subject) for table, subject in pairs)
        if negated < first:
            return first
        return _min_index(table.first_positive_after(subject, negated) for table, subject in pairs)

    # -- globs ------------------------------------------------------------------------------

    def _could_match_glob(
        self, glob_word: str, cwd: str | None, project_root: str | None
    ) -> str | None:
        if not isinstance(glob_word, str) or not self._rules:
            return None
        word = glob_word
        if word == "~" or word.startswith("~/"):
            word = _escape_glob(os.path.expanduser("~")) + word[1:]
        elif word.startswith("~"):
            word = os.path.expanduser(word)
        word_segments = [_tokenize(s) for s in word.split("/") if s]
        if not any(_has_wildcard(tokens) for tokens in word_segments):
            literal = "/".join(_literal_text(tokens) for tokens in word_segments)
            if word.startswith("/"):
                literal = "/" + literal
            return self.match(resolve_path(literal, cwd), project_root)

        base = resolve_path("", cwd)
        best: int | None = None
        for hit in islice(_expand_on_disk(word, word_segments, base), _GLOB_EXPANSION_LIMIT):
            index = self._match_index(resolve_path(hit, base), project_root)
            best = _min_index((best, index))

        glob_segments = _absolute_segments(word, word_segments, base)
        root = self._root(project_root)
        inside = _could_be_inside(glob_segments, root.segments)
        for rule in self._rules:
            if best is not None and rule.index >= best:
                break
            if rule.negated:
                continue
            if _segments_intersect(tuple(glob_segments), _rule_template(rule, root, inside)):
                best = rule.index
                break
        return None if best is None else self._text[best]


def _min_index(indices: Iterable[int | None]) -> int | None:
    present = [i for i in indices if i is not None]
    return min(present) if present else None


# -- pattern compilation --------------------------------------------------------------------


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


# -- shell-glob reasoning -------------------------------------------------------------------
# A segment is a tuple of tokens. Tokens: ("L", char) literal, ("?",), ("*",), and
# ("C", negated, ranges) for bracket classes, ranges being (low, high) code points.
# The pattern segment "**" is the sentinel _DOUBLE_STAR.

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
