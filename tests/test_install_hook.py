"""The real `governance install-hook` editing Claude Code settings files in temporary dirs.
Checks merging, idempotence and uninstall; never touches the machine's real settings."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
GOVERNANCE = str(BIN / "governance")
HOOK = str(BIN / "governance-hook")
EVENTS = ("PreToolUse", "PostToolUse", "UserPromptSubmit")


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [GOVERNANCE, "install-hook", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=env,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GOVERNANCE_")}
    clean["HOME"] = str(home)
    clean["GOVERNANCE_MANAGED_SETTINGS"] = str(tmp_path / "etc" / "managed-settings.json")
    return clean


@pytest.fixture
def project(tmp_path: Path) -> Path:
    directory = tmp_path / "project"
    directory.mkdir()
    return directory


def ours(settings: dict, event: str) -> list[tuple[dict, dict]]:
    """(group, hook) pairs of our entries for one event."""
    return [
        (group, hook)
        for group in settings.get("hooks", {}).get(event, [])
        for hook in group.get("hooks", [])
        if Path(hook.get("command", "").split()[0]).name == "governance-hook"
    ]


def assert_installed(settings: dict, timeout: int = 600) -> None:
    command = HOOK if timeout == 600 else f"{HOOK} --timeout {timeout}"
    for event in EVENTS:
        [(group, hook)] = ours(settings, event)
        assert hook == {"type": "command", "command": command, "timeout": timeout}
        if event == "UserPromptSubmit":
            assert "matcher" not in group
        else:
            assert group["matcher"] == "*"


def test_fresh_install_creates_the_project_file(project, env) -> None:
    result = run(cwd=project, env=env)
    assert result.returncode == 0, result.stderr
    path = project / ".claude" / "settings.json"
    settings = json.loads(path.read_text())
    assert_installed(settings)
    assert set(settings) == {"hooks"}
    assert f"installed governance-hook into {path}" in result.stdout
    assert "(PreToolUse, PostToolUse, UserPromptSubmit), timeout 600 s" in result.stdout
    # Claude Code runs the written command without this venv on PATH: it must still answer.
    [(_, hook)] = ours(settings, "PreToolUse")
    program = hook["command"].split()[0]
    assert os.path.isabs(program)
    answered = subprocess.run(
        [program],
        input=json.dumps({"hook_event_name": "PreToolUse", "tool_name": "Bash",
                          "tool_input": {"command": "ls"}}),
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/nonexistent", "GOVERNANCE_SOCKET": str(project / "no-server.sock"),
             "GOVERNANCE_SPOOL_DIR": str(project / "spool")},
    )  # fmt: skip
    decision = json.loads(answered.stdout)["hookSpecificOutput"]["permissionDecision"]
    assert decision == "deny"  # no server here, and the default fail mode is closed


OTHER_SETTINGS = {
    "model": "claude-sonnet-4-5",
    "permissions": {"allow": ["Bash(npm test:*)"], "deny": ["Read(./.env)"]},
    "env": {"FOO": "bär"},
    "hooks": {
        "PreToolUse": [
            {
                "matcher": "Write|Edit",
                "hooks": [{"type": "command", "command": "/opt/lint/check.sh", "timeout": 30}],
            }
        ],
        "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}],
    },
}


def test_merge_keeps_other_keys_and_hooks(project, env) -> None:
    path = project / ".claude" / "settings.json"
    path.parent.mkdir()
    path.write_text(json.dumps(OTHER_SETTINGS))
    path.chmod(0o640)
    result = run(cwd=project, env=env)
    assert result.returncode == 0, result.stderr
    settings = json.loads(path.read_text())
    assert_installed(settings)
    assert settings["model"] == OTHER_SETTINGS["model"]
    assert settings["permissions"] == OTHER_SETTINGS["permissions"]
    assert settings["env"] == {"FOO": "bär"}
    assert settings["hooks"]["Stop"] == OTHER_SETTINGS["hooks"]["Stop"]
    assert settings["hooks"]["PreToolUse"][0] == OTHER_SETTINGS["hooks"]["PreToolUse"][0]
    assert len(settings["hooks"]["PreToolUse"]) == 2
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert not [p for p in path.parent.iterdir() if p.name != "settings.json"]


def test_second_run_is_idempotent(project, env) -> None:
    assert run(cwd=project, env=env).returncode == 0
    path = project / ".claude" / "settings.json"
    first = path.read_text()
    result = run(cwd=project, env=env)
    assert result.returncode == 0, result.stderr
    assert "already installed, unchanged" in result.stdout
    assert path.read_text() == first
    assert_installed(json.loads(first))


def test_old_timeout_and_path_are_updated_in_place(project, env) -> None:
    path = project / ".claude" / "settings.json"
    path.parent.mkdir()
    stale = {"type": "command", "command": "/old/venv/bin/governance-hook", "timeout": 60}
    path.write_text(
        json.dumps(
            {
                "hooks": {
                    "PreToolUse": [
                        {
                            "matcher": "*",
                            "hooks": [{"type": "command", "command": "audit-me"}, stale],
                        }
                    ]
                }
            }
        )
    )
    result = run(cwd=project, env=env)
    assert result.returncode == 0, result.stderr
    assert "updated governance-hook in" in result.stdout
    settings = json.loads(path.read_text())
    assert_installed(settings)
    [group] = settings["hooks"]["PreToolUse"]
    assert group["hooks"][0] == {"type": "command", "command": "audit-me"}
    assert group["hooks"][1]["command"] == HOOK


def test_custom_timeout_is_passed_to_the_hook(project, env) -> None:
    assert run(cwd=project, env=env).returncode == 0
    result = run("--timeout", "300", cwd=project, env=env)
    assert result.returncode == 0, result.stderr
    settings = json.loads((project / ".claude" / "settings.json").read_text())
    assert_installed(settings, timeout=300)
    assert "timeout 300 s" in result.stdout


def test_duplicates_collapse_to_one_entry(project, env) -> None:
    path = project / ".claude" / "settings.json"
    path.parent.mkdir()
    entry = {"matcher": "*", "hooks": [{"type": "command", "command": "governance-hook"}]}
    path.write_text(json.dumps({"hooks": {"PreToolUse": [entry, entry]}}))
    assert run(cwd=project, env=env).returncode == 0
    assert_installed(json.loads(path.read_text()))


def test_uninstall_removes_only_ours(project, env) -> None:
    path = project / ".claude" / "settings.json"
    path.parent.mkdir()
    path.write_text(json.dumps(OTHER_SETTINGS))
    assert run(cwd=project, env=env).returncode == 0
    result = run("--uninstall", cwd=project, env=env)
    assert result.returncode == 0, result.stderr
    assert "removed governance-hook from" in result.stdout
    assert json.loads(path.read_text()) == OTHER_SETTINGS
    again = run("--uninstall", cwd=project, env=env)
    assert again.returncode == 0 and "nothing removed" in again.stdout


def test_uninstall_keeps_a_shared_group_and_drops_empty_keys(project, env) -> None:
    path = project / ".claude" / "settings.json"
    path.parent.mkdir()
    shared = {
        "matcher": "*",
        "hooks": [
            {"type": "command", "command": "other-tool"},
            {"type": "command", "command": f"{HOOK}", "timeout": 600},
        ],
    }
    foreign_empty = {"matcher": "Bash", "hooks": []}
    path.write_text(
        json.dumps(
            {
                "hooks": {
                    "PreToolUse": [shared, foreign_empty],
                    "UserPromptSubmit": [{"hooks": [{"type": "command", "command": HOOK}]}],
                }
            }
        )
    )
    assert run("--uninstall", cwd=project, env=env).returncode == 0
    settings = json.loads(path.read_text())
    assert settings == {
        "hooks": {
            "PreToolUse": [
                {"matcher": "*", "hooks": [{"type": "command", "command": "other-tool"}]},
                foreign_empty,
            ]
        }
    }


@pytest.mark.parametrize("content", ["{not json", '["a list"]', '{"model": "x",}'])
def test_invalid_file_is_left_untouched(project, env, content: str) -> None:
    path = project / ".claude" / "settings.json"
    path.parent.mkdir()
    path.write_text(content)
    result = run(cwd=project, env=env)
    assert result.returncode == 2
    assert str(path) in result.stderr
    assert "Traceback" not in result.stderr
    assert path.read_text() == content
    assert [p.name for p in path.parent.iterdir()] == ["settings.json"]


def test_hooks_that_is_not_an_object_is_refused(project, env) -> None:
    path = project / ".claude" / "settings.json"
    path.parent.mkdir()
    path.write_text('{"hooks": ["odd"]}')
    result = run(cwd=project, env=env)
    assert result.returncode == 2
    assert "hooks" in result.stderr and str(path) in result.stderr
    assert path.read_text() == '{"hooks": ["odd"]}'


def test_user_scope_writes_under_home(project, env) -> None:
    result = run("--user", cwd=project, env=env)
    assert result.returncode == 0, result.stderr
    assert_installed(json.loads((Path(env["HOME"]) / ".claude" / "settings.json").read_text()))
    assert not (project / ".claude").exists()


def test_managed_scope_with_allow_managed_hooks_only(project, env) -> None:
    managed = Path(env["GOVERNANCE_MANAGED_SETTINGS"])
    result = run("--managed", "--allow-managed-hooks-only", cwd=project, env=env)
    assert result.returncode == 0, result.stderr
    settings = json.loads(managed.read_text())
    assert_installed(settings)
    assert settings["allowManagedHooksOnly"] is True
    # Every user's Claude Code must be able to read the managed file.
    assert stat.S_IMODE(managed.stat().st_mode) & 0o004
    assert (
        "already installed, unchanged"
        in run("--managed", "--allow-managed-hooks-only", cwd=project, env=env).stdout
    )


def test_allow_managed_hooks_only_needs_managed(project, env) -> None:
    result = run("--allow-managed-hooks-only", cwd=project, env=env)
    assert result.returncode == 2
    assert "--managed" in result.stderr
    assert not (project / ".claude").exists()


def test_settings_flag_wins_and_symlinks_are_followed(project, env, tmp_path) -> None:
    real = tmp_path / "dotfiles" / "claude.json"
    real.parent.mkdir()
    real.write_text('{"model": "x"}')
    link = tmp_path / "link.json"
    link.symlink_to(real)
    result = run("--user", "--settings", str(link), cwd=project, env=env)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink()
    settings = json.loads(real.read_text())
    assert settings["model"] == "x"
    assert_installed(settings)
    assert not (Path(env["HOME"]) / ".claude").exists()


def test_project_install_from_a_subdirectory_writes_at_the_repository_root(project, env) -> None:
    (project / ".git").mkdir()
    (project / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    sub = project / "src" / "pkg"
    sub.mkdir(parents=True)
    result = run(cwd=sub, env=env)
    assert result.returncode == 0, result.stderr
    assert_installed(json.loads((project / ".claude" / "settings.json").read_text()))
    assert not (sub / ".claude").exists()


def test_remote_prompts_adds_the_permission_request_entry(project, env) -> None:
    result = run("--remote-prompts", cwd=project, env=env)
    assert result.returncode == 0, result.stderr
    settings = json.loads((project / ".claude" / "settings.json").read_text())
    assert_installed(settings)
    [(group, hook)] = ours(settings, "PermissionRequest")
    assert group["matcher"] == "*" and hook["command"] == HOOK
    assert "PermissionRequest" in result.stdout
