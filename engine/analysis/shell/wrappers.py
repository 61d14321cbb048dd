"""Commands that run another command (env, sudo, timeout, ssh, uv run, xargs…): which of their
words start the inner command, and the code a shell takes with -c. Reads words only."""

from __future__ import annotations

import re

from engine.analysis.shell.words import Word

MAX_DEPTH = 12  # levels of code inside code: `bash -c "eval '…'"`


# ssh's options that take a value: the host (and the command) follow them.
SSH_VALUE_OPTIONS = frozenset(
    [
        "-b",
        "-c",
        "-D",
        "-E",
        "-e",
        "-F",
        "-I",
        "-i",
        "-J",
        "-L",
        "-l",
        "-m",
        "-O",
        "-o",
        "-p",
        "-Q",
        "-R",
        "-S",
        "-W",
        "-w",
        "-B",
    ]
)

# Options that consume the next word, per wrapper; everything else starting with `-` is a flag.
_WRAPPER_OPTION_ARGS: dict[str, frozenset[str]] = {
    "sudo": frozenset(
        [
            "-u",
            "-g",
            "-h",
            "-p",
            "-C",
            "-D",
            "-r",
            "-t",
            "-U",
            "-T",
            "--user",
            "--group",
            "--host",
            "--prompt",
        ]
    ),
    "doas": frozenset({"-u", "-C"}),
    "nohup": frozenset(),
    "setsid": frozenset(),
    "time": frozenset({"-f", "-o", "--format", "--output"}),
    "nice": frozenset({"-n", "--adjustment"}),
    "ionice": frozenset({"-c", "-n", "-p", "--class", "--classdata"}),
    "timeout": frozenset({"-s", "-k", "--signal", "--kill-after"}),
    "stdbuf": frozenset({"-i", "-o", "-e"}),
    "exec": frozenset({"-a"}),
    "command": frozenset(),
    "builtin": frozenset(),
    "unbuffer": frozenset(),
    "chronic": frozenset(),
    "caffeinate": frozenset(),
    "torsocks": frozenset(),
    "proxychains": frozenset({"-f"}),
    "proxychains4": frozenset({"-f"}),
    "chroot": frozenset(),
    "flock": frozenset({"-w", "-E", "--timeout", "--conflict-exit-code"}),
    "ssh": SSH_VALUE_OPTIONS,
    "xargs": frozenset(
        [
            "-I",
            "-n",
            "-L",
            "-P",
            "-d",
            "-E",
            "-s",
            "-a",
            "-l",
            "--arg-file",
            "--delimiter",
            "--max-args",
        ]
    ),
}

# How many positional words a wrapper takes before the wrapped command.
_WRAPPER_POSITIONALS = {"timeout": 1, "chroot": 1, "flock": 1, "ssh": 1}

_RUNNERS = {  # `uv run rm …` runs rm
    ("uv", "run"),
    ("poetry", "run"),
    ("pipenv", "run"),
    ("bundle", "exec"),
    ("pnpm", "exec"),
    ("npm", "exec"),
    ("conda", "run"),
}

_ASSIGNMENT_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_%]*=")

_RUNNER_OPTIONS = frozenset(
    {"--with", "--package", "-p", "--python", "-w", "--workspace", "--project", "-n", "--name"}
)


def _skip_options(words: tuple[Word, ...], start: int, takes_arg: frozenset[str]) -> int:
    index = start
    while index < len(words):
        value = words[index].value
        if value == "--":
            return index + 1
        if not value.startswith("-") or value == "-":
            return index
        option = value.split("=", 1)[0]
        if option in takes_arg and "=" not in value:
            index += 1
        elif len(option) > 2 and not option.startswith("--") and option[:2] in takes_arg:
            pass  # `-uroot`: value glued to the flag
        index += 1
    return index


def _env_start(words: tuple[Word, ...]) -> tuple[int, str | None]:
    """Index of the command `env` runs, and the text of `env -S '…'` if used."""
    index = 1
    while index < len(words):
        value = words[index].value
        if value in {"-S", "--split-string"} and index + 1 < len(words):
            return len(words), words[index + 1].value
        if value.startswith("--split-string="):
            return len(words), value.split("=", 1)[1]
        if value in {"-u", "--unset", "-C", "--chdir"}:
            index += 2
        elif value == "--":
            return index + 1, None
        elif value.startswith("-") or re.match(r"^[A-Za-z_][A-Za-z0-9_%]*=", value):
            index += 1
        else:
            return index, None
    return index, None


def shell_code_argument(words: tuple[Word, ...]) -> tuple[bool, Word | None]:
    """For `bash -lc 'X'`: (True, X). For `bash script.sh`: (False, None)."""
    index = 1
    while index < len(words):
        value = words[index].value
        if value == "--" or not value.startswith(("-", "+")):
            return False, None
        if value in {"-o", "+o", "-O", "+O", "--rcfile", "--init-file"}:
            index += 2
            continue
        if not value.startswith("--") and "c" in value[1:]:
            return True, words[index + 1] if index + 1 < len(words) else None
        index += 1
    return False, None


def _reads_code_from_stdin(words: tuple[Word, ...]) -> bool:
    """`sh`, `bash -s`, `bash -x -` read their program from standard input."""
    for word in words[1:]:
        value = word.value
        if value == "-" or (
            value.startswith("-") and "s" in value[1:] and not value.startswith("--")
        ):
            return True
        if not value.startswith(("-", "+")):
            return False
    return True
