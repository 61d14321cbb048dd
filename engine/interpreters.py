"""Translates interpreter one-liners (python -c, node -e, perl -e, ruby -e, php -r) into shell text.
It never decides allow or deny and never runs the code: the policy engine judges what it returns."""

import ast
import posixpath
import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from engine.analysis.modes import STAT_CONSTANTS, mode_number, world_writable


@dataclass(frozen=True, slots=True)
class CodeEffects:
    shell_commands: tuple[str, ...]  # shell command lines equivalent to what the code does
    opaque: tuple[str, ...]  # why some behaviour cannot be seen statically


_LABELS = {
    "python": "python -c",
    "node": "node -e",
    "perl": "perl -e",
    "ruby": "ruby -e",
    "php": "php -r",
}

# A chmod whose file is computed or an open descriptor: the mode is judged all the same.
_SOME_FILE = shlex.quote("(a file only known at run time)")
_INT_OPS: dict[type[ast.operator], Callable[[int, int], int]] = {
    ast.BitOr: lambda a, b: a | b,
    ast.BitAnd: lambda a, b: a & b,
    ast.BitXor: lambda a, b: a ^ b,
    ast.Add: lambda a, b: a + b,
}

# eval("eval('...')") is rare in honest code; past this depth we stop and say so.
_MAX_NESTING = 4
# Strings built by concatenation are capped so hostile code cannot make us build gigabytes.
_MAX_TEXT = 65_536
# Token-scanning work per analysis; deeply nested calls would otherwise cost quadratic time.
_MAX_STEPS = 2_000_000


class _Budget:
    __slots__ = ("left",)

    def __init__(self, steps: int) -> None:
        self.left = steps

    def take(self, steps: int) -> bool:
        self.left -= max(steps, 1)
        return self.left >= 0


# ---------------------------------------------------------------- interpreter argv


_LANGUAGE_NAMES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?:python|pypy)(?:\d+(?:\.\d+)*)?[dmtu]*(?:-dbg)?"), "python"),
    (re.compile(r"(?:node(?:js)?(?:\d+)?|deno|bun)"), "node"),
    (re.compile(r"perl(?:\d+(?:\.\d+)*)?"), "perl"),
    (re.compile(r"(?:j|truffle)?ruby(?:\d+(?:\.\d+)*)?"), "ruby"),
    (re.compile(r"php(?:\d+(?:\.\d+)*)?(?:-cli)?"), "php"),
)


def interpreter_language(command_name: str) -> str | None:
    """'python' for python, python3, python3.12, pypy3...; 'node' for node/nodejs/deno/bun;
    'perl'; 'ruby'; 'php'; else None."""
    name = command_name.replace("\\", "/").rsplit("/", 1)[-1].lower()
    name = name.removesuffix(".exe")
    for pattern, language in _LANGUAGE_NAMES:
        if pattern.fullmatch(name):
            return language
    return None


def code_argument(language: str, argv: Sequence[str]) -> str | None:
    """The inline code of an interpreter argv (argv[0] is the interpreter), or None when it runs
    a script, a module or a REPL."""
    args = [str(a) for a in argv]
    if not args:
        return None
    if language == "python":
        return _python_code(args)
    if language == "node":
        return _node_code(args)
    if language == "perl":
        return _perl_code(args)
    if language == "ruby":
        return _ruby_code(args)
    if language == "php":
        return _php_code(args)
    return None


def _python_code(argv: list[str]) -> str | None:
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg in ("-", "--") or not arg.startswith("-"):
            return None  # a script, stdin or the REPL
        if arg.startswith("--"):
            if arg == "--check-hash-based-pycs":
                i += 1
            elif arg.split("=", 1)[0] in ("--help", "--version", "--help-env", "--help-all"):
                return None
            i += 1
            continue
        takes_next = False
        for j in range(1, len(arg)):
            letter = arg[j]
            if letter == "c":
                rest = arg[j + 1 :]
                if rest:
                    return rest
                return argv[i + 1] if i + 1 < len(argv) else None
            if letter == "m":
                return None
            if letter in "WX":
                takes_next = j + 1 == len(arg)
                break
        i += 2 if takes_next else 1
    return None


_NODE_VALUE_OPTIONS = frozenset(
    {
        "-r", "--require", "--import", "--loader", "--experimental-loader", "-C", "--conditions",
        "--input-type", "--env-file", "--title", "--inspect-port", "--stack-size", "--cpu-prof-dir",
        "--heap-prof-dir", "--diagnostic-dir", "--report-dir", "--redirect-warnings", "--config",
        "--preload", "--cwd", "--tsconfig-override",
    }
)  # fmt: skip


def _node_code(argv: list[str]) -> str | None:
    name = argv[0].replace("\\", "/").rsplit("/", 1)[-1].lower().removesuffix(".exe")
    i = 1
    if name == "deno":
        # deno only runs inline code through `deno eval [options] CODE`
        while i < len(argv) and argv[i].startswith("-"):
            i += 1
        if i >= len(argv) or argv[i] != "eval":
            return None
        i += 1
        while i < len(argv):
            if argv[i] == "--":
                return argv[i + 1] if i + 1 < len(argv) else None
            if not argv[i].startswith("-"):
                return argv[i]
            i += 1
        return None
    while i < len(argv):
        arg = argv[i]
        if arg in ("-e", "--eval", "-p", "--print", "-pe", "-ep"):
            return argv[i + 1] if i + 1 < len(argv) else None
        for prefix in ("--eval=", "--print="):
            if arg.startswith(prefix):
                return arg[len(prefix) :]
        if arg in ("-", "--") or not arg.startswith("-"):
            return None
        i += 2 if arg in _NODE_VALUE_OPTIONS else 1
    return None


def _perl_code(argv: list[str]) -> str | None:
    pieces: list[str] = []
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg in ("-", "--") or not arg.startswith("-") or arg.startswith("--"):
            break
        consumed_next = False
        j = 1
        while j < len(arg):
            letter = arg[j]
            if letter in "eE":
                if j + 1 < len(arg):
                    pieces.append(arg[j + 1 :])
                elif i + 1 < len(argv):
                    pieces.append(argv[i + 1])
                    consumed_next = True
                break
            if letter in "MmI":
                consumed_next = j + 1 == len(arg) and letter == "I"
                break
            if letter in "xiFdD":
                break  # the rest of the cluster is this switch's value
            if letter in "l0C":
                # -l and -0 take octal digits (-0 also hex), -C digits or its own letters
                allowed = {"l": "01234567", "0": "01234567xX0123456789abcdefABCDEF"}.get(
                    letter, "0123456789IOEioASLaD"
                )
                j += 1
                while j < len(arg) and arg[j] in allowed:
                    j += 1
                continue
            j += 1
        i += 2 if consumed_next else 1
    return "\n".join(pieces) if pieces else None


def _ruby_code(argv: list[str]) -> str | None:
    pieces: list[str] = []
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg in ("-", "--") or not arg.startswith("-"):
            break
        if arg.startswith("--"):
            i += 1
            continue
        consumed_next = False
        for j in range(1, len(arg)):
            letter = arg[j]
            if letter == "e":
                if j + 1 < len(arg):
                    pieces.append(arg[j + 1 :])
                elif i + 1 < len(argv):
                    pieces.append(argv[i + 1])
                    consumed_next = True
                break
            if letter in "rICE":
                consumed_next = j + 1 == len(arg)
                break
            if letter in "xFKTW0":
                break
        i += 2 if consumed_next else 1
    return "\n".join(pieces) if pieces else None


def _php_code(argv: list[str]) -> str | None:
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg in ("-", "--") or not arg.startswith("-"):
            return None
        if arg.startswith("--"):
            if arg == "--run":
                return argv[i + 1] if i + 1 < len(argv) else None
            if arg.startswith("--run="):
                return arg[len("--run=") :]
            if arg in ("--file", "--process-file"):
                return None
            i += 2 if arg in ("--php-ini", "--define", "--zend-extension") else 1
            continue
        consumed_next = False
        for j in range(1, len(arg)):
            letter = arg[j]
            if letter in "rBRE":
                if j + 1 < len(arg):
                    return arg[j + 1 :]
                return argv[i + 1] if i + 1 < len(argv) else None
            if letter in "fFSa":
                return None
            if letter in "dczt":
                consumed_next = j + 1 == len(arg)
                break
        i += 2 if consumed_next else 1
    return None


# ---------------------------------------------------------------- entry point


def analyze_code(language: str, code: str) -> CodeEffects:
    """Shell commands equivalent to what `code` does, and what could not be seen."""
    label = _LABELS.get(language)
    if label is None:
        return CodeEffects((), (f"no analyzer for {language!r} code",))
    try:
        effects = _analyze(language, str(code), 0, _Budget(_MAX_STEPS))
    except (RecursionError, MemoryError):
        effects = [("opaque", f"{label}: code is nested too deeply to analyze")]
    except Exception as exc:
        # A bug here must not let code through unseen: callers treat opaque as "ask a human".
        effects = [("opaque", f"{label}: code could not be analyzed ({type(exc).__name__})")]
    commands = [text for kind, text in effects if kind == "cmd"]
    reasons = [text for kind, text in effects if kind == "opaque"]
    return CodeEffects(tuple(dict.fromkeys(commands)), tuple(dict.fromkeys(reasons)))


