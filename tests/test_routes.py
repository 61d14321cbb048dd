"""The same effect by another route: scripts written then run, git pushes configured or checked
out earlier in the line or made through the hosting API, deletes, in-place edits, uploads,
container wrappers and file modes, judged against the seed policy on a realistic project tree."""

from __future__ import annotations

import json
import shlex
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from engine.analysis.modes import world_writable
from engine.clis.wrappers import inner_command_start, load_wrappers
from engine.decide import Outcome
from engine.evaluate import Engine
from engine.gitconfig import parse_git_config
from tests.conftest import bash_in, case_failures
from tests.project_tree import build_project_tree

CASES = Path(__file__).parent / "policy_cases" / "routes.jsonl"


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_project_tree(tmp_path_factory.mktemp("project"), bulk=False)


def test_every_route_case_passes(seed_engine: Engine, tree: Path) -> None:
    assert case_failures(seed_engine, CASES, str(tree)) == []


def test_the_route_suite_covers_every_class_both_ways() -> None:
    cases = [json.loads(line) for line in CASES.read_text().splitlines() if line.strip()]
    assert len(cases) >= 150
    assert len({case["id"] for case in cases}) == len(cases)
    assert all(case["why"] and case["cwd"] == "{tree}" for case in cases)
    by_class = Counter((case["category"], case["kind"]) for case in cases)
    for category in ("scripts", "git", "deletes", "writes", "reads", "wrappers", "modes"):
        assert by_class[(category, "evasion")] >= 10, category
        assert by_class[(category, "lookalike")] >= 3, category


# ---------------------------------------------------------------- what the user reads


def test_a_script_run_is_shown_with_the_script_it_runs(seed_engine: Engine, tree: Path) -> None:
    decision = bash_in(seed_engine, "printf 'cat .env\\n' > t.sh; sh t.sh", tree)
    assert decision.outcome is Outcome.DENY
    assert "cat .env  (via sh t.sh)" in decision.commands


def test_a_push_after_a_checkout_names_the_branch_and_the_checkout(
    seed_engine: Engine, tree: Path
) -> None:
    decision = bash_in(seed_engine, "git switch main && git push", tree)
    assert decision.rule == "git_operations.blocked_branches"
    assert "git push origin HEAD:refs/heads/main  (via git switch main)" in decision.commands


def test_find_delete_names_a_file_it_would_really_delete(seed_engine: Engine, tree: Path) -> None:
    decision = bash_in(seed_engine, "find . -name '*.log' -delete", tree)
    assert decision.outcome is Outcome.APPROVE
    assert "find -delete would delete ./logs/app.log" in decision.reason


def test_git_clean_names_the_protected_file_and_how_to_spare_it(
    seed_engine: Engine, tree: Path
) -> None:
    decision = bash_in(seed_engine, "git clean -fd", tree)
    assert decision.outcome is Outcome.DENY
    assert "git clean would delete ./deploy/aws.pem" in decision.reason
    assert "add -e aws.pem" in decision.reason


# ---------------------------------------------------------------- the data, row by row


@pytest.mark.parametrize(
    ("command", "inner"), load_wrappers()[1], ids=[e[0] for e in load_wrappers()[1]]
)
def test_each_wrapper_example_finds_its_inner_command(command: str, inner: str | None) -> None:
    argv = tuple(shlex.split(command))
    start = inner_command_start(argv)
    assert (shlex.join(argv[start:]) if start is not None else None) == inner


@pytest.mark.parametrize(
    ("mode", "writable"),
    [
        ("777", True),
        ("0777", True),
        ("00777", True),
        ("0002", True),
        ("1777", True),
        ("a+w", True),
        ("o=rwx", True),
        ("o=u", True),
        ("u+x,o+w", True),
        ("a=rwx,o-w", False),
        ("+w", False),
        ("=rwx", False),
        ("0755", False),
        ("00644", False),
        ("go-w", False),
        ("g+w", False),
        ("o+q", False),
    ],
)
def test_world_writable_reads_every_mode_spelling(mode: str, writable: bool) -> None:
    assert world_writable(mode) is writable


# ---------------------------------------------------------------- the repository's own config


def test_a_bare_push_follows_the_repositorys_config_as_it_changes(
    seed_engine: Engine, tmp_path: Path
) -> None:
    repo = tmp_path / "app"
    subprocess.run(["git", "init", "-q", "-b", "feature/x", str(repo)], check=True)
    assert bash_in(seed_engine, "git push", repo).outcome is Outcome.ALLOW

    def git_config(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), "config", *args], check=True)

    git_config("remote.origin.push", "HEAD:main")
    decision = bash_in(seed_engine, "git push", repo)
    assert decision.rule == "git_operations.blocked_branches"
    assert bash_in(seed_engine, "git push origin feature/x", repo).outcome is Outcome.ALLOW
    git_config("--unset", "remote.origin.push")
    git_config("push.default", "matching")
    assert bash_in(seed_engine, "git push origin", repo).outcome is Outcome.DENY
    assert bash_in(seed_engine, "git -c push.default=simple push", repo).outcome is Outcome.ALLOW


def test_git_config_text_reads_as_git_names_it() -> None:
    text = (
        '[remote "Origin"]\n\turl = git@example.com:o/r.git\n\tpush = HEAD:main ; why\n'
        '[push]\n\tdefault = "matching"\n[branch "feature/x"]\n\tmerge = refs/heads/main\n'
        "[Remote.Up]\n\tmirror\n"
    )
    assert parse_git_config(text) == (
        ("remote.Origin.url", "git@example.com:o/r.git"),
        ("remote.Origin.push", "HEAD:main"),
        ("push.default", "matching"),
        ("branch.feature/x.merge", "refs/heads/main"),
        ("remote.up.mirror", "true"),
    )
