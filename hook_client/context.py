"""Where the agent runs: user, host, repository and branch, found by reading files (never by
running git). Standard library only; nothing here may block on a process or the network."""

import os
import socket


def current_user() -> str | None:
    for name in ("GOVERNANCE_USER", "USER", "LOGNAME"):
        value = os.environ.get(name)
        if value:
            return value
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError, OSError):
        return None


def _read_small(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return handle.read(4096).decode("utf-8", "replace").strip()
    except OSError:
        return None


def git_context(cwd: str | None) -> tuple[str | None, str | None]:
    """(repo root, checked-out branch) found by reading files, never by running git."""
    try:
        start = os.path.abspath(cwd) if cwd else os.getcwd()
    except OSError:
        return None, None
    directory = start
    while True:
        dot_git = os.path.join(directory, ".git")
        if os.path.isdir(dot_git):
            return directory, _branch(dot_git)
        if os.path.isfile(dot_git):
            # Worktrees and submodules: `.git` is a file naming the real git dir.
            text = _read_small(dot_git) or ""
            if not text.startswith("gitdir:"):
                return directory, None
            gitdir = os.path.join(directory, text[len("gitdir:") :].strip())
            return directory, _branch(gitdir)
        parent = os.path.dirname(directory)
        if parent == directory:
            return None, None
        directory = parent


def _branch(gitdir: str) -> str | None:
    head = _read_small(os.path.join(gitdir, "HEAD"))
    prefix = "ref: refs/heads/"
    if head and head.startswith(prefix):
        return head[len(prefix) :] or None
    return None  # detached HEAD, or unreadable


def build_context(event: dict) -> dict:
    cwd = event.get("cwd")
    repo, branch = git_context(cwd if isinstance(cwd, str) and cwd else None)
    try:
        host = socket.gethostname() or None
    except OSError:
        host = None
    return {
        "user": current_user(),
        "host": host,
        "repo": repo,
        "git_branch": branch,
        "home": os.path.expanduser("~"),
    }
