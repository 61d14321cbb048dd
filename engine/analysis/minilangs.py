"""Small languages that can start shell commands: awk, sed scripts, ex/less commands, crontab
lines, git's ext:: URLs, socat addresses. Each reader returns the shell code found, never judges."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Commands:
    code: tuple[str, ...] = ()  # shell code the text runs
    unseen: tuple[str, ...] = field(default=())  # why some of what it runs cannot be seen


def split_words(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def expansion_probe(text: str) -> str:
    """Shell code that performs the `$(…)` and backticks `text` holds when expanded like a prompt
    or an arithmetic subscript; a here-document expands exactly those and runs nothing else."""
    text = re.sub(r"`([^`]*)`", r"$(\1)", text)  # the here-document parser skips backticks
    return f": <<GOVERNANCE_PROBE_EOF\n{text}\nGOVERNANCE_PROBE_EOF"


def ext_command(url: str) -> str:
    """git's `ext::cmd% arg%%` syntax: `% ` is a space inside an argument, `%%` a percent."""
    arguments, current, index = [], [], 0
    while index < len(url):
        char = url[index]
        if char == "%" and index + 1 < len(url):
            current.append(" " if url[index + 1] == " " else url[index + 1])
            index += 2
            continue
        if char == " ":
            arguments.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    arguments.append("".join(current))
    return shlex.join(a for a in arguments if a)


def socat_command(address: str) -> str:
    """The command of `EXEC:cmd,opt=…`: up to the first comma outside quotes."""
    quote = None
    for index, char in enumerate(address):
        if char in "'\"" and quote in {None, char}:
            quote = None if quote else char
        elif char == "," and quote is None:
            return address[:index]
    return address


# ---------------------------------------------------------------- awk

_AWK_TOKEN = re.compile(
    r'(?P<string>"(?:[^"\\\n]|\\.)*")|(?P<comment>#[^\n]*)|(?P<pipe>\|&|\|\|?)'
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<slash>/)|(?P<space>[ \t]+)|(?P<other>.)",
    re.DOTALL,
)
_REGEX_BEFORE = frozenset({"", "(", ",", "{", "}", ";", "!", "~", "&&", "||", "\n", "&", "|"})


def _awk_tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    index = 0
    while index < len(text):
        match = _AWK_TOKEN.match(text, index)
        if match is None:
            break
        kind, value = match.lastgroup or "other", match.group(0)
        index = match.end()
        if kind == "slash" and (not tokens or tokens[-1][1] in _REGEX_BEFORE):
            end = re.compile(r"(?:[^/\\\n]|\\.)*/").match(text, index)
            if end is not None:
                tokens.append(("regex", "/" + end.group(0)))
                index = end.end()
                continue
        if kind not in {"space", "comment"}:
            tokens.append((kind, value))
    return tokens


def _awk_string(token: str) -> str:
    return re.sub(
        r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), token[1:-1]
    )


def awk_commands(text: str) -> Commands:
    """`system("…")`, `print | "…"`, `"…" | getline`: the commands an awk program starts."""
    tokens = _awk_tokens(text)
    code: list[str] = []
    unseen: list[str] = []
    for index, (kind, value) in enumerate(tokens):
        following = tokens[index + 1 : index + 4]
        if kind == "name" and value == "system":
            if (
                len(following) >= 3
                and following[0][1] == "("
                and following[1][0] == "string"
                and following[2][1] == ")"
            ):
                code.append(_awk_string(following[1][1]))
            else:
                unseen.append("system() runs a command built at run time")
        elif kind == "name" and value.startswith("@load"):
            unseen.append("@load loads a compiled extension")
        elif kind == "pipe" and value in {"|", "|&"}:
            previous = tokens[index - 1] if index else ("", "")
            if following and following[0][1] == "getline":
                if previous[0] == "string":
                    code.append(_awk_string(previous[1]))
                else:
                    unseen.append("a command built at run time is piped into getline")
            elif following and following[0][0] == "string":
                code.append(_awk_string(following[0][1]))
            else:
                unseen.append("output is piped into a command built at run time")
    if "@load" in text:
        unseen.append("@load loads a compiled extension")
    return Commands(tuple(code), tuple(dict.fromkeys(unseen)))


# ---------------------------------------------------------------- sed

_SED_ADDRESS = re.compile(
    r"\s*(?:\d+(?:~\d+)?|\$|/(?:[^/\\\n]|\\.)*/[IM]*|\\(.)(?:(?!\1)[^\\\n]|\\.)*\1[IM]*)"
)
_SED_SIMPLE = frozenset("dDgGhHnNpPxz=lLqQF")


def _sed_address(script: str, index: int) -> int:
    for _ in range(2):
        match = _SED_ADDRESS.match(script, index)
        if match is None or match.end() == index:
            break
        index = match.end()
        second = re.compile(r"\s*,\s*(?:[+~]\d+)?").match(script, index)
        if second is None or second.end() == index:
            break
        index = second.end()
        if script[index - 1].isdigit():
            break
    bang = re.compile(r"\s*!?\s*").match(script, index)
    return bang.end() if bang else index


