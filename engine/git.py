"""Reads a `git push` argv the way git would: which branches it updates, whether it forces.
Pure: it never runs git and never compares against a policy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

# `git -c key=value` pairs and `git config key value` earlier in the line, in order.
GitConfig = tuple[tuple[str, str], ...]

ALL_BRANCHES = "*"  # `--all`, `--mirror`: every branch, protected ones included
# Stands for the branch checked out when the line runs, in config set before it is known.
CHECKED_OUT = "\x00checked-out"

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


def inline_config(argv: Sequence[str]) -> GitConfig:
    """The `-c key=value` pairs before git's subcommand; keys lower-cased as git compares them."""
    pairs = []
    start, _ = git_subcommand(argv)
    for index in range(1, start):
        if argv[index - 1] == "-c":
            key, _, value = argv[index].partition("=")
            pairs.append((_config_key(key), value))
    return tuple(pairs)


def _config_key(key: str) -> str:
    """Section and variable names are case-insensitive; a subsection (`remote.Origin.push`)
    keeps its case."""
    parts = key.split(".")
    if len(parts) < 3:
        return key.lower()
    return ".".join([parts[0].lower(), *parts[1:-1], parts[-1].lower()])


def _values(config: GitConfig, key: str) -> list[str]:
    return [value for name, value in config if name == key]


def _last(config: GitConfig, key: str) -> str | None:
    values = _values(config, key)
    return values[-1] if values else None


def analyze_push(
    argv: Sequence[str], current_branch: str | None, config: GitConfig = ()
) -> GitPush | None:
    """The branches `git … push …` (or `git subtree push`) would update, or None when argv is
    not a push. `config`: settings made earlier in the line; `-c` settings in argv win."""
    start, _ = git_subcommand(argv)
    if start + 1 < len(argv) and argv[start] == "subtree" and argv[start + 1] == "push":
        return _subtree_push(argv[start + 2 :])
    if start >= len(argv) or argv[start] != "push":
        return None
    config = (*config, *inline_config(argv))
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
        targets.extend(_default_targets(config, remote, current_branch, force, deleting))
    return GitPush(remote, tuple(targets), force or any(t.force for t in targets), dry_run)


def _default_targets(
    config: GitConfig, remote: str | None, branch: str | None, force: bool, deleting: bool
) -> list[PushTarget]:
    """What `git push [remote]` updates without a refspec: the remote's configured push
    refspecs or mirror, else push.default (`simple`/`current`: the checked-out branch)."""
    if remote is None:
        remote = (branch and _last(config, f"branch.{branch}.pushremote")) or _last(
            config, "remote.pushdefault"
        )
        remote = remote or (branch and _last(config, f"branch.{branch}.remote")) or "origin"
    if (_last(config, f"remote.{remote}.mirror") or "").lower() in {"true", "yes", "on", "1"}:
        return [PushTarget(ALL_BRANCHES, f"remote.{remote}.mirror", True, deleting)]
    configured = _values(config, f"remote.{remote}.push")
    if configured:
        found = [_target(spec, branch, deleting) for spec in configured]
        return [replace(t, force=t.force or force) for t in found if t is not None]
    mode = (_last(config, "push.default") or "simple").lower()
    if mode == "nothing":
        return []
    if mode == "matching":
        return [PushTarget(ALL_BRANCHES, "push.default=matching", force, deleting)]
    if mode in {"upstream", "tracking"}:
        # `git branch -u X` earlier in the line sets the upstream of whatever is checked out.
        merge = (branch and _last(config, f"branch.{branch}.merge")) or _last(
            config, f"branch.{CHECKED_OUT}.merge"
        )
        target = _branch_of(merge, branch) if merge else branch
        return [PushTarget(target, f"push.default={mode}", force, deleting)]
    return [PushTarget(branch, "(current branch)", force, deleting)]


def _subtree_push(args: Sequence[str]) -> GitPush:
    """`git subtree push --prefix=dir REMOTE BRANCH` pushes the split history to BRANCH."""
    positional: list[str] = []
    index = 0
    while index < len(args):
        word = args[index]
        if word in {"-P", "--prefix", "-m", "--message", "--onto", "--annotate", "-b"}:
            index += 1
        elif not word.startswith("-"):
            positional.append(word)
        index += 1
    remote = positional[0] if positional else None
    branch = _branch_of(positional[1], None) if len(positional) > 1 else None
    return GitPush(remote, (PushTarget(branch, "subtree push"),), False, False)
