"""Tokens of node, perl, ruby and php code, and how their string literals read: delimiters,
escapes, interpolation. Shared by lexer.py and tokens.py; judges nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # id, var, str, words, cmd, num, op, nl, sym, regex
    text: str
    interp: bool = False  # a string literal that splices in run-time values
    words: tuple[str, ...] = ()
    template: bool = False  # a JavaScript `template`


_PAIRS = {"(": ")", "[": "]", "{": "}", "<": ">"}

_BRACKETS = frozenset("()[]{}")

_OPS3 = frozenset({"...", "===", "!==", "**=", "<=>", "||=", "&&=", "//=", "<<=", ">>=", "<<<"})

_OPS2 = frozenset(
    {"->", "=>", "::", "?.", "&&", "||", "//", "==", "!=", "<=", ">=", "**", "..", "=~", "!~",
     "<<", ">>", "+=", "-=", "*=", "/=", ".=", "|=", "&=", "++", "--"}
)  # fmt: skip

_REGEX_KEYWORDS = {
    "node": frozenset({"return", "typeof", "instanceof", "in", "of", "new", "delete", "void",
                       "throw", "case", "do", "else", "yield", "await"}),
    "perl": frozenset({"split", "grep", "map", "join", "if", "unless", "and", "or", "not",
                       "return", "print", "push", "unshift", "when", "while", "until", "x"}),
    "ruby": frozenset({"if", "unless", "and", "or", "not", "when", "return", "while", "until",
                       "puts", "print", "p", "case", "then", "elsif"}),
}  # fmt: skip

# Words that end an argument list written without parentheses (`system "ls" or die`).
_STOP_WORDS = {
    "perl": frozenset({"or", "and", "if", "unless", "while", "until", "for", "foreach", "xor",
                       "eq", "ne", "lt", "gt", "le", "ge", "cmp", "x"}),
    "ruby": frozenset({"or", "and", "if", "unless", "while", "until", "do", "then", "rescue",
                       "end"}),
}  # fmt: skip

_VALUE_KINDS = frozenset({"str", "words", "cmd", "num", "var", "sym", "regex"})

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "a": "\a", "e": "\x1b", "f": "\f",
            "v": "\v", "b": "\b"}  # fmt: skip


def _delimited(src: str, start: int, opener: str) -> tuple[str, int, bool]:
    """Body of a literal whose opening delimiter is at `start`: (body, index after, closed)."""
    closer = _PAIRS.get(opener, opener)
    depth = 1
    j = start + 1
    n = len(src)
    while j < n:
        ch = src[j]
        if ch == "\\":
            j += 2
            continue
        if ch == closer:
            depth -= 1
            if depth == 0:
                return src[start + 1 : j], j + 1, True
        elif ch == opener and closer != opener:
            depth += 1
        j += 1
    return src[start + 1 :], n, False


def _unescape_single(body: str, delimiters: str) -> str:
    out = []
    j = 0
    while j < len(body):
        ch = body[j]
        if ch == "\\" and j + 1 < len(body) and (body[j + 1] == "\\" or body[j + 1] in delimiters):
            out.append(body[j + 1])
            j += 2
            continue
        out.append(ch)
        j += 1
    return "".join(out)


def _unescape_double(body: str) -> str:
    out = []
    j = 0
    while j < len(body):
        ch = body[j]
        if ch != "\\" or j + 1 >= len(body):
            out.append(ch)
            j += 1
            continue
        nxt = body[j + 1]
        if nxt == "x" and re.fullmatch(r"[0-9A-Fa-f]{2}", body[j + 2 : j + 4]):
            out.append(chr(int(body[j + 2 : j + 4], 16)))
            j += 4
            continue
        out.append(_ESCAPES.get(nxt, nxt))
        j += 2
    return "".join(out)


def _interpolates(lang: str, body: str) -> bool:
    j = 0
    while j < len(body):
        ch = body[j]
        if ch == "\\":
            j += 2
            continue
        nxt = body[j + 1] if j + 1 < len(body) else ""
        if nxt:
            if lang == "node" and ch == "$" and nxt == "{":
                return True
            if lang == "ruby" and ch == "#" and nxt in "{@$":
                return True
            if lang == "perl" and ch in "$@" and (nxt.isalnum() or nxt in "_{:$"):
                return True
            if lang == "perl" and ch == "$" and nxt in "&`'+!/\\,;.":
                return True
            if lang == "php" and ch == "$" and (nxt.isalpha() or nxt in "_{"):
                return True
            if lang == "php" and ch == "{" and nxt == "$":
                return True
        j += 1
    return False


def _skip_regex(src: str, start: int) -> int | None:
    """End of a /regex/flags literal starting at `start`, or None when it is division."""
    j = start + 1
    in_class = False
    n = len(src)
    while j < n:
        ch = src[j]
        if ch == "\\":
            j += 2
            continue
        if ch == "\n":
            return None
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "/":
            j += 1
            while j < n and src[j].isalpha():
                j += 1
            return j
        j += 1
    return None


# Operators that need a left operand: none of these languages can start an expression with one.
_INFIX_ONLY = frozenset({"<<<", "==", "===", "!=", "!==", "&&", "||", ">>>", "<=", ">="})
_EXPRESSION_STARTS = frozenset({";", "(", "[", ",", "{"})
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _malformed(code: str, tokens: list[_Tok]) -> str | None:
    """A syntax error the bracket check cannot see: text that is not Unicode (a lone
    surrogate cannot be encoded, so the interpreter gets other bytes than shown), or an
    infix operator where an expression starts (`<<<EOF` in JavaScript, Perl or Ruby)."""
    if _LONE_SURROGATE.search(code):
        return "code holds a lone surrogate, which is not text"
    previous: _Tok | None = None
    for tok in tokens:
        starts = previous is None or (previous.kind == "op" and previous.text in _EXPRESSION_STARTS)
        if starts and tok.kind == "op" and tok.text in _INFIX_ONLY:
            return f"code has `{tok.text}` where an expression starts"
        previous = tok
    return None
