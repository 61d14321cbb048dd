"""The real files decide: globs expanded and trees walked on a realistic project tree, judged
against the seed policy; the walk budget; caches that notice when the tree changes."""

from __future__ import annotations

import json
import random
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from engine.cases import CasesError, load_cases
from engine.decide import Outcome
from engine.evaluate import Engine
from engine.fs import FileSystem, WalkSpec
from engine.gitindex import index_entries
from engine.policy import load_policy
from tests.conftest import SEED_POLICY, bash_in, case_failures
from tests.project_tree import PROTECTED, build_project_tree
from tests.test_cli import run

CASES = Path(__file__).parent / "policy_cases" / "real_files.jsonl"


@pytest.fixture(scope="session")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_project_tree(tmp_path_factory.mktemp("project"))


def test_every_real_files_case_passes(seed_engine: Engine, tree: Path) -> None:
    assert case_failures(seed_engine, CASES, str(tree)) == []


def test_the_real_files_suite_is_broad_and_balanced() -> None:
    cases = [json.loads(line) for line in CASES.read_text().splitlines() if line.strip()]
    kinds = Counter(case["kind"] for case in cases)
    assert len(cases) >= 200
    assert kinds["evasion"] >= 100 and kinds["lookalike"] >= 100
    assert min(Counter(case["category"] for case in cases).values()) >= 10
    assert len({case["id"] for case in cases}) == len(cases)
    assert all(case["why"] and "{tree}" in case["cwd"] for case in cases)


def test_the_tree_holds_what_the_cases_assume(tree: Path) -> None:
    assert all((tree / relative).is_file() for relative in PROTECTED)
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=tree, capture_output=True, text=True, check=True
    ).stdout.split()
    assert ".env.example" in tracked and ".env" not in tracked
    assert len(list((tree / "node_modules").iterdir())) > 50


def test_cases_that_name_the_tree_need_it() -> None:
    with pytest.raises(CasesError, match=r"\{tree\}"):
        load_cases(CASES)


def test_policy_test_runs_tree_cases_from_the_command_line(tree: Path) -> None:
    result = run("policy", "test", str(SEED_POLICY), str(CASES), "--tree", str(tree))
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip().endswith(" passed, 0 failed")


# ---------------------------------------------------------------- what the user reads


def test_a_deny_names_the_file_found_and_how_to_avoid_it(seed_engine: Engine, tree: Path) -> None:
    decision = bash_in(seed_engine, "grep -rn password config", tree)
    assert decision.outcome is Outcome.DENY
    assert "grep -r would read config/secrets.json" in decision.reason
    assert "add --exclude=secrets.json or search a narrower path" in decision.reason


def test_git_grep_is_told_the_pathspec_that_leaves_the_file_out(
    seed_engine: Engine, tree: Path
) -> None:
    decision = bash_in(seed_engine, "git grep -n password", tree)
    assert decision.outcome is Outcome.DENY
    assert "git grep would read ./.env.example" in decision.reason
    assert "add the pathspec ':!.env.example' or search a narrower path" in decision.reason


def test_past_the_budget_the_reason_says_why(seed_engine: Engine, tree: Path) -> None:
    decision = bash_in(seed_engine, "grep -r x ../bulk", tree)
    assert decision.outcome is Outcome.APPROVE
    assert decision.rule == "builtin.walk_budget"
    assert "within its budget" in decision.reason


def test_a_small_budget_turns_a_walk_into_an_approval(tree: Path) -> None:
    engine = Engine(load_policy(SEED_POLICY), filesystem=FileSystem(max_entries=50))
    decision = bash_in(engine, "grep -rn TODO src lib", tree)
    assert decision.outcome is Outcome.ALLOW
    decision = bash_in(engine, "cp -a node_modules /tmp/nm", tree)
    assert decision.outcome is Outcome.APPROVE
    assert "more than 50 entries" in decision.reason


def test_a_walk_past_its_time_budget_needs_approval(tree: Path) -> None:
    engine = Engine(load_policy(SEED_POLICY), filesystem=FileSystem(max_seconds=0))
    decision = bash_in(engine, "grep -rn TODO src", tree)
    assert decision.outcome is Outcome.APPROVE
    assert "took longer than 0 ms" in decision.reason


# ---------------------------------------------------------------- the disk changes under us


def test_a_secret_created_after_a_walk_is_seen(tmp_path: Path) -> None:
    root = tmp_path / "app"
    (root / "src").mkdir(parents=True)
    (root / "src" / "main.py").write_text("print(1)\n")
    engine = Engine(load_policy(SEED_POLICY), filesystem=FileSystem())
    assert bash_in(engine, "grep -rn x .", root).outcome is Outcome.ALLOW
    assert bash_in(engine, "cat src/*", root).outcome is Outcome.ALLOW
    (root / "src" / "deep").mkdir()
    (root / "src" / "deep" / "secrets.json").write_text("{}")
    assert bash_in(engine, "grep -rn x .", root).outcome is Outcome.DENY
    (root / "src" / ".env").write_text("A=1")
    assert bash_in(engine, "cat src/.e*", root).outcome is Outcome.DENY
    (root / "src" / "prod.key").write_text("k")
    assert bash_in(engine, "cat src/*", root).outcome is Outcome.DENY


