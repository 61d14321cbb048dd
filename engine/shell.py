"""Parses a bash command line into the simple commands that would execute, with tree-sitter-bash.
It resolves quoting, wrappers and nested code as bash would; it never judges a command."""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import shlex
from dataclasses import dataclass, field, replace
from functools import lru_cache

import tree_sitter_bash
from tree_sitter import Language, Node, Parser

from engine.analysis.unseen import UnseenCode
from engine.clis.wrappers import inner_command_start
from engine.git import git_subcommand
from engine.interpreters import analyze_code, code_argument, interpreter_language

_PARSER = Parser(Language(tree_sitter_bash.language()))
MAX_DEPTH = 12  # levels of code inside code: `bash -c "eval '…'"`
MAX_NESTING = 60  # levels of syntax: `$( $( $( … ) ) )`, kept well inside Python's stack
SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "busybox", "fish"})


@dataclass(frozen=True, slots=True)
class Word:
    """One argv entry after quote removal.

    `glob`: bash would expand it against the file system (unquoted `*`, `?`, `[`).
    `dynamic`: part of it is only known at run time (`$1`, `$(curl …)`).
    """

    value: str
    glob: bool = False
    dynamic: bool = False


@dataclass(frozen=True, slots=True)
class Redirect:
    op: str
    target: Word


@dataclass(frozen=True, slots=True)
class SimpleCommand:
    """A command that would execute, after wrappers (`sudo`, `env`, `xargs`…) are stripped.

    `prefix` holds the wrapper words that led to it (`("sudo", "-u", "root")`), so a policy
    that names the wrapper still sees it. `stdin_text` is text bash would feed it (heredoc,
    here-string, or the statically known output of an earlier pipeline stage).
    """

    words: tuple[Word, ...]
    redirects: tuple[Redirect, ...] = ()
    stdin_text: str | None = None
    piped_input: bool = False
    prefix: tuple[str, ...] = ()
    # Where an earlier `cd` in the same line moved to (relative to the call's cwd), if anywhere.
    workdir: str | None = None

    @property
    def argv(self) -> tuple[str, ...]:
        return tuple(word.value for word in self.words)

    @property
    def name(self) -> str:
        return command_name(self.words[0].value) if self.words else ""

    def display(self) -> str:
        if not self.words:
            return "(redirection only)"
        via = f"  (via {' '.join(self.prefix)})" if self.prefix else ""
        return shlex.join(self.argv) + via


@dataclass(frozen=True, slots=True)
class ShellAnalysis:
    commands: tuple[SimpleCommand, ...]
    opaque: tuple[str, ...] = field(default=())
    # Functions that call themselves in the background: `:(){ :|:& };:`.
    fork_bombs: tuple[str, ...] = field(default=())


def command_name(word: str) -> str:
    """`/usr/bin/rm` runs `rm`; `\\rm` and `r''m` are already unquoted by now."""
    return word.rsplit("/", 1)[-1]


# ---------------------------------------------------------------- word expansion

