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
from engine.analysis.shell.unwrap import _Unwrapping
from engine.analysis.shell.words import Redirect, ShellAnalysis, SimpleCommand, Word
from engine.analysis.shell.wrappers import MAX_DEPTH
from engine.analysis.unseen import UnseenCode

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_PARSER = Parser(Language(tree_sitter_bash.language()))


MAX_NESTING = 60  # levels of syntax: `$( $( $( … ) ) )`, kept well inside Python's stack


class _Walker(_Unwrapping, _Expanding, UnseenCode):
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

    def _pipeline(self, stages: list[Node]) -> None:
        # `cat <<EOF | sh` puts `| sh` inside the heredoc node; lift it back into the pipeline.
        expanded: list[Node] = []
        for stage in stages:
            expanded.append(stage)
            if stage.type == "redirected_statement":
                for redirect in stage.children_by_field_name("redirect"):
                    if redirect.type == "heredoc_redirect":
                        for lifted in redirect.named_children:
                            if lifted.type == "pipeline":
                                expanded.extend(lifted.named_children)

        previous_output: str | None = None
        previous_name: str | None = self.stdin_source
        for position, stage in enumerate(expanded):
            piped = position > 0 or self.stdin_source is not None
            if stage.type == "command":
                produced = self._command(stage, (), piped, previous_output, previous_name)
            elif stage.type == "redirected_statement":
                produced = self._redirected(stage, piped, previous_output, previous_name)
            else:
                self.walk(stage)
                produced = None
            if produced is None:
                previous_output, previous_name = None, None
            else:
                previous_output = static_output(produced, previous_output if piped else None)
                previous_name = produced.display()

    def _redirected(
        self, node: Node, piped: bool, stdin: str | None, upstream: str | None
    ) -> SimpleCommand | None:
        redirects: list[Redirect] = []
        heredoc: str | None = None
        for redirect in node.children_by_field_name("redirect"):
            heredoc = self._redirect(redirect, redirects) or heredoc
        body = node.child_by_field_name("body")
        if body is None:
            return None
        if body.type == "command":
            return self._command(
                body, tuple(redirects), piped, heredoc if heredoc is not None else stdin, upstream
            )
        # `{ …; } > file`: each inner command writes the file.
        before = len(self.commands)
        self.walk(body)
        for index in range(before, len(self.commands)):
            command = self.commands[index]
            self.commands[index] = replace(command, redirects=command.redirects + tuple(redirects))
        if before == len(self.commands) and redirects:
            self.commands.append(SimpleCommand((), tuple(redirects), workdir=self.workdir))
        return None

    def _redirect(self, node: Node, redirects: list[Redirect]) -> str | None:
        """Record a redirect; return heredoc/here-string text fed to stdin."""
        if node.type == "heredoc_redirect":
            text = None
            for child in node.named_children:
                if child.type == "heredoc_body":
                    self.walk(child)
                    text = child.text.decode("utf-8", "replace")
                    if node.children and node.children[0].type == "<<-":
                        text = re.sub(r"(?m)^\t+", "", text)
                elif child.type == "file_redirect":
                    self._redirect(child, redirects)
            return text
        if node.type == "herestring_redirect":
            words = [w for c in node.named_children for w in self._expand(c, split=False)]
            return " ".join(w.value for w in words) + "\n"
        destination = node.child_by_field_name("destination")
        operator = next(
            (c.type for c in node.children if not c.is_named and c.type not in {"(", ")"}), ">"
        )
        if destination is not None and operator not in {">&", "<&", ">&-", "<&-"}:
            words = self._expand(destination, split=False)
            if words:
                redirects.append(Redirect(operator, words[0]))
        elif destination is not None and operator == ">&":
            words = self._expand(destination, split=False)
            if words and not words[0].value.isdigit() and words[0].value != "-":
                redirects.append(Redirect(">", words[0]))  # `>& file` is `&> file`
        return None

    def _command(
        self,
        node: Node,
        redirects: tuple[Redirect, ...],
        piped: bool,
        stdin: str | None,
        upstream: str | None,
    ) -> SimpleCommand | None:
        word_nodes: list[Node] = []
        assignments: dict[str, str | None] = {}
        heredoc = stdin
        local_redirects = list(redirects)
        outer: dict[str, str | None] | None = None
        for index, child in enumerate(node.children):
            field_name = node.field_name_for_child(index)
            if child.type == "variable_assignment":
                # `A=1 B=$A cmd`: later prefixes see earlier ones; the line after sees neither.
                outer = dict(self.variables) if outer is None else outer
                self._assign(child)
                name_node = child.child_by_field_name("name")
                if name_node is not None:
                    key = name_node.text.decode("utf-8", "replace")
                    assignments[key] = self.variables.get(key)
            elif child.type == "command_name":
                word_nodes.extend(child.named_children)
            elif field_name == "redirect" or child.type.endswith("_redirect"):
                text = self._redirect(child, local_redirects)
                heredoc = text if text is not None else heredoc
            elif child.type != "comment" and (child.is_named or child.type == "$"):
                word_nodes.append(child)
        if outer is not None:
            self.variables = outer
        words = [word for group in _adjacent_groups(word_nodes) for word in self._expand(*group)]
        if not words:
            # `FOO=bar` alone sets a shell variable for the rest of the line.
            self.variables.update(assignments)
            return None
        command = SimpleCommand(
            tuple(words),
            tuple(local_redirects),
            heredoc if (heredoc is not None) else stdin,
            piped,
            workdir=self.workdir,
        )
        emitted = self._emit(command, upstream)
        if command.name in {"cd", "pushd"}:
            self._change_directory(command)
        return emitted

    def _change_directory(self, command: SimpleCommand) -> None:
        targets = [w for w in command.words[1:] if not w.value.startswith("-")]
        if not targets:
            self.workdir = "~"
        elif not targets[0].dynamic:
            self.workdir = _join_dirs(self.workdir, targets[0].value)

    def _emit(self, command: SimpleCommand, upstream: str | None) -> SimpleCommand:
        """Record a command and unwrap what it runs in turn."""
        self.commands.append(command)
        if not command.words:
            return command
        first = command.words[0]
        if first.dynamic or first.glob:
            self.opaque.append(f"the command name {first.value!r} is only known at run time")
            return command
        self._unwrap(command, upstream)
        return command


def _join_dirs(base: str | None, target: str | None) -> str | None:
    if not target:
        return base
    if not base or target.startswith(("/", "~")):
        return target
    return f"{base.rstrip('/')}/{target}"


def _adjacent_groups(nodes: list[Node]) -> list[list[Node]]:
    """Nodes with no whitespace between them form one shell word."""
    groups: list[list[Node]] = []
    for node in nodes:
        if groups and groups[-1][-1].end_byte == node.start_byte:
            groups[-1].append(node)
        else:
            groups.append([node])
    return groups


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
