"""The walker's half that follows pipelines, redirections and simple commands: what each stage
reads and writes, prefix assignments, `cd`. A part of _Walker, not used alone."""

from __future__ import annotations

import re
from dataclasses import replace

from tree_sitter import Node

from engine.analysis.shell.expansion import static_output
from engine.analysis.shell.git_env import git_env_options
from engine.analysis.shell.words import Redirect, SimpleCommand, Word, command_name


class _Piping:
    """How _Walker reads a pipeline's stages, their redirects and each simple command."""

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
        in_scope = self.variables  # with this command's own `A=1` prefixes
        if outer is not None:
            self.variables = outer
        words = [word for group in _adjacent_groups(word_nodes) for word in self._expand(*group)]
        if words and command_name(words[0].value) == "git":
            words = self._with_git_env(words, in_scope)
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

    def _with_git_env(self, words: list[Word], variables: dict[str, str | None]) -> list[Word]:
        """git reads `GIT_CONFIG_COUNT`/`_KEY_n`/`_VALUE_n` and `GIT_CONFIG_PARAMETERS` as `-c`
        options: `GIT_CONFIG_COUNT=1 … git push` is judged as `git -c … push`."""
        options, unknown = git_env_options(variables)
        if unknown is not None:
            self.opaque.append(f"git's configuration comes from the environment: {unknown}")
        return [words[0], *options, *words[1:]]

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