_GLOB_CHARS = re.compile(r"[*?\[]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_SHIELD = str.maketrans({"{": "\ue000", ",": "\ue001", "}": "\ue002"})
_UNSHIELD = str.maketrans({"\ue000": "{", "\ue001": ",", "\ue002": "}"})
_BRACE = re.compile(r"\{([^{}]*,[^{}]*)\}")
_BACKSLASH = re.compile(r"\\(.)", re.DOTALL)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _unescape_unquoted(text: str) -> str:
    return _BACKSLASH.sub(lambda m: "" if m.group(1) == "\n" else m.group(1), text)


def _unescape_double_quoted(text: str) -> str:
    return re.sub(r"\\([\\$`\"\n])", lambda m: "" if m.group(1) == "\n" else m.group(1), text)


def decode_ansi_c(body: str) -> str:
    """`$'\\x72m'` is `rm`: decode bash's ANSI-C escapes."""
    try:
        return codecs.decode(body.encode("latin-1", "backslashreplace"), "unicode_escape")
    except (UnicodeDecodeError, ValueError):
        return body


def brace_expand(text: str) -> list[str]:
    match = _BRACE.search(text)
    if not match:
        return [text]
    head, tail = text[: match.start()], text[match.end() :]
    expanded: list[str] = []
    for option in match.group(1).split(","):
        expanded.extend(brace_expand(head + option + tail))
    return expanded[:64]


@dataclass(slots=True)
class _Piece:
    text: str
    quoted: bool
    dynamic: bool = False
    splittable: bool = False  # an unquoted expansion: bash splits it on $IFS


# ---------------------------------------------------------------- static evaluation


def _printf(args: list[str]) -> str:
    if not args:
        return ""
    fmt, values = decode_ansi_c(args[0]), args[1:]
    if "%" not in fmt:
        return fmt
    out, index = [], 0
    for part in re.split(r"(%[-0-9.]*[sbdc%])", fmt):
        if part == "%%":
            out.append("%")
        elif part.startswith("%") and len(part) > 1:
            value = values[index] if index < len(values) else ""
            out.append(decode_ansi_c(value) if part.endswith("b") else value)
            index += 1
        else:
            out.append(part)
    return "".join(out)


def _b64decode(text: str) -> str | None:
    compact = re.sub(r"\s+", "", text)
    try:
        return base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True).decode(
            "utf-8", "replace"
        )
    except (binascii.Error, ValueError):
        return None


def static_output(command: SimpleCommand, stdin: str | None) -> str | None:
    """What the command prints, when that is knowable without running anything.

    This is how `echo cm0gLXJmIC8= | base64 -d | sh` is seen to run `rm -rf /`.
    """
    if any(word.dynamic or word.glob for word in command.words) or command.redirects:
        return None
    name, args = command.name, list(command.argv[1:])
    if stdin is None:
        stdin = command.stdin_text
    if name == "echo":
        interpret, newline = False, True
        while args and re.fullmatch(r"-[neE]+", args[0]):
            interpret = interpret or "e" in args[0]
            newline = newline and "n" not in args[0]
            args.pop(0)
        text = " ".join(args)
        return (decode_ansi_c(text) if interpret else text) + ("\n" if newline else "")
    if name == "printf":
        return _printf(args)
    if name in {"cat", "tee"} and not [a for a in args if not a.startswith("-")]:
        return stdin
    if stdin is None:
        return None
    if name == "base64" and any(a in {"-d", "--decode", "-D"} for a in args):
        return _b64decode(stdin)
    if name == "rev":
        return "\n".join(line[::-1] for line in stdin.split("\n"))
    if name == "xxd" and "-r" in args:
        try:
            return bytes.fromhex(re.sub(r"\s+", "", stdin)).decode("utf-8", "replace")
        except ValueError:
            return None
    return None


# ---------------------------------------------------------------- wrappers

# ssh's options that take a value: the host (and the command) follow them.
SSH_VALUE_OPTIONS = frozenset(
    [
        "-b",
        "-c",
        "-D",
        "-E",
        "-e",
        "-F",
        "-I",
        "-i",
        "-J",
        "-L",
        "-l",
        "-m",
        "-O",
        "-o",
        "-p",
        "-Q",
        "-R",
        "-S",
        "-W",
        "-w",
        "-B",
    ]
)

