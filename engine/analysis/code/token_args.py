"""How a one-liner's call arguments are read from its tokens: where they end, how they split,
which are literal strings or lists, option objects. A part of _TokenAnalyzer, not used alone."""

from __future__ import annotations

from engine.analysis.code.internals import _MAX_TEXT
from engine.analysis.code.literals import _PAIRS, _STOP_WORDS, _VALUE_KINDS, _Tok
from engine.analysis.code.ops import _CONCAT


class _TokenArguments:
    """How _TokenAnalyzer turns the tokens after a call into its arguments and their values."""

    def _args(self, start: int) -> list[list[_Tok]] | None:
        toks, n = self.toks, len(self.toks)
        if start < n and self._is_op(start, "("):
            end = self.match.get(start, n)
            return self._split(start + 1, end)
        if self.lang in ("perl", "ruby") and start < n and self._starts_value(toks[start]):
            return self._split(start, self._bare_end(start))
        if self.lang == "node" and start < n and toks[start].template:
            return [[toks[start]]]
        return None

    def _starts_value(self, tok: _Tok) -> bool:
        if tok.kind in _VALUE_KINDS:
            return True
        if tok.kind == "id":
            return tok.text not in _STOP_WORDS.get(self.lang, ()) and tok.text not in (
                "do", "end", "then"
            )  # fmt: skip
        if tok.kind == "op":
            return tok.text in ("[", "\\") or (self.lang == "perl" and tok.text == "{")
        return False

    def _bare_end(self, start: int) -> int:
        toks, n = self.toks, len(self.toks)
        stops = _STOP_WORDS.get(self.lang, frozenset())
        k = start
        while k < n:
            tok = toks[k]
            if tok.kind == "op":
                if tok.text in ("(", "[", "{"):
                    k = self.match.get(k, n - 1) + 1
                    continue
                if tok.text in (")", "]", "}", ";", "||", "&&", "?", ":", "=", "or", "and"):
                    break
            elif tok.kind == "nl":
                previous = toks[k - 1] if k else None
                if previous is None or not (previous.kind == "op" and previous.text in (",", "\\")):
                    break
            elif tok.kind == "id" and tok.text in stops:
                break
            k += 1
        return k

    def _split(self, start: int, end: int) -> list[list[_Tok]]:
        if not self.budget.take(end - start):
            return [[_Tok("op", "...")]]
        args: list[list[_Tok]] = [[]]
        k = start
        while k < end:
            tok = self.toks[k]
            if tok.kind == "op" and tok.text in ("(", "[", "{") and k in self.match:
                stop = min(self.match[k], end - 1)
                args[-1].extend(self.toks[k : stop + 1])
                k = stop + 1
                continue
            if tok.kind == "op" and (tok.text == "," or (self.lang == "perl" and tok.text == "=>")):
                args.append([])
            elif tok.kind != "nl":
                args[-1].append(tok)
            k += 1
        if not args[-1]:
            args.pop()
        return args

    def _strip(self, arg: list[_Tok]) -> list[_Tok]:
        while (
            len(arg) >= 2
            and arg[0].kind == "op"
            and arg[0].text == "("
            and arg[-1].kind == "op"
            and arg[-1].text == ")"
        ):
            arg = arg[1:-1]
        return arg

    def _lit(self, arg: list[_Tok]) -> str | None:
        arg = self._strip(arg)
        parts: list[str] = []
        expect_value = True
        for tok in arg:
            literal = tok.kind == "str" and not tok.interp
            if expect_value:
                if not literal:
                    return None
                parts.append(tok.text)
                expect_value = False
            elif tok.kind == "op" and tok.text == _CONCAT[self.lang]:
                expect_value = True
            elif literal and self.lang == "ruby":
                parts.append(tok.text)  # "a" "b" is one string in ruby
            else:
                return None
        if expect_value or sum(len(p) for p in parts) > _MAX_TEXT:
            return None
        return "".join(parts)

    def _list(self, arg: list[_Tok]) -> list[str] | None:
        arg = list(arg)
        if (
            self.lang == "php"
            and len(arg) >= 3
            and arg[0].kind == "id"
            and (arg[0].text.lower() == "array")
        ):
            arg = arg[1:]
            opener = "("
        else:
            opener = "["
        if len(arg) == 1 and arg[0].kind == "words":
            return None if arg[0].interp else list(arg[0].words)
        if len(arg) < 2 or not (arg[0].kind == "op" and arg[0].text == opener):
            return None
        closer = _PAIRS[opener]
        if not (arg[-1].kind == "op" and arg[-1].text == closer):
            return None
        items: list[str] = []
        for item in self._split_tokens(arg[1:-1]):
            words = self._list(item) if item and item[0].kind == "words" else None
            if words is not None:
                items.extend(words)
                continue
            text = self._lit(item)
            if text is None:
                return None
            items.append(text)
        return items

    def _split_tokens(self, toks: list[_Tok]) -> list[list[_Tok]]:
        parts: list[list[_Tok]] = [[]]
        depth = 0
        for tok in toks:
            if tok.kind == "op" and tok.text in ("(", "[", "{"):
                depth += 1
            elif tok.kind == "op" and tok.text in (")", "]", "}"):
                depth -= 1
            if depth == 0 and tok.kind == "op" and tok.text in (",", "=>"):
                parts.append([])
            else:
                parts[-1].append(tok)
        if not parts[-1]:
            parts.pop()
        return parts

    def _values(self, args: list[list[_Tok]]) -> tuple[list[str], bool] | None:
        """Literal strings of `args`, flattening list literals; and whether it was one string."""
        values: list[str] = []
        for arg in args:
            text = self._lit(arg)
            if text is not None:
                values.append(text)
                continue
            items = self._list(arg)
            if items is None:
                return None
            values.extend(items)
        single = len(args) == 1 and self._lit(args[0]) is not None
        return values, single

    def _drop_keywords(self, args: list[list[_Tok]]) -> list[list[_Tok]]:
        """Ruby keyword arguments and JS option objects carry options, not commands or paths."""
        kept = list(args)
        while kept:
            last = kept[-1]
            keyword = len(last) >= 2 and (
                (last[0].kind in ("id", "str") and last[1].kind == "op" and last[1].text == ":")
                or (last[0].kind == "sym" and last[1].kind == "op" and last[1].text == "=>")
            )
            if keyword or (last and last[0].kind == "op" and last[0].text == "{"):
                kept.pop()
            else:
                break
        return kept

    def _option(self, args: list[list[_Tok]], key: str) -> list[_Tok] | None:
        """The value tokens of `key: value` inside an option object among `args`."""
        for arg in args:
            for k in range(len(arg) - 2):
                tok = arg[k]
                if tok.kind in ("id", "str") and tok.text == key and arg[k + 1].text == ":":
                    value: list[_Tok] = []
                    depth = 0
                    for inner in arg[k + 2 :]:
                        if inner.kind == "op" and inner.text in ("(", "[", "{"):
                            depth += 1
                        elif inner.kind == "op" and inner.text in (")", "]", "}"):
                            if depth == 0:
                                break
                            depth -= 1
                        elif depth == 0 and inner.kind == "op" and inner.text == ",":
                            break
                        value.append(inner)
                    return value
        return None

    def _truthy_option(self, args: list[list[_Tok]], key: str) -> bool:
        value = self._option(args, key)
        if not value:
            return False
        first = value[0]
        return not (first.text in ("false", "undefined", "null", "0", "") and first.kind != "str")
