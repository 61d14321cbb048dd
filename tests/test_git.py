"""`git push` read as git reads it: the real target branch, forcing, deletion."""

from __future__ import annotations

import pytest

from engine.git import ALL_BRANCHES, GitPush, PushTarget, analyze_push, git_subcommand


def targets(argv: str, branch: str | None = "feature/x") -> list[str | None]:
    push = analyze_push(argv.split(), branch)
    assert push is not None
    return [t.branch for t in push.targets]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ("git push origin main", ["main"]),
        ("git push origin HEAD:main", ["main"]),
        ("git push origin +main", ["main"]),
        ("git push origin HEAD:refs/heads/main", ["main"]),
        ("git push origin :main", ["main"]),
        ("git push origin feature/main-menu", ["feature/main-menu"]),
        ("git -C /srv/app push origin main", ["main"]),
        ("git push", ["feature/x"]),
        ("git push -u origin HEAD", ["feature/x"]),
        ("git push origin v1.0:refs/tags/v1.0", []),
        ("git push --tags origin", []),
        ("git push --all origin", [ALL_BRANCHES]),
        ("git push origin a b:c", ["a", "c"]),
    ],
)
def test_target_branches(argv: str, expected: list[str | None]) -> None:
    assert targets(argv) == expected


def test_unknown_current_branch_stays_unknown() -> None:
    assert targets("git push origin HEAD", None) == [None]


@pytest.mark.parametrize(
    "argv",
    [
        "git push -f origin x",
        "git push --force origin x",
        "git push --force-with-lease origin x",
        "git push --force-with-lease=x:abc origin x",
        "git push origin +x",
        "git push -uf origin x",
    ],
)
def test_force_in_any_spelling(argv: str) -> None:
    push = analyze_push(argv.split(), None)
    assert push is not None and push.force


def test_delete_flag_marks_targets() -> None:
    push = analyze_push(["git", "push", "origin", "--delete", "main"], None)
    assert push is not None and push.targets[0].delete and push.targets[0].branch == "main"


def test_dry_run_and_non_push() -> None:
    push = analyze_push(["git", "push", "--dry-run", "origin", "main"], None)
    assert push is not None and push.dry_run
    assert analyze_push(["git", "pull", "origin", "main"], None) is None


def _push(remote, targets, force=False, dry_run=False):
    return GitPush(remote, tuple(PushTarget(*t) for t in targets), force, dry_run)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ("git push", _push(None, [("feature/x", "(current branch)")])),
        ("git push -nd", _push(None, [("feature/x", "(current branch)", 0, 1)], False, True)),
        ("git push -fu origin", _push("origin", [("feature/x", "(current branch)", True)], True)),
        ("git push --all -d origin", _push("origin", [(ALL_BRANCHES, "--all", False, True)])),
        ("git push --branches origin", _push("origin", [(ALL_BRANCHES, "--all")])),
        ("git push -f --mirror origin", _push("origin", [(ALL_BRANCHES, "--all", True)], True)),
        ("git push origin @", _push("origin", [("feature/x", "@")])),
        ("git push origin heads/main", _push("origin", [("main", "heads/main")])),
        ("git push origin :main", _push("origin", [("main", ":main", False, True)])),
        ("git push origin +a:b", _push("origin", [("b", "+a:b", True)], True)),
        ("git push -o ci.skip origin main", _push("origin", [("main", "main")])),
        ("git push --repo=origin -- main", _push("main", [("feature/x", "(current branch)")])),
        ("git push origin -- -weird", _push("origin", [("-weird", "-weird")])),
        ("git push -n origin main", _push("origin", [("main", "main")], dry_run=True)),
        ("git push --delete origin x", _push("origin", [("x", "x", False, True)])),
        ("git push -dn origin x", _push("origin", [("x", "x", False, True)], dry_run=True)),
        ("git push --force-with-lease=a=b origin x", _push("origin", [("x", "x")], True)),
        ("git push --force-with-lease=m:a origin m", _push("origin", [("m", "m")], True)),
    ],
)  # fmt: skip
def test_push_is_read_exactly(argv: str, expected: GitPush) -> None:
    assert analyze_push(argv.split(), "feature/x") == expected


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ("git status", (1, {})),
        ("git -C /srv -c alias.p=push p", (5, {"p": "push"})),
        ("git -c Alias.ship=push --force ship", (4, {"ship": "push"})),
        ("git -c core.pager=less=x --no-pager log", (4, {})),
        ("git -c alias.x", (3, {"x": ""})),
        ("git -C alias.p=push p", (3, {})),
        ("git -c", (3, {})),
        ("git --bare -p", (3, {})),
        ("git", (1, {})),
    ],
)
def test_global_options_and_aliases_are_skipped_as_git_does(argv: str, expected) -> None:
    assert git_subcommand(argv.split()) == expected


def test_not_a_push_is_none() -> None:
    assert analyze_push(["git", "-C", "/srv"], "main") is None
    assert analyze_push(["git", "fetch", "origin"], "main") is None
