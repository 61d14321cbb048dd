"""What a recognised call of a token language does (`_Op`), and the per-language names the
reader needs: namespaces, concatenation, decoders. Data; the tables live per language."""

from __future__ import annotations

from dataclasses import dataclass


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
