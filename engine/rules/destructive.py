"""Built-in detectors of destruction: recursive deletes of the system or a home, disk wipes,
world-writable modes, fork bombs. Judges one command's words and the paths the facts resolved."""

from __future__ import annotations

import re
from collections.abc import Iterable

from engine.analysis.modes import world_writable
from engine.analysis.shell import Word
from engine.decide import Finding, Outcome, Risk
from engine.facts.model import CommandFacts, CommandLine
from engine.rules.book import finding

_BLOCK_DEVICE = re.compile(
    r"^/dev/(sd[a-z]|nvme\d|vd[a-z]|xvd[a-z]|hd[a-z]|mmcblk\d|disk\d|md\d|dm-)"
)
_DISK_TOOLS = frozenset({"wipefs", "fdisk", "sfdisk", "cfdisk", "parted", "sgdisk", "gdisk"})
_FORMATTERS = ("mkfs", "mke2fs", "mkswap", "mkdosfs", "mkntfs")


def fork_bombs(line: CommandLine) -> Iterable[Finding]:
    for name in line.fork_bombs:
        yield finding(
            "builtin.fork_bomb",
            Outcome.DENY,
            f"function `{name}` calls itself in the background: a fork bomb that exhausts "
            "the machine",
            name,
            Risk.CRITICAL,
        )


def destructive(facts: CommandFacts) -> Iterable[Finding]:
    command = facts.command
    name, words = command.name, command.words
    if name == "rm":
        yield from _rm(words, facts)
    elif name == "chmod":
        # A mode starting with `-` (`chmod -w f`) only removes rights: skip options.
        yield from _world_writable_finding(
            words, next((w.value for w in words[1:] if not w.value.startswith("-")), None)
        )
    elif name in {"mkdir", "install", "mkfifo", "mknod"}:
        modes = [
            words[i + 1].value for i, w in enumerate(words[:-1]) if w.value in {"-m", "--mode"}
        ]
        modes += [w.value.split("=", 1)[1] for w in words if w.value.startswith("--mode=")]
        for mode in modes:
            yield from _world_writable_finding(words, mode)
    elif name == "find" and any(w.value in {"-delete", "-exec", "-execdir"} for w in words):
        for start in words[1:]:
            if start.value.startswith(("-", "(", "!")):
                break
            if _is_catastrophic_target(start, facts):
                yield finding(
                    "builtin.rm_root",
                    Outcome.DENY,
                    f"`find {start.value} -delete/-exec` would delete a system directory "
                    "or home; delete only inside the project",
                    command.display(),
                    Risk.CRITICAL,
                )
    elif name.startswith(_FORMATTERS) or name in _DISK_TOOLS:
        devices = [w.value for w in words[1:] if w.value.startswith("/dev/")]
        listing = any(w.value in {"-l", "--list", "print"} for w in words[1:])
        if name.startswith(_FORMATTERS) or (devices and not listing):
            yield _disk(command.display())
    elif name == "dd":
        if any(w.value.startswith("of=") and _BLOCK_DEVICE.match(w.value[3:]) for w in words):
            yield _disk(command.display())
    elif name == "shred" and any(_BLOCK_DEVICE.match(w.value) for w in words[1:]):
        yield _disk(command.display())
    for redirect in command.redirects:
        if redirect.op != "<" and _BLOCK_DEVICE.match(redirect.target.value):
            yield _disk(f"> {redirect.target.value}")


def _disk(fragment: str) -> Finding:
    return finding(
        "builtin.disk_destroy",
        Outcome.DENY,
        "writes directly to a disk device or formats one; this destroys the file system",
        fragment,
        Risk.CRITICAL,
    )


def _is_catastrophic_target(word: Word, facts: CommandFacts) -> bool:
    """The word's resolved path (for a glob, its folder's) is the system or a home."""
    value = word.value
    if word.dynamic:
        return False
    if word.glob:
        if value.startswith("/") and "/" not in value[1:]:
            return True  # `/*`, `/e*`
    elif value in {"~", "~/", "$HOME", "${HOME}"}:
        return True
    return facts.where.is_catastrophic(facts.target(value))


def _rm(words: tuple[Word, ...], facts: CommandFacts) -> Iterable[Finding]:
    recursive = no_preserve = False
    targets: list[Word] = []
    only_targets = False
    for word in words[1:]:
        value = word.value
        if only_targets or not value.startswith("-") or value == "-":
            targets.append(word)
        elif value == "--":
            only_targets = True
        elif value in {"--recursive", "--dir"}:
            recursive = recursive or value == "--recursive"
        elif value == "--no-preserve-root":
            no_preserve = True
        elif not value.startswith("--"):
            recursive = recursive or "r" in value or "R" in value
    display = " ".join(w.value for w in words)
    if no_preserve:
        yield finding(
            "builtin.rm_root",
            Outcome.DENY,
            "`rm --no-preserve-root` exists only to delete `/`",
            display,
            Risk.CRITICAL,
        )
    if not recursive:
        return
    for target in targets:
        if _is_catastrophic_target(target, facts):
            yield finding(
                "builtin.rm_root",
                Outcome.DENY,
                f"recursive delete of `{target.value}` would wipe the system or a home "
                "directory; delete specific paths inside the project instead",
                display,
                Risk.CRITICAL,
            )
        elif target.dynamic:
            yield finding(
                "builtin.rm_unknown_target",
                Outcome.APPROVE,
                f"recursive delete of `{target.value}`, a path only known at run time",
                display,
                Risk.HIGH,
            )


def _world_writable_finding(words: tuple[Word, ...], mode: str | None) -> Iterable[Finding]:
    if mode is None or not world_writable(mode):
        return
    display = " ".join(w.value for w in words)
    yield finding(
        "builtin.chmod_world_writable",
        Outcome.DENY,
        f"mode `{mode}` makes files writable by every user; use 755 for programs or 644 for files",
        display,
        Risk.HIGH,
    )