# Options that consume the next word, per wrapper; everything else starting with `-` is a flag.
_WRAPPER_OPTION_ARGS: dict[str, frozenset[str]] = {
    "sudo": frozenset(
        [
            "-u",
            "-g",
            "-h",
            "-p",
            "-C",
            "-D",
            "-r",
            "-t",
            "-U",
            "-T",
            "--user",
            "--group",
            "--host",
            "--prompt",
        ]
    ),
    "doas": frozenset({"-u", "-C"}),
    "nohup": frozenset(),
    "setsid": frozenset(),
    "time": frozenset({"-f", "-o", "--format", "--output"}),
    "nice": frozenset({"-n", "--adjustment"}),
    "ionice": frozenset({"-c", "-n", "-p", "--class", "--classdata"}),
    "timeout": frozenset({"-s", "-k", "--signal", "--kill-after"}),
    "stdbuf": frozenset({"-i", "-o", "-e"}),
    "exec": frozenset({"-a"}),
    "command": frozenset(),
    "builtin": frozenset(),
    "unbuffer": frozenset(),
    "chronic": frozenset(),
    "caffeinate": frozenset(),
    "torsocks": frozenset(),
    "proxychains": frozenset({"-f"}),
    "proxychains4": frozenset({"-f"}),
    "chroot": frozenset(),
    "flock": frozenset({"-w", "-E", "--timeout", "--conflict-exit-code"}),
    "ssh": SSH_VALUE_OPTIONS,
    "xargs": frozenset(
        [
            "-I",
            "-n",
            "-L",
            "-P",
            "-d",
            "-E",
            "-s",
            "-a",
            "-l",
            "--arg-file",
            "--delimiter",
            "--max-args",
        ]
    ),
}
# How many positional words a wrapper takes before the wrapped command.
_WRAPPER_POSITIONALS = {"timeout": 1, "chroot": 1, "flock": 1, "ssh": 1}
_RUNNERS = {  # `uv run rm …` runs rm
    ("uv", "run"),
    ("poetry", "run"),
    ("pipenv", "run"),
    ("bundle", "exec"),
    ("pnpm", "exec"),
    ("npm", "exec"),
    ("conda", "run"),
}


_ASSIGNMENT_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_%]*=")
_RUNNER_OPTIONS = frozenset(
    {"--with", "--package", "-p", "--python", "-w", "--workspace", "--project", "-n", "--name"}
)


def _skip_options(words: tuple[Word, ...], start: int, takes_arg: frozenset[str]) -> int:
    index = start
    while index < len(words):
        value = words[index].value
        if value == "--":
            return index + 1
        if not value.startswith("-") or value == "-":
            return index
        option = value.split("=", 1)[0]
        if option in takes_arg and "=" not in value:
            index += 1
        elif len(option) > 2 and not option.startswith("--") and option[:2] in takes_arg:
            pass  # `-uroot`: value glued to the flag
        index += 1
    return index


def _env_start(words: tuple[Word, ...]) -> tuple[int, str | None]:
    """Index of the command `env` runs, and the text of `env -S '…'` if used."""
    index = 1
    while index < len(words):
        value = words[index].value
        if value in {"-S", "--split-string"} and index + 1 < len(words):
            return len(words), words[index + 1].value
        if value.startswith("--split-string="):
            return len(words), value.split("=", 1)[1]
        if value in {"-u", "--unset", "-C", "--chdir"}:
            index += 2
        elif value == "--":
            return index + 1, None
        elif value.startswith("-") or re.match(r"^[A-Za-z_][A-Za-z0-9_%]*=", value):
            index += 1
        else:
            return index, None
    return index, None


def shell_code_argument(words: tuple[Word, ...]) -> tuple[bool, Word | None]:
    """For `bash -lc 'X'`: (True, X). For `bash script.sh`: (False, None)."""
    index = 1
    while index < len(words):
        value = words[index].value
        if value == "--" or not value.startswith(("-", "+")):
            return False, None
        if value in {"-o", "+o", "-O", "+O", "--rcfile", "--init-file"}:
            index += 2
            continue
        if not value.startswith("--") and "c" in value[1:]:
            return True, words[index + 1] if index + 1 < len(words) else None
        index += 1
    return False, None


