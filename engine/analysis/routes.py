"""Routes to a known effect: each command that does what a known one does is followed by it
(`rimraf x` → `rm -rf x`, `rsync --delete` → `rm -r`, API ref updates → `git push`). Pure."""

from __future__ import annotations

import re

from engine.analysis.checkout import GitLine, follow_git, resolved_push
from engine.analysis.hosting import RefUpdate, ref_updates
from engine.analysis.shell import ShellAnalysis, SimpleCommand, Word, command_name
from engine.clis import runner_target
from engine.git import analyze_push, git_subcommand

_HOSTING_CLIENTS = frozenset({"gh", "curl", "http", "https", "xh", "xhs"})
# Programs that delete their operands recursively, as `rm -rf` does.
_RECURSIVE_DELETERS = frozenset({"rimraf", "del", "del-cli", "trash", "trash-put", "premove"})
_RSYNC_VALUE_OPTIONS = frozenset(
    [
        "-e",
        "--rsh",
        "-f",
        "--filter",
        "--exclude",
        "--include",
        "--exclude-from",
        "--include-from",
        "--files-from",
        "--chmod",
        "--chown",
        "--backup-dir",
        "--suffix",
        "-T",
        "--temp-dir",
        "--partial-dir",
        "--compare-dest",
        "--link-dest",
        "--copy-dest",
        "-B",
        "--block-size",
        "--port",
        "--timeout",
        "--bwlimit",
        "--max-size",
        "--min-size",
        "-M",
        "--remote-option",
        "--info",
        "--debug",
        "--out-format",
        "--log-file",
        "--usermap",
        "--groupmap",
        "--iconv",
        "--rsync-path",
        "--password-file",
    ]
)
_RSYNC_DELETES = re.compile(r"--del(ete(-(before|during|delay|after|excluded))?)?$")
_REMOTE = re.compile(r"^(?:[\w.+-]+@)?([A-Za-z0-9][\w.-]*):(?!//)(.*)$")


def with_routes(analysis: ShellAnalysis) -> ShellAnalysis:
    """The analysis with the known equivalent of each command added after it."""
    commands: list[SimpleCommand] = []
    git = GitLine()
    for command in analysis.commands:
        for reason in _unseen_updates(command):
            git.opaque.append(reason)
        if command.name == "git" and git.changed_by:
            commands.append(resolved_push(command, git))
        else:
            commands.append(command)
        commands.extend(_equivalents(command))
        if command.name == "git":
            follow_git(command.argv, git)
    if commands == list(analysis.commands) and not git.opaque:
        return analysis
    return ShellAnalysis(tuple(commands), (*analysis.opaque, *git.opaque), analysis.fork_bombs)


def _equivalents(command: SimpleCommand) -> list[SimpleCommand]:
    argv = command.argv
    inner = runner_target(argv)
    if inner is not None:
        argv = inner
    name = command_name(argv[0]) if argv else ""
    words = command.words[len(command.words) - len(argv) :]
    via = (*command.prefix, *command.argv[: len(command.words) - len(argv) + 1])
    if name in _RECURSIVE_DELETERS:
        if any(w.value in {"--dry-run", "-d"} for w in words[1:]):
            return []  # del-cli --dry-run lists what it would delete
        operands = [w for w in words[1:] if not w.value.startswith("-")]
        return [_synthetic(["rm", "-rf"], operands, via, command)] if operands else []
    if name == "rsync":
        return _rsync_deletes(words, via, command)
    if name in _HOSTING_CLIENTS:
        return _pushes(ref_updates(argv), (*via, *argv[1:2]) if name == "gh" else via, command)
    if name == "git":
        start, _ = git_subcommand(argv)
        if argv[start : start + 2] == ("subtree", "push"):
            push = analyze_push(argv, None)
            branches = [RefUpdate(t.branch) for t in push.targets] if push else []
            return _pushes(branches, (*via, *argv[start : start + 2]), command)
    return []


def _synthetic(
    head: list[str], operands: list[Word], via: tuple[str, ...], like: SimpleCommand
) -> SimpleCommand:
    return SimpleCommand((*(Word(w) for w in head), *operands), prefix=via, workdir=like.workdir)


# ---------------------------------------------------------------- deletes


def _rsync_deletes(
    words: tuple[Word, ...], via: tuple[str, ...], command: SimpleCommand
) -> list[SimpleCommand]:
    """`--delete` empties the destination of what the source lacks; `--remove-source-files`
    deletes the sources. Judged as `rm -r` of those paths (a superset: files in both stay)."""
    operands: list[Word] = []
    deletes = removes_sources = False
    index = 1
    while index < len(words):
        value = words[index].value
        if value in _RSYNC_VALUE_OPTIONS:
            index += 2
            continue
        if value.startswith("-"):
            deletes = deletes or bool(_RSYNC_DELETES.match(value.split("=", 1)[0]))
            removes_sources = removes_sources or value == "--remove-source-files"
        else:
            operands.append(words[index])
        index += 1
    if len(operands) < 2:
        return []
    out = []
    if deletes:
        destination = _local_view(operands[-1])
        out.append(_synthetic(["rm", "-r"], [destination], (*via, "--delete"), command))
    if removes_sources:
        sources = [_local_view(w) for w in operands[:-1]]
        out.append(_synthetic(["rm"], sources, (*via, "--remove-source-files"), command))
    return out


def _local_view(word: Word) -> Word:
    """`host:dir` as the path it names on that host: relative paths start at its home."""
    match = _REMOTE.match(word.value)
    if match is None or word.value.startswith("rsync://"):
        return word
    path = match.group(2)
    if not path.startswith("/"):
        path = f"~/{path}" if path else "~"
    return Word(path, word.glob, word.dynamic)


# ---------------------------------------------------------------- hosting API ref updates


def _unseen_updates(command: SimpleCommand) -> list[str]:
    """Hosting-API calls that update a branch the call does not name (GraphQL, a body file)."""
    if command.name not in _HOSTING_CLIENTS:
        return []
    if any(update.branch is None for update in ref_updates(command.argv)):
        return [f"`{command.display()}` updates a branch it does not name"]
    return []


def _pushes(
    updates: list[RefUpdate], via: tuple[str, ...], command: SimpleCommand
) -> list[SimpleCommand]:
    out = []
    for update in updates:
        if update.branch is None:
            continue  # opaque: see _unseen_updates
        if update.delete:
            spec = [f":refs/heads/{update.branch}"]
        else:
            spec = [f"{'+' if update.force else ''}HEAD:refs/heads/{update.branch}"]
        out.append(_synthetic(["git", "push", "origin", *spec], [], via, command))
    return out