def _analyze(language: str, code: str, depth: int, budget: _Budget) -> list[tuple[str, str]]:
    if language == "python":
        return _PythonAnalyzer(code, depth, budget).run()
    return _TokenAnalyzer(language, code, depth, budget).run()


def _argv_line(argv: Sequence[str]) -> str:
    return shlex.join(argv)


def _mode_access(mode: str) -> tuple[bool, bool]:
    """(reads, writes) for an fopen-style mode string such as 'r', 'wb', 'a+', 'r+'."""
    writes = any(letter in mode for letter in "wax+")
    reads = "r" in mode or ("+" in mode and "a" in mode) or not writes
    return reads, writes


_WRITE_FLAGS = frozenset({"O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND", "WRONLY", "RDWR",
                          "CREAT", "TRUNC", "APPEND"})  # fmt: skip


# ---------------------------------------------------------------- python (ast)


@dataclass(frozen=True, slots=True)
class _Val:
    """A value known without running the code: a str, a pathlib path, a list, or an int."""

    kind: str
    text: str = ""
    items: tuple["_Val", ...] = ()
    num: int = 0
    # The text starts with `~` that the program expands to the home directory, so the shell
    # equivalent must leave that `~` unquoted.
    home: bool = False


def _str_val(text: str, home: bool = False) -> _Val | None:
    return _Val("str", text, home=home) if len(text) <= _MAX_TEXT else None


def _path_val(text: str, home: bool = False) -> _Val | None:
    return _Val("path", text, home=home) if len(text) <= _MAX_TEXT else None


def _quote_val(value: _Val) -> str:
    text = value.text
    if value.home and (text == "~" or text.startswith("~/")):
        rest = text[2:]
        return "~/" + shlex.quote(rest) if rest else "~"
    return shlex.quote(text)


def _py_norm(qual: str) -> str:
    for prefix, replacement in (
        ("builtins.", ""),
        ("__builtins__.", ""),
        ("posix.", "os."),
        ("nt.", "os."),
        ("posixpath.", "os.path."),
        ("ntpath.", "os.path."),
        ("genericpath.", "os.path."),
        ("pathlib.PosixPath", "pathlib.Path"),
        ("pathlib.WindowsPath", "pathlib.Path"),
        ("pathlib.PurePosixPath", "pathlib.Path"),
        ("pathlib.PurePath", "pathlib.Path"),
    ):
        if qual.startswith(prefix):
            qual = replacement + qual[len(prefix) :]
    # `os.system.__call__("ls")` is still os.system
    return qual.removesuffix(".__call__")


