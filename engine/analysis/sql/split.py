"""SQL text split into statements as the clients would send them: quotes, dollar tags,
comments, psql meta-commands. Splits only; analyze.py reads each statement."""

from __future__ import annotations

import re
from collections.abc import Iterator

from engine.analysis.sql.types import _Chunk

_SPECIAL = re.compile(r"[-'\"`;$/\\\n#]")

_SQ_PLAIN = re.compile(r"[^']*(?:''[^']*)*'")

_SQ_ESCAPED = re.compile(r"[^'\\]*(?:(?:\\.|'')[^'\\]*)*'", re.S)

_DQ_PLAIN = re.compile(r'[^"]*(?:""[^"]*)*"')

_DQ_ESCAPED = re.compile(r'[^"\\]*(?:(?:\\.|"")[^"\\]*)*"', re.S)

_BACKTICK = re.compile(r"[^`]*(?:``[^`]*)*`")

_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_][A-Za-z_0-9]*)?\$")

_DOT_COMMAND = re.compile(r"[ \t\r\f\v]*\.")

_META_COPY = re.compile(r"\\copy\b(.*)", re.I | re.S)


def _split(text: str, dialect: str | None) -> Iterator[_Chunk]:
    """Statements in `text`, cut at top-level `;`, without comments-only pieces.

    psql meta-commands (a backslash outside quotes, to the end of the line) and sqlite
    dot-commands (a line starting with `.` between statements) are client commands,
    not SQL; both end the statement before them.
    """
    mysql = dialect == "mysql"
    dollar_quotes = dialect in (None, "postgres")
    n = len(text)
    content: int | None = None  # first non-comment character of the current statement
    pos = 0

    def mark(lo: int, hi: int) -> None:
        nonlocal content
        if content is None:
            stripped = text[lo:hi].lstrip()
            if stripped:
                content = hi - len(stripped)

    def flush(end: int) -> Iterator[_Chunk]:
        if content is not None:
            piece = text[content:end].strip()
            if piece:
                yield _Chunk(piece, piece)

    if _DOT_COMMAND.match(text):
        pos = _line_end(text, 0)
    while pos < n:
        match = _SPECIAL.search(text, pos)
        if match is None:
            mark(pos, n)
            break
        i = match.start()
        mark(pos, i)
        ch = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if ch == ";":
            yield from flush(i)
            content, pos = None, i + 1
        elif ch == "\n":
            pos = i + 1
            if content is None and _DOT_COMMAND.match(text, pos):
                pos = _line_end(text, pos)
        elif ch == "\\":
            yield from flush(i)
            end = _line_end(text, i)
            copy = _META_COPY.match(text, i, end)
            if copy:
                # \copy runs COPY from the client side; it writes the table all the same.
                line = text[i:end].strip()
                yield _Chunk("COPY " + copy.group(1).strip(), line)
            content, pos = None, end
        elif (ch == "-" and nxt == "-") or (ch == "#" and mysql):
            pos = _line_end(text, i)
        elif ch == "/" and nxt == "*":
            close = text.find("*/", i + 2)
            if close < 0:
                mark(i, n)  # a comment never closed is not SQL we can read: keep it as unparsed
            pos = n if close < 0 else close + 2
        elif ch in "'\"`":
            mark(i, i + 1)
            escaped = mysql or (ch == "'" and _is_escape_string(text, i))
            pattern = {
                "'": _SQ_ESCAPED if escaped else _SQ_PLAIN,
                '"': _DQ_ESCAPED if mysql else _DQ_PLAIN,
                "`": _BACKTICK,
            }[ch]
            found = pattern.match(text, i + 1)
            pos = n if found is None else found.end()
        elif ch == "$" and dollar_quotes and not _ident_char_before(text, i):
            tag = _DOLLAR_TAG.match(text, i)
            if tag is None:
                mark(i, i + 1)
                pos = i + 1
            else:
                mark(i, i + 1)
                close = text.find(tag.group(), tag.end())
                pos = n if close < 0 else close + len(tag.group())
        else:
            mark(i, i + 1)
            pos = i + 1
    yield from flush(n)


def _line_end(text: str, pos: int) -> int:
    end = text.find("\n", pos)
    return len(text) if end < 0 else end


def _ident_char_before(text: str, i: int) -> bool:
    return i > 0 and (text[i - 1].isalnum() or text[i - 1] in "_$")


def _is_escape_string(text: str, i: int) -> bool:
    # Postgres E'...' strings take backslash escapes; plain ones do not.
    return i > 0 and text[i - 1] in "Ee" and not _ident_char_before(text, i - 1)
