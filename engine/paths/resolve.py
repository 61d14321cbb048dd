"""Path resolution as the OS sees it: `~`, relative paths, `..` and symlinks that exist.
Resolves only; it matches no pattern and decides nothing."""

from __future__ import annotations

import os
import posixpath


def resolve_path(path: str, cwd: str | None, home: str | None = None) -> str:
    """Absolute, normalised path as the OS would see it.

    `~` and `~/x` expand to `home` when given, else to the user's home; relative paths are
    joined to `cwd` (or `/`); `.` and `..` collapse; symlinks that exist on disk are followed,
    so `innocent.txt -> .env` resolves to the `.env` path. Never raises: input the OS would
    reject (NUL bytes, non-strings) comes back normalised but otherwise untouched.
    """
    try:
        text = path if isinstance(path, str) else os.fsdecode(path)
    except (TypeError, ValueError):
        text = str(path)
    base = cwd if isinstance(cwd, str) and cwd.startswith("/") else "/" + (cwd or "")
    if text == "~" or text.startswith("~/"):
        text = (home if home else os.path.expanduser("~")) + text[1:]
    elif text.startswith("~") and "\x00" not in text:
        # `~user` with a NUL byte names no user: the word stays as written.
        text = os.path.expanduser(text)
    joined = posixpath.join(base, text) if text else base
    if "\x00" not in joined:
        try:
            return os.path.realpath(joined)
        except (OSError, ValueError):
            pass
    normalised = posixpath.normpath(joined)
    # POSIX keeps a leading `//` as implementation-defined; Linux treats it as `/`.
    return "/" + normalised.lstrip("/") if normalised.startswith("//") else normalised