def _reads_code_from_stdin(words: tuple[Word, ...]) -> bool:
    """`sh`, `bash -s`, `bash -x -` read their program from standard input."""
    for word in words[1:]:
        value = word.value
        if value == "-" or (
            value.startswith("-") and "s" in value[1:] and not value.startswith("--")
        ):
            return True
        if not value.startswith(("-", "+")):
            return False
    return True


# ---------------------------------------------------------------- the walker


class _Walker(UnseenCode):
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

    # ---- entry points

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

    # ---- statements

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

    # ---- pipelines and commands

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

    # ---- words

    def _expand(self, *nodes: Node, split: bool = True) -> list[Word]:
        pieces = [piece for node in nodes for piece in self._pieces(node, quoted=False)]
        pieces = self._late_variables(pieces)
        fields: list[list[_Piece]] = [[]]
        separators = None
        for piece in pieces:
            if piece.splittable and split:
                separators = separators or self._field_separators()
            if piece.splittable and separators and separators.search(piece.text):
                parts = separators.split(piece.text)
                for position, part in enumerate(parts):
                    if position > 0:
                        fields.append([])
                    if part:
                        fields[-1].append(_Piece(part, quoted=False, dynamic=piece.dynamic))
            else:
                fields[-1].append(piece)
        words: list[Word] = []
        for parts in fields:
            if not parts:
                continue
            value = "".join(p.text for p in parts)
            dynamic = any(p.dynamic for p in parts)
            unquoted = [p.text for p in parts if not p.quoted and not p.dynamic]
            glob = any(_GLOB_CHARS.search(text) for text in unquoted)
            braces = (
                "".join(p.text for p in parts if not p.quoted)
                if not dynamic and "{" in value and "," in value
                else ""
            )
            if "{" in braces and "," in braces:
                # Quoted text takes no part in brace expansion: `{rm,'-rf'}` is `rm -rf`.
                shielded = "".join(p.text.translate(_SHIELD) if p.quoted else p.text for p in parts)
                words.extend(
                    Word(v.translate(_UNSHIELD), glob=glob) for v in brace_expand(shielded)
                )
            else:
                words.append(Word(value, glob=glob, dynamic=dynamic))
        return words

    def _late_variables(self, pieces: list[_Piece]) -> list[_Piece]:
        """tree-sitter splits `-rf$IFS/` into `-rf$` and `IFS/`; bash reads `$IFS` there."""
        fixed: list[_Piece] = []
        index = 0
        while index < len(pieces):
            piece = pieces[index]
            following = pieces[index + 1] if index + 1 < len(pieces) else None
            name = (
                _NAME.match(following.text)
                if following
                and not following.quoted
                and not following.dynamic
                and not piece.quoted
                and piece.text.endswith("$")
                and not piece.dynamic
                else None
            )
            if name is None or following is None:
                fixed.append(piece)
                index += 1
                continue
            if piece.text[:-1]:
                fixed.append(_Piece(piece.text[:-1], quoted=False))
            variable = name.group(0)
            value = self.variables.get(variable)
            if value is None:
                fixed.append(_Piece("$" + variable, quoted=False, dynamic=True))
            else:
                fixed.append(_Piece(value, quoted=False, splittable=True))
            rest = following.text[len(variable) :]
            if rest:
                fixed.append(_Piece(rest, quoted=False))
            index += 2
        return fixed

    def _pieces(self, node: Node, quoted: bool) -> list[_Piece]:
        kind = node.type
        text = node.text.decode("utf-8", "replace")
        if kind in {"word", "number", "variable_name", "regex", "extglob_pattern"}:
            return [_Piece(text if quoted else _unescape_unquoted(text), quoted)]
        if kind == "raw_string":
            return [_Piece(text[1:-1], True)]
        if kind == "ansi_c_string":
            return [_Piece(decode_ansi_c(text[2:-1]), True)]
        if kind in {"string", "translated_string"}:
            pieces: list[_Piece] = []
            for child in node.named_children:
                if child.type == "string_content":
                    raw = child.text.decode("utf-8", "replace")
                    pieces.append(_Piece(_unescape_double_quoted(raw), True))
                else:
                    pieces.extend(self._pieces(child, quoted=True))
            return pieces or [_Piece("", True)]
        if kind == "concatenation":
            return [p for child in node.children for p in self._pieces(child, quoted)]
        if kind in {"simple_expansion", "expansion"}:
            return [self._variable(node, text, quoted)]
        if kind == "command_substitution":
            output = self._substitution(node)
            if output is None:
                return [_Piece(text, quoted, dynamic=True)]
            return [_Piece(output.rstrip("\n"), quoted, splittable=not quoted)]
        if kind == "process_substitution":
            self._substitution(node)
            return [_Piece(text, quoted, dynamic=True)]
        if kind == "arithmetic_expansion":
            self._evaluation_context(node)
        if kind == "string_content":
            return [_Piece(_unescape_double_quoted(text), True)]
        # arithmetic, arrays, brace ranges…: walk for nested commands, value unknown.
        for child in node.named_children:
            self.walk(child)
        return [_Piece(text, quoted, dynamic=kind not in {"$"})]

    def _variable(self, node: Node, text: str, quoted: bool) -> _Piece:
        names = [
            c for c in node.named_children if c.type in {"variable_name", "special_variable_name"}
        ]
        name = names[0].text.decode("utf-8", "replace") if names else ""
        operators = node.type == "expansion" and len(node.children) > 3
        if name == "IFS":
            ifs = self.variables.get("IFS")
            return _Piece(ifs or "", quoted, dynamic=ifs is None, splittable=not quoted)
        if operators and text.endswith("@P}"):
            self._prompt_expansion(name, text)
            return _Piece(text, quoted, dynamic=True)
        if operators and text.endswith("@E}") and self.variables.get(name) is not None:
            value = decode_ansi_c(self.variables[name] or "")  # `${x@E}`: escapes decoded
            return _Piece(value, quoted, splittable=not quoted)
        if node.type == "expansion" and ("[" in text or ":" in text):
            # `${a[x]}`, `${s:x}`: subscripts and offsets are arithmetic on x's value
            self._names_in_arithmetic(text[2:-1].removeprefix(name))
        value = self.variables.get(name)
        if value is None or (operators and name not in self.variables):
            for child in node.named_children:
                if child.type in {"command_substitution", "process_substitution"}:
                    self._substitution(child)
            return _Piece(text, quoted, dynamic=True)
        if operators:
            return _Piece(text, quoted, dynamic=True)
        return _Piece(value, quoted, splittable=not quoted)


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


# ---------------------------------------------------------------- fallback tokenizer

_EVALUATING_NODES = frozenset({"test_command", "c_style_for_statement"})
_CONTROL = {";", "&&", "||", "|", "&", "(", ")", ";;", "|&", "\n"}


def _fallback_commands(code: str) -> list[SimpleCommand]:
    """Best-effort split for input tree-sitter cannot parse, so a deny still fires on it."""
    lexer = shlex.shlex(code, posix=True, punctuation_chars=";&|()")
    lexer.whitespace_split = True
    commands: list[SimpleCommand] = []
    current: list[Word] = []
    try:
        for token in lexer:
            if token in _CONTROL or set(token) <= set(";&|()"):
                if current:
                    commands.append(SimpleCommand(tuple(current)))
                current = []
            else:
                stripped = token.strip("{}") if token.startswith("{") and "," in token else token
                values = brace_expand("{" + stripped + "}") if stripped != token else [token]
                current.extend(Word(v, glob=bool(_GLOB_CHARS.search(v))) for v in values)
    except ValueError:
        pass  # unterminated quote: keep what was read
    if current:
        commands.append(SimpleCommand(tuple(current)))
    return commands


# ---------------------------------------------------------------- public entry


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
