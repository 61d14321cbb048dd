"""Which interpreter a command is (python, node, perl, ruby, php) and the inline code its argv
carries (`-c`, `-e`, `-r`). Reads argv only; never analyzes the code."""

from __future__ import annotations

import re
from collections.abc import Sequence

_LANGUAGE_NAMES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?:python|pypy)(?:\d+(?:\.\d+)*)?[dmtu]*(?:-dbg)?"), "python"),
    (re.compile(r"(?:node(?:js)?(?:\d+)?|deno|bun)"), "node"),
    (re.compile(r"perl(?:\d+(?:\.\d+)*)?"), "perl"),
    (re.compile(r"(?:j|truffle)?ruby(?:\d+(?:\.\d+)*)?"), "ruby"),
    (re.compile(r"php(?:\d+(?:\.\d+)*)?(?:-cli)?"), "php"),
)


def interpreter_language(command_name: str) -> str | None:
    """'python' for python, python3, python3.12, pypy3...; 'node' for node/nodejs/deno/bun;
    'perl'; 'ruby'; 'php'; else None."""
    name = command_name.replace("\\", "/").rsplit("/", 1)[-1].lower()
    name = name.removesuffix(".exe")
    for pattern, language in _LANGUAGE_NAMES:
        if pattern.fullmatch(name):
            return language
    return None


def code_argument(language: str, argv: Sequence[str]) -> str | None:
    """The inline code of an interpreter argv (argv[0] is the interpreter), or None when it runs
    a script, a module or a REPL."""
    args = [str(a) for a in argv]
    if not args:
        return None
    if language == "python":
        return _python_code(args)
    if language == "node":
        return _node_code(args)
    if language == "perl":
        return _perl_code(args)
    if language == "ruby":
        return _ruby_code(args)
    if language == "php":
        return _php_code(args)
    return None


def _python_code(argv: list[str]) -> str | None:
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg in ("-", "--") or not arg.startswith("-"):
            return None  # a script, stdin or the REPL
        if arg.startswith("--"):
            if arg == "--check-hash-based-pycs":
                i += 1
            elif arg.split("=", 1)[0] in ("--help", "--version", "--help-env", "--help-all"):
                return None
            i += 1
            continue
        takes_next = False
        for j in range(1, len(arg)):
            letter = arg[j]
            if letter == "c":
                rest = arg[j + 1 :]
                if rest:
                    return rest
                return argv[i + 1] if i + 1 < len(argv) else None
            if letter == "m":
                return None
            if letter in "WX":
                takes_next = j + 1 == len(arg)
                break
        i += 2 if takes_next else 1
    return None


_NODE_VALUE_OPTIONS = frozenset(
    {
        "-r", "--require", "--import", "--loader", "--experimental-loader", "-C", "--conditions",
        "--input-type", "--env-file", "--title", "--inspect-port", "--stack-size", "--cpu-prof-dir",
        "--heap-prof-dir", "--diagnostic-dir", "--report-dir", "--redirect-warnings", "--config",
        "--preload", "--cwd", "--tsconfig-override",
    }
)  # fmt: skip


def _node_code(argv: list[str]) -> str | None:
    name = argv[0].replace("\\", "/").rsplit("/", 1)[-1].lower().removesuffix(".exe")
    i = 1
    if name == "deno":
        # deno only runs inline code through `deno eval [options] CODE`
        while i < len(argv) and argv[i].startswith("-"):
            i += 1
        if i >= len(argv) or argv[i] != "eval":
            return None
        i += 1
        while i < len(argv):
            if argv[i] == "--":
                return argv[i + 1] if i + 1 < len(argv) else None
            if not argv[i].startswith("-"):
                return argv[i]
            i += 1
        return None
    while i < len(argv):
        arg = argv[i]
        if arg in ("-e", "--eval", "-p", "--print", "-pe", "-ep"):
            return argv[i + 1] if i + 1 < len(argv) else None
        for prefix in ("--eval=", "--print="):
            if arg.startswith(prefix):
                return arg[len(prefix) :]
        if arg in ("-", "--") or not arg.startswith("-"):
            return None
        i += 2 if arg in _NODE_VALUE_OPTIONS else 1
    return None


def _perl_code(argv: list[str]) -> str | None:
    pieces: list[str] = []
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg in ("-", "--") or not arg.startswith("-") or arg.startswith("--"):
            break
        consumed_next = False
        j = 1
        while j < len(arg):
            letter = arg[j]
            if letter in "eE":
                if j + 1 < len(arg):
                    pieces.append(arg[j + 1 :])
                elif i + 1 < len(argv):
                    pieces.append(argv[i + 1])
                    consumed_next = True
                break
            if letter in "MmI":
                consumed_next = j + 1 == len(arg) and letter == "I"
                break
            if letter in "xiFdD":
                break  # the rest of the cluster is this switch's value
            if letter in "l0C":
                # -l and -0 take octal digits (-0 also hex), -C digits or its own letters
                allowed = {"l": "01234567", "0": "01234567xX0123456789abcdefABCDEF"}.get(
                    letter, "0123456789IOEioASLaD"
                )
                j += 1
                while j < len(arg) and arg[j] in allowed:
                    j += 1
                continue
            j += 1
        i += 2 if consumed_next else 1
    return "\n".join(pieces) if pieces else None


def _ruby_code(argv: list[str]) -> str | None:
    pieces: list[str] = []
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg in ("-", "--") or not arg.startswith("-"):
            break
        if arg.startswith("--"):
            i += 1
            continue
        consumed_next = False
        for j in range(1, len(arg)):
            letter = arg[j]
            if letter == "e":
                if j + 1 < len(arg):
                    pieces.append(arg[j + 1 :])
                elif i + 1 < len(argv):
                    pieces.append(argv[i + 1])
                    consumed_next = True
                break
            if letter in "rICE":
                consumed_next = j + 1 == len(arg)
                break
            if letter in "xFKTW0":
                break
        i += 2 if consumed_next else 1
    return "\n".join(pieces) if pieces else None


def _php_code(argv: list[str]) -> str | None:
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg in ("-", "--") or not arg.startswith("-"):
            return None
        if arg.startswith("--"):
            if arg == "--run":
                return argv[i + 1] if i + 1 < len(argv) else None
            if arg.startswith("--run="):
                return arg[len("--run=") :]
            if arg in ("--file", "--process-file"):
                return None
            i += 2 if arg in ("--php-ini", "--define", "--zend-extension") else 1
            continue
        consumed_next = False
        for j in range(1, len(arg)):
            letter = arg[j]
            if letter in "rBRE":
                if j + 1 < len(arg):
                    return arg[j + 1 :]
                return argv[i + 1] if i + 1 < len(argv) else None
            if letter in "fFSa":
                return None
            if letter in "dczt":
                consumed_next = j + 1 == len(arg)
                break
        i += 2 if consumed_next else 1
    return None
