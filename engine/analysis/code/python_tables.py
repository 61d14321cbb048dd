"""The Python calls the analyzer knows: shell runners, exec forms, file operations, decoders,
network calls. Data only; python.py, python_names.py and python_values.py read it."""

from __future__ import annotations

import ast
from dataclasses import dataclass

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
