"""Reads a `git push` argv the way git would: which branches it updates, whether it forces.
Pure: it never runs git and never compares against a policy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

ALL_BRANCHES = "*"  # `--all`, `--mirror`: every branch, protected ones included

_GLOBAL_WITH_VALUE = frozenset({"-C", "-c", "--git-dir", "--work-tree", "--namespace"})
_PUSH_WITH_VALUE = frozenset(
    {"-o", "--push-option", "--repo", "--receive-pack", "--exec", "--recurse-submodules"}
)
_FORCE_FLAGS = frozenset({"-f", "--force", "--force-with-lease", "--force-if-includes"})


@dataclass(frozen=True, slots=True)
class PushTarget:
    """One branch a push would update; `branch` is None when it depends on the checkout."""

    branch: str | None
    refspec: str
    force: bool = False
    delete: bool = False


@dataclass(frozen=True, slots=True)
class GitPush:
    remote: str | None
    targets: tuple[PushTarget, ...]
    force: bool
    dry_run: bool


def git_subcommand(argv: Sequence[str]) -> tuple[int, dict[str, str]]:
    """Index of git's subcommand after global options, and the `-c alias.x=…` it defines."""
    aliases: dict[str, str] = {}
    index = 1
    while index < len(argv):
        word = argv[index]
        if word in _GLOBAL_WITH_VALUE:
            if word == "-c" and index + 1 < len(argv):
                key, _, value = argv[index + 1].partition("=")
                if key.lower().startswith("alias."):
                    aliases[key[len("alias.") :]] = value
            index += 2
        elif word.startswith("-"):
            index += 1
        else:
            return index, aliases
    return index, aliases


def _branch_of(ref: str, current_branch: str | None) -> str | None:
    if ref in {"HEAD", "@"}:
        return current_branch
    for prefix in ("refs/heads/", "heads/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def _target(refspec: str, current_branch: str | None, deleting: bool) -> PushTarget | None:
    force = refspec.startswith("+")
    spec = refspec[1:] if force else refspec
    source, colon, destination = spec.partition(":")
    if not colon:
        destination = source
    if destination.startswith("refs/") and not destination.startswith("refs/heads/"):
        return None  # tags and other refs are not branches
    if colon and not source:
        deleting = True
    return PushTarget(_branch_of(destination, current_branch), refspec, force, deleting)


def analyze_push(argv: Sequence[str], current_branch: str | None) -> GitPush | None:
    """The branches `git … push …` would update, or None when argv is not a push."""
    start, _ = git_subcommand(argv)
    if start >= len(argv) or argv[start] != "push":
        return None
    positional: list[str] = []
    force = dry_run = deleting = every_branch = tags_only = False
    index = start + 1
    while index < len(argv):
        word = argv[index]
        option = word.split("=", 1)[0]
        if word == "--":
            positional.extend(argv[index + 1 :])
            break
        if option in _FORCE_FLAGS:
            force = True
        elif word in {"-n", "--dry-run"}:
            dry_run = True
        elif word in {"-d", "--delete"}:
            deleting = True
        elif word in {"--all", "--mirror", "--branches"}:
            every_branch = True
        elif word == "--tags":
            tags_only = True
        elif word in _PUSH_WITH_VALUE:
            index += 1
        elif word.startswith("-") and not word.startswith("--") and len(word) > 2:
            force = force or "f" in word[1:]
            dry_run = dry_run or "n" in word[1:]
            deleting = deleting or "d" in word[1:]
        elif not word.startswith("-"):
            positional.append(word)
        index += 1

    remote = positional[0] if positional else None
    refspecs = positional[1:]
    targets: list[PushTarget] = []
    if every_branch:
        targets.append(PushTarget(ALL_BRANCHES, "--all", force, deleting))
    for refspec in refspecs:
        target = _target(refspec, current_branch, deleting)
        if target is not None:
            targets.append(target)
    if not refspecs and not every_branch and not tags_only:
        # `git push` / `git push origin` pushes the checked-out branch (push.default=simple).
        targets.append(PushTarget(current_branch, "(current branch)", force, deleting))
    return GitPush(remote, tuple(targets), force or any(t.force for t in targets), dry_run)
