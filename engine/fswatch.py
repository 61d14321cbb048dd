"""Linux inotify over the directories the engine has walked: tells engine/fs/ which
directories changed since it looked. It only reports changes; it caches nothing itself."""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import struct

_IN_CLOSE_WRITE = 0x008
_IN_MOVED_FROM = 0x040
_IN_MOVED_TO = 0x080
_IN_CREATE = 0x100
_IN_DELETE = 0x200
_IN_DELETE_SELF = 0x400
_IN_MOVE_SELF = 0x800
_IN_Q_OVERFLOW = 0x4000
_IN_IGNORED = 0x8000
_IN_ONLYDIR = 0x01000000
_IN_DONT_FOLLOW = 0x02000000
_IN_NONBLOCK = 0o4000
_IN_CLOEXEC = 0o2000000
# Names appearing or going, and files rewritten in place (an edited .gitignore).
_MASK = (
    _IN_CREATE
    | _IN_DELETE
    | _IN_MOVED_FROM
    | _IN_MOVED_TO
    | _IN_DELETE_SELF
    | _IN_MOVE_SELF
    | _IN_CLOSE_WRITE
    | _IN_ONLYDIR
    | _IN_DONT_FOLLOW
)
_EVENT = struct.Struct("iIII")
# A file written in place matters only when it changes what a walk skips or finds.
_RULE_FILES = frozenset({b".gitignore", b".ignore", b".rgignore", b".agignore", b"index"})
# Leave most of the user's inotify watches to editors and build tools: a quarter of the
# system's per-user limit, and never more than 50,000.
_WATCH_LIMIT_FILE = "/proc/sys/fs/inotify/max_user_watches"


def _max_watches() -> int:
    try:
        with open(_WATCH_LIMIT_FILE, encoding="ascii") as handle:
            return min(50_000, int(handle.read().strip()) // 4)
    except (OSError, ValueError):
        return 2_000


class DirectoryWatcher:
    """Directories under watch; `changes()` drains what happened to them since last asked.

    `changes()` returns None when the kernel dropped events (queue overflow), meaning every
    directory must be treated as changed.
    """

    def __init__(self) -> None:
        self._fd = -1
        self._libc = None
        self._by_wd: dict[int, str] = {}
        self._by_path: dict[str, int] = {}
        self._limit = _max_watches()
        name = ctypes.util.find_library("c")
        try:
            libc = ctypes.CDLL(name, use_errno=True)
            fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        except (OSError, AttributeError):
            return
        if fd >= 0:
            self._fd, self._libc = fd, libc

    @property
    def available(self) -> bool:
        return self._fd >= 0

    def watch(self, directory: str) -> bool:
        """Start watching; False when it cannot (no inotify, watch limit), so the caller
        must check the directory itself."""
        if directory in self._by_path:
            return True
        if self._libc is None or len(self._by_path) >= self._limit:
            return False
        wd = self._libc.inotify_add_watch(self._fd, os.fsencode(directory), _MASK)
        if wd < 0:
            return False
        previous = self._by_wd.get(wd)
        if previous is not None and previous != directory:
            # The same inode under another name: keep the watch for the newest path only.
            self._by_path.pop(previous, None)
        self._by_wd[wd] = directory
        self._by_path[directory] = wd
        return True

    def changes(self) -> set[str] | None:
        """Directories that changed since the last call."""
        changed: set[str] = set()
        if self._fd < 0:
            return changed
        while True:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                return changed
            except OSError as error:
                if error.errno == errno.EINTR:
                    continue
                return None
            offset = 0
            while offset + _EVENT.size <= len(data):
                wd, mask, _cookie, length = _EVENT.unpack_from(data, offset)
                name = data[offset + _EVENT.size : offset + _EVENT.size + length].rstrip(b"\0")
                offset += _EVENT.size + length
                if mask == _IN_CLOSE_WRITE and name not in _RULE_FILES:
                    continue
                if mask & _IN_Q_OVERFLOW:
                    self._forget_all()
                    return None
                directory = self._by_wd.get(wd)
                if directory is None:
                    continue
                changed.add(directory)
                if mask & (_IN_IGNORED | _IN_DELETE_SELF | _IN_MOVE_SELF):
                    self._by_wd.pop(wd, None)
                    self._by_path.pop(directory, None)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
        self._fd, self._libc = -1, None
        self._by_wd.clear()
        self._by_path.clear()

    def _forget_all(self) -> None:
        for wd in list(self._by_wd):
            if self._libc is not None:
                self._libc.inotify_rm_watch(self._fd, wd)
        self._by_wd.clear()
        self._by_path.clear()
