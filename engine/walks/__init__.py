"""Which directories a recursive command descends into, and by which of its own rules
(excludes, ignore files, hidden files, tracked files). Pure: it reads argv, never the disk."""

from __future__ import annotations

from engine.analysis.shell import Word
from engine.walks.access import FOUND_FILE, GIT_TOP, XARGS_INPUT, TreeAccess
from engine.walks.copiers import (
    copier_accesses,
    modifier_accesses,
    mover_accesses,
    tar_accesses,
    zip_accesses,
    zip_operands,
)
from engine.walks.find import find_walk
from engine.walks.git import git_accesses
from engine.walks.searchers import grep_accesses, grep_tool_walk, searcher_accesses

__all__ = [
    "FOUND_FILE",
    "GIT_TOP",
    "XARGS_INPUT",
    "TreeAccess",
    "find_walk",
    "grep_tool_walk",
    "tree_accesses",
    "zip_operands",
]


def tree_accesses(name: str, words: tuple[Word, ...], git_sub: str = "") -> list[TreeAccess]:
    """The trees one command walks; empty for commands that do not recurse."""
    if name in {"grep", "egrep", "fgrep", "zgrep"}:
        return grep_accesses(name, words)
    if name in {"rg", "ag", "ack"}:
        return searcher_accesses(name, words)
    if name == "git":
        return git_accesses(words, git_sub)
    if name == "zip":
        return zip_accesses(words)
    if name in {"tar", "bsdtar", "gtar"}:
        return tar_accesses(name, words)
    if name in {"cp", "rsync", "scp"}:
        return copier_accesses(name, words)
    if name == "mv":
        return mover_accesses(words)
    if name in {"rm", "chmod", "chown", "chgrp"}:
        return modifier_accesses(name, words)
    if name == "find":
        starts, spec = find_walk(words)
        if any(w.value == "-delete" for w in words):
            hint = "narrow the -name test or the start path"
            tested = bool(spec.names or spec.paths)  # a start is deleted only if it passes them
            return [
                TreeAccess("delete", w, "find -delete", spec, hint, contents_only=tested)
                for w in starts
            ]
    return []
