"""The trees archivers, copiers, movers and recursive modifiers touch (zip, tar, cp, rsync, scp,
mv, rm -r, chmod -R …), with their excludes. Pure: it reads argv, never the disk."""

from __future__ import annotations

from engine.analysis.shell import Word
from engine.fs import WalkSpec
from engine.walks.access import TreeAccess
from engine.walks.options import base_names, has_option, option_values, read_options


def zip_operands(words: tuple[Word, ...]) -> tuple[list[Word], list[Word], list[str]]:
    """zip's archive, its inputs, and its exclude patterns (`-x` takes every word after it
    up to the next option)."""
    operands: list[Word] = []
    patterns: list[str] = []
    taking = False
    index = 1
    while index < len(words):
        value = words[index].value
        if value in {"-i", "-b", "--include"}:
            index += 1
            taking = False
        elif value.startswith("--exclude="):
            patterns.append(value.split("=", 1)[1])
        elif value.startswith("-"):
            taking = value in {"-x", "--exclude"}
        elif taking:
            patterns.append(value)
        else:
            operands.append(words[index])
        index += 1
    return operands[:1], operands[1:], patterns


def zip_accesses(words: tuple[Word, ...]) -> list[TreeAccess]:
    recursive = any(
        w.value in {"-r", "-R", "--recurse-paths"}
        or (w.value.startswith("-") and not w.value.startswith("--") and "r" in w.value)
        for w in words[1:]
    )
    _, inputs, patterns = zip_operands(words)
    if not recursive:
        return []
    excludes = base_names(tuple(patterns))
    stores_links = any(
        w.value in {"-y", "--symlinks"}
        or (w.value.startswith("-") and not w.value.startswith("--") and "y" in w.value)
        for w in words[1:]
    )
    spec = WalkSpec(exclude=excludes, exclude_dir=excludes, follow_links=not stores_links)
    hint = "add -x '*{name}' or archive a narrower path"
    return [TreeAccess("read", w, "zip -r", spec, hint) for w in inputs]


def tar_accesses(name: str, words: tuple[Word, ...]) -> list[TreeAccess]:
    if len(words) < 2:
        return []
    first = words[1].value
    tail = words
    if not first.startswith("-"):
        # Old-style `tar czf out.tgz dir`: letters, with values taken in order afterwards.
        letters = first
        tail = (words[0], Word("-" + letters), *words[2:])
    options, positional = read_options(
        tail,
        frozenset(["--file", "--exclude", "--directory", "--files-from", "--exclude-from"]),
        frozenset("fCTXbHK"),
    )
    create = has_option(options, "-c", "--create", "-r", "--append", "-u", "--update")
    if not create or has_option(options, "--no-recursion"):
        return []
    directory = option_values(options, "-C", "--directory")
    excludes = base_names(option_values(options, "--exclude"))
    follows = has_option(options, "-h", "--dereference")
    spec = WalkSpec(exclude=excludes, exclude_dir=excludes, follow_links=follows)
    hint = "add --exclude={name} or archive a narrower path"
    targets = positional
    if directory:
        targets = [Word(f"{directory[-1].rstrip('/')}/{w.value}", w.glob) for w in positional]
    return [TreeAccess("read", w, f"{name} -c", spec, hint) for w in targets]


def copier_accesses(name: str, words: tuple[Word, ...]) -> list[TreeAccess]:
    long_values = frozenset(
        ["--target-directory", "--exclude", "--include", "--filter", "--suffix", "-e"]
        + ["--rsh", "--exclude-from", "--chmod", "--backup-dir"]
    )
    short = {"cp": "tS", "rsync": "ef", "scp": "PiFoclJS"}[name]
    options, positional = read_options(words, long_values, frozenset(short))
    recursive = has_option(options, "-r", "-R", "-a", "--recursive", "--archive")
    if not recursive:
        return []
    targets = option_values(options, "-t", "--target-directory")
    sources = positional if targets else positional[:-1]
    sources = [w for w in sources if ":" not in w.value.split("/", 1)[0]]
    excludes = base_names(option_values(options, "--exclude"))
    # scp -r reads through links; cp and rsync copy the link unless told to dereference.
    follows = name == "scp" or has_option(options, "-L", "--dereference", "--copy-links")
    spec = WalkSpec(exclude=excludes, exclude_dir=excludes, follow_links=follows)
    hint = (
        "add --exclude={name} or copy a narrower path"
        if name == "rsync"
        else "copy a narrower path that leaves it out"
    )
    label = {"cp": "cp -r", "rsync": "rsync", "scp": "scp -r"}[name]
    return [TreeAccess("read", w, label, spec, hint) for w in sources]


def mover_accesses(words: tuple[Word, ...]) -> list[TreeAccess]:
    """`mv DIR …` moves everything inside DIR: each file is written under a new name."""
    values = frozenset(["--target-directory", "--suffix"])
    options, positional = read_options(words, values, frozenset("tS"))
    targets = option_values(options, "-t", "--target-directory")
    sources = positional if targets else positional[:-1]
    hint = "move a narrower path that leaves it out"
    return [TreeAccess("write", w, "mv", WalkSpec(), hint) for w in sources]


def modifier_accesses(name: str, words: tuple[Word, ...]) -> list[TreeAccess]:
    options, positional = read_options(words, frozenset(["--reference"]), frozenset())
    if not has_option(options, "-r", "-R", "--recursive"):
        return []
    if name == "rm":
        hint = "delete a narrower path that leaves it out"
        return [TreeAccess("delete", w, "rm -r", WalkSpec(), hint) for w in positional]
    hint = "name the files to change instead of the whole tree"
    return [TreeAccess("write", w, f"{name} -R", WalkSpec(), hint) for w in positional[1:]]