_PY_SHELL_STRING = frozenset(
    {
        "os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput",
        "asyncio.create_subprocess_shell", "commands.getoutput", "commands.getstatusoutput",
    }
)  # fmt: skip
_PY_SUBPROCESS = frozenset(
    {"subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output",
     "subprocess.Popen"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _ExecShape:
    path: int  # positional index of the program path
    argv: int | None  # positional index of the argv list (v-forms); None for l-forms
    first: int  # first positional argv entry (l-forms)
    env: bool  # the last positional is an environment mapping (l-forms with `e`)


_PY_EXEC: dict[str, _ExecShape] = {
    **{f"os.exec{s}": _ExecShape(0, 1, 0, False) for s in ("v", "ve", "vp", "vpe")},
    **{f"os.exec{s}": _ExecShape(0, None, 1, "e" in s) for s in ("l", "le", "lp", "lpe")},
    **{f"os.spawn{s}": _ExecShape(1, 2, 0, False) for s in ("v", "ve", "vp", "vpe")},
    **{f"os.spawn{s}": _ExecShape(1, None, 2, "e" in s) for s in ("l", "le", "lp", "lpe")},
    "os.posix_spawn": _ExecShape(0, 1, 0, False),
    "os.posix_spawnp": _ExecShape(0, 1, 0, False),
}
_PY_ONE_PATH = {
    "shutil.rmtree": "rm -rf",
    "os.remove": "rm",
    "os.unlink": "rm",
    "os.rmdir": "rmdir",
    "os.removedirs": "rmdir",
    "os.mkdir": "mkdir",
    "os.makedirs": "mkdir -p",
    "sqlite3.connect": "sqlite3",  # opens (and may write) the database file
}
_PY_TWO_PATHS = {
    "shutil.copy": "cp",
    "shutil.copy2": "cp",
    "shutil.copyfile": "cp",
    "shutil.copymode": "cp",
    "shutil.copystat": "cp",
    "shutil.copytree": "cp -r",
    "shutil.move": "mv",
    "os.rename": "mv",
    "os.replace": "mv",
    "os.renames": "mv",
    "os.symlink": "ln -s",
    "os.link": "ln",
}
_PY_OPEN = frozenset({"open", "io.open", "codecs.open", "io.FileIO"})
_PY_EVAL = frozenset({"eval", "exec", "compile"})
_PY_IMPORT = frozenset({"__import__", "importlib.import_module", "importlib.__import__"})
_PY_DESERIALIZE = frozenset(
    {"pickle.loads", "pickle.load", "marshal.loads", "marshal.load", "dill.loads", "dill.load",
     "cloudpickle.loads", "cloudpickle.load", "types.FunctionType", "types.CodeType"}
)  # fmt: skip
_PY_NETWORK = {
    **{f"requests.{m}": m.upper() for m in ("get", "post", "put", "delete", "patch", "head")},
    **{f"httpx.{m}": m.upper() for m in ("get", "post", "put", "delete", "patch", "head")},
    "urllib.request.urlopen": "GET",
    "urllib.request.urlretrieve": "GET",
}
_PY_PATH_TYPES = frozenset({"pathlib.Path"})
_PY_DANGEROUS_MODULES = frozenset(
    {"os", "subprocess", "shutil", "pty", "builtins", "importlib", "ctypes", "pathlib"}
)
_PY_DECODERS = ("base64.", "binascii.", "codecs.", "zlib.", "gzip.", "bz2.", "lzma.", "marshal.")
_PY_DECODE_METHODS = frozenset(
    {"decode", "fromhex", "b64decode", "b32decode", "b16decode", "a85decode", "b85decode",
     "decompress", "unhexlify", "a2b_base64", "translate"}
)  # fmt: skip
_PY_KNOWN = frozenset(
    _PY_SHELL_STRING | _PY_SUBPROCESS | set(_PY_EXEC) | set(_PY_ONE_PATH) | set(_PY_TWO_PATHS)
    | {"os.chmod", "os.open", "os.truncate", "os.path.join", "os.path.expanduser", "os.getenv",
       "os.environ", "pathlib.Path", "pty.spawn", "asyncio.create_subprocess_exec"}
    | _PY_OPEN | _PY_IMPORT | _PY_DESERIALIZE | set(_PY_NETWORK)
)  # fmt: skip
# Passing these around as values (map(os.system, cmds)) hides what they are called with.
_PY_REFERENCE_WATCH = frozenset(
    _PY_SHELL_STRING | _PY_SUBPROCESS | set(_PY_EXEC) | set(_PY_ONE_PATH) | _PY_EVAL
    | {"pty.spawn", "asyncio.create_subprocess_exec", "os.truncate", "os.chmod"}
)  # fmt: skip
_PY_PATH_METHODS = frozenset(
    {"unlink", "rmdir", "write_text", "write_bytes", "read_text", "read_bytes", "open", "touch",
     "mkdir", "chmod", "lchmod", "rename", "replace", "symlink_to", "hardlink_to"}
)  # fmt: skip
# Method names that, on an object we cannot identify, are almost surely pathlib operations.
_PY_PATH_ONLY_METHODS = frozenset(
    {"unlink", "rmdir", "write_text", "write_bytes", "read_text", "read_bytes", "symlink_to",
     "hardlink_to"}
)  # fmt: skip


# Nodes whose `name` binds a variable.
_PY_NAMED_NODES = (
    ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.ExceptHandler, ast.MatchAs,
    ast.MatchStar,
)  # fmt: skip


class _PythonAnalyzer:
    def __init__(
        self,
        code: str,
        depth: int,
        budget: _Budget,
        imports: dict[str, str] | None = None,
    ) -> None:
        self.code = code
        self.depth = depth
        self.budget = budget
        self.label = _LABELS["python"]
        self.imports: dict[str, str] = dict(imports or {})
        self.star_modules: list[str] = []
        self.stores: dict[str, int] = {}
        self.values: dict[str, ast.expr] = {}
        self.out: list[tuple[tuple[int, int], str, str]] = []
        self._resolving: set[str] = set()
        self._evaluated: dict[str, _Val | None] = {}
        self._pathish_names: dict[str, bool] = {}
        self._alias_values: set[int] = set()

    # -- driver

    def run(self) -> list[tuple[str, str]]:
        try:
            tree = ast.parse(self.code)
        except SyntaxError as exc:
            return [("opaque", f"{self.label} code does not parse: {exc.msg}")]
        except ValueError as exc:  # NUL bytes, on Python before 3.12
            return [("opaque", f"{self.label} code does not parse: {exc}")]
        nodes = list(ast.walk(tree))
        if not self.budget.take(len(nodes)):
            return [("opaque", f"{self.label}: code is too large to analyze fully")]
        self._index(nodes)
        callees: set[int] = set()
        for node in nodes:
            if isinstance(node, ast.Call):
                callees.add(id(node.func))
                self._call(node)
        self._references(nodes, callees)
        self.out.sort(key=lambda entry: entry[0])
        return [(kind, text) for _, kind, text in self.out]

    def _emit(self, node: ast.AST, kind: str, text: str) -> None:
        position = (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))
        self.out.append((position, kind, text))

    def _cmd(self, node: ast.AST, text: str) -> None:
        self._emit(node, "cmd", text)

    def _opaque(self, node: ast.AST, reason: str) -> None:
        self._emit(node, "opaque", f"{self.label}: {reason}")

    def _index(self, nodes: list[ast.AST]) -> None:
        def store(name: str) -> None:
            self.stores[name] = self.stores.get(name, 0) + 1

        for node in nodes:
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                store(node.id)
            elif isinstance(node, ast.arg):
                store(node.arg)
            elif isinstance(node, _PY_NAMED_NODES) and getattr(node, "name", None):
                store(str(node.name))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.imports[alias.asname] = alias.name
                    else:
                        top = alias.name.split(".")[0]
                        self.imports[top] = top
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    if alias.name == "*":
                        self.star_modules.append(_py_norm(node.module + ".x")[:-2])
                    else:
                        qual = _py_norm(f"{node.module}.{alias.name}")
                        self.imports[alias.asname or alias.name] = qual
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target: ast.expr = node.targets[0]
                value: ast.expr | None = node.value
            elif isinstance(node, ast.AnnAssign):
                target, value = node.target, node.value
            else:
                continue
            if isinstance(target, ast.Name) and value is not None:
                self.values[target.id] = value
        for name, value in self.values.items():
            if isinstance(value, ast.Name | ast.Attribute) and self.stores.get(name) == 1:
                self._alias_values.add(id(value))

    def _single_value(self, name: str) -> ast.expr | None:
        if name in self.imports or self.stores.get(name) != 1:
            return None
        return self.values.get(name)

    # -- resolving what a callee is

    def _qual(self, node: ast.AST, depth: int = 0) -> str | None:
        if depth > 40:
            return None
        if isinstance(node, ast.Name):
            name = node.id
            if name in self.imports:
                return self.imports[name]
            if self.stores.get(name):
                value = self._single_value(name)
                if value is None or name in self._resolving:
                    return None
                self._resolving.add(name)
                try:
                    return self._qual(value, depth + 1)
                finally:
                    self._resolving.discard(name)
            for module in self.star_modules:
                if f"{module}.{name}" in _PY_KNOWN:
                    return f"{module}.{name}"
            return _py_norm(name) if name == "__builtins__" else name
        if isinstance(node, ast.Attribute):
            base = self._qual(node.value, depth + 1)
            return _py_norm(f"{base}.{node.attr}") if base else None
        if isinstance(node, ast.Call):
            func = self._qual(node.func, depth + 1)
            if func in _PY_IMPORT and node.args:
                module = self._eval(node.args[0], depth + 1)
                if module is not None and module.kind == "str":
                    if func == "importlib.import_module":
                        return _py_norm(module.text)
                    return _py_norm(module.text.split(".")[0])
            if func == "getattr" and len(node.args) >= 2:
                base = self._qual(node.args[0], depth + 1)
                attr = self._eval(node.args[1], depth + 1)
                if base and attr is not None and attr.kind == "str":
                    return _py_norm(f"{base}.{attr.text}")
            return None
        if isinstance(node, ast.Subscript):
            base = self._qual(node.value, depth + 1)
            key = self._eval(node.slice, depth + 1)
            if base is None or key is None or key.kind != "str":
                return None
            if base == "sys.modules":
                return _py_norm(key.text)
            if base.endswith(".__dict__"):
                return _py_norm(f"{base[: -len('.__dict__')]}.{key.text}")
        return None

    def _display(self, func: ast.AST, qual: str | None) -> str:
        if qual:
            return qual
        try:
            text = ast.unparse(func)
        except Exception:  # the name only decorates a message
            text = type(func).__name__
        return text if len(text) <= 60 else text[:57] + "..."

    # -- values known without running the code

    def _eval(self, node: ast.AST | None, depth: int = 0) -> _Val | None:
        if node is None or depth > 60:
            return None
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, str):
                return _str_val(value)
            if isinstance(value, bytes):
                return _str_val(value.decode("utf-8", "replace"))
            if isinstance(value, int) and not isinstance(value, bool):
                return _Val("int", num=value)
            return None
        if isinstance(node, ast.JoinedStr):
            return self._eval_fstring(node, depth)
        if isinstance(node, ast.BinOp):
            return self._eval_binop(node, depth)
        if isinstance(node, ast.List | ast.Tuple):
            if len(node.elts) > 10_000:
                return None
            items = []
            for element in node.elts:
                item = self._eval(element, depth + 1)
                if item is None:
                    return None
                items.append(item)
            return _Val("list", items=tuple(items))
        if isinstance(node, ast.Name):
            imported = self.imports.get(node.id, "")
            if imported.startswith("stat.") and imported[5:] in STAT_CONSTANTS:
                return _Val("int", num=STAT_CONSTANTS[imported[5:]])
            return self._eval_name(node.id, depth)
        if isinstance(node, ast.Call):
            return self._eval_call(node, depth)
        if isinstance(node, ast.Subscript):
            base = self._qual(node.value, depth + 1)
            key = self._eval(node.slice, depth + 1)
            if base == "os.environ" and key is not None and key.text == "HOME":
                return _str_val("~", home=True)
            return None
        if isinstance(node, ast.Attribute):
            qual = self._qual(node, depth + 1)
            if qual == "sys.executable":
                return _str_val("python3")
            if qual and qual.startswith("stat.") and qual[5:] in STAT_CONSTANTS:
                return _Val("int", num=STAT_CONSTANTS[qual[5:]])
            if node.attr == "parent":
                base = self._eval(node.value, depth + 1)
                if base is not None and base.kind == "path":
                    return _path_val(posixpath.dirname(base.text) or ".", base.home)
        return None

    def _eval_name(self, name: str, depth: int) -> _Val | None:
        if name in self._evaluated:
            return self._evaluated[name]
        value = self._single_value(name)
        if value is None or name in self._resolving:
            return None
        self._resolving.add(name)
        try:
            result = self._eval(value, depth + 1)
        finally:
            self._resolving.discard(name)
        self._evaluated[name] = result
        return result

    def _eval_fstring(self, node: ast.JoinedStr, depth: int) -> _Val | None:
        parts: list[str] = []
        home = False
        for index, part in enumerate(node.values):
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                parts.append(part.value)
                continue
            if not isinstance(part, ast.FormattedValue):
                return None
            if part.format_spec is not None or part.conversion not in (-1, ord("s")):
                return None
            inner = self._eval(part.value, depth + 1)
            if inner is None or inner.kind == "list":
                return None
            parts.append(str(inner.num) if inner.kind == "int" else inner.text)
            home = home or (index == 0 and inner.home)
        return _str_val("".join(parts), home)

    def _eval_binop(self, node: ast.BinOp, depth: int) -> _Val | None:
        left = self._eval(node.left, depth + 1)
        if left is None:
            return None
        right = self._eval(node.right, depth + 1)
        if right is None:
            return None
        if isinstance(node.op, ast.Add):
            if left.kind == right.kind == "str":
                return _str_val(left.text + right.text, left.home)
            if left.kind == right.kind == "list" and len(left.items) + len(right.items) <= 10_000:
                return _Val("list", items=left.items + right.items)
        texts = left.kind in ("str", "path") and right.kind in ("str", "path")
        if isinstance(node.op, ast.Div) and "path" in (left.kind, right.kind) and texts:
            home = right.home if right.text.startswith("/") else left.home
            return _path_val(posixpath.join(left.text, right.text), home)
        if left.kind == right.kind == "int" and type(node.op) in _INT_OPS:
            return _Val("int", num=_INT_OPS[type(node.op)](left.num, right.num))
        return None

    def _eval_call(self, node: ast.Call, depth: int) -> _Val | None:
        if any(isinstance(a, ast.Starred) for a in node.args):
            return None
        qual = self._qual(node.func, depth + 1)
        args = node.args
        if qual in _PY_PATH_TYPES or qual == "os.path.join":
            values = [self._eval(a, depth + 1) for a in args]
            if any(v is None or v.kind not in ("str", "path") for v in values):
                return None
            texts = [v.text for v in values if v is not None]
            if not texts:
                return _path_val(".") if qual in _PY_PATH_TYPES else None
            make = _path_val if qual in _PY_PATH_TYPES else _str_val
            first = values[0]
            return make(posixpath.join(*texts), first is not None and first.home)
        if qual in ("pathlib.Path.home",):
            return _path_val("~", home=True)
        if qual in ("pathlib.Path.cwd",):
            return _path_val(".")
        if qual == "os.getcwd":
            return _str_val(".")
        if qual in ("os.getenv", "os.environ.get") and args:
            key = self._eval(args[0], depth + 1)
            if key is not None and key.text == "HOME":
                return _str_val("~", home=True)
            return None
        if qual in ("os.path.expanduser", "os.path.abspath", "os.path.realpath", "os.path.normpath",
                    "os.fspath", "os.fsdecode", "str") and len(args) == 1:  # fmt: skip
            value = self._eval(args[0], depth + 1)
            if value is None or value.kind not in ("str", "path"):
                return None
            home = value.home or (qual == "os.path.expanduser" and value.text.startswith("~"))
            return _str_val(value.text, home)
        if isinstance(node.func, ast.Attribute):
            return self._eval_method(node, node.func, depth)
        return None

    def _eval_method(self, node: ast.Call, func: ast.Attribute, depth: int) -> _Val | None:
        receiver = self._eval(func.value, depth + 1)
        if receiver is None:
            return None
        method, args = func.attr, node.args
        if receiver.kind == "str":
            if method == "join" and len(args) == 1:
                items = self._eval(args[0], depth + 1)
                if items is None or items.kind != "list":
                    return None
                if any(item.kind != "str" for item in items.items):
                    return None
                return _str_val(receiver.text.join(item.text for item in items.items))
            if method in ("encode", "decode") and all(
                isinstance(a, ast.Constant) for a in args
            ):  # utf-8 round trips of a literal keep its text
                return receiver
            if method in ("strip", "lstrip", "rstrip") and not args:
                return _str_val(getattr(receiver.text, method)(), receiver.home)
            return None
        if receiver.kind == "path":
            if method == "expanduser" and not args:
                return _path_val(receiver.text, receiver.home or receiver.text.startswith("~"))
            if method in ("resolve", "absolute") and not args:
                return receiver
            if method == "joinpath":
                parts = [self._eval(a, depth + 1) for a in args]
                if any(p is None or p.kind not in ("str", "path") for p in parts):
                    return None
                texts = [p.text for p in parts if p is not None]
                return _path_val(posixpath.join(receiver.text, *texts), receiver.home)
            if method in ("with_name", "with_suffix") and len(args) == 1:
                part = self._eval(args[0], depth + 1)
                if part is None or part.kind != "str":
                    return None
                try:
                    changed = getattr(PurePosixPath(receiver.text), method)(part.text)
                except ValueError:
                    return None
                return _path_val(str(changed), receiver.home)
            if method in ("as_posix", "__fspath__", "__str__") and not args:
                return _str_val(receiver.text, receiver.home)
        return None

    def _pathish(self, node: ast.AST, depth: int = 0) -> bool:
        """Whether `node` builds a pathlib path, even when its text is only known at run time."""
        if depth > 30:
            return False
        if isinstance(node, ast.Name):
            name = node.id
            if name not in self._pathish_names:
                self._pathish_names[name] = False  # cycle guard
                value = self._single_value(name)
                self._pathish_names[name] = value is not None and self._pathish(value, depth + 1)
            return self._pathish_names[name]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            return self._pathish(node.left, depth + 1) or self._pathish(node.right, depth + 1)
        if isinstance(node, ast.Attribute) and node.attr == "parent":
            return self._pathish(node.value, depth + 1)
        if isinstance(node, ast.Call):
            qual = self._qual(node.func, depth + 1)
            if qual in _PY_PATH_TYPES or qual in ("pathlib.Path.home", "pathlib.Path.cwd"):
                return True
            if isinstance(node.func, ast.Attribute) and node.func.attr in (
                "expanduser", "resolve", "absolute", "joinpath", "with_name", "with_suffix"
            ):  # fmt: skip
                return self._pathish(node.func.value, depth + 1)
        return False

    # -- argument access

    @staticmethod
    def _arg(call: ast.Call, index: int, *names: str) -> ast.expr | None:
        for position, arg in enumerate(call.args):
            if isinstance(arg, ast.Starred):
                return arg  # evaluates to unknown, which is what a splat is
            if position == index:
                return arg
        for keyword in call.keywords:
            if keyword.arg in names:
                return keyword.value
        return None

    def _decodes(self, node: ast.AST) -> bool:
        for inner in ast.walk(node):
            if not isinstance(inner, ast.Call):
                continue
            qual = self._qual(inner.func) or ""
            if qual.startswith(_PY_DECODERS) or qual == "bytes.fromhex":
                return True
            if isinstance(inner.func, ast.Attribute) and inner.func.attr in _PY_DECODE_METHODS:
                return True
        return False

    def _computed(self, call: ast.Call, name: str, arg: ast.AST, what: str = "argument") -> None:
        if self._decodes(arg):
            self._opaque(call, f"{name}() decodes data and runs it")
        else:
            self._opaque(call, f"{name}() with a computed {what}")

    # -- calls

    def _call(self, call: ast.Call) -> None:
        qual = self._qual(call.func)
        name = self._display(call.func, qual)
        if qual in _PY_SHELL_STRING:
            self._shell_string(call, name)
        elif qual in _PY_SUBPROCESS:
            self._subprocess(call, name)
        elif qual in _PY_EXEC:
            self._exec_family(call, name, _PY_EXEC[qual])
        elif qual == "asyncio.create_subprocess_exec":
            self._argv_call(call, name, list(call.args))
        elif qual == "pty.spawn":
            self._shell_string(call, name)
        elif qual in _PY_ONE_PATH:
            self._one_path(call, name, _PY_ONE_PATH[qual], self._arg(call, 0, "path", "name"))
        elif qual in _PY_TWO_PATHS:
            self._two_paths(call, name, _PY_TWO_PATHS[qual])
        elif qual in ("os.chmod", "os.lchmod"):
            self._chmod(call, name, self._arg(call, 0, "path"), self._arg(call, 1, "mode"))
        elif qual == "os.fchmod":  # an open file: the mode alone can make it world-writable
            self._chmod(call, name, None, self._arg(call, 1, "mode"))
        elif qual in _PY_OPEN:
            self._open(call, name, self._arg(call, 0, "file"), self._arg(call, 1, "mode"))
        elif qual == "os.open":
            self._os_open(call, name)
        elif qual == "os.truncate":
            self._truncate(call, name)
        elif qual in _PY_EVAL:
            self._eval_call_site(call, name, qual)
        elif qual in _PY_IMPORT:
            module = self._eval(self._arg(call, 0, "name"))
            if module is None or module.kind != "str":
                self._opaque(call, f"{name}() imports a module named at run time")
        elif qual in ("runpy.run_path", "runpy.run_module"):
            self._runpy(call, name, qual)
        elif qual in _PY_DESERIALIZE:
            self._opaque(call, f"{name}() builds code or objects from data, which can run code")
        elif qual == "getattr":
            self._getattr(call)
        elif qual in _PY_NETWORK:
            self._network(call, name, _PY_NETWORK[qual], qual)
        elif qual and qual.split(".")[0] == "ctypes":
            self._opaque(call, "calls native code through ctypes")
        elif isinstance(call.func, ast.Attribute) and call.func.attr in _PY_PATH_METHODS:
            self._path_method(call, call.func)

    def _shell_string(self, call: ast.Call, name: str) -> None:
        arg = self._arg(call, 0, "cmd", "command", "argv")
        if arg is None:
            return
        value = self._eval(arg)
        if value is not None and value.kind == "str":
            self._cmd(call, value.text)
        elif value is not None and value.kind == "list" and self._all_text(value):
            self._cmd(call, " ".join(_quote_val(item) for item in value.items))
        else:
            self._computed(call, name, arg)

    @staticmethod
    def _all_text(value: _Val) -> bool:
        return bool(value.items) and all(item.kind in ("str", "path") for item in value.items)

    def _subprocess(self, call: ast.Call, name: str) -> None:
        arg = self._arg(call, 0, "args")
        if arg is None:
            return
        shell = False
        executable: _Val | None = None
        for keyword in call.keywords:
            if keyword.arg == "shell":
                shell = not (isinstance(keyword.value, ast.Constant) and not keyword.value.value)
            elif keyword.arg == "executable":
                executable = self._eval(keyword.value)
                if executable is None or executable.kind not in ("str", "path"):
                    self._computed(call, name, keyword.value, "executable")
                    return
        value = self._eval(arg)
        if value is not None and value.kind == "str":
            self._cmd(call, value.text)
        elif value is not None and value.kind == "list" and self._all_text(value):
            items = list(value.items)
            if shell:
                self._cmd(call, items[0].text)  # with shell=True only the first item is code
                return
            if executable is not None:
                items[0] = executable  # argv[0] is only a label; this is what runs
            self._cmd(call, " ".join(_quote_val(item) for item in items))
        else:
            self._computed(call, name, arg)

    def _exec_family(self, call: ast.Call, name: str, shape: _ExecShape) -> None:
        args = list(call.args)
        if any(isinstance(a, ast.Starred) for a in args) or len(args) <= shape.path:
            self._opaque(call, f"{name}() with computed arguments")
            return
        path = self._eval(args[shape.path])
        if shape.argv is not None:
            argv = self._eval(args[shape.argv]) if len(args) > shape.argv else None
            items = list(argv.items) if argv is not None and argv.kind == "list" else None
        else:
            end = len(args) - 1 if shape.env else len(args)
            evaluated = [self._eval(a) for a in args[shape.first : end]]
            items = None if any(v is None for v in evaluated) else [v for v in evaluated if v]
        if path is None or path.kind not in ("str", "path") or items is None:
            self._opaque(call, f"{name}() with computed arguments")
            return
        if any(item.kind not in ("str", "path") for item in items):
            self._opaque(call, f"{name}() with computed arguments")
            return
        # argv[0] is only a label; the program that runs is the path
        self._cmd(call, " ".join(_quote_val(v) for v in [path, *items[1:]]))

    def _argv_call(self, call: ast.Call, name: str, args: list[ast.expr]) -> None:
        values = [self._eval(a) for a in args]
        if not values or any(v is None or v.kind not in ("str", "path") for v in values):
            self._opaque(call, f"{name}() with computed arguments")
            return
        self._cmd(call, " ".join(_quote_val(v) for v in values if v is not None))

    def _path_of(self, call: ast.Call, name: str, arg: ast.AST | None) -> str | None:
        value = self._eval(arg)
        if value is None or value.kind not in ("str", "path"):
            if arg is not None:
                self._opaque(call, f"{name}() on a computed path")
            return None
        return _quote_val(value)

    def _one_path(self, call: ast.Call, name: str, verb: str, arg: ast.AST | None) -> None:
        path = self._path_of(call, name, arg)
        if path is not None:
            self._cmd(call, f"{verb} {path}")

    def _two_paths(self, call: ast.Call, name: str, verb: str) -> None:
        source = self._path_of(call, name, self._arg(call, 0, "src"))
        target = self._path_of(call, name, self._arg(call, 1, "dst"))
        if source is not None and target is not None:
            self._cmd(call, f"{verb} {source} {target}")

    def _chmod(
        self, call: ast.Call, name: str, path_arg: ast.AST | None, mode_arg: ast.AST | None
    ) -> None:
        path = self._path_of(call, name, path_arg)
        mode = self._eval(mode_arg)
        if mode is None or mode.kind != "int" or mode.num < 0:
            if mode_arg is not None:
                self._opaque(call, f"{name}() with a computed mode")
            return
        if path is not None or world_writable(f"{mode.num:o}"):
            self._cmd(call, f"chmod {mode.num:o} {path or _SOME_FILE}")

    def _open(
        self, call: ast.Call, name: str, path_arg: ast.AST | None, mode_arg: ast.AST | None
    ) -> None:
        target = self._eval(path_arg)
        if target is not None and target.kind == "int":
            return  # an already open file descriptor
        path = self._path_of(call, name, path_arg)
        mode = self._eval(mode_arg) if mode_arg is not None else _Val("str", "r")
        if mode is None or mode.kind != "str":
            self._opaque(call, f"{name}() with a computed mode")
            return
        if path is None:
            return
        reads, writes = _mode_access(mode.text)
        if reads:
            self._cmd(call, f"cat {path}")
        if writes:
            self._cmd(call, f"tee {path}")

    def _os_open(self, call: ast.Call, name: str) -> None:
        path = self._path_of(call, name, self._arg(call, 0, "path"))
        flags = self._arg(call, 1, "flags")
        if path is None or flags is None:
            return
        used = {n.attr for n in ast.walk(flags) if isinstance(n, ast.Attribute)}
        used |= {n.id for n in ast.walk(flags) if isinstance(n, ast.Name)}
        writes = bool(used & _WRITE_FLAGS)
        if not writes or "O_RDWR" in used:
            self._cmd(call, f"cat {path}")
        if writes:
            self._cmd(call, f"tee {path}")

    def _truncate(self, call: ast.Call, name: str) -> None:
        path = self._path_of(call, name, self._arg(call, 0, "path"))
        length = self._eval(self._arg(call, 1, "length"))
        if path is not None:
            size = str(length.num) if length is not None and length.kind == "int" else "0"
            self._cmd(call, f"truncate -s {size} {path}")

    def _eval_call_site(self, call: ast.Call, name: str, qual: str) -> None:
        arg = self._arg(call, 0, "source", "object")
        if arg is None:
            return
        if isinstance(arg, ast.Call) and self._qual(arg.func) in ("compile", "ast.parse"):
            return  # the inner call is analyzed on its own
        value = self._eval(arg)
        if value is None or value.kind != "str":
            self._computed(call, name, arg, "code argument")
            return
        if self.depth + 1 > _MAX_NESTING:
            self._opaque(call, f"{name}() code is nested too deeply to follow")
            return
        inner = _PythonAnalyzer(value.text, self.depth + 1, self.budget, self.imports)
        for kind, text in inner.run():
            self._emit(call, kind, text)

    def _runpy(self, call: ast.Call, name: str, qual: str) -> None:
        arg = self._arg(call, 0, "path_name", "mod_name")
        value = self._eval(arg)
        if value is None or value.kind not in ("str", "path"):
            self._opaque(call, f"{name}() runs code named at run time")
        elif qual == "runpy.run_path":
            self._cmd(call, f"python3 {_quote_val(value)}")
        else:
            self._cmd(call, f"python3 -m {_quote_val(value)}")

    def _getattr(self, call: ast.Call) -> None:
        if len(call.args) < 2:
            return
        base = self._qual(call.args[0])
        attr = self._eval(call.args[1])
        if base in _PY_DANGEROUS_MODULES and (attr is None or attr.kind != "str"):
            self._opaque(call, f"getattr() on {base} with a computed name")

    def _network(self, call: ast.Call, name: str, method: str, qual: str) -> None:
        url = self._eval(self._arg(call, 0, "url"))
        if url is None or url.kind != "str":
            self._opaque(call, f"{name}() to a computed URL")
            return
        flags = "" if method == "GET" else f"-X {method} "
        if qual == "urllib.request.urlretrieve":
            target = self._eval(self._arg(call, 1, "filename"))
            if target is not None and target.kind in ("str", "path"):
                flags = f"-o {_quote_val(target)} "
        self._cmd(call, f"curl {flags}{shlex.quote(url.text)}")

    def _path_method(self, call: ast.Call, func: ast.Attribute) -> None:
        method = func.attr
        receiver = self._eval(func.value)
        if receiver is None or receiver.kind != "path":
            if receiver is None and (method in _PY_PATH_ONLY_METHODS or self._pathish(func.value)):
                self._opaque(call, f"Path.{method}() on a computed path")
            return
        path = _quote_val(receiver)
        name = f"Path.{method}"
        if method == "unlink":
            self._cmd(call, f"rm {path}")
        elif method == "rmdir":
            self._cmd(call, f"rmdir {path}")
        elif method in ("write_text", "write_bytes"):
            self._cmd(call, f"tee {path}")
        elif method in ("read_text", "read_bytes"):
            self._cmd(call, f"cat {path}")
        elif method == "open":
            self._open(call, name, func.value, self._arg(call, 0, "mode"))
        elif method == "touch":
            self._cmd(call, f"touch {path}")
        elif method == "mkdir":
            parents = self._arg(call, 1, "parents")
            flag = "-p " if isinstance(parents, ast.Constant) and parents.value is True else ""
            self._cmd(call, f"mkdir {flag}{path}")
        elif method in ("chmod", "lchmod"):
            self._chmod(call, name, func.value, self._arg(call, 0, "mode"))
        elif method in ("rename", "replace"):
            target = self._path_of(call, name, self._arg(call, 0, "target"))
            if target is not None:
                self._cmd(call, f"mv {path} {target}")
        elif method in ("symlink_to", "hardlink_to"):
            target = self._path_of(call, name, self._arg(call, 0, "target"))
            if target is not None:
                verb = "ln -s" if method == "symlink_to" else "ln"
                self._cmd(call, f"{verb} {target} {path}")

    def _references(self, nodes: list[ast.AST], callees: set[int]) -> None:
        prefixes = {id(n.value) for n in nodes if isinstance(n, ast.Attribute)}
        for node in nodes:
            if not isinstance(node, ast.Name | ast.Attribute) or not isinstance(node.ctx, ast.Load):
                continue
            if id(node) in callees or id(node) in prefixes or id(node) in self._alias_values:
                continue
            qual = self._qual(node)
            if qual in _PY_REFERENCE_WATCH:
                self._opaque(node, f"{qual} is passed around as a value")


