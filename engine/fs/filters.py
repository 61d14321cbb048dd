"""Which entries a walk keeps, by the tool's own rules (hidden files, ignore files, excludes,
`find` tests, tracked files). Pure: it judges names and paths, never reads the disk."""

from __future__ import annotations

import fnmatch

from pathspec import GitIgnoreSpec

from engine.fs.model import DIR, WalkSpec
from engine.globs import glob_match


def visible(
    name: str,
    kind: str,
    path: str,
    spec: WalkSpec,
    ignores: tuple[tuple[str, GitIgnoreSpec], ...],
) -> bool:
    if not spec.hidden and name.startswith("."):
        return False
    if (spec.tracked_only or spec.untracked_only) and name == ".git":
        return False
    if kind == DIR and any(glob_match(g, name) for g in spec.exclude_dir):
        return False
    for directory, ignore in ignores:
        relative = path[len(directory.rstrip("/")) + 1 :] + ("/" if kind == DIR else "")
        if ignore.match_file(relative):
            return False
    excluded = (g[1:].rstrip("/") for g in spec.path_globs if g.startswith("!"))
    return not any(glob_match(g, name) for g in excluded)


def wanted_file(
    name: str, path: str, spec: WalkSpec, tracked: frozenset[str] | None, root: str
) -> bool:
    if spec.tracked_only and (tracked is None or path not in tracked):
        return False
    if spec.untracked_only and tracked is not None and path in tracked:
        return False
    if any(glob_match(g, name) for g in spec.exclude):
        return False
    if spec.include and not any(glob_match(g, name) for g in spec.include):
        return False
    positive = [g for g in spec.path_globs if not g.startswith("!")]
    if positive and not any(glob_match(g, name) for g in positive):
        return False
    for negated, pattern, casefold in spec.names:
        subject, glob = (name.lower(), pattern.lower()) if casefold else (name, pattern)
        if glob_match(glob, subject, dotted=True) == negated:
            return False
    below = path[len(root.rstrip("/")) :]
    for negated, pattern, casefold in spec.paths:
        subject, glob = (below.lower(), pattern.lower()) if casefold else (below, pattern)
        if fnmatch.fnmatchcase(subject, glob) == negated:  # find's `*` spans `/`
            return False
    return True
