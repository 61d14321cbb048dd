"""The lexer of node, perl, ruby and php one-liners: their quoting, heredocs, regexes and
sigils, as tokens. It only splits text; tokens.py reads the calls."""

from __future__ import annotations

import re

from engine.analysis.code.literals import (
    _OPS2,
    _OPS3,
    _PAIRS,
    _REGEX_KEYWORDS,
    _VALUE_KINDS,
    _delimited,
    _interpolates,
    _skip_regex,
    _Tok,
    _unescape_double,
    _unescape_single,
)


class _Lexer:
    """Just enough of each language's lexical rules to find calls and their literal arguments."""

    def __init__(self, lang: str, src: str) -> None:
        self.lang = lang
        self.src = src
        self.n = len(src)
        self.i = 0
        self.toks: list[_Tok] = []
        self.notes: list[str] = []

    def run(self) -> tuple[list[_Tok], list[str]]:
        while self.i < self.n:
            start = self.i
            self._step()
            if self.i <= start:  # never stall, whatever the input
                self.i = start + 1
        return self.toks, self.notes

    def _add(self, kind: str, text: str, **extra: object) -> None:
        self.toks.append(_Tok(kind, text, **extra))  # type: ignore[arg-type]

    def _prev(self) -> _Tok | None:
        return self.toks[-1] if self.toks else None

    def _prev_is_value(self) -> bool:
        prev = self._prev()
        if prev is None or prev.kind == "nl":
            return False
        if prev.kind in _VALUE_KINDS:
            return True
        if prev.kind == "op":
            return prev.text in (")", "]", "}")
        return prev.kind == "id" and prev.text not in _REGEX_KEYWORDS.get(self.lang, ())

    def _eol(self, i: int) -> int:
        end = self.src.find("\n", i)
        return self.n if end < 0 else end

    def _step(self) -> None:
        src, i, lang = self.src, self.i, self.lang
        c = src[i]
        if c == "\n":
            if lang == "ruby" and self.toks and self.toks[-1].kind != "nl":
                self._add("nl", "\n")
            self.i = i + 1
        elif c.isspace() or c == "\x00":
            self.i = i + 1
        elif self._comment(c):
            pass
        elif c in "'\"":
            self._quoted(c)
        elif c == "`":
            self._backtick()
        elif c == "/" and lang != "php" and self._regex_allowed(i):
            end = _skip_regex(src, i)
            if end is None:
                self._add("op", "/")
                self.i = i + 1
            else:
                self._add("regex", src[i:end])
                self.i = end
        elif self._special_literal(c):
            pass
        elif c.isalpha() or c == "_" or (lang == "node" and c == "$"):
            self._word()
        elif self._sigil(c):
            pass
        elif c.isdigit():
            self._number()
        elif lang == "php" and c == "\\" and src[i + 1 : i + 2].isalpha():
            self.i = i + 1  # a namespace separator: \system() is system()
        else:
            self._operator()

    def _comment(self, c: str) -> bool:
        src, i, lang = self.src, self.i, self.lang
        end: int | None = None
        hash_comment = c == "#" and lang in ("perl", "ruby", "php")
        hash_comment = hash_comment and not (lang == "php" and src.startswith("#[", i))
        if hash_comment or (lang in ("node", "php") and src.startswith("//", i)):
            end = self._eol(i)
        elif lang in ("node", "php") and src.startswith("/*", i):
            close = src.find("*/", i + 2)
            end = self.n if close < 0 else close + 2
        elif lang == "ruby" and src.startswith("=begin", i) and (i == 0 or src[i - 1] == "\n"):
            close = src.find("\n=end", i)
            end = self.n if close < 0 else close + 5
        if end is None:
            return False
        self.i = end
        return True

    def _special_literal(self, c: str) -> bool:
        if self.lang == "ruby":
            if c == "%":
                return self._ruby_percent()
            if c == "?":
                return self._ruby_char()
            if c == ":":
                return self._ruby_symbol()
        if self.lang == "php" and self.src.startswith("<<<", self.i):
            return self._php_heredoc()
        return False

    def _quoted(self, quote: str) -> None:
        body, end, closed = _delimited(self.src, self.i, quote)
        if not closed:
            self.notes.append("unterminated string literal")
        if quote == "'" and self.lang != "node":
            self._add("str", _unescape_single(body, "'"))
        else:
            interp = self.lang != "node" and _interpolates(self.lang, body)
            self._add("str", _unescape_double(body), interp=interp)
        self.i = end

    def _backtick(self) -> None:
        body, end, closed = _delimited(self.src, self.i, "`")
        if not closed:
            self.notes.append("unterminated string literal")
        interp = _interpolates(self.lang, body)
        if self.lang == "node":
            self._add("str", _unescape_double(body), interp=interp, template=True)
        else:
            self._add("cmd", _unescape_double(body), interp=interp)
        self.i = end

    def _regex_allowed(self, i: int) -> bool:
        prev = self._prev()
        if prev is None or prev.kind == "nl":
            return True
        if prev.kind in _VALUE_KINDS:
            return False
        if prev.kind == "op":
            return prev.text not in (")", "]", "}")
        keywords = _REGEX_KEYWORDS.get(self.lang, frozenset())
        if prev.text in keywords:
            return True
        after = self.src[i + 1 : i + 2]
        if self.lang == "perl":
            return not after.isspace()
        if self.lang == "ruby":
            return self.src[i - 1 : i].isspace() and bool(after) and not after.isspace()
        return False

    def _word(self) -> None:
        src, i, n = self.src, self.i, self.n
        j = i
        extra = "_$" if self.lang == "node" else "_"
        while j < n and (src[j].isalnum() or src[j] in extra):
            j += 1
        if self.lang == "ruby" and j < n and src[j] in "?!" and src[j + 1 : j + 2] != "=":
            j += 1
        word = src[i:j]
        quote_like = ("q", "qq", "qw", "qx", "m", "qr", "s", "tr", "y")
        if self.lang == "perl" and word in quote_like and self._perl_quote(word, j):
            return
        self._add("id", word)
        self.i = j

    def _perl_quote(self, word: str, j: int) -> bool:
        src, n = self.src, self.n
        prev = self._prev()
        if prev is not None and prev.kind == "op" and prev.text in ("->", "::", "-"):
            return False  # a method, a package part or a file test such as -s
        k = j
        if k < n and src[k].isspace():
            while k < n and src[k].isspace():
                k += 1
            if k >= n or src[k] not in "([{<":
                return False
        if k >= n:
            return False
        delimiter = src[k]
        if delimiter.isalnum() or delimiter.isspace() or delimiter in "_,;)=}]>":
            return False
        body, end, closed = _delimited(src, k, delimiter)
        if word in ("s", "tr", "y") and closed:
            if delimiter in _PAIRS:
                while end < n and src[end].isspace():
                    end += 1
                if end < n:
                    _, end, closed = _delimited(src, end, src[end])
            else:
                _, end, closed = _delimited(src, end - 1, delimiter)
        if not closed:
            self.notes.append("unterminated string literal")
        flags_start = end
        while end < n and src[end].isalpha():
            end += 1
        if word == "s" and "e" in src[flags_start:end]:
            self.notes.append("s///e evaluates its replacement as code")
        closer = _PAIRS.get(delimiter, delimiter)
        if word == "q":
            self._add("str", _unescape_single(body, delimiter + closer))
        elif word == "qq":
            self._add("str", _unescape_double(body), interp=_interpolates("perl", body))
        elif word == "qw":
            self._add("words", "", words=tuple(body.split()))
        elif word == "qx":
            interp = delimiter != "'" and _interpolates("perl", body)
            self._add("cmd", _unescape_double(body), interp=interp)
        else:
            self._add("regex", src[self.i : end])
        self.i = end
        return True

    def _ruby_percent(self) -> bool:
        src, i, n = self.src, self.i, self.n
        nxt = src[i + 1 : i + 2]
        after = src[i + 2 : i + 3]
        prev = self._prev()
        clear_value = prev is not None and (
            prev.kind in ("num", "var", "str") or (prev.kind == "op" and prev.text in ")]}")
        )
        if nxt and nxt in "qQwWiIxrs" and after and not after.isalnum() and not after.isspace():
            if clear_value or after in "=":
                return False
            kind, k = nxt, i + 2
        elif nxt and nxt in "([{<|!^" and not clear_value:
            kind, k = "Q", i + 1
        else:
            return False
        delimiter = src[k]
        body, end, closed = _delimited(src, k, delimiter)
        if not closed:
            self.notes.append("unterminated string literal")
        interp = kind in "QWIx" and _interpolates("ruby", body)
        if kind == "q":
            self._add("str", _unescape_single(body, delimiter + _PAIRS.get(delimiter, delimiter)))
        elif kind == "Q":
            self._add("str", _unescape_double(body), interp=interp)
        elif kind in "wWiI":
            self._add("words", "", interp=interp, words=tuple(body.split()))
        elif kind == "x":
            self._add("cmd", _unescape_double(body), interp=interp)
        elif kind == "s":
            self._add("sym", body)
        else:
            self._add("regex", body)
        self.i = min(end, n)
        return True

    def _ruby_char(self) -> bool:
        src, i = self.src, self.i
        char = src[i + 1 : i + 2]
        after = src[i + 2 : i + 3]
        if self._prev_is_value() or not char or char.isspace():
            return False
        if after and (after.isalnum() or after == "_"):
            return False
        self._add("str", char)
        self.i = i + 2
        return True

    def _ruby_symbol(self) -> bool:
        src, i, n = self.src, self.i, self.n
        nxt = src[i + 1 : i + 2]
        if not nxt or not (nxt.isalpha() or nxt == "_") or src[i - 1 : i] == ":":
            return False
        j = i + 1
        while j < n and (src[j].isalnum() or src[j] == "_"):
            j += 1
        if j < n and src[j] in "?!=" and src[j + 1 : j + 2] not in ("=", ">", "~"):
            j += 1
        self._add("sym", src[i + 1 : j])
        self.i = j
        return True

    def _php_heredoc(self) -> bool:
        match = re.compile(r"<<<[ \t]*(['\"]?)([A-Za-z_]\w*)\1[ \t]*\n").match(self.src, self.i)
        if not match:
            return False
        label = match.group(2)
        end = re.compile(rf"\n[ \t]*{label}\b").search(self.src, match.end() - 1)
        if end is None:
            self.notes.append("unterminated string literal")
            body, stop = self.src[match.end() :], self.n
        else:
            body, stop = self.src[match.end() : end.start()], end.end()
        interp = match.group(1) != "'" and _interpolates("php", body)
        self._add("str", body if match.group(1) == "'" else _unescape_double(body), interp=interp)
        self.i = stop
        return True

    def _sigil(self, c: str) -> bool:
        src, i, n, lang = self.src, self.i, self.n, self.lang
        nxt = src[i + 1 : i + 2]
        word_start = bool(nxt) and (nxt.isalpha() or nxt == "_")
        if lang == "perl":
            if c == "$":
                j = i + 1
                if src[j : j + 1] == "#":
                    j += 1
                if src[j : j + 1].isalpha() or src[j : j + 1] == "_":
                    while j < n and (src[j].isalnum() or src[j] == "_" or src.startswith("::", j)):
                        j += 2 if src.startswith("::", j) else 1
                elif src[j : j + 1].isdigit():
                    while j < n and src[j].isdigit():
                        j += 1
                elif j < n and src[j] != "{":
                    j += 1
                self._add("var", src[i:j])
                self.i = max(j, i + 1)
                return True
            if c == "@" and (word_start or nxt in ("{", "$", ":", "_")):
                return self._sigil_word("var")
            if c == "%" and not self._prev_is_value() and (word_start or nxt in ("{", "$")):
                return self._sigil_word("var")
            if c == "&" and not self._prev_is_value() and word_start:
                self.i = i + 1
                self._word()  # &name(...) calls name
                return True
            return False
        if lang == "php" and c == "$":
            return self._sigil_word("var")
        if lang == "ruby" and c in "@$":
            if c == "@" and nxt == "@":
                self.i = i + 1
                return self._sigil_word("var", start=i)
            if word_start or c == "$":
                return self._sigil_word("var")
        return False

    def _sigil_word(self, kind: str, start: int | None = None) -> bool:
        src, n = self.src, self.n
        begin = self.i if start is None else start
        j = self.i + 1
        while j < n and (src[j].isalnum() or src[j] == "_"):
            j += 1
        if j == self.i + 1 and j < n and src[j] not in "{(":
            j += 1  # special variables such as $! or $0
        self._add(kind, src[begin:j])
        self.i = j
        return True

    def _number(self) -> None:
        src, n = self.src, self.n
        j = self.i
        while j < n:
            decimal_point = src[j] == "." and src[j + 1 : j + 2].isdigit()
            if not (src[j].isalnum() or src[j] == "_" or decimal_point):
                break
            j += 1
        self._add("num", src[self.i : j])
        self.i = j

    def _operator(self) -> None:
        src, i = self.src, self.i
        for size, table in ((3, _OPS3), (2, _OPS2)):
            if src[i : i + size] in table:
                self._add("op", src[i : i + size])
                self.i = i + size
                return
        self._add("op", src[i])
        self.i = i + 1
