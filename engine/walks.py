"""Which directories a recursive command descends into, and by which of its own rules
(excludes, ignore files, hidden files, tracked files). Pure: it reads argv, never the disk."""

from __future__ import annotations

from dataclasses import dataclass

from engine.analysis.shell import Word, brace_expand
from engine.fs import WalkSpec

# `:/` stands for the top of the git work tree, resolved where the disk is looked at.
GIT_TOP = ":/"
FOUND_FILE = "{found file}"
XARGS_INPUT = "{xargs input}"


@dataclass(frozen=True, slots=True)
class TreeAccess:
    """`access` ("read", "write", "delete") of every file `spec` visits under `word`."""

    access: str
    word: Word
    by: str
    spec: WalkSpec
    hint: str  # how to avoid a protected file; `{name}` and `{path}` are filled in
    contents_only: bool = False  # the files found, not `word` itself (`find -name … -delete`)


_GREP_VALUES = frozenset("efmABCdD")
_RG_VALUES = frozenset("efgtTmABCMjE")


def _options(words: tuple[Word, ...], long_values: frozenset[str], short_values: frozenset[str]):
    """(options as (name, value)), positionals; short clusters like `-rn` are split."""
    options: list[tuple[str, str | None]] = []
    positional: list[Word] = []
    index, only_positional = 1, False
    while index < len(words):
        value = words[index].value
        if only_positional or not value.startswith("-") or value == "-":
            positional.append(words[index])
        elif value == "--":
            only_positional = True
        elif value.startswith("--"):
            name, eq, glued = value.partition("=")
            if eq:
                options.append((name, glued))
            elif name in long_values and index + 1 < len(words):
                index += 1
                options.append((name, words[index].value))
            else:
                options.append((name, None))
        else:
            for position, char in enumerate(value[1:], start=1):
                if char in short_values:
                    rest = value[position + 1 :]
                    if not rest and index + 1 < len(words):
                        index += 1
                        rest = words[index].value
                    options.append((f"-{char}", rest))
                    break
                options.append((f"-{char}", None))
        index += 1
    return options, positional


def _values(options: list[tuple[str, str | None]], *names: str) -> tuple[str, ...]:
    return tuple(v for n, v in options if n in names and v is not None)


def _has(options: list[tuple[str, str | None]], *names: str) -> bool:
    return any(n in names for n, _ in options)


def tree_accesses(name: str, words: tuple[Word, ...], git_sub: str = "") -> list[TreeAccess]:
    """The trees one command walks; empty for commands that do not recurse."""
    if name in {"grep", "egrep", "fgrep", "zgrep"}:
        return _grep(name, words)
    if name in {"rg", "ag", "ack"}:
        return _searcher(name, words)
    if name == "git":
        return _git(words, git_sub)
    if name == "zip":
        return _zip(words)
    if name in {"tar", "bsdtar", "gtar"}:
        return _tar(name, words)
    if name in {"cp", "rsync", "scp"}:
        return _copier(name, words)
    if name == "mv":
        return _mover(words)
    if name in {"rm", "chmod", "chown", "chgrp"}:
        return _modifier(name, words)
    if name == "find":
        starts, spec = find_walk(words)
        if any(w.value == "-delete" for w in words):
            hint = "narrow the -name test or the start path"
            tested = bool(spec.names or spec.paths)  # a start is deleted only if it passes them
            return [
                TreeAccess("delete", w, "find -delete", spec, hint, contents_only=tested)
                for w in starts
            ]
    return []


def _grep(name: str, words: tuple[Word, ...]) -> list[TreeAccess]:
    long_values = frozenset(
        ["--regexp", "--file", "--max-count", "--context", "--exclude", "--include"]
        + ["--exclude-dir", "--directories", "--devices", "--exclude-from"]
    )
    options, positional = _options(words, long_values, _GREP_VALUES)
    recursive = _has(options, "-r", "-R", "--recursive", "--dereference-recursive") or (
        "recurse" in _values(options, "-d", "--directories")
    )
    if not recursive:
        return []
    if not _has(options, "-e", "--regexp", "-f", "--file"):
        positional = positional[1:]
    spec = WalkSpec(
        exclude=_values(options, "--exclude"),
        include=_values(options, "--include"),
        exclude_dir=_values(options, "--exclude-dir"),
        follow_links=_has(options, "-R", "--dereference-recursive"),
    )
    hint = "add --exclude={name} or search a narrower path"
    return [TreeAccess("read", w, f"{name} -r", spec, hint) for w in positional or [Word(".")]]


