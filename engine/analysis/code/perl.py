"""Perl calls: system, exec, open with its modes, sysopen, File::Path, as shell text.
The table and the translations only; tokens.py reads the code."""

from __future__ import annotations

import re

from engine.analysis.code.internals import _WRITE_FLAGS
from engine.analysis.code.literals import _Tok
from engine.analysis.code.ops import _Op, _ops

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


class _PerlCalls:
    """The perl translations of _TokenAnalyzer (a part of it, not used alone)."""

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
