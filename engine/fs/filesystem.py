"""Every look at directories the engine makes: listings, glob expansion as bash does it, tree
walks with a budget; cached until a directory changes. It reports files, never judges them."""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from pathspec import GitIgnoreSpec

from engine.fs.filters import visible, wanted_file
from engine.fs.git_repo import GitRepoFiles, git_root
from engine.fs.model import (
    DIR,
    FILE,
    LINK,
    WALK_MAX_ENTRIES,
    WALK_MAX_SECONDS,
    WALK_MAX_WALL_SECONDS,
    Expansion,
    Walk,
    WalkSpec,
)
from engine.fswatch import DirectoryWatcher
from engine.globs import is_glob, segment_regex

_GLOB_MAX_MATCHES = 4_096
_CACHE_LIMIT = 50_000


@dataclass(slots=True)
class _Cached:
    walk: Walk
    dirs: tuple[tuple[str, int], ...]
    files_stat: tuple[tuple[str, int], ...] = field(default=())
    watched: bool = False  # every directory is under inotify: no need to stat them


# A directory as last read: mtime, sorted (name, kind) pairs, watched since read, kind by name.
_Listing = tuple[int, tuple[tuple[str, str], ...], bool, dict[str, str]]
_serials = itertools.count(1)
_PLAIN = WalkSpec()


