"""The translations every token language shares: run a shell string, touch paths, copy, chmod,
eval code. A part of _TokenAnalyzer, not used alone; it reads no code itself."""

from __future__ import annotations

import shlex

from engine.analysis.code.internals import _MAX_NESTING, _SOME_FILE, _argv_line
from engine.analysis.code.literals import _Tok
from engine.analysis.code.ops import _Op
from engine.analysis.modes import mode_number, world_writable


class _CommonCalls:
    """The shared translations of _TokenAnalyzer."""

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
        # Evaluated code is in the same language: the same analyzer reads it, one level deeper.
        self.out.extend(type(self)(self.lang, code, self.depth + 1, self.budget).run())


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