# ---------------------------------------------------------------- node, perl, ruby, php (tokens)


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # id, var, str, words, cmd, num, op, nl, sym, regex
    text: str
    interp: bool = False  # a string literal that splices in run-time values
    words: tuple[str, ...] = ()
    template: bool = False  # a JavaScript `template`


_PAIRS = {"(": ")", "[": "]", "{": "}", "<": ">"}
_BRACKETS = frozenset("()[]{}")
_OPS3 = frozenset({"...", "===", "!==", "**=", "<=>", "||=", "&&=", "//=", "<<=", ">>=", "<<<"})
_OPS2 = frozenset(
    {"->", "=>", "::", "?.", "&&", "||", "//", "==", "!=", "<=", ">=", "**", "..", "=~", "!~",
     "<<", ">>", "+=", "-=", "*=", "/=", ".=", "|=", "&=", "++", "--"}
)  # fmt: skip
_REGEX_KEYWORDS = {
    "node": frozenset({"return", "typeof", "instanceof", "in", "of", "new", "delete", "void",
                       "throw", "case", "do", "else", "yield", "await"}),
    "perl": frozenset({"split", "grep", "map", "join", "if", "unless", "and", "or", "not",
                       "return", "print", "push", "unshift", "when", "while", "until", "x"}),
    "ruby": frozenset({"if", "unless", "and", "or", "not", "when", "return", "while", "until",
                       "puts", "print", "p", "case", "then", "elsif"}),
}  # fmt: skip
# Words that end an argument list written without parentheses (`system "ls" or die`).
_STOP_WORDS = {
    "perl": frozenset({"or", "and", "if", "unless", "while", "until", "for", "foreach", "xor",
                       "eq", "ne", "lt", "gt", "le", "ge", "cmp", "x"}),
    "ruby": frozenset({"or", "and", "if", "unless", "while", "until", "do", "then", "rescue",
                       "end"}),
}  # fmt: skip
_VALUE_KINDS = frozenset({"str", "words", "cmd", "num", "var", "sym", "regex"})
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "a": "\a", "e": "\x1b", "f": "\f",
            "v": "\v", "b": "\b"}  # fmt: skip


