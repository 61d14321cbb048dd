"""The trees the text searchers read (grep -r, rg, ag, ack, Claude Code's Grep tool), by each
one's own excludes, ignore files and hidden-file default. Pure: it reads argv, never the disk."""

from __future__ import annotations

from engine.analysis.shell import Word, brace_expand
from engine.fs import WalkSpec
from engine.walks.access import TreeAccess
from engine.walks.options import has_option, option_values, read_options

_GREP_VALUES = frozenset("efmABCdD")
_RG_VALUES = frozenset("efgtTmABCMjE")


def grep_accesses(name: str, words: tuple[Word, ...]) -> list[TreeAccess]:
    long_values = frozenset(
        ["--regexp", "--file", "--max-count", "--context", "--exclude", "--include"]
        + ["--exclude-dir", "--directories", "--devices", "--exclude-from"]
    )
    options, positional = read_options(words, long_values, _GREP_VALUES)
    recursive = has_option(options, "-r", "-R", "--recursive", "--dereference-recursive") or (
        "recurse" in option_values(options, "-d", "--directories")
    )
    if not recursive:
        return []
    if not has_option(options, "-e", "--regexp", "-f", "--file"):
        positional = positional[1:]
    spec = WalkSpec(
        exclude=option_values(options, "--exclude"),
        include=option_values(options, "--include"),
        exclude_dir=option_values(options, "--exclude-dir"),
        follow_links=has_option(options, "-R", "--dereference-recursive"),
    )
    hint = "add --exclude={name} or search a narrower path"
    return [TreeAccess("read", w, f"{name} -r", spec, hint) for w in positional or [Word(".")]]


def searcher_accesses(name: str, words: tuple[Word, ...]) -> list[TreeAccess]:
    long_values = frozenset(
        ["--regexp", "--file", "--glob", "--iglob", "--type", "--type-not", "--ignore"]
        + ["--max-count", "--context", "--ignore-dir", "--ignore-file", "--max-depth"]
    )
    options, positional = read_options(
        words, long_values, _RG_VALUES if name == "rg" else frozenset("GABCm")
    )
    if not has_option(options, "-e", "--regexp", "-f", "--file"):
        positional = positional[1:]
    unrestricted = sum(1 for n, _ in options if n == "-u") + sum(
        2 if n == "--uu" else 0 for n, _ in options
    )
    # ag's single -u already means "everything"; rg needs -uu for hidden files.
    everything = name == "ag" and (unrestricted or has_option(options, "--unrestricted"))
    hidden = (
        name == "ack" or has_option(options, "--hidden", "-.") or unrestricted >= 2 or everything
    )
    no_ignore = has_option(options, "--no-ignore", "--unrestricted", "-U") or unrestricted >= 1
    ignore_files: tuple[str, ...] = {
        "rg": (".gitignore", ".ignore", ".rgignore"),
        "ag": (".gitignore", ".ignore", ".agignore"),
        "ack": (),
    }[name]
    globs = option_values(options, "-g", "--glob", "--iglob")
    excluded = option_values(options, "--ignore", "--ignore-dir")
    depth = option_values(options, "--max-depth", "-d") if name == "rg" else ()
    spec = WalkSpec(
        hidden=hidden,
        ignore_files=() if no_ignore else ignore_files,
        git_ignores_need_repo=name == "rg",
        exclude=excluded,
        exclude_dir=(*excluded, ".git", ".svn", ".hg") if name == "ack" else excluded,
        path_globs=globs,
        max_depth=int(depth[0]) if depth and depth[0].isdigit() else None,
        follow_links=has_option(
            options, *{"rg": ("-L", "--follow"), "ag": ("-f", "--follow")}.get(name, ("--follow",))
        ),
    )
    hint = {
        "rg": "add -g '!{name}' or search a narrower path",
        "ag": "add --ignore {name} or search a narrower path",
        "ack": "add --ignore-file=is:{name} or search a narrower path",
    }[name]
    return [TreeAccess("read", w, name, spec, hint) for w in positional or [Word(".")]]


def grep_tool_walk(path: str, glob: object) -> TreeAccess:
    """Claude Code's Grep tool runs ripgrep: ignore files honoured, hidden files skipped."""
    globs = tuple(brace_expand(glob)) if isinstance(glob, str) and glob else ()
    spec = WalkSpec(
        hidden=False, ignore_files=(".gitignore", ".ignore", ".rgignore"), path_globs=globs
    )
    hint = "set `glob` to leave out {name} or search a narrower path"
    return TreeAccess("read", Word(path), "Grep", spec, hint)
