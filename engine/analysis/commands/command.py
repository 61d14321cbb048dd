"""What one simple command does, by the command's known conventions: which words are only
data, which files it reads, writes or deletes, which hosts it reaches, which SQL it runs.
Pure: it reads no file and knows no policy; the rules judge what it reports."""

from __future__ import annotations

from dataclasses import replace

from engine.analysis.code import code_argument, interpreter_language
from engine.analysis.commands.git_files import _git_data_indexes, _git_file_effects, _git_subcommand
from engine.analysis.commands.options import _hosts_from_urls, _parse, _Parsed, _strip_user
from engine.analysis.commands.sql_clients import _SQL_CLIENTS, _sql_database_file, _sql_sources
from engine.analysis.commands.tables import (
    _DATA_OPTIONS,
    _DELETERS,
    _EDITORS,
    _GREPS,
    _HOST_PATH,
    _METADATA_ONLY,
    _NETWORK_HOST_TOOLS,
    _NETWORK_URL_TOOLS,
    _OPTION_VALUES,
    _PERMISSIONS,
    _PRINTERS,
    _READERS,
    _SCRIPTED,
    _TOUCHERS,
    _URL,
)
from engine.analysis.commands.types import Access, CommandEffects, FileAccess, SqlSource
from engine.analysis.editors import in_place_files
from engine.analysis.shell import SHELLS, SimpleCommand, Word, command_name, shell_code_argument
from engine.analysis.uploads import option_files
from engine.clis import canonicalize
from engine.walks import FOUND_FILE, find_walk, tree_accesses, zip_operands


def effects(command: SimpleCommand) -> CommandEffects:
    """Everything the checks need to know about one simple command."""
    if not command.words:
        return CommandEffects("", tuple(_redirect_access(command)), (), ())
    name = command.name
    words = command.words
    parsed = _parse(words, _OPTION_VALUES.get(name, frozenset()))
    data: set[int] = set()
    files: list[FileAccess] = []
    hosts: list[str] = []
    sql: list[SqlSource] = []

    def add(access: Access, targets: list[Word]) -> None:
        files.extend(FileAccess(access, t, name) for t in targets if t.value and t.value != "-")

    data_options = _DATA_OPTIONS.get(name)
    if name == "git":
        data.update(_git_data_indexes(words))
    elif data_options:
        data.update(_parse(words, data_options).value_indexes(*data_options))

    positional = parsed.pos()
    if name in _PRINTERS:
        data.update(range(1, len(words)))
    elif name in _GREPS:
        pattern_given = parsed.has("-e", "--regexp", "-f", "--file")
        data.update(parsed.value_indexes("-e", "--regexp"))
        if not pattern_given and positional:
            data.add(parsed.positional[0])
            positional = positional[1:]
        add(Access.READ, positional)
    elif name in _SCRIPTED:
        data.update(parsed.value_indexes("-e", "--expression", "-v", "--arg", "--argjson"))
        if not parsed.has("-e", "--expression", "-f", "--file") and positional:
            data.add(parsed.positional[0])
            positional = positional[1:]
        add(Access.WRITE if name == "sed" and _sed_in_place(parsed) else Access.READ, positional)
    elif name in _READERS or name in _EDITORS:
        add(Access.READ, positional)
        if name in _EDITORS:
            add(Access.WRITE, positional)
        if name == "sort":
            add(Access.WRITE, parsed.values("-o", "--output"))
    elif name in _DELETERS:
        add(Access.DELETE, positional)
    elif name in _TOUCHERS:
        add(Access.WRITE, positional)
    elif name in _PERMISSIONS:
        add(Access.WRITE, positional[1:])
    elif name == "tee":
        add(Access.WRITE, positional)
    elif name in {"cp", "mv", "ln", "install", "rsync", "scp"}:
        files.extend(_copy_like(name, positional, parsed.values("-t", "--target-directory")))
        remote = (_HOST_PATH.match(w.value) for w in positional)
        hosts.extend(_strip_user(m.group(0)[:-1]) for m in remote if m)
    elif name == "zip":
        archive, inputs, _ = zip_operands(words)
        add(Access.WRITE, archive)
        add(Access.READ, inputs)
    elif name == "dd":
        for word in words[1:]:
            key, _, value = word.value.partition("=")
            if key in {"if", "of"} and value:
                access = Access.READ if key == "if" else Access.WRITE
                add(access, [Word(value, word.glob, word.dynamic)])
    elif name == "find":
        files.extend(_find_effects(words))
    elif name == "git":
        files.extend(_git_file_effects(words))
        hosts.extend(_hosts_from_urls([w for w in positional if _URL.match(w.value)]))
    elif name == "patch":
        add(Access.WRITE, positional)
    elif name in _NETWORK_URL_TOOLS:
        hosts.extend(_hosts_from_urls(positional))
        outputs = parsed.values("-o", "--output", "-O", "--output-document")
        add(Access.WRITE, [w for w in outputs if w.value != "-"])
        add(Access.READ, parsed.values("-T", "--upload-file", "--post-file"))
        uploads = parsed.values("-d", "--data", "--data-binary", "-F", "--form", "--json")
        add(Access.READ, [Word(w.value.split("@", 1)[1]) for w in uploads if "@" in w.value])
        operands = (words[0], *(words[i] for i in parsed.positional))
        add(Access.READ, [w for w, _ in option_files(operands)])
    elif name in _NETWORK_HOST_TOOLS:
        if positional:
            hosts.append(_strip_user(positional[0].value))
    elif name in _SQL_CLIENTS:
        sql.extend(_sql_sources(command, name))
        data.update(range(1, len(words)))
        database = _sql_database_file(command, name)
        if database is not None:
            readonly = any(w.value == "-readonly" for w in words)
            add(Access.READ if readonly else Access.WRITE, [database])
    elif name in SHELLS:
        has_code, code = shell_code_argument(words)
        if has_code:
            data.update(i for i, w in enumerate(words) if w is code)
        elif positional:
            add(Access.READ, positional[:1])  # `bash script.sh` reads the script
    elif (language := interpreter_language(name)) is not None:
        code_text = code_argument(language, command.argv)
        if code_text is not None:
            data.update(i for i, w in enumerate(words) if i and w.value == code_text)
        add(Access.WRITE, in_place_files(language, words))
    elif name not in _METADATA_ONLY:
        add(Access.MENTION, [w for w in positional if not _URL.match(w.value)])
        spoken = tuple(w for i, w in enumerate(words) if i not in data)  # not messages
        files.extend(FileAccess(Access.MENTION, w, name, walk) for w, walk in option_files(spoken))

    files.extend(_redirect_access(command))
    files = _found_by_find(command, files)
    git_sub = _git_subcommand(words)[1] if name == "git" else ""
    trees = [
        FileAccess(Access(t.access), t.word, t.by, t.spec, t.hint, t.contents_only)
        for t in tree_accesses(name, words, git_sub)
    ]
    if trees:
        # A walk judges its start path too, so the plain access to the same word is redundant.
        walked = {(t.word.value, t.access) for t in trees}
        files = [
            f
            for f in files
            if (f.word.value, f.access) not in walked
            and (f.access is not Access.MENTION or (f.word.value, Access.READ) not in walked)
        ]
        files.extend(trees)
    regex_text = " ".join(w.value for i, w in enumerate(words) if i not in data)
    canonical = canonicalize(tuple(w.value for i, w in enumerate(words) if i not in data))
    return CommandEffects(
        regex_text,
        tuple(files),
        tuple(dict.fromkeys(hosts)),
        tuple(sql),
        canonical.texts if canonical else (),
        canonical.noop if canonical else False,
    )


