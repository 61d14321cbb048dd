"""Script files a command runs from disk (`sh deploy.sh`, `./run.py`): their text, read within a
budget, and whether the repository's git index holds them unchanged. Reads; judges nothing."""

from __future__ import annotations

import hashlib
import os
import stat

from engine.analysis.scripts import DiskScript
from engine.fs import FileSystem

# A script is read and followed up to this size; past it, only its git status is known.
MAX_SCRIPT_BYTES = 128 * 1024
# A larger file is still hashed (to tell the project's own from a new one) up to this size.
_MAX_HASHED_BYTES = 8 * 1024 * 1024
_MAX_CACHED = 512


class ScriptFiles:
    """Reads scripts, each cached by its stat so an unchanged file is read once."""

    def __init__(self, filesystem: FileSystem) -> None:
        self.filesystem = filesystem
        self._scripts: dict[str, tuple[tuple[int, int, int], DiskScript | None]] = {}

    def script(self, path: str) -> DiskScript | None:
        """The script at the absolute `path`; None when there is no regular file there or it is
        a compiled program (a NUL byte in its first kilobyte), which is judged by its name."""
        try:
            status = os.stat(path)
        except (OSError, ValueError):
            return None
        if not stat.S_ISREG(status.st_mode):
            return None
        signature = (status.st_mtime_ns, status.st_size, status.st_ino)
        cached = self._scripts.get(path)
        if cached is not None and cached[0] == signature:
            return cached[1]
        script = self._read(path, status.st_size)
        if len(self._scripts) >= _MAX_CACHED:
            self._scripts.clear()
        self._scripts[path] = (signature, script)
        return script

    def _read(self, path: str, size: int) -> DiskScript | None:
        if size > _MAX_HASHED_BYTES:
            return DiskScript(None, False, _too_large(size))
        try:
            with open(path, "rb") as handle:
                content = handle.read(_MAX_HASHED_BYTES + 1)
        except OSError as error:
            return DiskScript(None, False, f"which cannot be read ({error.strerror})")
        if b"\x00" in content[:1024]:
            return None
        known = self._known_to_git(path, content)
        if len(content) > MAX_SCRIPT_BYTES:
            return DiskScript(None, known, _too_large(len(content)))
        return DiskScript(content.decode("utf-8", "replace"), known)

    def _known_to_git(self, path: str, content: bytes) -> bool:
        """Whether the index of the repository holding `path` has this very content for it."""
        real = os.path.realpath(path)
        top = self.filesystem.git_top(os.path.dirname(real))
        if top is None:
            return False
        entries = self.filesystem.staged_blobs(os.path.realpath(top))
        if not entries:
            return False
        staged = entries.get(os.path.relpath(real, os.path.realpath(top)))
        blob = hashlib.sha1(b"blob %d\x00" % len(content), usedforsecurity=False)
        blob.update(content)
        return staged == blob.digest()


def _too_large(size: int) -> str:
    return (
        f"a {size // 1024:,} KiB file, larger than the {MAX_SCRIPT_BYTES // 1024} KiB the "
        "engine reads, and not committed to git as it is"
    )