def _searcher(name: str, words: tuple[Word, ...]) -> list[TreeAccess]:
    long_values = frozenset(
        ["--regexp", "--file", "--glob", "--iglob", "--type", "--type-not", "--ignore"]
        + ["--max-count", "--context", "--ignore-dir", "--ignore-file", "--max-depth"]
    )
    options, positional = _options(
        words, long_values, _RG_VALUES if name == "rg" else frozenset("GABCm")
    )
    if not _has(options, "-e", "--regexp", "-f", "--file"):
        positional = positional[1:]
    unrestricted = sum(1 for n, _ in options if n == "-u") + sum(
        2 if n == "--uu" else 0 for n, _ in options
    )
    # ag's single -u already means "everything"; rg needs -uu for hidden files.
    everything = name == "ag" and (unrestricted or _has(options, "--unrestricted"))
    hidden = name == "ack" or _has(options, "--hidden", "-.") or unrestricted >= 2 or everything
    no_ignore = _has(options, "--no-ignore", "--unrestricted", "-U") or unrestricted >= 1
    ignore_files: tuple[str, ...] = {
        "rg": (".gitignore", ".ignore", ".rgignore"),
        "ag": (".gitignore", ".ignore", ".agignore"),
        "ack": (),
    }[name]
    globs = _values(options, "-g", "--glob", "--iglob")
    excluded = _values(options, "--ignore", "--ignore-dir")
    depth = _values(options, "--max-depth", "-d") if name == "rg" else ()
    spec = WalkSpec(
        hidden=hidden,
        ignore_files=() if no_ignore else ignore_files,
        git_ignores_need_repo=name == "rg",
        exclude=excluded,
        exclude_dir=(*excluded, ".git", ".svn", ".hg") if name == "ack" else excluded,
        path_globs=globs,
        max_depth=int(depth[0]) if depth and depth[0].isdigit() else None,
        follow_links=_has(
            options, *{"rg": ("-L", "--follow"), "ag": ("-f", "--follow")}.get(name, ("--follow",))
        ),
    )
    hint = {
        "rg": "add -g '!{name}' or search a narrower path",
        "ag": "add --ignore {name} or search a narrower path",
        "ack": "add --ignore-file=is:{name} or search a narrower path",
    }[name]
    return [TreeAccess("read", w, name, spec, hint) for w in positional or [Word(".")]]