def _delimited(src: str, start: int, opener: str) -> tuple[str, int, bool]:
    """Body of a literal whose opening delimiter is at `start`: (body, index after, closed)."""
    closer = _PAIRS.get(opener, opener)
    depth = 1
    j = start + 1
    n = len(src)
    while j < n:
        ch = src[j]
        if ch == "\\":
            j += 2
            continue
        if ch == closer:
            depth -= 1
            if depth == 0:
                return src[start + 1 : j], j + 1, True
        elif ch == opener and closer != opener:
            depth += 1
        j += 1
    return src[start + 1 :], n, False


def _unescape_single(body: str, delimiters: str) -> str:
    out = []
    j = 0
    while j < len(body):
        ch = body[j]
        if ch == "\\" and j + 1 < len(body) and (body[j + 1] == "\\" or body[j + 1] in delimiters):
            out.append(body[j + 1])
            j += 2
            continue
        out.append(ch)
        j += 1
    return "".join(out)


def _unescape_double(body: str) -> str:
    out = []
    j = 0
    while j < len(body):
        ch = body[j]
        if ch != "\\" or j + 1 >= len(body):
            out.append(ch)
            j += 1
            continue
        nxt = body[j + 1]
        if nxt == "x" and re.fullmatch(r"[0-9A-Fa-f]{2}", body[j + 2 : j + 4]):
            out.append(chr(int(body[j + 2 : j + 4], 16)))
            j += 4
            continue
        out.append(_ESCAPES.get(nxt, nxt))
        j += 2
    return "".join(out)


