"""What a Python name or attribute stands for without running the code: the imports, the
single assignments, the qualified name a call reaches. A part of _PythonAnalyzer, not used alone."""

from __future__ import annotations

import ast

from engine.analysis.code.python_tables import _PY_IMPORT, _PY_KNOWN, _PY_NAMED_NODES


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


class _PythonNames:
    """The name resolver that _PythonAnalyzer builds on: it indexes the module's names."""

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
