"""A script already on disk is judged as its text: `sh t.sh`, `./t.sh`, `python3 t.py` do what
the file says. What cannot be seen in it needs approval unless git holds the file unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.decide import Outcome
from engine.evaluate import Engine
from engine.events import CallContext, ToolEvent
from engine.facts.script_files import MAX_SCRIPT_BYTES
from engine.policy import load_policy
from tests.conftest import SEED_POLICY, bash_in
from tests.project_tree import git
from tests.test_cli import run

_PROJECT_SCRIPTS = {
    # The project's own wrapper, committed: it runs what only its run time knows.
    "gradlew": '#!/bin/sh\nAPP_HOME=$(dirname "$0")\nexec "$JAVACMD" -classpath "$APP_HOME" "$@"\n',
    "scripts/build.sh": "#!/bin/sh\nnpm run build\n",
    "scripts/nested.sh": "#!/bin/sh\nsh scripts/wipe.sh\n",
    "scripts/wipe.sh": "rm -rf /\n",
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    for relative, text in _PROJECT_SCRIPTS.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(0o755)
    (root / ".env").write_text("API_KEY=sk_live_abc\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "gradlew", "scripts")
    git(root, "commit", "-q", "-m", "build scripts")
    return root


def _judge(command: str, cwd: Path) -> tuple[Outcome, list[tuple[str, str]]]:
    decision = bash_in(Engine(load_policy(SEED_POLICY)), command, cwd)
    return decision.would_be, [(f.rule, f.reason) for f in decision.findings]


def _write(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o755)


@pytest.mark.parametrize(
    "command",
    ["sh t.sh", "bash ./t.sh", "./t.sh", "source t.sh", ". ./t.sh", "sh < t.sh", "sudo sh t.sh"],
)
def test_a_shell_script_written_by_an_earlier_call_is_judged_as_its_text(
    project: Path, command: str
) -> None:
    _write(project / "t.sh", "#!/bin/sh\necho cleaning\nrm -rf /\n")
    outcome, findings = _judge(command, project)
    assert outcome is Outcome.DENY
    assert "recursive delete of `/`" in dict(findings)["builtin.rm_root"]


@pytest.mark.parametrize(
    ("name", "text", "command"),
    [
        ("t.py", "import os\nos.system('rm -rf /')\n", "python3 t.py --fast"),
        ("t.js", "require('child_process').execSync('rm -rf /')\n", "node t.js"),
        ("run", "#!/usr/bin/env python3\nimport shutil\nshutil.rmtree('/')\n", "./run"),
    ],
)
def test_a_program_in_another_language_is_judged_by_its_code(
    project: Path, name: str, text: str, command: str
) -> None:
    _write(project / name, text)
    outcome, findings = _judge(command, project)
    assert outcome is Outcome.DENY, findings


def test_a_script_that_reads_a_secret_is_denied_and_says_which_file(project: Path) -> None:
    _write(project / "show.sh", "cat .env\n")
    outcome, findings = _judge("sh show.sh", project)
    assert outcome is Outcome.DENY
    assert any("`.env`" in reason for _, reason in findings)


def test_a_harmless_script_is_allowed(project: Path) -> None:
    _write(project / "hello.sh", "#!/bin/sh\necho hello\nls -la src\n")
    assert _judge("./hello.sh", project) == (Outcome.ALLOW, [])


def test_the_projects_committed_script_may_run_what_only_its_run_time_knows(
    project: Path,
) -> None:
    assert _judge("./gradlew build", project) == (Outcome.ALLOW, [])


def test_the_same_script_changed_on_disk_needs_approval_for_what_cannot_be_seen(
    project: Path,
) -> None:
    # Seen once unchanged (and cached), then edited: the next call reads the new text.
    assert _judge("./gradlew build", project)[0] is Outcome.ALLOW
    with (project / "gradlew").open("a") as script:
        script.write('eval "$EXTRA"\n')
    outcome, findings = _judge("./gradlew build", project)
    assert outcome is Outcome.APPROVE
    assert all(rule == "builtin.unseen_code" for rule, _ in findings)
    assert "in ./gradlew (not committed to git as it is)" in findings[0][1]


def test_an_untracked_script_with_a_dynamic_command_needs_approval(project: Path) -> None:
    _write(project / "go.sh", '"$TOOL" --all\n')
    outcome, findings = _judge("sh go.sh", project)
    assert outcome is Outcome.APPROVE
    assert findings[0][0] == "builtin.unseen_code"
    assert "'$TOOL' is only known at run time" in findings[0][1]


def test_a_committed_script_is_still_judged_for_what_it_does(project: Path) -> None:
    assert _judge("sh scripts/build.sh", project)[0] is Outcome.ALLOW
    outcome, findings = _judge("./scripts/nested.sh", project)
    assert outcome is Outcome.DENY  # nested.sh runs wipe.sh, which deletes `/`
    assert "builtin.rm_root" in dict(findings)


def test_a_script_too_large_to_read_needs_approval_unless_git_has_it(project: Path) -> None:
    filler = "echo filler line\n" * (MAX_SCRIPT_BYTES // 16)
    _write(project / "big.sh", filler)
    outcome, findings = _judge("sh big.sh", project)
    assert outcome is Outcome.APPROVE
    assert "larger than the 128 KiB the engine reads" in findings[0][1]
    git(project, "add", "big.sh")
    assert _judge("sh big.sh", project) == (Outcome.ALLOW, [])


def test_a_compiled_program_is_judged_by_its_name_not_read_as_a_script(project: Path) -> None:
    _write(project / "tool", "\x7fELF\x00\x00 rm -rf /")
    assert _judge("./tool --help", project) == (Outcome.ALLOW, [])


def test_a_script_in_the_agents_home_is_read_there(project: Path, tmp_path: Path) -> None:
    # A server installed as its own user reads `~` as the calling developer's home.
    home = tmp_path / "developer"
    home.mkdir()
    _write(home / "wipe.sh", "rm -rf /\n")
    engine = Engine(load_policy(SEED_POLICY))
    event = ToolEvent(tool_name="Bash", tool_input={"command": "sh ~/wipe.sh"}, cwd=str(project))
    context = CallContext(repo=str(project), git_branch="feature/x", home=str(home))
    assert engine.evaluate(event, context).would_be is Outcome.DENY


def test_a_script_that_is_not_there_runs_nothing(project: Path) -> None:
    assert _judge("sh missing.sh", project) == (Outcome.ALLOW, [])


def test_explain_shows_the_commands_found_in_the_script(project: Path) -> None:
    _write(project / "t.sh", "git push origin main\n")
    explained = run("explain", str(SEED_POLICY), "--cwd", str(project), "--bash", "sh t.sh")
    assert "git push origin main" in explained.stdout, explained.stderr
