"""The shell walker's half that finds code the line runs besides its plain commands: execution
vectors, shell state that rewrites later words, evaluation contexts, containers. Never judges."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from engine.analysis import containers, minilangs
from engine.analysis.vector_model import Call, Payload, shell_join
from engine.analysis.vectors import PROGRAMS, command_payloads, env_payloads

if TYPE_CHECKING:
    from tree_sitter import Node

_NAME_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_%()]*)=(.*)", re.DOTALL)
_SIGNAL = re.compile(r"(?:SIG)?[A-Z]+[0-9+-]*|[0-9]+|EXIT|ERR|DEBUG|RETURN")
_CODE_MARKS = ("$(", "`", "<(", ">(")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# How a body spells "all the arguments": (spelling, joined into one word).
_ALL_ARGUMENTS = (
    ('"$*"', True),
    ('"${*}"', True),
    ('"$@"', False),
    ('"${@}"', False),
    ("${@}", False),
    ("${*}", False),
    ("$@", False),
    ("$*", False),
)
# Function bodies are re-read with the call's arguments only this far down.
_CALL_DEPTH = 3


@lru_cache(maxsize=64)
def _separators(ifs: str) -> re.Pattern[str]:
    spaces = "".join(c for c in ifs if c in " \t\n")
    others = "".join(c for c in ifs if c not in " \t\n")
    space_class = f"[{re.escape(spaces)}]" if spaces else ""
    if not others:
        return re.compile(f"{space_class}+" if spaces else r"(?!)")
    around = f"{space_class}*" if spaces else ""
    alternatives = f"{around}[{re.escape(others)}]{around}"
    return re.compile(f"{alternatives}|{space_class}+" if spaces else alternatives)


class UnseenCode:
    """Mixed into the walker; uses its `variables`, `functions`, `opaque`, `run_code`, `_inner`."""

    variables: dict[str, str | None]
    functions: dict[str, str]
    opaque: list[str]
    commands: list[Any]
    depth: int
    workdir: str | None
    integers: set[str] | None  # names declared `-i`: assigning one evaluates arithmetic

    if TYPE_CHECKING:

        def run_code(
            self,
            code: str,
            prefix: tuple[str, ...],
            origin: str,
            stdin_from: str | None = None,
            extra: dict[str, str] | None = None,
        ) -> None: ...
        def walk(self, node: Node) -> None: ...
        def _inner(self, command: Any, start: int) -> None: ...
        def _emit_inner(self, command: Any, inner: tuple[Any, ...], start: int) -> None: ...
        @staticmethod
        def printf_output(args: list[str]) -> str: ...
        def _expand(self, *nodes: Node, split: bool = True) -> list[Any]: ...

    # ---- payloads

    def _run_payload(self, command: Any, payload: Payload) -> None:
        if payload.unseen:
            reason = payload.unseen
            if payload.construct.split()[0] not in reason:
                reason = f"{payload.construct}: {reason}"
            self.opaque.append(reason)
        elif payload.start is not None:
            self._inner(command, payload.start)
        elif payload.code is not None:
            prefix = (*command.prefix, payload.construct)  # explain shows `(via ssh -o …)`
            self.run_code(payload.code, prefix, payload.construct, payload.stdin_from)

    def _vectors(self, command: Any, name: str) -> None:
        """Payloads of the vector table, shell builtins that change state, containers, functions."""
        if name not in _WATCHED and name not in self.functions:
            return  # most commands: nothing here runs code (kept cheap, it is the hot path)
        call = Call(
            name,
            command.argv,
            tuple(w.dynamic for w in command.words),
            command.stdin_text,
            command.piped_input,
            next((r.target.value for r in command.redirects if r.op == "<"), None),
        )
        for payload in command_payloads(call):
            self._run_payload(command, payload)
        builtin = _STATE_BUILTINS.get(name)
        if builtin is not None:
            builtin(self, command)
        run = containers.container_run(call)
        if run is not None:
            self._container(command, run)
        if name in self.functions and len(command.words) > 1:
            self._function_call(command)

    def _assigned(self, name: str, value: str | None) -> None:
        """An assignment: start-up variables reach child shells, integers are evaluated."""
        if value and self.integers and name in self.integers:
            self._probe(value, f"integer variable {name}")
        for payload in env_payloads(name, value, self.variables):
            self._run_payload_text(name, payload)

    def _run_payload_text(self, origin: str, payload: Payload) -> None:
        if payload.unseen:
            self.opaque.append(payload.unseen)
        elif payload.code is not None:
            self.run_code(payload.code, (f"{origin}=",), payload.construct)

    def _env_arguments(self, command: Any, start: int) -> None:
        """`env NAME=value cmd`: the environment of the command it starts."""
        assigned: dict[str, str | None] = {}
        for word in command.words[1:start]:
            match = _NAME_ASSIGNMENT.fullmatch(word.value)
            if match:
                assigned[match.group(1)] = None if word.dynamic else match.group(2)
        for name, value in assigned.items():
            for payload in env_payloads(name, value, {**self.variables, **assigned}):
                self._run_payload_text(name, payload)

    # ---- evaluation contexts

    def _probe(self, text: str, origin: str) -> None:
        """Text that bash expands again (subscripts, prompts): the `$(…)` in it runs."""
        if any(mark in text for mark in _CODE_MARKS):
            self.run_code(minilangs.expansion_probe(text), (), origin)

    def _probe_word(self, word: Any, origin: str) -> None:
        """A word whose text bash evaluates again; a `$(…)` left in a dynamic word already ran."""
        if not word.dynamic:
            self._probe(word.value, origin)

    def _evaluation_context(self, node: Node) -> None:
        """`(( ))`, `$(( ))`, `[[ ]]`: quoted subscripts and variable values are evaluated."""
        stack = [node]
        while stack:
            current = stack.pop()
            if current.type == "raw_string":
                self._probe(current.text.decode("utf-8", "replace")[1:-1], "arithmetic subscript")
            elif current.type == "variable_name":
                self._names_in_arithmetic(current.text.decode("utf-8", "replace"))
            stack.extend(current.named_children)

    def _names_in_arithmetic(self, text: str) -> None:
        """Arithmetic reads a variable's value as an expression: `a[$(…)]` in it runs."""
        for name in set(_IDENTIFIER.findall(text)):
            value = self.variables.get(name)
            if value and any(mark in value for mark in _CODE_MARKS):
                self._probe(value, f"arithmetic on `{name}`, which holds code")

    def _prompt_expansion(self, name: str, text: str) -> None:
        """`${x@P}` expands x's value like a prompt: the `$(…)` in it runs."""
        value = self.variables.get(name)
        if value is None:
            self.opaque.append(f"`{text}` expands a value only known at run time as a prompt")
        else:
            self._probe(value, f"`{text}` prompt expansion")

    def _field_separators(self) -> re.Pattern[str]:
        ifs = self.variables.get("IFS")
        if ifs is None:
            self.opaque.append("IFS is set at run time before an unquoted expansion")
            return _separators(" \t\n")
        return _separators(ifs)

    # ---- declarations and functions

    def _declaration(self, node: Node) -> None:
        keyword = node.children[0].type if node.children else "declare"
        for child in node.named_children:
            if child.type in {"variable_name", "variable_assignment"}:
                name = child.text.decode("utf-8", "replace").split("=", 1)[0]
                if self.integers is not None:
                    self.integers.add(name)
                continue
            if child.type != "word" and child.type != "raw_string" and child.type != "string":
                continue
            for word in self._expand(child, split=False):
                if re.fullmatch(r"-[A-Za-z]*i[A-Za-z]*", word.value):
                    self.integers = self.integers or set()  # names declared next are integers
                if re.fullmatch(r"[-+][A-Za-z]*n[A-Za-z]*", word.value):
                    self.opaque.append(
                        f"`{keyword} {word.value}` makes a name stand for another variable"
                    )
                else:
                    self._probe_word(word, f"{keyword} subscript")

    def _function_call(self, command: Any) -> None:
        """`f() { rm -rf "$1"; }; f /` removes `/`: read the body again with the arguments."""
        if self.depth >= _CALL_DEPTH:
            return
        arguments = command.words[1:]
        if any(w.dynamic for w in arguments):
            return
        values = [w.value for w in arguments]
        positional = {str(i): value for i, value in enumerate(values, start=1)}
        positional["#"] = str(len(values))
        body = self.functions[command.name]
        joined = shell_join(values)
        for spelling, text in _ALL_ARGUMENTS:
            body = body.replace(spelling, shlex.quote(" ".join(values)) if text else joined)
        self.run_code(
            body, (*command.prefix, command.name), f"function {command.name}", None, positional
        )

    # ---- containers

    def _container(self, command: Any, run: containers.ContainerRun) -> None:
        if run.start is None and run.entrypoint is None:
            if run.host_powers:
                self.opaque.append(
                    f"{run.construct} {' '.join(run.host_powers)} runs its image's own command "
                    "with the host's powers"
                )
            return
        before = len(self.commands)
        if run.entrypoint is not None:
            start = run.start if run.start is not None else len(command.words)
            entrypoint = replace(command.words[0], value=run.entrypoint)
            self._emit_inner(command, (entrypoint, *command.words[start:]), start)
        elif run.start is not None:
            self._inner(command, run.start)
        if run.mounts:
            for index in range(before, len(self.commands)):
                self.commands[index] = self._on_host(self.commands[index], run)

    def _on_host(self, inner: Any, run: containers.ContainerRun) -> Any:
        words = tuple(self._host_word(word, run) for word in inner.words)
        redirects = tuple(
            replace(r, target=self._host_word(r.target, run)) for r in inner.redirects
        )
        workdir = inner.workdir
        if run.workdir:
            mount = containers.host_path(run.workdir, run.mounts)
            if mount is not None and mount.host_known:
                workdir = containers.map_path(run.workdir, mount)
        return replace(inner, words=words, redirects=redirects, workdir=workdir)

    def _host_word(self, word: Any, run: containers.ContainerRun) -> Any:
        if word.dynamic:
            return word
        mount = containers.host_path(word.value, run.mounts)
        if mount is None:
            return word
        if not mount.host_known:
            self.opaque.append(
                f"{run.construct}: {word.value!r} is in a bind mount of {mount.host!r}, "
                "a host folder only known at run time"
            )
            return replace(word, value=containers.map_path(word.value, mount), dynamic=True)
        return replace(word, value=containers.map_path(word.value, mount))


