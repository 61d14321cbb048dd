"""Node, perl, ruby and php one-liners, read from their tokens: recognised calls become shell
text, the rest is opaque. The reader; each language's calls live in its own module."""

from __future__ import annotations

from collections.abc import Callable

from engine.analysis.code.actions import _CommonCalls
from engine.analysis.code.internals import _LABELS, _MAX_TEXT, _Budget
from engine.analysis.code.lexer import _Lexer
from engine.analysis.code.literals import (
    _BRACKETS,
    _PAIRS,
    _STOP_WORDS,
    _VALUE_KINDS,
    _malformed,
    _Tok,
)
from engine.analysis.code.node import _NODE_OPS, _NodeCalls
from engine.analysis.code.ops import _CHILD_PROCESS, _CONCAT, _DECODERS, _NAMESPACES, _Op
from engine.analysis.code.perl import _PERL_OPS, _PerlCalls
from engine.analysis.code.php import _PHP_OPS, _PhpCalls
from engine.analysis.code.ruby import _RUBY_OPS, _RubyCalls

_TABLES = {"node": _NODE_OPS, "perl": _PERL_OPS, "ruby": _RUBY_OPS, "php": _PHP_OPS}


class _TokenAnalyzer(_CommonCalls, _NodeCalls, _PerlCalls, _RubyCalls, _PhpCalls):
    def __init__(self, lang: str, code: str, depth: int, budget: _Budget) -> None:
        self.lang = lang
        self.code = code
        self.depth = depth
        self.budget = budget
        self.label = _LABELS[lang]
        self.table = _TABLES[lang]
        self.out: list[tuple[str, str]] = []
        self.toks: list[_Tok] = []
        self.match: dict[int, int] = {}
        self.modes: set[str] = set()

    def run(self) -> list[tuple[str, str]]:
        if not self.budget.take(len(self.code)):
            return [("opaque", f"{self.label}: code is too large to analyze fully")]
        self.toks, notes = _Lexer(self.lang, self.code).run()
        for note in dict.fromkeys(notes):
            if note == "unterminated string literal":
                self._opaque("code has an unterminated string literal, so it cannot be read "
                             "reliably")  # fmt: skip
            else:
                self._opaque(note)
        problem = _malformed(self.code, self.toks)
        if problem is not None:
            self._opaque(f"{problem}, so it cannot be read reliably")
        self.match = self._match_brackets()
        brackets = sum(t.kind == "op" and t.text in _BRACKETS for t in self.toks)
        if len(self.match) * 2 != brackets:
            self._opaque("code has unbalanced brackets, so it cannot be read reliably")
        if self.lang == "node" and self._loads_child_process():
            self.modes.add("cp")
        if self.lang == "ruby" and any(t.text in ("FileUtils", "fileutils") for t in self.toks):
            self.modes.add("fu")
        for index, tok in enumerate(self.toks):
            if self.budget.left < 0:
                self._opaque("code is too large to analyze fully")
                break
            self._token(index, tok)
        return self.out

    def _loads_child_process(self) -> bool:
        for index, tok in enumerate(self.toks):
            if tok.kind == "str" and tok.text in _CHILD_PROCESS:
                return True
            loader = tok.kind == "id" and tok.text in ("require", "import")
            if loader and self._is_op(index + 1, "("):
                args = self._split(index + 2, self.match.get(index + 1, len(self.toks)))
                if args and self._lit(args[0]) in _CHILD_PROCESS:
                    return True
        return False

    def _cmd(self, text: str) -> None:
        self.out.append(("cmd", text.strip()))

    def _opaque(self, reason: str) -> None:
        self.out.append(("opaque", f"{self.label}: {reason}"))

    def _match_brackets(self) -> dict[int, int]:
        match: dict[int, int] = {}
        stack: list[int] = []
        closers = {")": "(", "]": "[", "}": "{"}
        for index, tok in enumerate(self.toks):
            if tok.kind != "op":
                continue
            if tok.text in "([{" and tok.text:
                stack.append(index)
            elif tok.text in closers and tok.text:
                while stack and self.toks[stack[-1]].text != closers[tok.text]:
                    stack.pop()  # an unmatched opener inside, from garbage input
                if stack:
                    match[stack.pop()] = index
        return match

    def _token(self, index: int, tok: _Tok) -> None:
        toks = self.toks
        if tok.kind == "cmd":
            if tok.interp:
                self._opaque("backtick command with interpolated values")
            else:
                self._cmd(tok.text)
            return
        if tok.kind == "str" and tok.template and index and toks[index - 1].text == "$":
            # zx and bun run `$\`cmd\`` tagged templates as shell commands
            if tok.interp:
                self._opaque("$`...` shell command with interpolated values")
            else:
                self._cmd(tok.text)
            return
        if tok.kind == "var" and self.lang == "php" and self._is_op(index + 1, "("):
            self._opaque(f"calls a function named by the variable {tok.text}")
            return
        if tok.kind == "str" and self._is_op(index - 1, "[") and self._is_op(index + 1, "]"):
            # cp['execSync']('ls') is cp.execSync('ls')
            if index >= 2 and self._is_op(index + 2, "("):
                receiver = toks[index - 2]
                if receiver.kind in ("id", "var"):
                    self._dispatch([receiver.text.lstrip("$@"), tok.text], index + 2)
                elif receiver.kind == "op" and receiver.text in (")", "]"):
                    self._dispatch(["()", tok.text], index + 2)
            return
        if tok.kind != "id":
            return
        chain = self._chain(index)
        op = self._lookup(chain)
        if op is None:
            if self.lang == "node" and chain == ["eval"] and not self._is_op(index + 1, "("):
                self._opaque("eval is used indirectly")
            return
        if self.lang == "perl" and chain[-1] == "eval" and self._is_op(index + 1, "{"):
            return  # eval { ... } is a try block, not string eval
        self._dispatch(chain, index + 1, op)

    def _is_op(self, index: int, text: str) -> bool:
        return (
            0 <= index < len(self.toks)
            and self.toks[index].kind == "op"
            and (self.toks[index].text == text)
        )

    def _chain(self, index: int) -> list[str]:
        parts = [self.toks[index].text]
        j = index - 1
        while j >= 1 and self.toks[j].kind == "op" and self.toks[j].text in (".", "->", "::", "?."):
            receiver = self.toks[j - 1]
            if receiver.kind == "id":
                parts.insert(0, receiver.text)
                j -= 2
                continue
            if receiver.kind == "var":
                parts.insert(0, receiver.text.lstrip("$@"))
            elif receiver.kind == "op" and receiver.text in (")", "]"):
                parts.insert(0, "()")
            else:
                parts.insert(0, "?")  # a literal, e.g. /re/.exec(s)
            break
        return parts

    def _lookup(self, chain: list[str]) -> _Op | None:
        name = chain[-1].lower() if self.lang == "php" else chain[-1]
        receiver = chain[-2] if len(chain) > 1 else None
        op = None
        if receiver is not None:
            op = self.table.get(f"{receiver}.{name}")
            if op is None and self.lang == "perl":
                op = self.table.get(f"{'::'.join(chain[:-1])}.{name}")
        if op is None:
            op = self.table.get(f"*.{name}")
            if op is not None and receiver == "?" and name == "exec":
                op = None
        if op is None and (
            receiver is None
            or receiver in _NAMESPACES[self.lang]
            or "::".join(chain[:-1]) in _NAMESPACES[self.lang]
        ):
            op = self.table.get(name)
        if op is not None and op.needs and op.needs not in self.modes:
            return None
        return op

    def _dispatch(self, chain: list[str], start: int, op: _Op | None = None) -> None:
        op = op or self._lookup(chain)
        if op is None:
            return
        args = self._args(start)
        if args is None:
            bareword = start < len(self.toks) and self.toks[start].text in ("}", ",", "=>")
            if op.kind == "paths" and self.lang == "perl" and not bareword:
                self._opaque(f"{chain[-1]} of $_, which is only known at run time")
            return
        name = chain[-1] if len(chain) == 1 or chain[-2] in ("()", "?") else ".".join(chain[-2:])
        self._apply(op, name, args)

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

    def _decodes(self, arg: list[_Tok]) -> bool:
        return any(t.kind == "id" and t.text in _DECODERS[self.lang] for t in arg)

    def _computed(self, name: str, arg: list[_Tok] | None = None, what: str = "argument") -> None:
        if arg is not None and self._decodes(arg):
            self._opaque(f"{name}() decodes data and runs it")
        else:
            self._opaque(f"{name}() with a computed {what}")

    def _apply(self, op: _Op, name: str, args: list[list[_Tok]]) -> None:
        handler: Callable[[_Op, str, list[list[_Tok]]], None] | None = getattr(
            self, f"_do_{op.kind}", None
        )
        if handler is not None:
            handler(op, name, args)
