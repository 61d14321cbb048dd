"""Node (and Deno, Bun) calls: child_process, fs, Deno.Command, Bun.spawn, as shell text.
The table and the translations only; tokens.py reads the code."""

from __future__ import annotations

from engine.analysis.code.internals import _argv_line
from engine.analysis.code.literals import _Tok
from engine.analysis.code.ops import _Op, _ops

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


class _NodeCalls:
    """The node translations of _TokenAnalyzer (a part of it, not used alone)."""

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
