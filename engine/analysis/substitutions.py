"""Files a listing command names for another (`sed -i … $(find …)`, `grep -l … | xargs …`): the
walks of that listing. Pure: describes the walks; the engine's walker reads the disk."""

from __future__ import annotations

import re
from dataclasses import replace

from engine.analysis.commands import FileAccess
from engine.analysis.shell import Word, analyze
from engine.fs import WalkSpec
from engine.walks import find_walk, tree_accesses

_SUBSTITUTION = re.compile(r"\$\((.*)\)|`(.*)`", re.DOTALL)
_LISTS_NAMES = {"grep": {"-l", "-L", "--files-with-matches"}, "rg": {"-l", "--files"}}


def substituted_files(access: FileAccess) -> list[FileAccess]:
    """`access` of `$(find DIR …)` as the same access of every file find's walk keeps."""
    word = access.word
    match = _SUBSTITUTION.fullmatch(word.value) if word.dynamic else None
    if match is None:
        return [access]
    inner = analyze(match.group(1) if match.group(1) is not None else match.group(2))
    if len(inner.commands) != 1 or inner.opaque:
        return [access]
    command = inner.commands[0]
    if any(w.dynamic for w in command.words) or command.prefix:
        return [access]
    walks = listing_walks(command.name, command.words)
    if walks is None:
        return [access]
    by = f"{access.by} $({command.name})"
    hint = f"narrow the {command.name} listing"
    return [
        replace(access, word=start, by=by, walk=spec, hint=hint, contents_only=True)
        for start, spec in walks
    ]


def listing_walks(name: str, words: tuple[Word, ...]) -> list[tuple[Word, WalkSpec]] | None:
    """The walks whose files a listing command prints (find, git ls-files, grep -l, rg -l)."""
    argv = [w.value for w in words]
    if name == "find":
        if any(a in {"-exec", "-execdir", "-ok", "-delete", "-printf", "-fprint"} for a in argv):
            return None
        starts, spec = find_walk(words)
        return [(start, replace(spec, follow_links=True)) for start in starts]
    if name == "git" and "ls-files" in argv:
        paths = [w for w in words[argv.index("ls-files") + 1 :] if not w.value.startswith("-")]
        return [(path, WalkSpec(tracked_only=True)) for path in paths or [Word(".")]]
    flags = _LISTS_NAMES.get(name)
    if flags and any(a in flags or (a[:1] == "-" and a[1:2] != "-" and "l" in a) for a in argv):
        return [(tree.word, tree.spec) for tree in tree_accesses(name, words)] or None
    return None
