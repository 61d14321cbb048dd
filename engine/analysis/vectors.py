"""Finds the payload of every execution vector in `vector_table` on one simple command.
Pure: reads argv and variables, returns what will run (or why it cannot be seen), never judges."""

from __future__ import annotations

import fnmatch
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from engine.analysis import minilangs
from engine.analysis.vector_table import (
    ENV_VECTORS,
    GIT_CODE_KEYS,
    GIT_FILE_KEYS,
    VECTORS,
    WRAPPER_OPTIONS,
    Find,
    Vector,
)


@dataclass(frozen=True, slots=True)
class Payload:
    """What a vector will run: shell `code`, the command at argv index `start`, or nothing seen.

    `unseen` says why the payload cannot be checked; it is set exactly when nothing else is.
    `stdin_from` names where the payload reads its input, when that is not this command line.
    """

    construct: str
    code: str | None = None
    start: int | None = None
    unseen: str = ""
    stdin_from: str | None = None


@dataclass(frozen=True, slots=True)
class Call:
    name: str  # the program, without its folder
    argv: tuple[str, ...]
    dynamic: tuple[bool, ...]
    stdin_text: str | None
    piped: bool
    stdin_file: str | None = None  # `cmd < FILE`


def _by_program(rows: Sequence[Vector]) -> dict[str, tuple[tuple[Find, tuple[Vector, ...]], ...]]:
    """program -> its rows grouped by how their payload is found, so each finder runs once."""
    index: dict[str, dict[Find, list[Vector]]] = {}
    for row in rows:
        for program in row.programs:
            index.setdefault(program, {}).setdefault(row.find, []).append(row)
    return {
        program: tuple((kind, tuple(found)) for kind, found in kinds.items())
        for program, kinds in index.items()
    }


_PROGRAM_ROWS = _by_program(VECTORS)
PROGRAMS = frozenset(_PROGRAM_ROWS)


@lru_cache(maxsize=4096)
def command_payloads(call: Call) -> tuple[Payload, ...]:
    """Every payload the vectors of this program carry on this argv. Cached: the same simple
    commands (`git status`) come back in ever new command lines."""
    groups = _PROGRAM_ROWS.get(call.name)
    if not groups:
        return ()
    words = frozenset(call.argv[1:])
    found: list[Payload] = []
    for kind, rows in groups:
        given = [row for row in rows if not row.subcommand or row.subcommand in words]
        if given:
            found.extend(_FINDERS[kind](given, call))
    return tuple(found)


def _code(construct: str, value: str, dynamic: bool, stdin_from: str | None = None) -> Payload:
    if dynamic:
        return Payload(construct, unseen=f"{construct} runs code built at run time: {value!r}")
    return Payload(construct, code=value, stdin_from=stdin_from)


def option_values(call: Call, spellings: Sequence[str]) -> list[tuple[str, str, bool]]:
    """(spelling, value, dynamic) of every use of the options, in any of getopt's forms."""
    found: list[tuple[str, str, bool]] = []
    argv = call.argv
    for index in range(1, len(argv)):
        word = argv[index]
        if word[:1] != "-":
            continue
        if word == "--":
            break
        for option in spellings:
            if word == option and index + 1 < len(argv):
                found.append((option, argv[index + 1], call.dynamic[index + 1]))
            elif word.startswith(option + "="):
                found.append((option, word[len(option) + 1 :], call.dynamic[index]))
            elif len(option) == 2 and len(word) > 2 and word.startswith(option):
                found.append((option, word[2:], call.dynamic[index]))
    return found


# ---------------------------------------------------------------- finders


def _find_code(rows: list[Vector], call: Call) -> list[Payload]:
    found = []
    for row in rows:
        stdin_from = "the network" if call.name in {"nc", "ncat", "netcat"} else None
        for option, value, dynamic in option_values(call, row.options):
            if row.trigger.startswith("--checkpoint-action"):
                if not value.startswith("exec="):
                    continue
                value = value[len("exec=") :]
            if row.trigger.startswith("pkg set"):
                continue
            if value:
                found.append(_code(f"{call.name} {option}", value, dynamic, stdin_from))
        if row.trigger.startswith("pkg set"):
            found.extend(_npm_scripts(call))
    return found