def test_an_edited_ignore_file_changes_what_rg_reads(tmp_path: Path) -> None:
    root = tmp_path / "app"
    root.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    (root / ".gitignore").write_text("secrets.json\n")
    (root / "secrets.json").write_text("{}")
    engine = Engine(load_policy(SEED_POLICY), filesystem=FileSystem())
    assert bash_in(engine, "rg token", root).outcome is Outcome.ALLOW
    (root / ".gitignore").write_text("build/\n")
    assert bash_in(engine, "rg token", root).outcome is Outcome.DENY


def test_without_inotify_the_mtime_check_still_sees_changes(tmp_path: Path) -> None:
    root = tmp_path / "app"
    (root / "a" / "b").mkdir(parents=True)
    filesystem = FileSystem()
    filesystem.close()  # no watcher: every cached walk is checked by directory mtimes
    assert filesystem.walk(str(root), WalkSpec()).files == ()
    (root / "a" / "b" / "x.txt").write_text("x")
    assert filesystem.walk(str(root), WalkSpec()).files == (str(root / "a" / "b" / "x.txt"),)


# ---------------------------------------------------------------- bash's globbing rules


@pytest.mark.parametrize(
    ("word", "globstar", "expected"),
    [
        ("*", False, ["README.md", "lib", "src"]),
        (".*", False, [".env", ".hidden"]),
        ("src/*.py", False, ["src/app.py"]),
        ("**/*.py", False, ["src/app.py"]),
        ("**/*.py", True, ["lib/deep/x.py", "src/app.py"]),
        ("src/[!a]*", False, []),
        ("src/[^a]*", False, []),
        ("src/?pp.py", False, ["src/app.py"]),
        ("nothing*", False, ["nothing*"]),
        ("lib/*/", False, ["lib/deep/"]),
    ],
)
def test_globs_expand_as_bash_would(tmp_path: Path, word, globstar, expected) -> None:
    for relative in ["README.md", ".env", ".hidden", "src/app.py", "lib/deep/x.py"]:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("")
    expansion = FileSystem().expand_glob(word, str(tmp_path.resolve()), globstar)
    assert expansion is not None
    assert list(expansion.matches) == (expected or [word])


def test_a_glob_in_a_directory_that_is_not_here_cannot_be_expanded() -> None:
    assert FileSystem().expand_glob("conf/*", "/nonexistent/app") is None


# ---------------------------------------------------------------- the git index


def test_the_git_index_parser_agrees_with_git(tree: Path) -> None:
    staged = subprocess.run(
        ["git", "ls-files", "-s", "-z"], cwd=tree, capture_output=True, check=True
    ).stdout.decode()
    # `<mode> <object id> <stage>\t<path>`: the parser gives each path its object id.
    listed = {
        line.split("\t", 1)[1]: bytes.fromhex(line.split()[1]) for line in staged.split("\0")[:-1]
    }
    assert index_entries((tree / ".git" / "index").read_bytes()) == listed


def test_the_index_parser_reads_version_4(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    for name in ["a/b/c.txt", "a/b/d.txt", "a/e.txt", "z.txt"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name)
    subprocess.run(["git", "add", "."], cwd=tmp_path, check=True)
    subprocess.run(["git", "update-index", "--index-version", "4"], cwd=tmp_path, check=True)
    assert list(index_entries((tmp_path / ".git" / "index").read_bytes()) or ()) == [
        "a/b/c.txt",
        "a/b/d.txt",
        "a/e.txt",
        "z.txt",
    ]


def test_a_file_that_is_not_an_index_is_refused() -> None:
    assert index_entries(b"not an index") is None


# ---------------------------------------------------------------- odd input


_HEADS = [
    "cat ", "grep -r x ", "rg ", "zip -r a.zip ", "tar czf a.tgz ", "rm -rf ", "cp -a ",
    "find ", "git add ", "git grep x ", "chmod -R 7 ", "shopt -s globstar; cat ",
]  # fmt: skip
_TAILS = ["", " | xargs cat", " -exec cat {} +", " dst"]


def test_odd_words_in_a_real_tree_never_break_the_engine(seed_engine: Engine, tree: Path):
    chooser = random.Random(11)  # the same 600 odd commands on every run
    for _ in range(600):
        word = "".join(chooser.choice("*?[]!^-./\\ {},\x00~$\"'ab:") for _ in range(12))
        command = chooser.choice(_HEADS) + word + chooser.choice(_TAILS)
        decision = bash_in(seed_engine, command, tree)
        assert decision.outcome in {Outcome.ALLOW, Outcome.APPROVE, Outcome.DENY}, command
