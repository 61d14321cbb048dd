"""The finders of payloads given in argv: options carrying code, wrapped command words, stdin,
files of code, ssh and git config settings, transports. Pure: it reads argv, never judges."""

from __future__ import annotations

import fnmatch
import shlex

from engine.analysis import minilangs
from engine.analysis.vector_model import (
    Call,
    Finder,
    Payload,
    code_payload,
    option_values,
    shell_join,
)
from engine.analysis.vector_table import GIT_CODE_KEYS, GIT_FILE_KEYS, WRAPPER_OPTIONS, Find, Vector


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
                found.append(code_payload(f"{call.name} {option}", value, dynamic, stdin_from))
        if row.trigger.startswith("pkg set"):
            found.extend(_npm_scripts(call))
    return found


def _npm_scripts(call: Call) -> list[Payload]:
    found = []
    for index, word in enumerate(call.argv):
        key, equals, value = word.partition("=")
        if equals and key.startswith("scripts."):
            found.append(code_payload(f"npm pkg set {key}", value, call.dynamic[index]))
    return found


def _find_words(rows: list[Vector], call: Call) -> list[Payload]:
    if call.name == "git":
        for row in rows:
            index = call.argv.index(row.subcommand) + 1
            if index >= len(call.argv):
                continue
            if row.subcommand == "foreach":  # the words are joined into one shell command
                text = " ".join(call.argv[index:])
                return [code_payload(f"git {row.trigger}", text, any(call.dynamic[index:]))]
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
            code_payload("parallel", shell_join((*command, argument)), dynamic)
            for argument in arguments[:16] or [""]
        ]
    return [code_payload("parallel :::", argument, dynamic) for argument in arguments[:16]]


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
            found.append(code_payload(f"{call.name} -o {key}", setting.strip(), dynamic))
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
    return code_payload(construct, value, dynamic)


def _find_ext_url(rows: list[Vector], call: Call) -> list[Payload]:
    found = []
    for word, dynamic in zip(call.argv, call.dynamic, strict=True):
        if word.startswith("ext::"):
            found.append(
                code_payload("git ext:: transport", minilangs.ext_command(word[5:]), dynamic)
            )
    return found


def _find_socat(rows: list[Vector], call: Call) -> list[Payload]:
    found = []
    for word, dynamic in zip(call.argv[1:], call.dynamic[1:], strict=True):
        kind, colon, rest = word.partition(":")
        if colon and kind.upper() in {"EXEC", "SYSTEM"}:
            command = minilangs.socat_command(rest)
            found.append(code_payload(f"socat {kind.upper()}:", command, dynamic, "the network"))
    return found


def _find_unseen(rows: list[Vector], call: Call) -> list[Payload]:
    return [
        Payload(f"{call.name} {row.trigger}", unseen=f"`{shlex.join(call.argv)}` {row.runs}")
        for row in rows
        if not row.options or option_values(call, row.options)
    ]


FINDERS: dict[Find, Finder] = {
    Find.CODE: _find_code,
    Find.WORDS: _find_words,
    Find.STDIN: _find_stdin,
    Find.FILE: _find_file,
    Find.LANGUAGE: _find_language,
    Find.SSH_OPTION: _find_ssh_option,
    Find.GIT_CONFIG: _find_git_config,
    Find.EXT_URL: _find_ext_url,
    Find.SOCAT: _find_socat,
    Find.UNSEEN: _find_unseen,
}
