"""Python one-liners, read with the ast module: the shell commands equivalent to what the code
does, and what cannot be seen. Never runs the code."""

from __future__ import annotations

import ast
import shlex

from engine.analysis.code.internals import (
    _LABELS,
    _MAX_NESTING,
    _SOME_FILE,
    _WRITE_FLAGS,
    _Budget,
    _mode_access,
)
from engine.analysis.code.python_names import _PythonNames
from engine.analysis.code.python_tables import (
    _PY_DANGEROUS_MODULES,
    _PY_DESERIALIZE,
    _PY_EVAL,
    _PY_EXEC,
    _PY_IMPORT,
    _PY_NETWORK,
    _PY_ONE_PATH,
    _PY_OPEN,
    _PY_PATH_METHODS,
    _PY_PATH_ONLY_METHODS,
    _PY_REFERENCE_WATCH,
    _PY_SHELL_STRING,
    _PY_SUBPROCESS,
    _PY_TWO_PATHS,
    _ExecShape,
)
from engine.analysis.code.python_values import _PythonValues, _quote_val, _Val
from engine.analysis.modes import world_writable


class _PythonAnalyzer(_PythonNames, _PythonValues):
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

    def _computed(self, call: ast.Call, name: str, arg: ast.AST, what: str = "argument") -> None:
        if self._decodes(arg):
            self._opaque(call, f"{name}() decodes data and runs it")
        else:
            self._opaque(call, f"{name}() with a computed {what}")

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