def _sed_delimited(script: str, index: int, parts: int) -> int | None:
    """Skip `s/a/b/`'s parts after the command letter; the index after the last delimiter."""
    if index >= len(script):
        return None
    delimiter = script[index]
    index += 1
    for _ in range(parts):
        while index < len(script) and script[index] != delimiter:
            index += 2 if script[index] == "\\" else 1
        if index >= len(script):
            return None
        index += 1
    return index


def _line_end(script: str, index: int) -> int:
    end = script.find("\n", index)
    return len(script) if end < 0 else end


def sed_commands(script: str) -> Commands:
    """The `e` command and the `s///e` flag of GNU sed run shell commands."""
    code: list[str] = []
    unseen: list[str] = []
    index = 0
    while index < len(script):
        index = _sed_address(script, index)
        if index >= len(script):
            break
        command = script[index]
        index += 1
        if command in ";\n{} \t":
            continue
        if command == "#" or command in "aicrRwW:":
            index = _line_end(script, index)
        elif command == "e":
            end = _line_end(script, index)
            text = script[index:end].strip()
            if text:
                code.append(text)
            else:
                unseen.append("the `e` command runs each input line as a command")
            index = end
        elif command in "sy":
            after = _sed_delimited(script, index, 2 if command == "s" else 2)
            if after is None:
                return Commands(tuple(code), (*unseen, "the sed script does not parse"))
            flags = re.compile(r"[0-9gpiImMe]*").match(script, after)
            assert flags is not None
            if command == "s" and "e" in flags.group(0):
                unseen.append("the `s///e` flag runs the rewritten line as a command")
            index = flags.end()
            if index < len(script) and script[index] == "w":
                index = _line_end(script, index)
        elif command in "btT":
            end = re.compile(r"[^;\n]*").match(script, index)
            index = end.end() if end else index
        elif command in _SED_SIMPLE:
            number = re.compile(r"\s*\d*").match(script, index)
            index = number.end() if number else index
        else:
            return Commands(tuple(code), (*unseen, f"unknown sed command {command!r}"))
    return Commands(tuple(code), tuple(dict.fromkeys(unseen)))


# ---------------------------------------------------------------- ex (vim) and less commands

_EX_RANGE = re.compile(r"\s*:*\s*(?:[%.$]|\d+|'[a-z<>]|[,;+\-]|/(?:[^/\\]|\\.)*/)*\s*")
_EX_SHELL_READ = re.compile(r"(?:r|re|rea|read|w|wr|wri|writ|write)\s*!(.*)", re.DOTALL)
_EX_UNSEEN = re.compile(
    r"\b(?:system|systemlist|call|exe|exec|execute|py|python|py3|python3|pyx|pythonx|pyfile|"
    r"py3file|lua|luafile|luado|perl|perldo|ruby|rubydo|tcl|mz|mzscheme|so|source|runtime|"
    r"ter|term|terminal|norm|normal|let|sh|shell|make|grep|vimgrep|cscope)\b"
)


def ex_commands(text: str) -> Commands:
    """`:!cmd`, `:r !cmd`, `:%!cmd` run the shell; `system()` and embedded languages are unseen."""
    code: list[str] = []
    unseen: list[str] = []
    rest = text
    while rest:
        body = rest[_EX_RANGE.match(rest).end() :]  # type: ignore[union-attr]
        if body.startswith("!"):
            code.append(body[1:].strip())
            break
        shell_read = _EX_SHELL_READ.match(body)
        if shell_read:
            code.append(shell_read.group(1).strip())
            break
        command, bar, rest = body.partition("|")
        if _EX_UNSEEN.search(command):
            unseen.append(f"the ex command {command.strip()!r} can run code")
        if not bar:
            break
    return Commands(tuple(c for c in code if c), tuple(unseen))


def less_commands(text: str) -> Commands:
    """less's `!cmd` runs the shell and `|m cmd` pipes into one."""
    body = text.lstrip("+")
    if body.startswith("!"):
        return Commands((body[1:].strip(),))
    if "|" in body or "!" in body:
        return Commands((), (f"the less command {text!r} can run the shell",))
    return Commands()


# ---------------------------------------------------------------- crontab

_CRON_SCHEDULE = re.compile(r"\s*(?:@\w+|(?:\S+\s+){4}\S+)\s+(.*)")
_CRON_VARIABLE = re.compile(r"\s*[A-Za-z_][A-Za-z0-9_]*\s*=")


def crontab_commands(text: str) -> Commands:
    code: list[str] = []
    unseen: list[str] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#") or _CRON_VARIABLE.match(line):
            continue
        match = _CRON_SCHEDULE.match(line)
        if match is None:
            unseen.append(f"crontab line {line.strip()!r} does not parse")
        else:
            code.append(match.group(1).replace("%", "\n", 1).split("\n", 1)[0])
    return Commands(tuple(code), tuple(unseen))