def _interpolates(lang: str, body: str) -> bool:
    j = 0
    while j < len(body):
        ch = body[j]
        if ch == "\\":
            j += 2
            continue
        nxt = body[j + 1] if j + 1 < len(body) else ""
        if nxt:
            if lang == "node" and ch == "$" and nxt == "{":
                return True
            if lang == "ruby" and ch == "#" and nxt in "{@$":
                return True
            if lang == "perl" and ch in "$@" and (nxt.isalnum() or nxt in "_{:$"):
                return True
            if lang == "perl" and ch == "$" and nxt in "&`'+!/\\,;.":
                return True
            if lang == "php" and ch == "$" and (nxt.isalpha() or nxt in "_{"):
                return True
            if lang == "php" and ch == "{" and nxt == "$":
                return True
        j += 1
    return False


def _skip_regex(src: str, start: int) -> int | None:
    """End of a /regex/flags literal starting at `start`, or None when it is division."""
    j = start + 1
    in_class = False
    n = len(src)
    while j < n:
        ch = src[j]
        if ch == "\\":
            j += 2
            continue
        if ch == "\n":
            return None
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "/":
            j += 1
            while j < n and src[j].isalpha():
                j += 1
            return j
        j += 1
    return None


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


@dataclass(frozen=True, slots=True)
class _Op:
    """What a recognised call does. `kind` selects the translation; the rest parametrise it."""

    kind: str
    verb: str = ""
    first: int = 0  # first relevant argument
    second: int = 1
    needs: str = ""  # "cp": only once child_process is loaded; "fu": once FileUtils is mentioned


def _ops(kind: str, names: str, **extra: object) -> dict[str, _Op]:
    return {name: _Op(kind, **extra) for name in names.split()}  # type: ignore[arg-type]


_NODE_OPS: dict[str, _Op] = {
    **_ops("shell1", "*.execSync *.exec", needs="cp"),
    **_ops("spawn", "*.spawn *.spawnSync *.execFile *.execFileSync", needs="cp"),
    **_ops("fork", "*.fork", needs="cp"),
    **_ops("rm_opts", "*.rmSync *.rm Deno.remove Deno.removeSync", verb="rm"),
    **_ops("rm_opts", "*.rmdirSync *.rmdir", verb="rmdir"),
    **_ops("path", "*.unlinkSync *.unlink", verb="rm"),
    **_ops("path", "*.writeFileSync *.writeFile *.appendFileSync *.appendFile *.createWriteStream "
                   "*.outputFile *.outputFileSync Deno.writeTextFile Deno.writeTextFileSync "
                   "Deno.writeFile Deno.writeFileSync Bun.write", verb="tee"),
    **_ops("path", "*.readFileSync *.readFile *.createReadStream Deno.readTextFile "
                   "Deno.readTextFileSync Deno.readFile Deno.readFileSync", verb="cat"),
    **_ops("two", "*.copyFileSync *.copyFile Deno.copyFile Deno.copyFileSync", verb="cp"),
    **_ops("cp_opts", "*.cpSync *.cp"),
    **_ops("two", "*.renameSync *.rename Deno.rename Deno.renameSync", verb="mv"),
    **_ops("two", "*.symlinkSync *.symlink Deno.symlink Deno.symlinkSync", verb="ln -s"),
    **_ops("chmod", "*.chmodSync *.chmod Deno.chmod Deno.chmodSync", first=0, second=1),
    **_ops("path", "*.mkdirSync *.mkdir Deno.mkdir Deno.mkdirSync", verb="mkdir"),
    **_ops("eval", "eval *.runInThisContext *.runInNewContext *.runInContext *.Script"),
    **_ops("eval_last", "Function *.compileFunction"),
    **_ops("require", "require *.require import *._load"),
    **_ops("deno_command", "Deno.Command"),
    **_ops("deno_run", "Deno.run"),
    **_ops("bun_spawn", "Bun.spawn Bun.spawnSync"),
    **_ops("opaque", "process.binding process._linkedBinding process.dlopen",
           verb="reaches node internals directly"),
}  # fmt: skip
_PERL_OPS: dict[str, _Op] = {
    **_ops("shell", "system exec"),
    **_ops("shell1", "readpipe"),
    **_ops("shell", "open2 IPC::Open2.open2", first=2),
    **_ops("shell", "open3 IPC::Open3.open3", first=3),
    **_ops("paths", "unlink", verb="rm"),
    **_ops("paths", "rmdir", verb="rmdir"),
    **_ops("paths", "rmtree remove_tree", verb="rm -rf"),
    **_ops("paths", "mkpath make_path", verb="mkdir -p"),
    **_ops("path", "mkdir", verb="mkdir"),
    **_ops("perl_open", "open"),
    **_ops("sysopen", "sysopen"),
    **_ops("two", "rename move mv", verb="mv"),
    **_ops("two", "copy cp", verb="cp"),
    **_ops("two", "symlink", verb="ln -s"),
    **_ops("two", "link", verb="ln"),
    **_ops("chmod", "chmod", first=1, second=0),
    **_ops("eval", "eval"),
}  # fmt: skip
_RUBY_OPS: dict[str, _Op] = {
    **_ops("shell", "system exec spawn Process.spawn Process.exec PTY.spawn"),
    **_ops("shell", "Open3.capture2 Open3.capture2e Open3.capture3 Open3.popen2 Open3.popen2e "
                    "Open3.popen3 Open3.pipeline Open3.pipeline_r Open3.pipeline_w "
                    "Open3.pipeline_rw Open3.pipeline_start"),
    **_ops("shell1", "IO.popen"),
    **_ops("ruby_open", "open URI.open"),
    **_ops("ruby_fopen", "File.open File.new"),
    **_ops("ruby_ioread", "IO.read IO.readlines IO.foreach IO.binread"),
    **_ops("path", "File.read File.readlines File.foreach File.binread", verb="cat"),
    **_ops("path", "File.write IO.write File.binwrite IO.binwrite", verb="tee"),
    **_ops("paths", "FileUtils.rm_rf FileUtils.rm_r FileUtils.remove_dir FileUtils.remove_entry "
                    "FileUtils.remove_entry_secure FileUtils.rmtree", verb="rm -rf"),
    **_ops("paths", "rm_rf rm_r remove_dir rmtree", verb="rm -rf", needs="fu"),
    **_ops("paths", "FileUtils.rm FileUtils.rm_f FileUtils.remove File.delete File.unlink",
           verb="rm"),
    **_ops("paths", "rm rm_f", verb="rm", needs="fu"),
    **_ops("paths", "Dir.rmdir Dir.delete Dir.unlink FileUtils.rmdir", verb="rmdir"),
    **_ops("paths", "FileUtils.mkdir_p FileUtils.makedirs FileUtils.mkpath", verb="mkdir -p"),
    **_ops("paths", "mkdir_p", verb="mkdir -p", needs="fu"),
    **_ops("paths", "FileUtils.touch", verb="touch"),
    **_ops("paths", "touch", verb="touch", needs="fu"),
    **_ops("two", "FileUtils.cp FileUtils.copy FileUtils.copy_file FileUtils.install", verb="cp"),
    **_ops("two", "FileUtils.cp_r", verb="cp -r"),
    **_ops("two", "cp", verb="cp", needs="fu"),
    **_ops("two", "cp_r", verb="cp -r", needs="fu"),
    **_ops("two", "FileUtils.mv FileUtils.move File.rename", verb="mv"),
    **_ops("two", "mv", verb="mv", needs="fu"),
    **_ops("two", "FileUtils.ln_s File.symlink", verb="ln -s"),
    **_ops("chmod", "FileUtils.chmod File.chmod FileUtils.chmod_R", first=1, second=0),
    **_ops("eval", "eval *.instance_eval *.class_eval *.module_eval *.instance_exec"),
    **_ops("ruby_send", "send *.send *.public_send *.__send__"),
    **_ops("ruby_method", "method *.method"),
    **_ops("opaque", "syscall Fiddle.dlopen", verb="calls native code directly"),
}  # fmt: skip
_PHP_OPS: dict[str, _Op] = {
    **_ops("shell1", "shell_exec system exec passthru popen proc_open"),
    **_ops("pcntl", "pcntl_exec"),
    **_ops("path", "unlink", verb="rm"),
    **_ops("path", "rmdir", verb="rmdir"),
    **_ops("path", "mkdir", verb="mkdir"),
    **_ops("path", "touch", verb="touch"),
    **_ops("path", "file_put_contents", verb="tee"),
    **_ops("path", "file_get_contents readfile file highlight_file show_source parse_ini_file",
           verb="cat"),
    **_ops("php_fopen", "fopen"),
    **_ops("two", "copy", verb="cp"),
    **_ops("two", "rename", verb="mv"),
    **_ops("two", "symlink", verb="ln -s"),
    **_ops("two", "link", verb="ln"),
    **_ops("chmod", "chmod", first=0, second=1),
    **_ops("eval", "eval assert"),
    **_ops("eval_last", "create_function"),
    **_ops("php_call", "call_user_func call_user_func_array forward_static_call "
                       "forward_static_call_array"),
    **_ops("php_callback", "array_map array_walk array_walk_recursive array_filter array_reduce "
                           "usort uasort uksort register_shutdown_function register_tick_function "
                           "set_error_handler set_exception_handler ob_start iterator_apply "
                           "spl_autoload_register header_register_callback"),
    **_ops("opaque", "dl ffi::cdef", verb="loads native code"),
}  # fmt: skip
_TABLES = {"node": _NODE_OPS, "perl": _PERL_OPS, "ruby": _RUBY_OPS, "php": _PHP_OPS}
# Receivers that name the language's own namespace, so `CORE::system` is `system`.
_NAMESPACES = {
    "node": frozenset({"globalThis", "global", "window", "self"}),
    "perl": frozenset({"CORE", "GLOBAL", "CORE::GLOBAL", "POSIX", "File::Path", "File::Copy",
                       "main", "IPC::Open2", "IPC::Open3"}),
    "ruby": frozenset({"Kernel", "FileUtils"}),
    "php": frozenset(),
}  # fmt: skip
_CONCAT = {"node": "+", "perl": ".", "php": ".", "ruby": "+"}
_CHILD_PROCESS = frozenset({"child_process", "node:child_process"})
_DECODERS = {
    "node": frozenset({"atob", "Buffer", "fromCharCode", "unescape", "decodeURIComponent",
                       "inflateSync", "gunzipSync", "brotliDecompressSync", "reverse"}),
    "perl": frozenset({"decode_base64", "unpack", "pack", "uncompress", "reverse", "chr",
                       "MIME", "Base64"}),
    "ruby": frozenset({"decode64", "strict_decode64", "urlsafe_decode64", "unpack", "unpack1",
                       "Base64", "inflate", "reverse", "Zlib"}),
    "php": frozenset({"base64_decode", "str_rot13", "gzinflate", "gzuncompress", "gzdecode",
                      "hex2bin", "strrev", "convert_uudecode", "pack", "chr"}),
}  # fmt: skip
_SHELL_KINDS = frozenset({"shell", "shell1", "spawn", "fork", "pcntl", "eval", "eval_last"})


