"""The trees git reads or removes by itself (grep, archive, add, clean): tracked, untracked or
ignored files, minus pathspec excludes. Pure: it reads argv, never the index or the disk."""

from __future__ import annotations

from engine.analysis.shell import Word
from engine.fs import WalkSpec
from engine.walks.access import GIT_TOP, TreeAccess
from engine.walks.options import has_option, option_values, read_options


def git_accesses(words: tuple[Word, ...], sub: str) -> list[TreeAccess]:
    start = next((i for i, w in enumerate(words) if i and w.value == sub), len(words))
    rest = words[start:]
    if sub == "grep":
        options, positional = read_options(rest, frozenset(["--regexp", "-e"]), frozenset("efABCm"))
        if not has_option(options, "-e", "--regexp", "-f"):
            positional = positional[1:]
        untracked = has_option(options, "--untracked", "--no-index")
        excluded = _pathspec_excludes(positional)
        spec = (
            WalkSpec(ignore_files=(".gitignore",), exclude=excluded, exclude_dir=excluded)
            if untracked
            else WalkSpec(tracked_only=True, exclude=excluded, exclude_dir=excluded)
        )
        hint = "add the pathspec ':!{path}' or search a narrower path"
        targets = [w for w in positional if not w.value.startswith(":")] or [Word(".")]
        return [TreeAccess("read", w, "git grep", spec, hint) for w in targets]
    if sub == "archive":
        options, positional = read_options(
            rest, frozenset(["--format", "--prefix", "-o"]), frozenset("o")
        )
        paths = [w for w in positional[1:] if not w.value.startswith(":")] or [Word(".")]
        hint = "add the pathspec ':!{path}' or archive a narrower path"
        excluded = _pathspec_excludes(positional)
        spec = WalkSpec(tracked_only=True, exclude=excluded, exclude_dir=excluded)
        return [TreeAccess("read", w, "git archive", spec, hint) for w in paths]
    if sub == "clean":
        return _git_clean(rest)
    if sub == "add":
        options, positional = read_options(
            rest, frozenset(["--chmod", "--pathspec-from-file"]), frozenset()
        )
        everything = has_option(options, "-A", "--all", "-u", "--update")
        if has_option(options, "-u", "--update"):
            return []  # only files git already tracks
        targets = positional or ([Word(GIT_TOP)] if everything else [])
        spec = WalkSpec(ignore_files=(".gitignore",), untracked_only=True)
        hint = "list it in .gitignore or stage the files you mean by name"
        return [TreeAccess("read", w, "git add", spec, hint) for w in targets]
    return []


def _git_clean(rest: tuple[Word, ...]) -> list[TreeAccess]:
    """What `git clean -f` removes from the real tree: untracked files, and with -x or -X the
    ignored ones too (-X is judged as -x: a superset). `-n`, or no `-f`, removes nothing."""
    options, positional = read_options(rest, frozenset(["--exclude"]), frozenset("e"))
    forced = has_option(options, "-f", "--force")
    if not forced or has_option(options, "-n", "--dry-run"):
        return []
    excluded = option_values(options, "-e", "--exclude")
    ignored_too = has_option(options, "-x") or has_option(options, "-X")
    spec = WalkSpec(
        ignore_files=() if ignored_too else (".gitignore",),
        untracked_only=True,
        exclude=excluded,
        exclude_dir=excluded,
    )
    hint = "add -e {name} or clean a narrower path"
    targets = [w for w in positional if not w.value.startswith(":")] or [Word(".")]
    return [TreeAccess("delete", w, "git clean", spec, hint, contents_only=True) for w in targets]


def _pathspec_excludes(words: list[Word]) -> tuple[str, ...]:
    """`:!x`, `:^x` and `:(exclude)x` leave out x (matched here by its last component)."""
    out = []
    for word in words:
        value = word.value
        for magic in (":(exclude)", ":!", ":^"):
            if value.startswith(magic):
                out.append(value[len(magic) :].rstrip("/").rsplit("/", 1)[-1])
    return tuple(o for o in out if o)
