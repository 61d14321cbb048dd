"""Parses a bash command line into the simple commands that would execute, with tree-sitter-bash.
It resolves quoting, wrappers and nested code as bash would; it never judges a command."""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache

import tree_sitter_bash
from tree_sitter import Language, Node, Parser

from engine.analysis.shell.expand import _Expanding
from engine.analysis.shell.expansion import _printf, static_output
from engine.analysis.shell.fallback import _fallback_commands
from engine.analysis.shell.pipeline import _join_dirs, _Piping
from engine.analysis.shell.unwrap import _Unwrapping
from engine.analysis.shell.words import ShellAnalysis, SimpleCommand, Word
from engine.analysis.shell.wrappers import MAX_DEPTH
from engine.analysis.unseen import UnseenCode

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_PARSER = Parser(Language(tree_sitter_bash.language()))


MAX_NESTING = 60  # levels of syntax: `$( $( $( … ) ) )`, kept well inside Python's stack


class _Walker(_Piping, _Unwrapping, _Expanding, UnseenCode):
    printf_output = staticmethod(_printf)  # what `printf -v` stores, for the unseen-code half

    def __init__(
        self,
        variables: dict[str, str] | None = None,
        depth: int = 0,
        functions: dict[str, str] | None = None,
        stdin_source: str | None = None,
    ) -> None:
        self.variables: dict[str, str | None] = {"IFS": " \t\n", "HOME": "~"}
        if variables:
            self.variables.update(variables)
        self.functions: dict[str, str] = dict(functions or {})
        self.integers: set[str] | None = None
        self.stdin_source = stdin_source  # where the code's standard input comes from
        self.depth = depth
        self.nesting = 0
        self.workdir: str | None = None
        self.fork_bombs: list[str] = []
        self.commands: list[SimpleCommand] = []
        self.opaque: list[str] = []

    def run_code(
        self,
        code: str,
        prefix: tuple[str, ...],
        origin: str,
        stdin_from: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> None:
        if self.depth >= MAX_DEPTH:
            self.opaque.append(f"{origin}: code nested deeper than {MAX_DEPTH} levels")
            return
        inner = analyze_uncached(
            code,
            depth=self.depth + 1,
            variables={**self._known_variables(), **(extra or {})},
            functions=self.functions,
            stdin_source=stdin_from,
        )
        self.commands.extend(
            replace(c, prefix=prefix + c.prefix, workdir=_join_dirs(self.workdir, c.workdir))
            for c in inner.commands
        )
        self.fork_bombs.extend(inner.fork_bombs)
        self.opaque.extend(f"{origin}: {reason}" for reason in inner.opaque)

    def _known_variables(self) -> dict[str, str]:
        return {k: v for k, v in self.variables.items() if v is not None}

    def walk(self, node: Node) -> None:
        if self.nesting >= MAX_NESTING:
            self.opaque.append(f"the command nests more than {MAX_NESTING} levels deep")
            return
        self.nesting += 1
        try:
            self._walk(node)
        finally:
            self.nesting -= 1

    def _walk(self, node: Node) -> None:
        kind = node.type
        if kind == "command":
            self._pipeline([node])
        elif kind == "pipeline":
            self._pipeline([child for child in node.named_children])
        elif kind == "redirected_statement":
            self._pipeline([node])
        elif kind == "variable_assignment":
            self._assign(node)
        elif kind == "ERROR":
            self.opaque.append(f"cannot parse near {_snippet(node)!r}")
            for child in node.children:
                self.walk(child)
        elif kind == "heredoc_body":
            for child in node.named_children:
                self.walk(child)
        elif kind == "for_statement":
            self._for(node)
        elif kind in {"command_substitution", "process_substitution"}:
            self._substitution(node)
        elif kind == "subshell":
            saved = self.workdir  # `(cd /tmp && …)` does not move the rest of the line
            for child in node.children:
                self.walk(child)
            self.workdir = saved
        elif kind == "function_definition":
            self._function(node)
        elif kind == "unset_command":
            for child in node.named_children:
                for word in self._expand(child, split=False):
                    self._probe_word(word, "unset subscript")
        elif kind == "declaration_command":
            self._declaration(node)
            for child in node.children:
                self.walk(child)
        else:
            if kind in _EVALUATING_NODES or (
                kind == "compound_statement" and node.text.startswith(b"((")
            ):
                self._evaluation_context(node)
            if node.is_missing:
                self.opaque.append(f"incomplete command: missing {node.type!r}")
            for child in node.children:
                self.walk(child)

    def _function(self, node: Node) -> None:
        name_node = node.child_by_field_name("name")
        before = len(self.commands)
        for child in node.children:
            self.walk(child)
        name = name_node.text.decode("utf-8", "replace") if name_node else ""
        body = node.text.decode("utf-8", "replace")
        body_node = node.child_by_field_name("body")
        if name and body_node is not None:
            self.functions[name] = body_node.text.decode("utf-8", "replace")
        calls_itself = any(c.name == name for c in self.commands[before:])
        if name and calls_itself and "&" in body:
            self.fork_bombs.append(name)

    def _assign(self, node: Node) -> None:
        name_node = node.child_by_field_name("name")
        value_node = node.child_by_field_name("value")
        if name_node is not None and name_node.type == "subscript":
            self.walk(name_node)  # `a[$(cmd)]=x` runs cmd
            name_node = name_node.child_by_field_name("name")
        name = name_node.text.decode("utf-8", "replace") if name_node else ""
        if value_node is None:
            self.variables[name] = ""
            return
        words = self._expand(value_node, split=False)
        value = words[0] if words else Word("")
        self.variables[name] = None if value.dynamic else value.value
        self._assigned(name, self.variables[name])

    def _for(self, node: Node) -> None:
        variable = node.child_by_field_name("variable")
        values = [w for child in node.children_by_field_name("value") for w in self._expand(child)]
        if variable is not None:
            name = variable.text.decode("utf-8", "replace")
            static = len(values) == 1 and not values[0].dynamic and not values[0].glob
            self.variables[name] = values[0].value if static else None
        body = node.child_by_field_name("body")
        if body is not None:
            self.walk(body)

    def _substitution(self, node: Node) -> str | None:
        """Walk `$(…)`/`<(…)`; return its output when statically known."""
        before = len(self.commands)
        statements = [c for c in node.named_children if c.type != "comment"]
        outer_stdin = self.stdin_source
        if node.type == "process_substitution" and node.text.startswith(b">("):
            self.stdin_source = "the output redirected into it"  # `> >(sh)` runs that output
        for statement in statements:
            self.walk(statement)
        self.stdin_source = outer_stdin
        if node.type != "command_substitution" or len(statements) != 1:
            return None
        if statements[0].type not in {"command", "pipeline", "redirected_statement"}:
            return None
        text: str | None = None
        for command in self.commands[before:]:
            text = static_output(command, text if command.piped_input else None)
            if text is None:
                return None
        return text


def _snippet(node: Node) -> str:
    text = node.text.decode("utf-8", "replace")
    return text if len(text) <= 40 else text[:37] + "..."


_EVALUATING_NODES = frozenset({"test_command", "c_style_for_statement"})


def analyze_uncached(
    code: str,
    depth: int = 0,
    variables: dict[str, str] | None = None,
    functions: dict[str, str] | None = None,
    stdin_source: str | None = None,
) -> ShellAnalysis:
    source = code.encode("utf-8", "replace")
    tree = _PARSER.parse(source)
    walker = _Walker(variables, depth, functions, stdin_source)
    try:
        walker.walk(tree.root_node)
    except RecursionError:
        walker.opaque.append("the command nests too deeply to follow")
    commands = walker.commands
    if tree.root_node.has_error:
        if not any("cannot parse" in reason for reason in walker.opaque):
            walker.opaque.append("the command does not parse as bash")
        seen = {c.argv for c in commands}
        for command in _fallback_commands(code):
            if command.argv not in seen:
                before = len(walker.commands)
                walker._emit(command, None)
                seen.update(c.argv for c in walker.commands[before:])
    if "\x00" in code:
        walker.opaque.append("the command contains NUL bytes")
    if _LONE_SURROGATE.search(code):
        # Not text: what runs depends on the encoder (U+FFFD, `?` or an error), not on this.
        walker.opaque.append("the command holds a lone surrogate, which is not text")
    return ShellAnalysis(
        tuple(commands), tuple(dict.fromkeys(walker.opaque)), tuple(walker.fork_bombs)
    )


@lru_cache(maxsize=4096)
def analyze(code: str) -> ShellAnalysis:
    """Every simple command `code` would run. Cached: agents repeat themselves a lot."""
    return analyze_uncached(code)
