"""The files a git command reads or writes by its subcommand (add, checkout, grep…), and which
of its words are data (a commit message, a grep pattern). Reads words only."""

from __future__ import annotations

from engine.analysis.commands.options import _parse
from engine.analysis.commands.types import Access, FileAccess
from engine.analysis.shell import Word


def _git_subcommand(words: tuple[Word, ...]) -> tuple[int, str]:
    index = 1
    while index < len(words):
        value = words[index].value
        if value in {"-C", "-c", "--git-dir", "--work-tree", "--namespace"}:
            index += 2
        elif value.startswith("-"):
            index += 1
        else:
            return index, value
    return index, ""


_GIT_DATA_OPTIONS = {
    "commit": frozenset({"-m", "--message", "--author", "--date", "-t", "--template"}),
    "tag": frozenset({"-m", "--message"}),
    "merge": frozenset({"-m", "--message"}),
    "stash": frozenset({"-m", "--message"}),
    "notes": frozenset({"-m", "--message"}),
    "revert": frozenset({"-m", "--message"}),
}

_GIT_SEARCH_OPTIONS = frozenset(
    ["--grep", "-S", "-G", "--author", "--committer", "--format", "--pretty", "--since", "--until"]
)


def _git_data_indexes(words: tuple[Word, ...]) -> set[int]:
    """Commit messages and history searches are text, not commands."""
    start, sub = _git_subcommand(words)
    options = _GIT_DATA_OPTIONS.get(sub, _GIT_SEARCH_OPTIONS)
    parsed = _parse(words[start:], options)
    indexes = {start + i for i in parsed.value_indexes(*options)}
    if sub == "grep" and parsed.positional:
        indexes.add(start + parsed.positional[0])
    if (
        sub == "stash"
        and parsed.positional[:1]
        and words[start + parsed.positional[0]].value == "save"
    ):
        indexes.update(start + i for i in parsed.positional[1:])
    return indexes


def _git_file_effects(words: tuple[Word, ...]) -> list[FileAccess]:
    index, sub = _git_subcommand(words)
    rest = words[index + 1 :]
    paths = [w for w in rest if not w.value.startswith("-")]
    if sub == "rm":
        return [FileAccess(Access.DELETE, w, "git rm") for w in paths]
    if sub == "clean":
        parsed = _parse(words[index:], frozenset({"-e", "--exclude"}))
        flags = "".join(o[1:] for o in parsed.options if not o.startswith("--"))
        if "n" in flags or parsed.has("--dry-run") or not ("f" in flags or parsed.has("--force")):
            return []
        return [FileAccess(Access.DELETE, w, "git clean") for w in (parsed.pos() or [Word(".")])]
    if sub in {"add", "show", "blame", "diff", "log", "checkout", "restore", "mv", "stash"}:
        after_dashdash = [w for i, w in enumerate(rest) if any(x.value == "--" for x in rest[:i])]
        candidates = after_dashdash or (paths if sub in {"add", "blame", "mv"} else [])
        return [FileAccess(Access.MENTION, w, f"git {sub}") for w in candidates]
    return []
