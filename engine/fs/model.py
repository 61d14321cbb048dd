"""What the engine asks of the disk and what it gets back: walk specs, walks, glob expansions
and the walk budget. Plain values: it must not look at the disk."""

from __future__ import annotations

from dataclasses import dataclass

# The walk budget: past any bound the walk stops and the call needs approval. Time is
# counted in CPU seconds, so a busy machine does not turn allows into approvals, with a
# wall-clock cap for disks that are slow to answer.
WALK_MAX_ENTRIES = 20_000
WALK_MAX_SECONDS = 0.05
WALK_MAX_WALL_SECONDS = 0.5
# The kind of a directory entry (symlinks are not followed).
FILE = "f"
DIR = "d"
LINK = "l"


@dataclass(frozen=True, slots=True)
class WalkSpec:
    """How one tool descends into a directory: what it skips and what it reads."""

    hidden: bool = True  # dotfiles and dot-directories are visited
    ignore_files: tuple[str, ...] = ()  # gitignore-style files honoured in each directory
    git_ignores_need_repo: bool = True  # `.gitignore` only counts inside a git work tree
    exclude: tuple[str, ...] = ()  # globs on the base name of files to skip
    exclude_dir: tuple[str, ...] = ()  # globs on the base name of directories to skip
    include: tuple[str, ...] = ()  # when set, only files whose base name matches one
    path_globs: tuple[str, ...] = ()  # gitignore-style `-g` globs (`!x` excludes)
    names: tuple[tuple[bool, str, bool], ...] = ()  # find `-name`: (negated, glob, casefold)
    # find `-path`: (negated, glob, casefold), the glob on "/" + the path below the start
    paths: tuple[tuple[bool, str, bool], ...] = ()
    tracked_only: bool = False  # git grep / git archive: files in the git index
    untracked_only: bool = False  # git add -A: files git does not track yet
    max_depth: int | None = None
    follow_links: bool = False  # symlinked files are read through (zip, grep -R, tar -h)


@dataclass(frozen=True, slots=True)
class Walk:
    """The files a walk found; `complete` is False when the budget stopped it."""

    root: str
    files: tuple[str, ...]
    complete: bool
    reason: str = ""
    serial: int = 0
    links: tuple[tuple[str, str], ...] = ()  # (target read through a link, the link)


@dataclass(frozen=True, slots=True)
class Expansion:
    """What a glob word expands to, in bash's order; no match leaves the word itself."""

    matches: tuple[str, ...]
    literal: bool  # nothing matched: bash passes the word unchanged
    paths: tuple[str, ...] = ()  # each match as an absolute path, symlinks resolved
