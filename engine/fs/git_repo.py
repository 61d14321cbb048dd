"""What the git repository holding a path says: its top, the files in its index, its
`.git/config`; each file cached by mtime. It must not walk trees or judge files."""

from __future__ import annotations

import os
from functools import lru_cache

from engine.fswatch import DirectoryWatcher
from engine.gitconfig import parse_git_config
from engine.gitindex import index_entries

_MAX_CONFIG_BYTES = 1_000_000


class _Index:
    """One read of a git index: staged blob ids by relative path, and the absolute paths."""

    __slots__ = ("blobs", "tracked")

    def __init__(self, blobs: dict[str, bytes], repo: str) -> None:
        self.blobs = blobs
        self.tracked = frozenset(os.path.join(repo, name) for name in blobs)


# A repository with no index file yet (nothing staged): no files are tracked.
_NO_INDEX_FILE = _Index({}, "")


class GitRepoFiles:
    """Reads a repository's index and config, remembering each until its file changes."""

    def __init__(self, watcher: DirectoryWatcher) -> None:
        self._watcher = watcher
        self._index: dict[str, tuple[int, _Index | None]] = {}
        self._configs: dict[str, tuple[int, tuple[tuple[str, str], ...]]] = {}

    def tracked_files(self, repo: str) -> frozenset[str] | None:
        """Absolute paths of the files in `repo`'s git index, None if it cannot be read."""
        if not os.path.isdir(os.path.join(repo, ".git")):
            return None
        index = self._read_index(repo)
        return None if index is None else index.tracked

    def staged_blobs(self, repo: str) -> dict[str, bytes] | None:
        """Each path in `repo`'s index (relative to it) with its staged blob's SHA-1."""
        index = self._read_index(repo)
        return None if index is None else index.blobs

    def _read_index(self, repo: str) -> _Index | None:
        index_path = os.path.join(repo, ".git", "index")
        self._watcher.watch(os.path.dirname(index_path))
        try:
            mtime = os.stat(index_path).st_mtime_ns
        except OSError:
            return _NO_INDEX_FILE
        cached = self._index.get(index_path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        try:
            with open(index_path, "rb") as handle:
                blobs = index_entries(handle.read())
        except OSError:
            blobs = None
        index = None if blobs is None else _Index(blobs, repo)
        self._index[index_path] = (mtime, index)
        return index

    def git_config(self, repo: str) -> tuple[tuple[str, str], ...]:
        """The settings in `repo`'s `.git/config` (what a bare `git push` follows there)."""
        path = os.path.join(repo, ".git", "config")
        try:
            mtime = os.stat(path).st_mtime_ns
        except OSError:
            return ()
        cached = self._configs.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                pairs = parse_git_config(handle.read(_MAX_CONFIG_BYTES))
        except OSError:
            pairs = ()
        self._configs[path] = (mtime, pairs)
        return pairs


def mtime_ns(directory: str, relative: str) -> int:
    try:
        return os.stat(os.path.join(directory, relative)).st_mtime_ns
    except OSError:
        return -1


@lru_cache(maxsize=1024)
def _git_root_cached(directory: str) -> str | None:
    current = directory
    while True:
        if os.path.isdir(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def git_root(directory: str) -> str | None:
    """The top of the git work tree holding `directory` (or the file), if any."""
    start = directory if os.path.isdir(directory) else os.path.dirname(directory)
    return _git_root_cached(start)