# ---------------------------------------------------------------- builtins that change state


def _alias(walker: UnseenCode, command: Any) -> None:
    for word in command.words[1:]:
        match = _NAME_ASSIGNMENT.fullmatch(word.value)
        if match is None:
            continue
        if word.dynamic:
            walker.opaque.append(f"alias {match.group(1)} is defined at run time")
        else:
            walker.run_code(match.group(2), ("alias",), f"alias {match.group(1)}")


def _trap(walker: UnseenCode, command: Any) -> None:
    arguments = [w for w in command.words[1:] if w.value != "--"]
    if not arguments or arguments[0].value.startswith("-") and len(arguments) == 1:
        return
    action = arguments[0]
    if action.value in {"-", ""} or _SIGNAL.fullmatch(action.value) and len(arguments) == 1:
        return
    if action.dynamic:
        walker.opaque.append(f"trap runs code built at run time: {action.value!r}")
    else:
        signals = " ".join(w.value for w in arguments[1:])
        walker.run_code(action.value, ("trap",), f"trap on {signals}")


def _printf(walker: UnseenCode, command: Any) -> None:
    words = command.words
    for index, word in enumerate(words[1:-1], start=1):
        if word.value == "-v":
            target = words[index + 1]
            walker._probe_word(target, "printf -v subscript")
            rest = words[index + 2 :]
            name = target.value.split("[", 1)[0]
            static = not target.dynamic and not any(w.dynamic for w in rest)
            output = walker.printf_output([w.value for w in rest]) if static else None
            walker.variables[name] = output
            return


