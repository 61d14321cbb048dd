"""Node, perl, ruby and php one-liners, read from their tokens: recognised calls become shell
text, the rest is opaque. The reader; each language's calls live in its own module."""

from __future__ import annotations

from collections.abc import Callable

from engine.analysis.code.actions import _CommonCalls
from engine.analysis.code.internals import _LABELS, _Budget
from engine.analysis.code.lexer import _Lexer
from engine.analysis.code.literals import _BRACKETS, _malformed, _Tok
from engine.analysis.code.node import _NODE_OPS, _NodeCalls
from engine.analysis.code.ops import _CHILD_PROCESS, _DECODERS, _NAMESPACES, _Op
from engine.analysis.code.perl import _PERL_OPS, _PerlCalls
from engine.analysis.code.php import _PHP_OPS, _PhpCalls
from engine.analysis.code.ruby import _RUBY_OPS, _RubyCalls
from engine.analysis.code.token_args import _TokenArguments

_TABLES = {"node": _NODE_OPS, "perl": _PERL_OPS, "ruby": _RUBY_OPS, "php": _PHP_OPS}


class _TokenAnalyzer(_TokenArguments, _CommonCalls, _NodeCalls, _PerlCalls, _RubyCalls, _PhpCalls):
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
