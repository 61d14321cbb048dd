"""PHP calls: shell_exec, proc_open, file functions, call_user_func and callbacks, as
shell text. The table and the translations only; tokens.py reads the code."""

from __future__ import annotations

from engine.analysis.code.internals import _argv_line, _mode_access
from engine.analysis.code.literals import _Tok
from engine.analysis.code.ops import _SHELL_KINDS, _Op, _ops

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


class _PhpCalls:
    """The php translations of _TokenAnalyzer (a part of it, not used alone)."""

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