def _git(words: tuple[Word, ...], sub: str) -> list[TreeAccess]:
    start = next((i for i, w in enumerate(words) if i and w.value == sub), len(words))
    rest = words[start:]
    if sub == "grep":
        options, positional = _options(rest, frozenset(["--regexp", "-e"]), frozenset("efABCm"))
        if not _has(options, "-e", "--regexp", "-f"):
            positional = positional[1:]
        untracked = _has(options, "--untracked", "--no-index")
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
        options, positional = _options(
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
        options, positional = _options(
            rest, frozenset(["--chmod", "--pathspec-from-file"]), frozenset()
        )
        everything = _has(options, "-A", "--all", "-u", "--update")
        if _has(options, "-u", "--update"):
            return []  # only files git already tracks
        targets = positional or ([Word(GIT_TOP)] if everything else [])
        spec = WalkSpec(ignore_files=(".gitignore",), untracked_only=True)
        hint = "list it in .gitignore or stage the files you mean by name"
        return [TreeAccess("read", w, "git add", spec, hint) for w in targets]
    return []


def _git_clean(rest: tuple[Word, ...]) -> list[TreeAccess]:
    """What `git clean -f` removes from the real tree: untracked files, and with -x or -X the
    ignored ones too (-X is judged as -x: a superset). `-n`, or no `-f`, removes nothing."""
    options, positional = _options(rest, frozenset(["--exclude"]), frozenset("e"))
    forced = _has(options, "-f", "--force")
    if not forced or _has(options, "-n", "--dry-run"):
        return []
    excluded = _values(options, "-e", "--exclude")
    ignored_too = _has(options, "-x") or _has(options, "-X")
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


def _base_names(patterns: tuple[str, ...]) -> tuple[str, ...]:
    """Exclude patterns by last component: `config/*` leaves out `config`, `*.pem` any pem."""
    names = []
    for pattern in patterns:
        parts = [p for p in pattern.split("/") if p]
        while len(parts) > 1 and parts[-1] in ("*", "**"):
            parts.pop()
        if parts:
            names.append(parts[-1])
    return tuple(names)


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


def _zip(words: tuple[Word, ...]) -> list[TreeAccess]:
    recursive = any(
        w.value in {"-r", "-R", "--recurse-paths"}
        or (w.value.startswith("-") and not w.value.startswith("--") and "r" in w.value)
        for w in words[1:]
    )
    _, inputs, patterns = zip_operands(words)
    if not recursive:
        return []
    excludes = _base_names(tuple(patterns))
    stores_links = any(
        w.value in {"-y", "--symlinks"}
        or (w.value.startswith("-") and not w.value.startswith("--") and "y" in w.value)
        for w in words[1:]
    )
    spec = WalkSpec(exclude=excludes, exclude_dir=excludes, follow_links=not stores_links)
    hint = "add -x '*{name}' or archive a narrower path"
    return [TreeAccess("read", w, "zip -r", spec, hint) for w in inputs]


def _tar(name: str, words: tuple[Word, ...]) -> list[TreeAccess]:
    if len(words) < 2:
        return []
    first = words[1].value
    tail = words
    if not first.startswith("-"):
        # Old-style `tar czf out.tgz dir`: letters, with values taken in order afterwards.
        letters = first
        tail = (words[0], Word("-" + letters), *words[2:])
    options, positional = _options(
        tail,
        frozenset(["--file", "--exclude", "--directory", "--files-from", "--exclude-from"]),
        frozenset("fCTXbHK"),
    )
    create = _has(options, "-c", "--create", "-r", "--append", "-u", "--update")
    if not create or _has(options, "--no-recursion"):
        return []
    directory = _values(options, "-C", "--directory")
    excludes = _base_names(_values(options, "--exclude"))
    follows = _has(options, "-h", "--dereference")
    spec = WalkSpec(exclude=excludes, exclude_dir=excludes, follow_links=follows)
    hint = "add --exclude={name} or archive a narrower path"
    targets = positional
    if directory:
        targets = [Word(f"{directory[-1].rstrip('/')}/{w.value}", w.glob) for w in positional]
    return [TreeAccess("read", w, f"{name} -c", spec, hint) for w in targets]


def _copier(name: str, words: tuple[Word, ...]) -> list[TreeAccess]:
    long_values = frozenset(
        ["--target-directory", "--exclude", "--include", "--filter", "--suffix", "-e"]
        + ["--rsh", "--exclude-from", "--chmod", "--backup-dir"]
    )
    short = {"cp": "tS", "rsync": "ef", "scp": "PiFoclJS"}[name]
    options, positional = _options(words, long_values, frozenset(short))
    recursive = _has(options, "-r", "-R", "-a", "--recursive", "--archive")
    if not recursive:
        return []
    targets = _values(options, "-t", "--target-directory")
    sources = positional if targets else positional[:-1]
    sources = [w for w in sources if ":" not in w.value.split("/", 1)[0]]
    excludes = _base_names(_values(options, "--exclude"))
    # scp -r reads through links; cp and rsync copy the link unless told to dereference.
    follows = name == "scp" or _has(options, "-L", "--dereference", "--copy-links")
    spec = WalkSpec(exclude=excludes, exclude_dir=excludes, follow_links=follows)
    hint = (
        "add --exclude={name} or copy a narrower path"
        if name == "rsync"
        else "copy a narrower path that leaves it out"
    )
    label = {"cp": "cp -r", "rsync": "rsync", "scp": "scp -r"}[name]
    return [TreeAccess("read", w, label, spec, hint) for w in sources]


def _mover(words: tuple[Word, ...]) -> list[TreeAccess]:
    """`mv DIR …` moves everything inside DIR: each file is written under a new name."""
    values = frozenset(["--target-directory", "--suffix"])
    options, positional = _options(words, values, frozenset("tS"))
    targets = _values(options, "-t", "--target-directory")
    sources = positional if targets else positional[:-1]
    hint = "move a narrower path that leaves it out"
    return [TreeAccess("write", w, "mv", WalkSpec(), hint) for w in sources]


def _modifier(name: str, words: tuple[Word, ...]) -> list[TreeAccess]:
    options, positional = _options(words, frozenset(["--reference"]), frozenset())
    if not _has(options, "-r", "-R", "--recursive"):
        return []
    if name == "rm":
        hint = "delete a narrower path that leaves it out"
        return [TreeAccess("delete", w, "rm -r", WalkSpec(), hint) for w in positional]
    hint = "name the files to change instead of the whole tree"
    return [TreeAccess("write", w, f"{name} -R", WalkSpec(), hint) for w in positional[1:]]


def find_walk(words: tuple[Word, ...]) -> tuple[list[Word], WalkSpec]:
    """The start paths of `find` and the files its tests keep (`-name`, `-maxdepth`).

    Tests it does not model (`-o`, `-path`, `-newer`…) are dropped, which keeps more files:
    the judgement is on a superset, never a subset.
    """
    starts: list[Word] = []
    index = 1
    follows = False
    while index < len(words) and words[index].value in {"-H", "-L", "-P", "-O0", "-O1", "-O2"}:
        follows = follows or words[index].value == "-L"
        index += 1
    while index < len(words) and not words[index].value.startswith(("-", "(", "!", ")")):
        starts.append(words[index])
        index += 1
    names: list[tuple[bool, str, bool]] = []
    paths: list[tuple[bool, str, bool]] = []
    depth: int | None = None
    alternatives = False
    negate = False
    while index < len(words):
        value = words[index].value
        if value in {"-exec", "-execdir", "-ok", "-okdir"}:
            while index < len(words) and words[index].value not in {";", "+"}:
                index += 1
        elif value in {"!", "-not"}:
            negate = True
            index += 1
            continue
        elif value in {"-o", "-or", "(", ")"}:
            alternatives = True
        elif value in {"-name", "-iname"} and index + 1 < len(words):
            names.append((negate, words[index + 1].value, value == "-iname"))
            index += 1
        elif value in _FIND_PATH_TESTS and index + 1 < len(words):
            below = _below_start(words[index + 1].value, starts)
            if below is not None:  # a test we cannot place is dropped: a superset
                paths.append((negate, below, value.startswith("-i")))
            index += 1
        elif value == "-maxdepth" and index + 1 < len(words):
            text = words[index + 1].value
            depth = int(text) if text.isdigit() else None
            index += 1
        negate = False
        index += 1
    spec = WalkSpec(
        names=() if alternatives else tuple(names),
        paths=() if alternatives else tuple(paths),
        max_depth=depth,
        follow_links=follows,
    )
    return starts or [Word(".")], spec


_FIND_PATH_TESTS = frozenset({"-path", "-ipath", "-wholename", "-iwholename"})


def _below_start(pattern: str, starts: list[Word]) -> str | None:
    """`-path './logs/*'` from `.` tests `/logs/*` below the start; `*/x/*` stays as it is."""
    start = (starts[0].value if len(starts) == 1 else "").rstrip("/") or "."
    if pattern.startswith("*"):
        return pattern
    if pattern.startswith(start + "/"):
        return pattern[len(start) :]
    return None


def grep_tool_walk(path: str, glob: object) -> TreeAccess:
    """Claude Code's Grep tool runs ripgrep: ignore files honoured, hidden files skipped."""
    globs = tuple(brace_expand(glob)) if isinstance(glob, str) and glob else ()
    spec = WalkSpec(
        hidden=False, ignore_files=(".gitignore", ".ignore", ".rgignore"), path_globs=globs
    )
    hint = "set `glob` to leave out {name} or search a narrower path"
    return TreeAccess("read", Word(path), "Grep", spec, hint)
