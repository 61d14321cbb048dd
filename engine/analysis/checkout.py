"""The checkout through one command line (`git switch`, `git config`), so a later `git push` is
spelled with the branches it updates. Pure: follows argv only; never runs git."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from engine.analysis.shell import SimpleCommand, Word
from engine.git import (
    ALL_BRANCHES,
    CHECKED_OUT,
    GitConfig,
    analyze_push,
    git_subcommand,
    inline_config,
)

_UNKNOWN_BRANCH = "\x00unknown"
_PATH_LIKE = re.compile(r"^(\.{1,2}(/.*)?|:/.*|.*[*?\[].*)$")
_NOT_A_BRANCH = re.compile(r"[$~^@]|^HEAD$|^[0-9a-f]{7,40}$")


@dataclass(slots=True)
class GitLine:
    """What earlier commands of the line did to the checkout: the branch and the config."""

    branch: str | None = None
    config: GitConfig = ()
    changed_by: tuple[str, ...] = ()
    unknown: bool = False  # the line checked out something only known at run time
    opaque: list[str] = field(default_factory=list)


def follow_git(argv: tuple[str, ...], git: GitLine) -> None:
    """Updates `git` with what this git command does to the checkout."""
    start, _ = git_subcommand(argv)
    sub, rest = (argv[start], argv[start + 1 :]) if start < len(argv) else ("", ())
    if sub in {"switch", "checkout"}:
        branch = _checked_out(sub, rest)
        if branch is not None:
            git.unknown = branch == _UNKNOWN_BRANCH
            git.branch = None if git.unknown else branch
            git.changed_by = argv
    elif sub == "config":
        setting = _config_set(rest)
        if setting is not None:
            git.config = (*git.config, setting)
            git.changed_by = argv
    elif sub == "branch":
        upstream = _upstream_set(rest, git.branch or CHECKED_OUT)
        if upstream:
            git.config = (*git.config, *upstream)
            git.changed_by = argv


def _upstream_set(rest: tuple[str, ...], checked_out: str) -> GitConfig:
    """`git branch -u|--set-upstream-to[=]REMOTE/B [LOCAL]`: LOCAL (else the checked-out
    branch) now tracks B, which `git push` follows under push.default=upstream."""
    upstream: str | None = None
    positional: list[str] = []
    index = 0
    while index < len(rest):
        word = rest[index]
        if word in {"-u", "--set-upstream-to"} and index + 1 < len(rest):
            upstream = rest[index + 1]
            index += 1
        elif word.startswith("--set-upstream-to="):
            upstream = word.partition("=")[2]
        elif not word.startswith("-"):
            positional.append(word)
        index += 1
    if not upstream:
        return ()
    remote, slash, name = upstream.partition("/")
    if not slash:
        remote, name = ".", upstream  # a local branch as the upstream
    local = positional[0] if positional else checked_out
    return ((f"branch.{local}.remote", remote), (f"branch.{local}.merge", f"refs/heads/{name}"))


def _checked_out(sub: str, rest: tuple[str, ...]) -> str | None:
    """The branch `git switch|checkout …` leaves checked out; None when it only restores files."""
    if "--" in rest and sub == "checkout":
        return None
    creates = {"-c", "-C", "--create", "--force-create", "-b", "-B", "--orphan"}
    positional: list[str] = []
    index = 0
    while index < len(rest):
        word = rest[index]
        if word in creates:
            return rest[index + 1] if index + 1 < len(rest) else None
        if word in {"--detach", "-d", "-"}:
            return _UNKNOWN_BRANCH
        if word.startswith("--track=") or word in {"-t", "--track"}:
            remote_branch = next((w for w in rest[index + 1 :] if not w.startswith("-")), "")
            return remote_branch.split("/", 1)[-1] or None
        if not word.startswith("-"):
            positional.append(word)
        index += 1
    if len(positional) != 1:
        return None
    target = positional[0]
    if sub == "checkout" and _PATH_LIKE.match(target):
        return None  # `git checkout .` restores files
    if _NOT_A_BRANCH.search(target):
        return _UNKNOWN_BRANCH  # `-`, `@{-1}`, `HEAD~2`, a commit id, `$B`: detached or unknown
    return target


def _config_set(rest: tuple[str, ...]) -> tuple[str, str] | None:
    """`git config [--local|--global] [--add] key value` and `git config set key value`."""
    words = [w for w in rest if not w.startswith("-")]
    if words[:1] == ["set"]:
        words = words[1:]
    if len(words) != 2 or any(w in {"--unset", "--unset-all", "--get"} for w in rest):
        return None
    key, value = words
    return inline_config(("git", "-c", f"{key}={value}", "push"))[0]


def resolved_push(command: SimpleCommand, git: GitLine) -> SimpleCommand:
    """`git push` after `git switch main` is `git push origin HEAD:refs/heads/main`."""
    push = analyze_push(command.argv, git.branch, git.config)
    if push is None:
        return command
    head = [w.value for w in command.words[: git_subcommand(command.argv)[0]]]
    specs = []
    for target in push.targets:
        if target.branch is None and git.unknown:
            git.opaque.append(
                f"`{shlex.join(git.changed_by)}` checks out a branch only known at run time, "
                f"so `{shlex.join(command.argv)}` pushes a branch that cannot be checked"
            )
            return command
        if target.branch is None:
            return command  # judged against the checkout the call started from
        if target.branch == ALL_BRANCHES:
            specs.append("--all")
        elif target.delete:
            specs.append(f":refs/heads/{target.branch}")
        else:
            specs.append(f"{'+' if target.force else ''}HEAD:refs/heads/{target.branch}")
    flags = ["--force"] if push.force else []
    flags += ["--dry-run"] if push.dry_run else []
    argv = [*head, "push", *flags, push.remote or "origin", *specs]
    return SimpleCommand(
        tuple(Word(w) for w in argv),
        command.redirects,
        command.stdin_text,
        command.piped_input,
        (*command.prefix, *git.changed_by),
        command.workdir,
    )