# Operators that need a left operand: none of these languages can start an expression with one.
_INFIX_ONLY = frozenset({"<<<", "==", "===", "!=", "!==", "&&", "||", ">>>", "<=", ">="})
_EXPRESSION_STARTS = frozenset({";", "(", "[", ",", "{"})
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _malformed(code: str, tokens: list[_Tok]) -> str | None:
    """A syntax error the bracket check cannot see: text that is not Unicode (a lone
    surrogate cannot be encoded, so the interpreter gets other bytes than shown), or an
    infix operator where an expression starts (`<<<EOF` in JavaScript, Perl or Ruby)."""
    if _LONE_SURROGATE.search(code):
        return "code holds a lone surrogate, which is not text"
    previous: _Tok | None = None
    for tok in tokens:
        starts = previous is None or (previous.kind == "op" and previous.text in _EXPRESSION_STARTS)
        if starts and tok.kind == "op" and tok.text in _INFIX_ONLY:
            return f"code has `{tok.text}` where an expression starts"
        previous = tok
    return None


def _mode_parts(tokens: list[_Tok]) -> list[str]:
    """`S_IRWXU | fs.constants.S_IWOTH` as ["S_IRWXU", "|", "fs.constants.S_IWOTH"]."""
    parts: list[str] = [""]
    for tok in tokens:
        if tok.kind == "op" and tok.text in {"|", "+"}:
            parts += [tok.text, ""]
        elif tok.kind in {"num", "id", "op", "sym"}:
            parts[-1] += tok.text
        else:
            return []
    return parts


