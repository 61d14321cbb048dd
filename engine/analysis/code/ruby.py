"""Ruby calls: system, Open3, File, FileUtils, send and method, as shell text.
The table and the translations only; tokens.py reads the code."""

from __future__ import annotations

from engine.analysis.code.internals import _WRITE_FLAGS, _mode_access
from engine.analysis.code.literals import _Tok
from engine.analysis.code.ops import _Op, _ops

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


class _RubyCalls:
    """The ruby translations of _TokenAnalyzer (a part of it, not used alone)."""

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
