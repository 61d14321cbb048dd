"""What one simple command does, by the command's known conventions: which words are only
data, which files it reads, writes or deletes, which hosts it reaches, which SQL it runs.
Pure: it reads no file and knows no policy; the checks judge what it reports."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum
from urllib.parse import urlsplit

from engine.analysis.editors import in_place_files
from engine.analysis.uploads import option_files
from engine.clis import canonicalize
from engine.fs import WalkSpec
from engine.interpreters import code_argument, interpreter_language
from engine.shell import (
    SHELLS,
    SSH_VALUE_OPTIONS,
    SimpleCommand,
    Word,
    command_name,
    shell_code_argument,
)
from engine.walks import FOUND_FILE, find_walk, tree_accesses, zip_operands


class Access(StrEnum):
    READ = "read"
    WRITE = "write"
    DELETE = "delete"
    # Passed as an argument to a program whose behaviour we don't model: it may read it.
    MENTION = "mention"


@dataclass(frozen=True, slots=True)
class FileAccess:
    """`walk` set: the access reaches every file the tool visits below `word`."""

    access: Access
    word: Word
    by: str
    walk: WalkSpec | None = None
    hint: str = ""
    contents_only: bool = False  # the files the walk finds, not `word` itself


@dataclass(frozen=True, slots=True)
class SqlSource:
    """SQL a client would run: inline text, a file to read, or nothing we can see."""

    client: str
    dialect: str | None
    text: str | None = None
    file: Word | None = None
    unseen: str | None = None


@dataclass(frozen=True, slots=True)
class CommandEffects:
    """`canonical`: the action the command names, spelled as the CLI tables' program would
    (`pnpm publish` is `npm publish`); `noop`: an option makes it do nothing (`--dry-run`)."""

    regex_text: str
    files: tuple[FileAccess, ...]
    hosts: tuple[str, ...]
    sql: tuple[SqlSource, ...]
    canonical: tuple[str, ...] = ()
    noop: bool = False


# ---------------------------------------------------------------- command knowledge

_PRINTERS = frozenset(
    [
        ":",
        "true",
        "false",
        "test",
        "[",
        "[[",
        "echo",
        "printf",
        "logger",
        "wall",
        "notify-send",
        "say",
        "cowsay",
        "figlet",
        "banner",
        "toilet",
    ]
)
_METADATA_ONLY = frozenset(
    [
        "ls",
        "ll",
        "dir",
        "stat",
        "test",
        "[",
        "[[",
        "which",
        "type",
        "whereis",
        "basename",
        "dirname",
        "realpath",
        "readlink",
        "du",
        "df",
        "command",
        "hash",
        "alias",
        "true",
        "false",
        "pwd",
        "cd",
        "pushd",
        "popd",
        "exit",
        "return",
        "export",
        "unset",
        "set",
        "declare",
        "local",
        "readonly",
        "shift",
        "wait",
        "jobs",
        "sleep",
        "date",
        "id",
        "whoami",
        "hostname",
        "uname",
        "tty",
        "history",
    ]
    + list(_PRINTERS)
)
_READERS = frozenset(
    [
        "cat",
        "tac",
        "less",
        "more",
        "head",
        "tail",
        "bat",
        "batcat",
        "nl",
        "od",
        "xxd",
        "hexdump",
        "strings",
        "wc",
        "sort",
        "uniq",
        "cut",
        "paste",
        "column",
        "fold",
        "fmt",
        "diff",
        "cmp",
        "comm",
        "md5sum",
        "sha1sum",
        "sha224sum",
        "sha256sum",
        "sha384sum",
        "sha512sum",
        "b2sum",
        "cksum",
        "base64",
        "base32",
        "file",
        "view",
        "zcat",
        "bzcat",
        "xzcat",
        "zless",
        "iconv",
        "source",
        ".",
        "expand",
        "unexpand",
        "split",
        "csplit",
        "look",
        "pr",
        "tsort",
        "xmllint",
        "jsonlint",
        "yamllint",
    ]
)
_EDITORS = frozenset(
    ["vi", "vim", "nvim", "nano", "emacs", "pico", "ed", "ex", "code", "subl", "micro", "joe"]
)
_DELETERS = frozenset({"rm", "unlink", "rmdir", "shred", "srm", "trash", "trash-put"})
_TOUCHERS = frozenset({"touch", "truncate", "mkdir", "mkfifo", "mknod"})
_PERMISSIONS = frozenset({"chmod", "chown", "chgrp", "chattr", "setfacl"})
_GREPS = frozenset(["grep", "egrep", "fgrep", "zgrep", "rg", "ag", "ack"])
_SCRIPTED = {"sed": "e", "awk": "f", "gawk": "f", "mawk": "f", "nawk": "f", "jq": "f", "yq": "f"}

# curl's request payload options: they take a value, and that value is data, not a command.
_CURL_PAYLOAD = frozenset(
    [
        "-d",
        "-H",
        "-F",
        "-A",
        "--data",
        "--data-raw",
        "--data-binary",
        "--data-urlencode",
        "--json",
        "--header",
        "--form",
        "--user-agent",
    ]
)
# Options that take a value, so the value is not mistaken for a file.
_OPTION_VALUES: dict[str, frozenset[str]] = {
    "head": frozenset({"-n", "-c", "--lines", "--bytes"}),
    "tail": frozenset({"-n", "-c", "--lines", "--bytes", "-s", "--pid"}),
    "cut": frozenset({"-d", "-f", "-c", "-b", "--delimiter", "--fields"}),
    "sort": frozenset({"-k", "-t", "-o", "-S", "-T", "--key", "--output"}),
    "diff": frozenset({"-U", "-C", "-x", "-X", "--label", "-L", "-I"}),
    "split": frozenset({"-l", "-b", "-n", "-C", "-a"}),
    "truncate": frozenset({"-s", "--size", "-r", "--reference"}),
    "grep": frozenset(
        [
            "-e",
            "-f",
            "-m",
            "-A",
            "-B",
            "-C",
            "-d",
            "-D",
            "--regexp",
            "--file",
            "--max-count",
            "--context",
            "--exclude",
            "--include",
            "--exclude-dir",
        ]
    ),
    "tar": frozenset({"--exclude", "-C", "--directory", "-X", "--exclude-from", "-T"}),
    "rsync": frozenset({"--exclude", "--include", "--filter", "-e", "--rsh", "-f"}),
    "rg": frozenset(
        [
            "-e",
            "-f",
            "-g",
            "-t",
            "-T",
            "-m",
            "-A",
            "-B",
            "-C",
            "-M",
            "-j",
            "--glob",
            "--iglob",
            "--type",
            "--max-count",
        ]
    ),
    "ag": frozenset({"-G", "-A", "-B", "-C", "-m", "--ignore"}),
    "sed": frozenset({"-e", "-f", "-l", "--expression", "--file"}),
    "awk": frozenset({"-f", "-v", "-F", "--assign", "--field-separator"}),
    "jq": frozenset({"--arg", "--argjson", "--slurpfile", "--rawfile", "-L", "--indent"}),
    "cp": frozenset({"-t", "-S", "--target-directory", "--suffix"}),
    "mv": frozenset({"-t", "-S", "--target-directory", "--suffix"}),
    "ln": frozenset({"-t", "-S", "--target-directory", "--suffix"}),
    "install": frozenset({"-m", "-o", "-g", "-t", "--mode", "--owner", "--group"}),
    "tee": frozenset(),
    "chown": frozenset({"--reference"}),
    "chmod": frozenset({"--reference"}),
    "xxd": frozenset({"-c", "-g", "-l", "-s", "-o"}),
    "od": frozenset({"-A", "-j", "-N", "-t", "-w"}),
    # `ssh -o ProxyCommand=… host`: the host is the first positional after option values.
    "ssh": SSH_VALUE_OPTIONS,
    "sftp": frozenset(
        ["-B", "-b", "-c", "-D", "-F", "-i", "-J", "-l", "-o", "-P", "-R", "-S", "-s"]
    ),
    "curl": _CURL_PAYLOAD
    | frozenset(
        [
            "-u",
            "-X",
            "-o",
            "-e",
            "-b",
            "-c",
            "-T",
            "-x",
            "-w",
            "-K",
            "-m",
            "-E",
            "--user",
            "--request",
            "--output",
            "--referer",
            "--cookie",
            "--cookie-jar",
            "--upload-file",
            "--proxy",
            "--write-out",
            "--config",
            "--max-time",
            "--connect-timeout",
            "--cert",
            "--key",
            "--cacert",
            "--retry",
            "--resolve",
        ]
    ),
    "wget": frozenset(
        [
            "-O",
            "-o",
            "-a",
            "-P",
            "-U",
            "-e",
            "--output-document",
            "--output-file",
            "--directory-prefix",
            "--user-agent",
            "--header",
            "--post-data",
            "--post-file",
            "--body-data",
            "--user",
            "--password",
        ]
    ),
}
_DATA_OPTIONS: dict[str, frozenset[str]] = {
    # The values of these options are messages, search strings or payloads, not commands.
    "gh": frozenset(
        ["-t", "-b", "-m", "--title", "--body", "--message", "--notes", "--subject", "-q", "--jq"]
    ),
    "glab": frozenset(["-t", "-d", "--title", "--description", "--message"]),
    "curl": _CURL_PAYLOAD,
    "wget": frozenset({"--post-data", "--body-data", "--header", "-U", "--user-agent"}),
    "jira": frozenset({"-m", "--message", "--summary", "--body"}),
}

_SQL_CLIENTS: dict[str, tuple[str | None, frozenset[str]]] = {
    "psql": ("postgres", frozenset({"-c", "--command"})),
    "mysql": ("mysql", frozenset({"-e", "--execute"})),
    "mariadb": ("mysql", frozenset({"-e", "--execute"})),
    "sqlite3": ("sqlite", frozenset({"-cmd"})),
    "duckdb": (None, frozenset({"-c", "-cmd"})),
    "clickhouse-client": (None, frozenset({"-q", "--query"})),
    "sqlcmd": ("tsql", frozenset({"-Q", "-q"})),
    "snowsql": ("snowflake", frozenset({"-q", "--query"})),
    "cockroach": ("postgres", frozenset({"-e", "--execute"})),
}
_SQL_FILE_OPTIONS = frozenset({"-f", "--file", "-i", "--input-file"})
_SQL_VALUE_OPTIONS = frozenset(
    [
        "-h",
        "-p",
        "-U",
        "-d",
        "-W",
        "-P",
        "-v",
        "-u",
        "-D",
        "-S",
        "--host",
        "--port",
        "--username",
        "--dbname",
        "--user",
        "--database",
        "--set",
        "--variable",
        "-o",
        "--output",
        "-F",
        "-R",
    ]
)

_NETWORK_URL_TOOLS = frozenset({"curl", "wget", "http", "https", "xh", "httpie", "aria2c", "lynx"})
_NETWORK_HOST_TOOLS = frozenset({"nc", "ncat", "netcat", "telnet", "ftp", "sftp", "ssh", "mosh"})
_HOST_PATH = re.compile(r"^(?:[\w.+-]+@)?([A-Za-z0-9][\w.-]*):(?!//)")
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Parsed:
    """A command's words split into positionals and option values, by index into argv.

    An option glued to its value (`-oX`, `--out=X`) contributes its own index, so marking
    it as data hides the whole word.
    """

    words: tuple[Word, ...]
    positional: tuple[int, ...]
    options: dict[str, list[int]]

    def pos(self) -> list[Word]:
        return [self.words[i] for i in self.positional]

    def has(self, *names: str) -> bool:
        return any(name in self.options for name in names)

    def value_indexes(self, *names: str) -> list[int]:
        return [i for name in names for i in self.options.get(name, [])]

    def values(self, *names: str) -> list[Word]:
        found = []
        for name in names:
            for index in self.options.get(name, []):
                word = self.words[index]
                if word.value.startswith(name) and word.value != name:
                    word = Word(word.value[len(name) :].removeprefix("="), word.glob, word.dynamic)
                found.append(word)
        return found


def _parse(words: tuple[Word, ...], takes_value: frozenset[str]) -> _Parsed:
    positional: list[int] = []
    options: dict[str, list[int]] = {}
    index, only_positional = 1, False
    while index < len(words):
        value = words[index].value
        if only_positional or not value.startswith("-") or value == "-":
            positional.append(index)
        elif value == "--":
            only_positional = True
        elif value.startswith("--") and "=" in value:
            options.setdefault(value.split("=", 1)[0], []).append(index)
        elif value in takes_value:
            if index + 1 < len(words):
                options.setdefault(value, []).append(index + 1)
            index += 1
        elif not value.startswith("--") and len(value) > 2 and value[:2] in takes_value:
            options.setdefault(value[:2], []).append(index)
        elif not value.startswith("--") and f"-{value[-1]}" in takes_value:
            # `git commit -am MSG`: a cluster of flags whose last one takes the next word.
            if index + 1 < len(words):
                options.setdefault(f"-{value[-1]}", []).append(index + 1)
            index += 1
        else:
            options.setdefault(value, [])
        index += 1
    return _Parsed(words, tuple(positional), options)


def _hosts_from_urls(words: list[Word]) -> list[str]:
    hosts = []
    for word in words:
        text = word.value if _URL.match(word.value) else f"http://{word.value}"
        try:
            host = urlsplit(text).hostname
        except ValueError:
            host = None
        if host and ("." in host or host == "localhost" or _URL.match(word.value)):
            hosts.append(host)
    return hosts


def _strip_user(host: str) -> str:
    return host.rsplit("@", 1)[-1].split(":", 1)[0]


# ---------------------------------------------------------------- the analysis


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


def _sql_sources(command: SimpleCommand, name: str) -> list[SqlSource]:
    dialect, inline_options = _SQL_CLIENTS[name]
    words = command.words
    sources: list[SqlSource] = []
    positional: list[Word] = []
    index = 1
    while index < len(words):
        word = words[index]
        value = word.value
        option, eq, glued = value.partition("=")
        if value in inline_options or (eq and option in inline_options):
            text_word = (
                Word(glued, dynamic=word.dynamic)
                if eq
                else (words[index + 1] if index + 1 < len(words) else None)
            )
            index += 0 if eq else 1
            if text_word is not None:
                sources.append(_inline(name, dialect, text_word))
        elif value in _SQL_FILE_OPTIONS or (eq and option in _SQL_FILE_OPTIONS):
            file_word = (
                Word(glued) if eq else (words[index + 1] if index + 1 < len(words) else None)
            )
            index += 0 if eq else 1
            if file_word is not None:
                sources.append(SqlSource(name, dialect, file=file_word))
        elif (
            value.startswith("-")
            and len(value) > 2
            and not value.startswith("--")
            and value[:2] in inline_options
        ):
            sources.append(_inline(name, dialect, Word(value[2:], dynamic=word.dynamic)))
        elif value in _SQL_VALUE_OPTIONS:
            index += 1
        elif not value.startswith("-"):
            positional.append(word)
        index += 1
    if name in {"sqlite3", "duckdb"} and len(positional) > 1:
        sources.extend(_inline(name, dialect, w) for w in positional[1:])
    if name == "cockroach" and positional[:1] and positional[0].value != "sql":
        return []
    if command.stdin_text is not None:
        sources.append(SqlSource(name, dialect, text=command.stdin_text))
    elif command.piped_input:
        sources.append(
            SqlSource(name, dialect, unseen=f"{name} runs SQL piped from another command")
        )
    for redirect in command.redirects:
        if redirect.op == "<":
            sources.append(SqlSource(name, dialect, file=redirect.target))
    return sources


def _sql_database_file(command: SimpleCommand, name: str) -> Word | None:
    """The database file an embedded-database client opens (`sqlite3 app.db …`), if named."""
    if name not in {"sqlite3", "duckdb"}:
        return None
    takes_value = _SQL_CLIENTS[name][1] | _SQL_FILE_OPTIONS | _SQL_VALUE_OPTIONS
    words = command.words
    index = 1
    while index < len(words):
        value = words[index].value
        if value in takes_value:
            index += 2
            continue
        if not value.startswith("-"):
            return None if value == ":memory:" else words[index]
        index += 1
    return None


def _inline(name: str, dialect: str | None, word: Word) -> SqlSource:
    if word.dynamic:
        return SqlSource(name, dialect, unseen=f"{name} runs SQL built at run time: {word.value!r}")
    return SqlSource(name, dialect, text=word.value)