def _npm_scripts(call: Call) -> list[Payload]:
    found = []
    for index, word in enumerate(call.argv):
        key, equals, value = word.partition("=")
        if equals and key.startswith("scripts."):
            found.append(_code(f"npm pkg set {key}", value, call.dynamic[index]))
    return found


def _find_words(rows: list[Vector], call: Call) -> list[Payload]:
    if call.name == "git":
        for row in rows:
            index = call.argv.index(row.subcommand) + 1
            if index >= len(call.argv):
                continue
            if row.subcommand == "foreach":  # the words are joined into one shell command
                text = " ".join(call.argv[index:])
                return [_code(f"git {row.trigger}", text, any(call.dynamic[index:]))]
            return [Payload(f"git {row.trigger}", start=index)]
        return []
    takes_value, positionals = WRAPPER_OPTIONS[call.name]
    index = 1
    while index < len(call.argv):
        word = call.argv[index]
        if word == "--":
            index += 1
            break
        if not word.startswith("-") or word == "-":
            break
        if word in takes_value:
            index += 1
        index += 1
    index += positionals
    if call.name == "coproc" and index < len(call.argv):  # `coproc [NAME] { cmd; }`
        if call.argv[index] in {"{", "("}:
            index += 1
        elif index + 1 < len(call.argv) and call.argv[index + 1] in {"{", "("}:
            index += 2
    if call.name == "parallel":
        return _parallel(call, index)
    if index < len(call.argv) and call.argv[index] not in {"{", "("}:
        return [Payload(call.name, start=index)]
    return []


def _parallel(call: Call, start: int) -> list[Payload]:
    separator = call.argv.index(":::") if ":::" in call.argv else len(call.argv)
    arguments = call.argv[separator + 1 :]
    dynamic = any(call.dynamic[start:])
    if start < separator:
        command = call.argv[start:separator]
        return [
            _code("parallel", shell_join((*command, argument)), dynamic)
            for argument in arguments[:16] or [""]
        ]
    return [_code("parallel :::", argument, dynamic) for argument in arguments[:16]]


def shell_join(words: Sequence[str]) -> str:
    """Quote words back into shell text; a leading `~` stays unquoted so it still means home."""
    quoted = []
    for word in words:
        if word == "~" or word.startswith("~/"):
            quoted.append("~" + (shlex.quote(word[1:]) if len(word) > 1 else ""))
        elif word:
            quoted.append(shlex.quote(word))
    return " ".join(quoted)


def _find_stdin(rows: list[Vector], call: Call) -> list[Payload]:
    arguments = call.argv[1:]
    if any(a in {"-l", "-r", "-d", "-c", "-f"} or a.startswith("-f") for a in arguments):
        return []
    if call.stdin_text is not None:
        return [Payload(f"{call.name} stdin", code=call.stdin_text)]
    if call.piped:
        return [Payload(f"{call.name} stdin", unseen=f"{call.name} schedules piped commands")]
    if call.stdin_file is not None:
        unseen = f"{call.name} schedules the commands in the file {call.stdin_file!r}"
        return [Payload(f"{call.name} < FILE", unseen=unseen)]
    return []


def _find_file(rows: list[Vector], call: Call) -> list[Payload]:
    found = []
    for row in rows:
        for option, value, _ in option_values(call, row.options):
            if value not in {"", "/dev/null"}:
                found.append(
                    Payload(
                        f"{call.name} {option}",
                        unseen=f"{call.name} {option} {value!r} runs code from a file it names "
                        f"({row.runs})",
                    )
                )
    return found


def _find_language(rows: list[Vector], call: Call) -> list[Payload]:
    label = f"{call.name} code"
    for row in rows:
        if option_values(call, row.options):
            return [Payload(label, unseen=f"{label} ({row.runs}) has no parser here")]
    positional = [a for a in call.argv[1:] if not a.startswith("-")]
    reads_stdin = "-" in call.argv[1:] or not positional
    if reads_stdin and (call.stdin_text is not None or call.piped):
        return [Payload(label, unseen=f"{call.name} reads {rows[0].runs} from its input")]
    return []


def _find_ssh_option(rows: list[Vector], call: Call) -> list[Payload]:
    keys = {row.trigger.split()[-1].lower() for row in rows}
    found = []
    for _, value, dynamic in option_values(call, ("-o",)):
        key, _, setting = value.replace("=", " ", 1).partition(" ")
        if key.lower() in keys and setting.strip().lower() not in {"", "none"}:
            found.append(_code(f"{call.name} -o {key}", setting.strip(), dynamic))
    return found