def _found_by_find(command: SimpleCommand, files: list[FileAccess]) -> list[FileAccess]:
    """`find DIR … -exec cat {} +` reads what find finds: the walk of DIR with find's tests."""
    if not command.prefix or command_name(command.prefix[0]) != "find":
        return files
    starts, spec = find_walk(tuple(Word(w) for w in command.prefix))
    spec = replace(spec, follow_links=True)  # the command opens what a found link points at
    out = []
    for access in files:
        if access.word.dynamic and access.word.value == FOUND_FILE:
            by = f"find -exec {access.by}"
            hint = "narrow find's -name test or its start path"
            out.extend(FileAccess(access.access, w, by, spec, hint) for w in starts)
        else:
            out.append(access)
    return out


def _sed_in_place(parsed: _Parsed) -> bool:
    return any(
        option == "-i"
        or option.startswith("--in-place")
        or (option.startswith("-") and not option.startswith("--") and "i" in option[1:])
        for option in parsed.options
    )


def _redirect_access(command: SimpleCommand) -> list[FileAccess]:
    accesses = []
    for redirect in command.redirects:
        target = redirect.target
        if target.value.startswith("/dev/") and target.value in {
            "/dev/null",
            "/dev/stdout",
            "/dev/stderr",
            "/dev/tty",
            "/dev/zero",
        }:
            continue
        access = Access.READ if redirect.op in {"<", "<>"} else Access.WRITE
        accesses.append(FileAccess(access, target, command.name or "redirection"))
    return accesses


def _copy_like(name: str, positional: list[Word], target_dirs: list[Word]) -> list[FileAccess]:
    if target_dirs:
        sources, destinations = positional, target_dirs
    elif len(positional) >= 2:
        sources, destinations = positional[:-1], positional[-1:]
    else:
        sources, destinations = positional, []
    source_access = Access.WRITE if name == "mv" else Access.READ
    accesses = [FileAccess(source_access, w, name) for w in sources]
    if name == "mv":
        accesses.extend(FileAccess(Access.READ, w, name) for w in sources)
    accesses.extend(FileAccess(Access.WRITE, w, name) for w in destinations)
    return [a for a in accesses if not _HOST_PATH.match(a.word.value)]


def _find_effects(words: tuple[Word, ...]) -> list[FileAccess]:
    starts = []
    for word in words[1:]:
        if word.value in {"-H", "-L", "-P"} and not starts:
            continue  # symlink options come before the start paths
        if word.value.startswith(("-", "(", "!", ")")):
            break
        starts.append(word)
    if not starts:
        starts = [Word(".")]
    if any(w.value == "-delete" for w in words):
        return [FileAccess(Access.DELETE, w, "find -delete") for w in starts]
    return []
