"""Word expansion as bash does it (backslashes, ANSI-C quotes, braces) and the output of the
few commands whose output is known without running them (echo, printf, base64 -d)."""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from dataclasses import dataclass

from engine.analysis.shell.words import SimpleCommand

_GLOB_CHARS = re.compile(r"[*?\[]")

_SHIELD = str.maketrans({"{": "\ue000", ",": "\ue001", "}": "\ue002"})

_UNSHIELD = str.maketrans({"\ue000": "{", "\ue001": ",", "\ue002": "}"})

_BRACE = re.compile(r"\{([^{}]*,[^{}]*)\}")

_BACKSLASH = re.compile(r"\\(.)", re.DOTALL)

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _unescape_unquoted(text: str) -> str:
    return _BACKSLASH.sub(lambda m: "" if m.group(1) == "\n" else m.group(1), text)


def _unescape_double_quoted(text: str) -> str:
    return re.sub(r"\\([\\$`\"\n])", lambda m: "" if m.group(1) == "\n" else m.group(1), text)


def decode_ansi_c(body: str) -> str:
    """`$'\\x72m'` is `rm`: decode bash's ANSI-C escapes."""
    try:
        return codecs.decode(body.encode("latin-1", "backslashreplace"), "unicode_escape")
    except (UnicodeDecodeError, ValueError):
        return body


def brace_expand(text: str) -> list[str]:
    match = _BRACE.search(text)
    if not match:
        return [text]
    head, tail = text[: match.start()], text[match.end() :]
    expanded: list[str] = []
    for option in match.group(1).split(","):
        expanded.extend(brace_expand(head + option + tail))
    return expanded[:64]


@dataclass(slots=True)
class _Piece:
    text: str
    quoted: bool
    dynamic: bool = False
    splittable: bool = False  # an unquoted expansion: bash splits it on $IFS


def _printf(args: list[str]) -> str:
    if not args:
        return ""
    fmt, values = decode_ansi_c(args[0]), args[1:]
    if "%" not in fmt:
        return fmt
    out, index = [], 0
    for part in re.split(r"(%[-0-9.]*[sbdc%])", fmt):
        if part == "%%":
            out.append("%")
        elif part.startswith("%") and len(part) > 1:
            value = values[index] if index < len(values) else ""
            out.append(decode_ansi_c(value) if part.endswith("b") else value)
            index += 1
        else:
            out.append(part)
    return "".join(out)


def _b64decode(text: str) -> str | None:
    compact = re.sub(r"\s+", "", text)
    try:
        return base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True).decode(
            "utf-8", "replace"
        )
    except (binascii.Error, ValueError):
        return None


def static_output(command: SimpleCommand, stdin: str | None) -> str | None:
    """What the command prints, when that is knowable without running anything.

    This is how `echo cm0gLXJmIC8= | base64 -d | sh` is seen to run `rm -rf /`.
    """
    if any(word.dynamic or word.glob for word in command.words) or command.redirects:
        return None
    name, args = command.name, list(command.argv[1:])
    if stdin is None:
        stdin = command.stdin_text
    if name == "echo":
        interpret, newline = False, True
        while args and re.fullmatch(r"-[neE]+", args[0]):
            interpret = interpret or "e" in args[0]
            newline = newline and "n" not in args[0]
            args.pop(0)
        text = " ".join(args)
        return (decode_ansi_c(text) if interpret else text) + ("\n" if newline else "")
    if name == "printf":
        return _printf(args)
    if name in {"cat", "tee"} and not [a for a in args if not a.startswith("-")]:
        return stdin
    if stdin is None:
        return None
    if name == "base64" and any(a in {"-d", "--decode", "-D"} for a in args):
        return _b64decode(stdin)
    if name == "rev":
        return "\n".join(line[::-1] for line in stdin.split("\n"))
    if name == "xxd" and "-r" in args:
        try:
            return bytes.fromhex(re.sub(r"\s+", "", stdin)).decode("utf-8", "replace")
        except ValueError:
            return None
    return None