def _find_git_config(rows: list[Vector], call: Call) -> list[Payload]:
    pairs: list[tuple[str, str, bool]] = []
    for _, value, dynamic in option_values(call, ("-c",)):
        key, _, setting = value.partition("=")
        pairs.append((key, setting, dynamic))
    for _, value, _ in option_values(call, ("--config-env",)):
        key, _, variable = value.partition("=")  # the value comes from the environment
        pairs.append((key, f"${variable}", True))
    if "config" in call.argv:
        words = [
            (w, d)
            for w, d in zip(
                call.argv[call.argv.index("config") + 1 :],
                call.dynamic[call.argv.index("config") + 1 :],
                strict=True,
            )
            if not w.startswith("-") and w not in {"set", "--add"}
        ]
        if len(words) >= 2:
            pairs.append((words[0][0], words[1][0], words[1][1]))
    return [p for key, value, dynamic in pairs if (p := git_config_payload(key, value, dynamic))]


def git_config_payload(key: str, value: str, dynamic: bool) -> Payload | None:
    """A git config setting that runs a program (or names files of code), else None."""
    lowered = key.lower()
    construct = f"git config {key}"
    if any(fnmatch.fnmatchcase(lowered, pattern) for pattern in GIT_FILE_KEYS):
        return Payload(construct, unseen=f"{construct}={value!r} runs code from files it names")
    if not any(fnmatch.fnmatchcase(lowered, pattern) for pattern in GIT_CODE_KEYS):
        return None
    if lowered.startswith("alias."):
        value = value[1:] if value.startswith("!") else f"git {value}"
    elif value.startswith("!"):
        value = value[1:]
    if not value.strip() or value.strip() in {"true", "false"}:
        return None
    return _code(construct, value, dynamic)


def _find_ext_url(rows: list[Vector], call: Call) -> list[Payload]:
    found = []
    for word, dynamic in zip(call.argv, call.dynamic, strict=True):
        if word.startswith("ext::"):
            found.append(_code("git ext:: transport", minilangs.ext_command(word[5:]), dynamic))
    return found


def _find_socat(rows: list[Vector], call: Call) -> list[Payload]:
    found = []
    for word, dynamic in zip(call.argv[1:], call.dynamic[1:], strict=True):
        kind, colon, rest = word.partition(":")
        if colon and kind.upper() in {"EXEC", "SYSTEM"}:
            command = minilangs.socat_command(rest)
            found.append(_code(f"socat {kind.upper()}:", command, dynamic, "the network"))
    return found


def _program_text(call: Call, with_value: frozenset[str], file_options: frozenset[str]) -> str:
    index = 1
    while index < len(call.argv):
        word = call.argv[index]
        if word == "--":
            index += 1
            break
        if word in file_options:
            return ""
        if not word.startswith("-") or word == "-":
            break
        index += 1 + (word in with_value)
    return call.argv[index] if index < len(call.argv) else ""


_AWK_VALUE = frozenset({"-F", "-v", "--assign", "--field-separator", "-i", "--include"})
_AWK_FILE = frozenset({"-f", "--file", "-E", "--exec"})


def _find_awk(rows: list[Vector], call: Call) -> list[Payload]:
    if option_values(call, ("-l", "--load")):
        return [Payload("awk --load", unseen="awk --load loads a compiled extension")]
    texts = [v for _, v, _ in option_values(call, ("-e", "--source"))]
    if not texts:
        texts = [_program_text(call, _AWK_VALUE, _AWK_FILE)]
    return _language_payloads("awk", minilangs.awk_commands, texts)


_SED_VALUE = frozenset({"-l", "--line-length"})
_SED_FILE = frozenset({"-f", "--file"})


def _find_sed(rows: list[Vector], call: Call) -> list[Payload]:
    texts = [v for _, v, _ in option_values(call, ("-e", "--expression"))]
    if not texts and not option_values(call, ("-f", "--file")):
        texts = [_program_text(call, _SED_VALUE, _SED_FILE)]
    return _language_payloads("sed", minilangs.sed_commands, texts)


def _find_vim(rows: list[Vector], call: Call) -> list[Payload]:
    pager = call.name in {"less", "more"}
    texts = [] if pager else [v for _, v, _ in option_values(call, ("-c", "--cmd"))]
    texts += [w[1:] for w in call.argv[1:] if w.startswith("+") and len(w) > 1]
    reader = minilangs.less_commands if pager else minilangs.ex_commands
    return _language_payloads(call.name, reader, texts)


