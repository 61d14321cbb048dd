"""`git push` read as git reads it: the real target branch, forcing, deletion."""

from __future__ import annotations

import pytest

from engine.git import ALL_BRANCHES, analyze_push


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