def _read(walker: UnseenCode, command: Any) -> None:
    names: list[str] = []
    arrays = False
    skip = False
    for word in command.words[1:]:
        if skip:
            skip = False
            continue
        if word.value.startswith("-"):
            arrays = arrays or "a" in word.value
            skip = word.value[-1] in "adnNpt u" and word.value not in {"-r", "-s", "-e"}
            continue
        walker._probe_word(word, f"{command.name} subscript")
        names.append(word.value.split("[", 1)[0])
    if command.name in {"mapfile", "readarray"} or arrays or command.stdin_text is None:
        for name in names or ["REPLY"]:
            walker.variables[name] = None
        return
    line = command.stdin_text.split("\n", 1)[0]
    fields = (names or ["REPLY"])[:]
    parts = line.split(None, len(fields) - 1) if fields else []
    for position, name in enumerate(fields):
        walker.variables[name] = parts[position] if position < len(parts) else ""


def _let(walker: UnseenCode, command: Any) -> None:
    for word in command.words[1:]:
        walker._probe_word(word, "let expression")
        for name in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", word.value):
            value = walker.variables.get(name)
            if value:
                walker._probe(value, "let on a variable holding code")


def _test(walker: UnseenCode, command: Any) -> None:
    for word in command.words[1:]:
        walker._probe_word(word, f"{command.name} -v subscript")


_STATE_BUILTINS: dict[str, Callable[[UnseenCode, Any], None]] = {
    "alias": _alias,
    "trap": _trap,
    "printf": _printf,
    "read": _read,
    "mapfile": _read,
    "readarray": _read,
    "let": _let,
    "test": _test,
    "[": _test,
}
# Command names this module has anything to say about.
_WATCHED = frozenset(PROGRAMS | _STATE_BUILTINS.keys() | containers.PROGRAMS)