class FileSystem:
    """Looks at the disk for the engine, remembering what it saw until a directory changes."""

    def __init__(
        self, max_entries: int = WALK_MAX_ENTRIES, max_seconds: float = WALK_MAX_SECONDS
    ) -> None:
        self.max_entries = max_entries
        self.max_seconds = max_seconds
        self._listings: dict[str, _Listing] = {}
        self._walks: dict[tuple[str, WalkSpec], _Cached] = {}
        self._walks_by_dir: dict[str, set[tuple[str, WalkSpec]]] = {}
        self._watcher = DirectoryWatcher()
        self._ignores: dict[str, tuple[int, GitIgnoreSpec | None]] = {}
        self._git = GitRepoFiles(self._watcher)

    def close(self) -> None:
        """Stops watching; later looks fall back to checking directory mtimes."""
        self._watcher.close()

    # ---------------------------------------------------------------- directories

    def is_dir(self, path: str) -> bool:
        return os.path.isdir(path)

    def git_top(self, path: str) -> str | None:
        """The top of the git work tree holding `path`, if any."""
        return git_root(path)

    def listing(self, directory: str) -> tuple[tuple[str, str], ...] | None:
        """(name, kind) of each entry, kind `d` for directories (symlinks not followed)."""
        seen = self._listing(directory)
        return None if seen is None else seen[1]

    def _listing(self, directory: str) -> _Listing | None:
        cached = self._listings.get(directory)
        if cached is not None and cached[2]:
            return cached  # watched since it was read, and no change reported since
        watched = self._watcher.watch(directory)  # before reading, so no change slips by
        try:
            mtime = os.stat(directory).st_mtime_ns
        except (OSError, ValueError):
            return None
        if cached is not None and cached[0] == mtime:
            return cached
        try:
            with os.scandir(directory) as entries:
                listing = tuple(sorted((e.name, _kind(e)) for e in entries))
        except (OSError, ValueError):
            return None
        if len(self._listings) >= _CACHE_LIMIT:
            self._listings.clear()
        seen = self._listings[directory] = (mtime, listing, watched, dict(listing))
        return seen

    def resolve(self, real_base: str, relative: str) -> str | None:
        """`relative` joined to the real directory `real_base`, symlinks resolved, read from
        cached listings; None when a directory on the way does not exist (the caller then
        resolves it itself)."""
        names = [n for n in relative.split("/") if n]
        if not names:
            return real_base
        parent = self._real_dir(real_base, names[:-1])
        if parent is None or names[-1] in (".", ".."):
            return None
        seen = self._listing(parent)
        if seen is None:
            return None
        path = parent.rstrip("/") + "/" + names[-1]
        # A name that is not there is not a symlink either: its path is already real.
        return os.path.realpath(path) if seen[3].get(names[-1]) == LINK else path

    def _real_dir(self, start: str, names: list[str]) -> str | None:
        """The real path of the directory `start/names…` (`start` already real), read from
        cached listings; None when it is not a directory here."""
        if not names and self._listing(start) is None:
            return None
        current = start
        for name in names:
            if name == ".":
                continue
            if name == "..":
                current = os.path.dirname(current)
                continue
            seen = self._listing(current)
            kind = seen[3].get(name) if seen is not None else None
            path = current.rstrip("/") + "/" + name
            if kind == DIR:
                current = path
            elif kind == LINK and os.path.isdir(path):
                current = os.path.realpath(path)
            else:
                return None
        return current

    def _apply_changes(self) -> None:
        changed = self._watcher.changes()
        if changed is None:
            self._listings.clear()
            self._walks.clear()
            self._walks_by_dir.clear()
            return
        for directory in changed:
            self._listings.pop(directory, None)
            for key in self._walks_by_dir.pop(directory, ()):
                self._walks.pop(key, None)

    # ---------------------------------------------------------------- globs

    def expand_glob(self, word: str, base: str, globstar: bool = False) -> Expansion | None:
        """Bash pathname expansion of `word` relative to `base` (absolute).

        `*`, `?` and `[…]` never match a leading `.`; `**` spans directories only with
        globstar. None when the directory the glob starts from does not exist here, so
        the caller must reason without the disk.
        """
        self._apply_changes()
        absolute = word.startswith("/")
        segments = [s for s in word.split("/") if s]
        start = "/" if absolute else base
        fixed = 0
        while fixed < len(segments) and not is_glob(segments[fixed]):
            fixed += 1
        if fixed == len(segments):
            return None
        prefix = os.path.join(start, *segments[:fixed]) if fixed else start
        real_prefix = self._real_dir(start, segments[:fixed])
        if real_prefix is None:
            return None
        shown_prefix = "/".join(segments[:fixed])
        if absolute:
            shown_prefix = "/" + shown_prefix
        found: dict[str, str] = {}
        for rel, linked in self._expand(prefix, tuple(segments[fixed:]), globstar):
            shown = f"{shown_prefix}/{rel}" if shown_prefix not in ("", "/") else shown_prefix + rel
            real = os.path.join(real_prefix, rel)
            found[shown] = os.path.realpath(real) if linked else real
            if len(found) >= _GLOB_MAX_MATCHES:
                break
        if word.endswith("/"):
            found = {f + "/": p for f, p in found.items() if os.path.isdir(p)}
        if not found:
            return Expansion((word,), literal=True)
        ordered = sorted(found)
        return Expansion(tuple(ordered), False, tuple(found[f] for f in ordered))

    def _expand(
        self, directory: str, segments: tuple[str, ...], globstar: bool
    ) -> Iterator[tuple[str, bool]]:
        """(relative match, whether it passes through a symlink) for each match."""
        head, rest = segments[0], segments[1:]
        listing = self.listing(directory) or ()
        if head == "**" and globstar:
            # Zero directories, then every non-hidden directory below (not through symlinks).
            if rest:
                yield from self._expand(directory, rest, globstar)
            else:
                yield from ((n, k == LINK) for n, k in listing if not n.startswith("."))
            for name, kind in listing:
                if kind == DIR and not name.startswith("."):
                    for below, linked in self._expand(f"{directory}/{name}", segments, globstar):
                        yield f"{name}/{below}", linked
            return
        if not is_glob(head):
            path = os.path.join(directory, head)
            kind = LINK if os.path.islink(path) else DIR if os.path.isdir(path) else FILE
            candidates = [(head, kind)] if os.path.lexists(path) else []
        else:
            regex = segment_regex(head.replace("**", "*"))
            candidates = [(n, k) for n, k in listing if regex.fullmatch(n)]
        for name, kind in candidates:
            if not rest:
                yield name, kind == LINK
            elif kind == DIR or (kind == LINK and os.path.isdir(f"{directory}/{name}")):
                for below, linked in self._expand(f"{directory}/{name}", rest, globstar):
                    yield f"{name}/{below}", linked or kind == LINK

    # ---------------------------------------------------------------- walks

    def walk(self, root: str, spec: WalkSpec) -> Walk:
        """The files `root` holds as a tool with `spec` would visit them, within the budget."""
        self._apply_changes()
        key = (root, spec)
        cached = self._walks.get(key)
        if cached is not None and (cached.watched or self._still_valid(cached)):
            return cached.walk
        walk, dirs, files_stat = self._walk(root, spec)
        if walk.complete:
            if len(self._walks) >= 1024:
                self._walks.clear()
                self._walks_by_dir.clear()
            parents = [os.path.dirname(path) for path, _ in files_stat]
            every = [path for path, _ in dirs] + parents
            watched = all(self._watcher.watch(d) for d in every)
            self._walks[key] = _Cached(walk, dirs, files_stat, watched)
            for directory in every:
                self._walks_by_dir.setdefault(directory, set()).add(key)
        return walk

    def _still_valid(self, cached: _Cached) -> bool:
        try:
            for path, mtime in itertools.chain(cached.dirs, cached.files_stat):
                if os.stat(path).st_mtime_ns != mtime:
                    return False
        except (OSError, ValueError):
            return False
        return True

    def _walk(
        self, root: str, spec: WalkSpec
    ) -> tuple[Walk, tuple[tuple[str, int], ...], tuple[tuple[str, int], ...]]:
        deadline = time.thread_time() + self.max_seconds
        wall_deadline = time.perf_counter() + max(self.max_seconds, WALK_MAX_WALL_SECONDS)
        tracked: frozenset[str] | None = None
        watched: list[tuple[str, int]] = []
        repo = git_root(root)
        if spec.tracked_only or spec.untracked_only:
            tracked = self.tracked_files(repo) if repo else None
            if tracked is None:
                reason = f"cannot read the git index for `{root}`"
                return Walk(root, (), False, reason, next(_serials)), (), ()
            watched.append((os.path.join(repo, ".git", "index"), _mtime(repo, ".git/index")))
        if not os.path.isdir(root):
            return Walk(root, (root,), True, serial=next(_serials)), (), ()
        ignores = self._ancestor_ignores(root, repo, spec, watched)
        files: list[str] = []
        links: list[tuple[str, str]] = []
        dirs: list[tuple[str, int]] = []
        entries = 0
        stack: list[tuple[str, int, tuple[tuple[str, GitIgnoreSpec], ...]]] = [(root, 0, ignores)]
        filtered = replace(spec, max_depth=None) != _PLAIN
        while stack:
            directory, depth, inherited = stack.pop()
            seen = self._listing(directory)
            if seen is None:
                continue
            dirs.append((directory, seen[0]))
            listing = seen[1]
            entries += len(listing)
            if entries > self.max_entries:
                reason = f"more than {self.max_entries:,} entries under `{root}`"
                return Walk(root, (), False, reason, next(_serials)), (), ()
            if time.thread_time() > deadline or time.perf_counter() > wall_deadline:
                reason = f"walking `{root}` took longer than {self.max_seconds * 1000:g} ms"
                return Walk(root, (), False, reason, next(_serials)), (), ()
            local = inherited
            for name in spec.ignore_files:
                needs_repo = name == ".gitignore" and spec.git_ignores_need_repo
                if (name, FILE) in listing and (repo or not needs_repo):
                    ignore = self._ignore_file(os.path.join(directory, name), watched)
                    if ignore is not None:
                        local = (*local, (directory, ignore))
            prefix = directory.rstrip("/") + "/"
            descend = spec.max_depth is None or depth + 1 < spec.max_depth
            for name, kind in listing:
                path = prefix + name
                if (filtered or local) and not visible(name, kind, path, spec, local):
                    continue
                if kind == DIR:
                    if descend:
                        stack.append((path, depth + 1, local))
                elif not filtered or wanted_file(name, path, spec, tracked, root):
                    files.append(path)
                    if kind == LINK and spec.follow_links:
                        # The tool reads what the link points at, wherever that is.
                        links.append((os.path.realpath(path), path))
        direct = set(files)
        found = tuple(sorted(direct | {target for target, _ in links}))
        # A target the walk also meets directly is reported as itself, not through the link.
        through = tuple((target, link) for target, link in links if target not in direct)
        walk = Walk(root, found, True, serial=next(_serials), links=through)
        return walk, tuple(dirs), tuple(watched)

    def _ancestor_ignores(
        self, root: str, repo: str | None, spec: WalkSpec, watched: list[tuple[str, int]]
    ) -> tuple[tuple[str, GitIgnoreSpec], ...]:
        if not repo or ".gitignore" not in spec.ignore_files or root == repo:
            return ()
        found = []
        directory = os.path.dirname(root)
        chain = []
        while directory.startswith(repo):
            chain.append(directory)
            if directory == repo:
                break
            directory = os.path.dirname(directory)
        for directory in reversed(chain):
            ignore = self._ignore_file(os.path.join(directory, ".gitignore"), watched)
            if ignore is not None:
                found.append((directory, ignore))
        return tuple(found)

    def _ignore_file(self, path: str, watched: list[tuple[str, int]]) -> GitIgnoreSpec | None:
        self._watcher.watch(os.path.dirname(path))
        try:
            mtime = os.stat(path).st_mtime_ns
        except OSError:
            return None
        watched.append((path, mtime))
        cached = self._ignores.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                spec = GitIgnoreSpec.from_lines(handle.read().splitlines())
        except (OSError, ValueError):
            spec = None
        self._ignores[path] = (mtime, spec)
        return spec

    # ---------------------------------------------------------------- git repository

    def tracked_files(self, repo: str) -> frozenset[str] | None:
        """Absolute paths of the files in `repo`'s git index, None if it cannot be read."""
        return self._git.tracked_files(repo)

    def staged_blobs(self, repo: str) -> dict[str, bytes] | None:
        """Each path in `repo`'s git index (relative) with the SHA-1 of its staged blob."""
        return self._git.staged_blobs(repo)

    def git_config(self, repo: str) -> tuple[tuple[str, str], ...]:
        """The settings in `repo`'s `.git/config` (what a bare `git push` follows there)."""
        return self._git.git_config(repo)


def _mtime(directory: str, relative: str) -> int:
    try:
        return os.stat(os.path.join(directory, relative)).st_mtime_ns
    except OSError:
        return -1


def _kind(entry: os.DirEntry[str]) -> str:
    if entry.is_symlink():
        return LINK
    return DIR if entry.is_dir(follow_symlinks=False) else FILE
