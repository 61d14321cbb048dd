"""A policy's list of path patterns, ready to match resolved paths and shell globs against a
project root. It matches only: it never decides allow, approve or deny, and reads no policy."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from itertools import islice
from typing import NamedTuple

from engine.paths.glob_overlap import (
    _GLOB_EXPANSION_LIMIT,
    _absolute_segments,
    _could_be_inside,
    _expand_on_disk,
    _has_wildcard,
    _literal_text,
    _rule_template,
    _segments_intersect,
    _tokenize,
)
from engine.paths.resolve import resolve_path
from engine.paths.table import _compile_rule, _escape_glob, _Kind, _min_index, _Root, _Rule, _Table

_ROOT_CACHE_LIMIT = 256


class GlobOnDisk(NamedTuple):
    """A shell glob as this machine shows it: `~` expanded, the cwd resolved (`base`) and the
    files it matches on disk, resolved; `literal`, resolved, when it has no wildcard after
    all. `unreadable`: the word could not be read, so no pattern can be ruled out."""

    word: str
    base: str = "/"
    hits: tuple[str, ...] = ()
    literal: str | None = None
    unreadable: bool = False


def glob_on_disk(glob_word: str, cwd: str | None) -> GlobOnDisk:
    """The disk half of PathPatterns.could_match_glob, done once for every pattern list."""
    try:
        return _glob_on_disk(glob_word, cwd)
    except (TypeError, ValueError, OSError, RecursionError):
        return GlobOnDisk(str(glob_word), unreadable=True)


def _glob_on_disk(glob_word: str, cwd: str | None) -> GlobOnDisk:
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
        return GlobOnDisk(word, literal=resolve_path(literal, cwd))
    base = resolve_path("", cwd)
    found = islice(_expand_on_disk(word, word_segments, base), _GLOB_EXPANSION_LIMIT)
    return GlobOnDisk(word, base, tuple(resolve_path(hit, base) for hit in found))


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
        if not isinstance(glob_word, str) or not self._rules:
            return None
        return self.could_match_seen(glob_on_disk(glob_word, cwd), project_root)

    def could_match_seen(self, seen: GlobOnDisk, project_root: str | None) -> str | None:
        """could_match_glob over a glob already looked up on disk (glob_on_disk): pure."""
        if not self._rules:
            return None
        if not seen.unreadable:
            try:
                return self._could_match_seen(seen, project_root)
            except (TypeError, ValueError, RecursionError):
                pass
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

    def _could_match_seen(self, seen: GlobOnDisk, project_root: str | None) -> str | None:
        if seen.literal is not None:
            return self.match(seen.literal, project_root)
        word, base = seen.word, seen.base
        word_segments = [_tokenize(s) for s in word.split("/") if s]
        best: int | None = None
        for hit in seen.hits:
            best = _min_index((best, self._match_index(hit, project_root)))
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
