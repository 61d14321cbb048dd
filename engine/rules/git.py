"""The git_operations section: pushes to guarded branches, force pushes, review bypasses.
Judges the push the facts already parsed; it reads no repository."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable

from engine.decide import Finding, Outcome, Risk
from engine.facts.model import CommandFacts
from engine.git import ALL_BRANCHES
from engine.rules.book import RuleBook, finding


def git(book: RuleBook, facts: CommandFacts) -> Iterable[Finding]:
    git_policy = book.policy.policies.git_operations
    command = facts.command
    if command.name == "gh":
        argv = command.argv
        if git_policy.require_code_review and argv[1:3] == ("pr", "merge") and "--admin" in argv:
            yield finding(
                "git_operations.require_code_review",
                Outcome.DENY,
                "`gh pr merge --admin` bypasses required reviews; merge after approval",
                command.display(),
                Risk.HIGH,
            )
        return
    push = facts.push
    if push is None or push.dry_run:
        return
    display = command.display()
    if push.force and git_policy.block_force_push:
        yield finding(
            "git_operations.block_force_push",
            Outcome.DENY,
            "force push rewrites shared history and is blocked; push new commits instead",
            display,
            Risk.HIGH,
        )
    guarded = set(git_policy.blocked_branches) | set(git_policy.requires_approval_branches)
    for target in push.targets:
        branch = target.branch
        if branch is None:
            if guarded:
                yield finding(
                    "git_operations.unknown_target",
                    Outcome.APPROVE,
                    "cannot tell which branch this push updates (no branch checked out is "
                    "known); name it explicitly, e.g. `git push origin my-branch`",
                    display,
                    Risk.MEDIUM,
                )
            continue
        action = "deletes" if target.delete else "pushes to"
        blocked = _branch_matches(branch, git_policy.blocked_branches)
        if blocked:
            yield finding(
                "git_operations.blocked_branches",
                Outcome.DENY,
                f"{action} protected branch `{blocked}`; push a feature branch and open a "
                "pull request",
                display,
                Risk.HIGH,
            )
        if git_policy.require_pr_for_main and _branch_matches(branch, ["main", "master"]):
            yield finding(
                "git_operations.require_pr_for_main",
                Outcome.DENY,
                f"changes reach `{branch}` only through a reviewed pull request",
                display,
                Risk.HIGH,
            )
        needs_approval = _branch_matches(branch, git_policy.requires_approval_branches)
        if needs_approval:
            yield finding(
                "git_operations.requires_approval_branches",
                Outcome.APPROVE,
                f"{action} `{needs_approval}`, which needs approval",
                display,
                Risk.HIGH,
            )


def _branch_matches(branch: str, patterns: list[str]) -> str | None:
    for pattern in patterns:
        if branch in (ALL_BRANCHES, pattern) or (
            any(c in pattern for c in "*?[") and fnmatch.fnmatchcase(branch, pattern)
        ):
            return pattern
    return None
