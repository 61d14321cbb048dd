"""The walker's half that follows a command into the command it runs: wrappers, xargs, git
aliases, interpreters, shells, find -exec. A part of _Walker, not used alone."""

from __future__ import annotations

from dataclasses import replace

from engine.analysis.code import analyze_code, code_argument, interpreter_language
from engine.analysis.shell.words import SHELLS, SimpleCommand, Word
from engine.analysis.shell.wrappers import (
    _ASSIGNMENT_WORD,
    _RUNNER_OPTIONS,
    _RUNNERS,
    _WRAPPER_OPTION_ARGS,
    _WRAPPER_POSITIONALS,
    MAX_DEPTH,
    _env_start,
    _reads_code_from_stdin,
    _skip_options,
    shell_code_argument,
)
from engine.clis.wrappers import inner_command_start
from engine.git import git_subcommand


class _Unwrapping:
    """How _Walker follows wrapped and nested commands."""

    def _unwrap(self, command: SimpleCommand, upstream: str | None) -> None:
        words, name = command.words, command.name
        if name == "eval":
            self._code_from_words(command, 1, "eval")
        elif name == "env":
            start, split_string = _env_start(words)
            self._env_arguments(command, start)
            if split_string is not None:
                self.run_code(split_string, (*command.prefix, *command.argv[:start]), "env -S")
            else:
                self._inner(command, start)
        elif name in {"su", "runuser"}:
            for index, word in enumerate(words[:-1]):
                if word.value in {"-c", "--command"}:
                    self._code_word(command, words[index + 1], f"{name} -c")
        elif name == "watch":
            start = _skip_options(words, 1, frozenset({"-n", "--interval", "-d"}))
            self._code_from_words(command, start, "watch")
        elif name == "xargs":
            self._xargs(command)
        elif name in SHELLS:
            self._shell(command, upstream)
        elif name in {"source", "."}:
            self._script_must_be_static(command)
        elif name == "find":
            self._find_exec(command)
        elif name == "command" and any(w.value in {"-v", "-V"} for w in words[1:2]):
            return
        elif (wrapped := inner_command_start(command.argv)) is not None:
            self._inner(command, wrapped)  # docker compose exec, kubectl exec: engine/clis
        elif name == "git":
            self._git_alias(command)
        elif (language := interpreter_language(name)) is not None:
            self._interpreter(command, language, upstream)
        elif len(words) > 1 and (name, words[1].value) in _RUNNERS:
            self._inner(command, _skip_options(words, 2, _RUNNER_OPTIONS))
        elif name in _WRAPPER_OPTION_ARGS:
            start = _skip_options(words, 1, _WRAPPER_OPTION_ARGS[name])
            start += _WRAPPER_POSITIONALS.get(name, 0)
            if name in {"sudo", "doas"}:  # `sudo VAR=value cmd` sets cmd's environment
                while start < len(words) and _ASSIGNMENT_WORD.match(words[start].value):
                    start += 1
                self._env_arguments(command, start)
            if name == "ssh" and start < len(words) and words[start].value == "--":
                start += 1  # `ssh host -- cmd`
            if name == "ssh" and len(words) - start >= 1:
                self._code_from_words(command, start, "ssh remote command")
            elif name == "ssh" and (
                command.stdin_text is not None
                or command.piped_input
                or any(r.op == "<" for r in command.redirects)
            ):
                # No remote command: the remote login shell runs what ssh's stdin carries.
                self._emit_inner(command, (Word("sh"),), start)
            elif (
                name == "flock" and start < len(words) and words[start].value in {"-c", "--command"}
            ):
                if start + 1 < len(words):
                    self._code_word(command, words[start + 1], "flock -c")
            else:
                self._inner(command, start)
        self._vectors(command, name)

    def _xargs(self, command: SimpleCommand) -> None:
        """`xargs CMD` runs CMD with words read from its input, known when the input is."""
        words = command.words
        start = _skip_options(words, 1, _WRAPPER_OPTION_ARGS["xargs"])
        inner = tuple(words[start:]) or (Word("echo"),)
        options = [w.value for w in words[1:start]]
        replace_with = next(
            (
                options[i + 1] if o == "-I" else o[2:]
                for i, o in enumerate(options)
                if (o == "-I" and i + 1 < len(options)) or (o.startswith("-I") and len(o) > 2)
            ),
            "{}" if "-i" in options else None,
        )
        known = command.stdin_text.split() if command.stdin_text is not None else None
        if replace_with is not None:
            for item in (known or [None])[:32]:
                self._emit_inner(
                    command,
                    tuple(
                        (
                            Word(w.value.replace(replace_with, item))
                            if item is not None
                            else Word(w.value, dynamic=True)
                        )
                        if replace_with in w.value
                        else w
                        for w in inner
                    ),
                    start,
                )
            return
        fed = (
            tuple(Word(item) for item in known)
            if known is not None
            else (Word("{xargs input}", dynamic=True),)
        )
        self._emit_inner(command, inner + fed, start)

    def _git_alias(self, command: SimpleCommand) -> None:
        """`git -c alias.p='!rm -rf /' p` runs shell code; `-c alias.p=push p` is a push."""
        start, aliases = git_subcommand(command.argv)
        if start >= len(command.words) or command.argv[start] not in aliases:
            return
        expansion = aliases[command.argv[start]]
        if expansion.startswith("!"):
            self.run_code(expansion[1:], (*command.prefix, "git"), "git alias")
            return
        replaced = tuple(Word(part) for part in expansion.split())
        inner = (*command.words[:start], *replaced, *command.words[start + 1 :])
        self._emit(replace(command, words=inner), None)

    def _interpreter(self, command: SimpleCommand, language: str, upstream: str | None) -> None:
        code = code_argument(language, command.argv)
        origin = f"{command.name} code"
        if code is None:
            arguments = [w.value for w in command.words[1:]]
            if "-" not in arguments and any(not a.startswith("-") for a in arguments):
                return  # runs a script or module file
            if command.stdin_text is not None:
                code = command.stdin_text
            elif command.piped_input:
                source = upstream or "an earlier command"
                self.opaque.append(
                    f"{command.name} runs code piped from `{source}`, which cannot be seen"
                )
                return
            else:
                return
        if any(w.dynamic for w in command.words if w.value == code):
            self.opaque.append(f"{origin} is built at run time")
            return
        code_effects = analyze_code(language, code)
        for line in code_effects.shell_commands:
            self.run_code(line, (*command.prefix, command.name), origin)
        self.opaque.extend(f"{origin}: {reason}" for reason in code_effects.opaque)

    def _inner(self, command: SimpleCommand, start: int) -> None:
        if start < len(command.words):
            self._emit_inner(command, command.words[start:], start)

    def _emit_inner(self, command: SimpleCommand, inner: tuple[Word, ...], start: int) -> None:
        prefix = (*command.prefix, *command.argv[:start])
        if self.depth + len(prefix) > MAX_DEPTH * 4:
            self.opaque.append("wrappers nested too deeply to follow")
            return
        self._emit(replace(command, words=inner, prefix=prefix), None)

    def _shell(self, command: SimpleCommand, upstream: str | None) -> None:
        has_code, code_word = shell_code_argument(command.words)
        if has_code:
            if code_word is None:
                self.opaque.append(f"{command.name} -c without code")
            else:
                self._code_word(command, code_word, f"{command.name} -c")
            return
        if not _reads_code_from_stdin(command.words):
            # Runs a script file, whose content is not part of this command line; but a script
            # that only exists at run time (`bash <(curl …)`) is downloaded code.
            self._script_must_be_static(command)
            return
        if command.stdin_text is not None:
            self.run_code(
                command.stdin_text, (*command.prefix, command.name), f"{command.name} stdin"
            )
        elif command.piped_input:
            source = upstream or "an earlier command"
            self.opaque.append(
                f"{command.name} runs code piped from `{source}`, which cannot be seen"
            )

    def _script_must_be_static(self, command: SimpleCommand) -> None:
        script = next((w for w in command.words[1:] if not w.value.startswith(("-", "+"))), None)
        if script is not None and script.dynamic:
            self.opaque.append(
                f"{command.name} runs a script only known at run time: {script.value!r}"
            )

    def _code_word(self, command: SimpleCommand, word: Word, origin: str) -> None:
        if word.dynamic:
            self.opaque.append(f"{origin} runs code built at run time: {word.value!r}")
        else:
            self.run_code(word.value, (*command.prefix, *command.argv[:1]), origin)

    def _code_from_words(self, command: SimpleCommand, start: int, origin: str) -> None:
        code_words = command.words[start:]
        if not code_words:
            return
        if any(w.dynamic for w in code_words):
            text = " ".join(w.value for w in code_words)
            self.opaque.append(f"{origin} runs code built at run time: {text!r}")
            return
        self.run_code(
            " ".join(w.value for w in code_words), (*command.prefix, *command.argv[:start]), origin
        )

    def _find_exec(self, command: SimpleCommand) -> None:
        words = command.words
        index = 1
        while index < len(words):
            if words[index].value in {"-exec", "-execdir", "-ok", "-okdir"}:
                end = index + 1
                while end < len(words) and words[end].value not in {";", "+"}:
                    end += 1
                inner = tuple(
                    Word("{found file}", dynamic=True) if w.value == "{}" else w
                    for w in words[index + 1 : end]
                )
                if inner:
                    self._emit_inner(command, inner, index + 1)
                index = end
            index += 1