def _find_crontab(rows: list[Vector], call: Call) -> list[Payload]:
    arguments = [a for a in call.argv[1:] if not a.startswith("-") or a == "-"]
    options = [a for a in call.argv[1:] if a.startswith("-") and a != "-"]
    if any(o in {"-l", "-r", "-e", "-i", "-V", "-T"} for o in options):
        return []
    if arguments and arguments[-1] != "-":
        file = arguments[-1]
        return [Payload("crontab FILE", unseen=f"crontab installs jobs from the file {file!r}")]
    if call.stdin_text is not None:
        return _language_payloads("crontab", minilangs.crontab_commands, [call.stdin_text])
    if call.piped:
        return [Payload("crontab", unseen="crontab installs piped jobs")]
    if call.stdin_file is not None:
        unseen = f"crontab installs jobs from the file {call.stdin_file!r}"
        return [Payload("crontab < FILE", unseen=unseen)]
    return []


def _find_unseen(rows: list[Vector], call: Call) -> list[Payload]:
    return [
        Payload(f"{call.name} {row.trigger}", unseen=f"`{shlex.join(call.argv)}` {row.runs}")
        for row in rows
        if not row.options or option_values(call, row.options)
    ]


def _language_payloads(
    label: str, reader: Callable[[str], minilangs.Commands], texts: Sequence[str]
) -> list[Payload]:
    found = []
    for text in texts:
        commands = reader(text)
        found.extend(Payload(label, code=code) for code in commands.code)
        found.extend(Payload(label, unseen=f"{label}: {why}") for why in commands.unseen)
    return found


_FINDERS: dict[Find, Callable[[list[Vector], Call], list[Payload]]] = {
    Find.CODE: _find_code,
    Find.WORDS: _find_words,
    Find.STDIN: _find_stdin,
    Find.FILE: _find_file,
    Find.LANGUAGE: _find_language,
    Find.SSH_OPTION: _find_ssh_option,
    Find.GIT_CONFIG: _find_git_config,
    Find.EXT_URL: _find_ext_url,
    Find.SOCAT: _find_socat,
    Find.AWK: _find_awk,
    Find.SED: _find_sed,
    Find.VIM: _find_vim,
    Find.CRONTAB: _find_crontab,
    Find.UNSEEN: _find_unseen,
}


# ---------------------------------------------------------------- environment

_ENV_ROWS = {row.trigger: row for row in ENV_VECTORS}
_INDEXED = re.compile(r"GIT_CONFIG_VALUE_(\d+)")


def env_payloads(
    name: str, value: str | None, environment: Mapping[str, str | None]
) -> list[Payload]:
    """What a child started with `name=value` runs because of it; `environment` holds the rest."""
    if name.startswith("BASH_FUNC_"):
        row = _ENV_ROWS["BASH_FUNC_*"]
    elif _INDEXED.fullmatch(name):
        key = environment.get(f"GIT_CONFIG_KEY_{_INDEXED.fullmatch(name).group(1)}")  # type: ignore[union-attr]
        if key is None:
            return [Payload(name, unseen=f"{name} sets git config whose key is not known")]
        found = git_config_payload(key, value or "", value is None)
        return [found] if found else []
    else:
        row = _ENV_ROWS.get(name)
    if row is None or value == "":
        return []
    if value is None:
        return [Payload(name, unseen=f"{name} ({row.runs}) is set at run time")]
    if row.find is Find.CODE:
        if name in {"LESSOPEN", "LESSCLOSE"}:  # `|cmd %s`, `||cmd`, `-|cmd`: a pipe marker
            value = value.lstrip("|-")
        return [Payload(name, code=value)]
    if row.find is Find.PROMPT:
        return (
            [Payload(name, code=minilangs.expansion_probe(value))]
            if "$(" in value or "`" in value
            else []
        )
    if row.find is Find.FUNCTION:
        return [Payload(name, code=f"imported_function {value}")]
    if row.find is Find.GIT_CONFIG:
        pairs = [p.partition("=") for p in minilangs.split_words(value)]
        return [p for k, _, v in pairs if (p := git_config_payload(k, v, False))]
    return [Payload(name, unseen=f"{name}={value!r}: {row.runs}")]