class _TokenAnalyzer:
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

    # -- finding calls

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

    # -- literal values

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

    # -- translations

    def _apply(self, op: _Op, name: str, args: list[list[_Tok]]) -> None:
        handler: Callable[[_Op, str, list[list[_Tok]]], None] | None = getattr(
            self, f"_do_{op.kind}", None
        )
        if handler is not None:
            handler(op, name, args)

    def _do_opaque(self, op: _Op, name: str, args: list[list[_Tok]]) -> None:
        self._opaque(f"{name}() {op.verb}")

    def _do_shell(self, op: _Op, name: str, args: list[list[_Tok]]) -> None:
        args = self._drop_keywords(args[op.first :])
        if not args:
            return
        found = self._values(args)
        if found is None or not found[0]:
            self._computed(name, [t for arg in args for t in arg])
            return
        values, single = found
        self._cmd(values[0] if single else _argv_line(values))

    def _do_shell1(self, op: _Op, name: str, args: list[list[_Tok]]) -> None:
        if args:
            self._do_shell(op, name, args[:1])

    def _do_spawn(self, op: _Op, name: str, args: list[list[_Tok]]) -> None:
        if not args:
            return
        command = self._lit(args[0])
        if command is None:
            self._computed(name, args[0])
            return
        argv = [command]
        rest = args[1:]
        if rest and not (rest[0] and rest[0][0].text == "{"):
            items = self._list(rest[0])
            if items is None:
                self._computed(name, rest[0], "argument list")
                return
            argv.extend(items)
        if self._truthy_option(rest, "shell"):
            self._cmd(" ".join(argv))
        else:
            self._cmd(_argv_line(argv))

    def _do_fork(self, op: _Op, name: str, args: list[list[_Tok]]) -> None:
        if not args:
            return
        module = self._lit(args[0])
        items = self._list(args[1]) if len(args) > 1 and args[1] and args[1][0].text == "[" else []
        if module is None or items is None:
            self._computed(name, args[0])
            return
        self._cmd(_argv_line(["node", module, *items]))

    def _paths(self, name: str, args: list[list[_Tok]]) -> list[str] | None:
        found = self._values(args)
        if found is None or not found[0]:
            self._computed(name, None, "path")
            return None
        return [shlex.quote(p) for p in found[0]]

    def _do_path(self, op: _Op, name: str, args: list[list[_Tok]]) -> None:
        if not args:
            return
        paths = self._paths(name, args[:1])
        if paths:
            self._cmd(f"{op.verb} {paths[0]}")

    def _do_paths(self, op: _Op, name: str, args: list[list[_Tok]]) -> None:
        args = self._drop_keywords(args)
        if not args:
            if self.lang == "perl":
                self._opaque(f"{name} of $_, which is only known at run time")
            return
        paths = self._paths(name, args)
        if paths:
            self._cmd(f"{op.verb} {' '.join(paths)}")

    def _do_rm_opts(self, op: _Op, name: str, args: list[list[_Tok]]) -> None:
        if not args:
            return
        paths = self._paths(name, args[:1])
        if not paths:
            return
        if self._truthy_option(args[1:], "recursive"):
            self._cmd(f"rm -rf {paths[0]}")
        elif op.verb == "rm" and self._truthy_option(args[1:], "force"):
            self._cmd(f"rm -f {paths[0]}")
        else:
            self._cmd(f"{op.verb} {paths[0]}")

    def _do_two(self, op: _Op, name: str, args: list[list[_Tok]]) -> None:
        if len(args) < 2:
            return
        source = self._paths(name, args[:1])
        target = self._paths(name, args[1:2])
        if source and target:
            self._cmd(f"{op.verb} {' '.join(source)} {target[0]}")

    def _do_cp_opts(self, op: _Op, name: str, args: list[list[_Tok]]) -> None:
        verb = "cp -r" if self._truthy_option(args[2:], "recursive") else "cp"
        self._do_two(_Op("two", verb), name, args)

    def _do_chmod(self, op: _Op, name: str, args: list[list[_Tok]]) -> None:
        if len(args) <= max(op.first, op.second):
            return
        mode_tokens = self._strip(args[op.second])
        mode: str | None = None
        number = mode_number(_mode_parts(mode_tokens))
        if number is not None:
            mode = f"{number:o}"
        else:
            literal = self._lit(mode_tokens)
            mode = shlex.quote(literal) if literal else None
        if mode is None:
            self._computed(name, None, "mode")
            return
        path_args = args[op.first :] if op.first > op.second else [args[op.first]]
        paths = self._paths(name, self._drop_keywords(path_args))
        if paths or world_writable(shlex.split(mode)[0]):
            self._cmd(f"chmod {mode} {' '.join(paths or ()) or _SOME_FILE}")

    def _read_write(self, path: str, reads: bool, writes: bool) -> None:
        quoted = shlex.quote(path)
        if reads:
            self._cmd(f"cat {quoted}")
        if writes:
            self._cmd(f"tee {quoted}")

    def _do_eval(self, op: _Op, name: str, args: list[list[_Tok]]) -> None:
        if not args:
            if self.lang == "perl":
                self._opaque("eval of $_, which is only known at run time")
            return
        self._eval_code(name, args[0])

    def _do_eval_last(self, op: _Op, name: str, args: list[list[_Tok]]) -> None:
        if args:
            self._eval_code(name, args[-1])

    def _eval_code(self, name: str, arg: list[_Tok]) -> None:
        if arg and arg[0].kind == "op" and arg[0].text == "{":
            return  # a block, not code in a string
        code = self._lit(arg)
        if code is None:
            self._computed(name, arg, "code argument")
            return
        if self.depth + 1 > _MAX_NESTING:
            self._opaque(f"{name}() code is nested too deeply to follow")
            return
        self.out.extend(_analyze(self.lang, code, self.depth + 1, self.budget))

    def _do_require(self, op: _Op, name: str, args: list[list[_Tok]]) -> None:
        if args and self._lit(args[0]) is None:
            self._opaque(f"{name}() loads a module named at run time")

    def _do_deno_command(self, op: _Op, name: str, args: list[list[_Tok]]) -> None:
        if not args:
            return
        command = self._lit(args[0])
        value = self._option(args[1:], "args")
        items = self._list(value) if value is not None else []
        if command is None or items is None:
            self._computed(name, args[0])
            return
        self._cmd(_argv_line([command, *items]))

    def _do_deno_run(self, op: _Op, name: str, args: list[list[_Tok]]) -> None:
        value = self._option(args, "cmd")
        items = self._list(value) if value is not None else None
        if not items:
            self._computed(name, args[0] if args else None)
            return
        self._cmd(_argv_line(items))

    def _do_bun_spawn(self, op: _Op, name: str, args: list[list[_Tok]]) -> None:
        if not args:
            return
        items = self._list(args[0])
        if items is None:
            value = self._option(args, "cmd")
            items = self._list(value) if value is not None else None
        if not items:
            self._computed(name, args[0])
            return
        self._cmd(_argv_line(items))

    def _do_perl_open(self, op: _Op, name: str, args: list[list[_Tok]]) -> None:
        if len(args) >= 3:
            mode = self._lit(args[1])
            if mode is None:
                self._computed(name, args[1], "mode")
                return
            mode = mode.strip()
            if "|" in mode:
                self._do_shell(_Op("shell"), name, args[2:])
                return
            path = self._lit(args[2])
            if path is None:
                self._computed(name, args[2], "path")
                return
            self._perl_mode(mode, path)
        elif len(args) == 2:
            spec = self._lit(args[1])
            if spec is None:
                self._computed(name, args[1])
                return
            spec = spec.strip()
            if spec.startswith("|"):
                self._cmd(spec[1:])
            elif spec.endswith("|"):
                self._cmd(spec[:-1])
            else:
                match = re.match(r"(\+?[<>]{0,2}&?=?)\s*(.*)", spec, re.S)
                mode, path = (match.group(1), match.group(2)) if match else ("", spec)
                if path and path != "-":
                    self._perl_mode(mode or "<", path.strip())

    def _perl_mode(self, mode: str, path: str) -> None:
        plain = mode.split(":", 1)[0].strip()
        if "&" in plain:
            return  # duplicates an already open handle
        writes = ">" in plain or "+" in plain
        reads = "<" in plain or not writes
        self._read_write(path, reads, writes)

    def _do_sysopen(self, op: _Op, name: str, args: list[list[_Tok]]) -> None:
        if len(args) < 3:
            return
        path = self._lit(args[1])
        if path is None:
            self._computed(name, args[1], "path")
            return
        used = {t.text for t in args[2] if t.kind == "id"}
        writes = bool(used & _WRITE_FLAGS)
        self._read_write(path, not writes or "O_RDWR" in used, writes)

    def _do_ruby_open(self, op: _Op, name: str, args: list[list[_Tok]]) -> None:
        if args:
            path = self._lit(args[0])
            if path is not None and path.startswith("|"):
                self._cmd(path[1:])  # Kernel#open("|cmd") runs cmd
                return
        self._do_ruby_fopen(op, name, args)

    def _do_ruby_fopen(self, op: _Op, name: str, args: list[list[_Tok]]) -> None:
        args = self._drop_keywords(args)
        if not args:
            return
        path = self._lit(args[0])
        if path is None:
            self._computed(name, args[0], "path")
            return
        if len(args) < 2:
            self._read_write(path, True, False)
            return
        mode = self._lit(args[1])
        if mode is not None:
            self._read_write(path, *_mode_access(mode))
            return
        used = {t.text for t in args[1] if t.kind == "id"}
        if used & _WRITE_FLAGS:
            self._read_write(path, "RDWR" in used, True)
        else:
            self._computed(name, args[1], "mode")

    def _do_ruby_ioread(self, op: _Op, name: str, args: list[list[_Tok]]) -> None:
        if not args:
            return
        path = self._lit(args[0])
        if path is None:
            self._computed(name, args[0], "path")
        elif path.startswith("|"):
            self._cmd(path[1:])
        else:
            self._read_write(path, True, False)

    def _do_ruby_send(self, op: _Op, name: str, args: list[list[_Tok]]) -> None:
        if not args:
            return
        target = self._symbol(args[0])
        if target is None:
            self._opaque(f"{name}() calls a method named at run time")
            return
        inner = self._lookup([target])
        if inner is not None:
            self._apply(inner, target, args[1:])

    def _do_ruby_method(self, op: _Op, name: str, args: list[list[_Tok]]) -> None:
        if not args:
            return
        target = self._symbol(args[0])
        if target is None:
            self._opaque(f"{name}() takes a method named at run time")
        elif self._lookup([target]) is not None:
            self._opaque(f"{name}(:{target}) hands {target} around as a value")

    def _symbol(self, arg: list[_Tok]) -> str | None:
        arg = self._strip(arg)
        if len(arg) == 1 and arg[0].kind == "sym":
            return arg[0].text
        return self._lit(arg)

    def _do_php_fopen(self, op: _Op, name: str, args: list[list[_Tok]]) -> None:
        if not args:
            return
        path = self._lit(args[0])
        if path is None:
            self._computed(name, args[0], "path")
            return
        if path.startswith("php://"):
            return  # the process's own streams
        mode = self._lit(args[1]) if len(args) > 1 else "r"
        if mode is None:
            self._computed(name, args[1], "mode")
            return
        self._read_write(path, *_mode_access(mode))

    def _do_pcntl(self, op: _Op, name: str, args: list[list[_Tok]]) -> None:
        if not args:
            return
        path = self._lit(args[0])
        items = self._list(args[1]) if len(args) > 1 else []
        if path is None or items is None:
            self._computed(name, args[0])
            return
        self._cmd(_argv_line([path, *items]))

    def _do_php_call(self, op: _Op, name: str, args: list[list[_Tok]]) -> None:
        if not args:
            return
        target = self._lit(args[0])
        if target is None:
            self._opaque(f"{name}() calls a function named at run time")
            return
        inner = self._lookup([target.lstrip("\\")])
        if inner is None:
            return
        rest = args[1:]
        if name.endswith("_array"):
            array = self._strip(rest[0]) if rest else []
            if array and array[0].kind == "id" and array[0].text.lower() == "array":
                array = array[1:]
            if len(array) >= 2 and array[0].text in ("[", "(") and array[-1].text in ("]", ")"):
                rest = self._split_tokens(array[1:-1])
            else:
                self._computed(target, rest[0] if rest else None)
                return
        self._apply(inner, target, rest)

    def _do_php_callback(self, op: _Op, name: str, args: list[list[_Tok]]) -> None:
        for arg in args:
            target = self._lit(arg)
            if target is None:
                continue
            inner = self._lookup([target.lstrip("\\")])
            if inner is not None and inner.kind in _SHELL_KINDS | {"path", "two", "chmod"}:
                self._opaque(f"{name}() calls {target} on values known only at run time")
