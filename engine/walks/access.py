"""What a recursive command does to a tree: the access, the start word, the walk's rules and
the hint for avoiding a protected file. Plain values: it must not read argv or the disk."""

from __future__ import annotations

from dataclasses import dataclass

from engine.analysis.shell import Word
from engine.fs import WalkSpec

# `:/` stands for the top of the git work tree, resolved where the disk is looked at.
GIT_TOP = ":/"
FOUND_FILE = "{found file}"
XARGS_INPUT = "{xargs input}"


@dataclass(frozen=True, slots=True)
class TreeAccess:
    """`access` ("read", "write", "delete") of every file `spec` visits under `word`."""

    access: str
    word: Word
    by: str
    spec: WalkSpec
    hint: str  # how to avoid a protected file; `{name}` and `{path}` are filled in
    contents_only: bool = False  # the files found, not `word` itself (`find -name … -delete`)
