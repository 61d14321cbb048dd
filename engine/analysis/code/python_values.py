"""What a Python expression is worth without running it: strings, paths, lists and ints that
the code builds (names resolved by python_names.py). Evaluates ast nodes; runs nothing."""

from __future__ import annotations

import ast
import posixpath
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath

from engine.analysis.code.internals import _MAX_TEXT
from engine.analysis.code.python_tables import (
    _PY_DECODE_METHODS,
    _PY_DECODERS,
    _PY_PATH_TYPES,
)
from engine.analysis.modes import STAT_CONSTANTS


@dataclass(frozen=True, slots=True)
class _Val:
    """A value known without running the code: a str, a pathlib path, a list, or an int."""

    kind: str
    text: str = ""
    items: tuple[_Val, ...] = ()
    num: int = 0
    # The text starts with `~` that the program expands to the home directory, so the shell
    # equivalent must leave that `~` unquoted.
    home: bool = False


_INT_OPS: dict[type[ast.operator], Callable[[int, int], int]] = {
    ast.BitOr: lambda a, b: a | b,
    ast.BitAnd: lambda a, b: a & b,
    ast.BitXor: lambda a, b: a ^ b,
    ast.Add: lambda a, b: a + b,
}


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


class _PythonValues:
    """The value evaluator that _PythonAnalyzer builds on; it reads the analyzer's indexes."""

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
