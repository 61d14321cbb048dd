"""What each rule tells the user: for every case of policy_cases/rule_findings.jsonl, the
decision and every finding's rule id, outcome, risk, reason and fragment, in order, exactly."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from engine.evaluate import Engine
from engine.events import CallContext, ToolEvent
from engine.fs import FileSystem
from engine.policy import parse_policy
from engine.self_protection import ProtectedState
from tests.conftest import SEED_POLICY

CASES = Path(__file__).parent / "policy_cases" / "rule_findings.jsonl"


def _strict_policy() -> dict[str, Any]:
    """The seed policy with every optional section switched on, so each rule can fire."""
    document = copy.deepcopy(json.loads(SEED_POLICY.read_text()))
    sections = document["policies"]
    sections["ai_operations"].update(
        blocked_models=["gpt-*", "o1"], max_prompt_chars=10, max_context_tokens=3
    )
    sections["git_operations"]["blocked_branches"] += ["release/*", "v[0-9]?*"]
    sections["bash_commands"]["blocked_patterns"] += ["sudo -u root", "sudo .*rm -rf"]
    sections["bash_commands"]["allowed_patterns"].append("npm publish")
    sections["network_operations"] = {
        "allowed_hosts": ["*.github.com", "PyPI.org"],
        "unlisted_hosts": "deny",
    }
    sections["mcp_tools"] = {"unknown": "approve"}
    sections["database_operations"]["unlisted_schema_changes"] = "deny"
    document["risk_overrides"] = {
        "builtin.disk_destroy": "low",
        "git_operations.": "critical",
        "bash_commands.allowed_patterns[": "high",
        "builtin.self_protection.": "low",
    }
    return document


def _lenient_policy() -> dict[str, Any]:
    """The seed policy with every switch that can be off, off."""
    document = copy.deepcopy(json.loads(SEED_POLICY.read_text()))
    sections = document["policies"]
    sections["database_operations"]["unlisted_schema_changes"] = "allow"
    sections["network_operations"] = {"allowed_hosts": ["github.com"], "unlisted_hosts": "allow"}
    sections["mcp_tools"] = {"unknown": "deny"}
    sections["git_operations"].update(
        require_code_review=False,
        block_force_push=False,
        require_pr_for_main=False,
        blocked_branches=[],
        requires_approval_branches=["release/*"],
    )
    sections["file_operations"]["delete_requires_approval"] = False
    sections["bash_commands"]["max_runtime_seconds"] = None
    return document


ENGINES = {
    "lenient": Engine(parse_policy(_lenient_policy(), "lenient")),
    "seed": Engine(parse_policy(json.loads(SEED_POLICY.read_text()), "seed")),
    "strict": Engine(parse_policy(_strict_policy(), "strict")),
    # A server with its state where a service install puts it, and a long process name.
    "guarded": Engine(
        parse_policy(json.loads(SEED_POLICY.read_text()), "guarded"),
        ProtectedState(
            database="/var/lib/governance/gov.db",
            socket="/run/governance/gov.sock",
            spool="/var/lib/governance/spool",
            policy="/etc/governance/policies.json",
            witness="/var/lib/governance/witness.json",
            server_pid=4242,
            server_name="governance-serve-main",
            server_command=(
                "/usr/bin/python3",
                "/usr/bin/governance",
                "serve",
                "--db",
                "/var/lib/governance/gov.db",
            ),
        ),
    ),
}


def _exempt_policy(*patterns: str) -> dict[str, Any]:
    document = copy.deepcopy(json.loads(SEED_POLICY.read_text()))
    document["policies"]["file_operations"]["delete_exempt_paths"] = list(patterns)
    return document


# Fresh engines for trees built per test: a walk is cached per engine.
TREE_ENGINES = {
    "seed": Engine(parse_policy(json.loads(SEED_POLICY.read_text()), "seed")),
    "exempt": Engine(parse_policy(_exempt_policy("*.tmp"), "exempt")),
    # A pattern with a folder is anchored at the project's root.
    "anchored": Engine(parse_policy(_exempt_policy("sub/*.tmp"), "anchored")),
    # A walk budget of three entries, so a folder of four is past it.
    "tiny": Engine(
        parse_policy(json.loads(SEED_POLICY.read_text()), "tiny"),
        filesystem=FileSystem(max_entries=3),
    ),
}
ROWS = [json.loads(line) for line in CASES.read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("row", ROWS, ids=[row["id"] for row in ROWS])
def test_each_rule_says_what_it_found_and_why(row: dict[str, Any]) -> None:
    if "prompt" in row:
        event = ToolEvent(hook_event_name="UserPromptSubmit", prompt=row["prompt"])
    else:
        event = ToolEvent(
            tool_name=row["tool_name"], tool_input=row["tool_input"], cwd=row.get("cwd", "/srv/app")
        )
    context = CallContext(**row.get("context", {"git_branch": "feature/x"}))
    decision = ENGINES[row["policy"]].evaluate(event, context)
    found = [
        [f.rule, f.outcome.value, f.risk.value, f.reason, f.fragment] for f in decision.findings
    ]
    assert (decision.would_be.value, found) == (row["expected"], row["findings"]), row["why"]


TREE_CASES = [
    # (policy, command, expected, findings as rule / reason / fragment), on the tree below.
    (
        "seed",
        "find . -name '*.tmp' -delete",
        "approve",
        [
            (
                "file_operations.delete_requires_approval",
                "find -delete would delete ./a.tmp (and 2 more); deleting files needs approval",
                "find -delete .",
            )
        ],
    ),
    (
        "seed",
        "find sub -name '*.tmp' -delete",
        "approve",
        [
            (
                "file_operations.delete_requires_approval",
                "find -delete would delete sub/b.tmp; deleting files needs approval",
                "find -delete sub",
            )
        ],
    ),
    ("seed", "find . -name none -delete", "allow", []),
    ("exempt", "find . -name '*.tmp' -delete", "allow", []),
    (
        "seed",
        "grep -r x .",
        "deny",
        [
            (
                "file_operations.protected_paths[0]",
                "grep -r would read ./sub/.env (and 1 more), which matches protected path "
                "`.env*`; add --exclude=.env or search a narrower path",
                "grep -r ./sub/.env",
            )
        ],
    ),
    (
        "seed",
        "rm -rf lock",
        "approve",
        [
            (
                "file_operations.delete_requires_approval",
                "deletes `lock`; deleting files needs approval",
                "rm -r lock",
            ),
            (
                "file_operations.write_protected_paths[2]",
                "rm -r would delete lock/package-lock.json, under write-protected "
                "`package-lock.json`: needs approval; delete a narrower path that leaves it out",
                "rm -r lock/package-lock.json",
            ),
        ],
    ),
    ("exempt", "rm -rf lock/x.tmp", "allow", []),
    (
        "seed",
        "find sub/ -name '*.tmp' -delete",
        "approve",
        [
            (
                "file_operations.delete_requires_approval",
                "find -delete would delete sub/b.tmp; deleting files needs approval",
                "find -delete sub/",
            )
        ],
    ),
    (
        "seed",
        "find {root}/sub -name '*.tmp' -delete",
        "approve",
        [
            (
                "file_operations.delete_requires_approval",
                "find -delete would delete {root}/sub/b.tmp; deleting files needs approval",
                "find -delete {root}/sub",
            )
        ],
    ),
    (
        "seed",
        "find logX -name '*.tmp' -delete",
        "approve",
        [
            (
                "file_operations.delete_requires_approval",
                "find -delete would delete logX/c.tmp; deleting files needs approval",
                "find -delete logX",
            )
        ],
    ),
    (
        "anchored",
        "find . -name '*.tmp' -delete",
        "approve",
        [
            (
                "file_operations.delete_requires_approval",
                "find -delete would delete ./a.tmp (and 1 more); deleting files needs approval",
                "find -delete .",
            )
        ],
    ),
    (
        "tiny",
        "kubectl create configmap c --from-file many",
        "approve",
        [
            (
                "builtin.walk_budget",
                "kubectl would pass every file under `many`, but more than 3 entries under "
                "`{root}/many`: the engine could not check them for protected files within its "
                "budget, so it needs approval; name a narrower path",
                "kubectl many",
            )
        ],
    ),
    # `.git/**` is anchored at the project's root: found in a walk by its path from the root.
    (
        "seed",
        "chmod -R u+w .",
        "deny",
        [
            (
                "file_operations.write_protected_paths[0]",
                "chmod -R would change ./.git/config (and 1 more), under write-protected "
                "`.git/**`: needs approval; name the files to change instead of the whole tree",
                "chmod -R ./.git/config",
            ),
            (
                "file_operations.protected_paths[0]",
                "chmod -R would change ./sub/.env (and 1 more), which matches protected path "
                "`.env*`; name the files to change instead of the whole tree",
                "chmod -R ./sub/.env",
            ),
        ],
    ),
]


@pytest.mark.parametrize(("policy", "command", "expected", "findings"), TREE_CASES)
def test_a_walked_tree_is_judged_on_the_files_in_it(
    tmp_path: Path, policy: str, command: str, expected: str, findings: list[tuple[str, ...]]
) -> None:
    for name in (
        "a.tmp",
        "keep.txt",
        "sub/b.tmp",
        "sub/.env",
        "sub/x.pem",
        "lock/package-lock.json",
        "logX/c.tmp",
        ".git/config",
        *(f"many/{n}.txt" for n in range(4)),
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    command = command.format(root=tmp_path)
    event = ToolEvent(tool_name="Bash", tool_input={"command": command}, cwd=str(tmp_path))
    decision = TREE_ENGINES[policy].evaluate(event, CallContext(repo=str(tmp_path)))
    assert decision.would_be.value == expected
    found = [(f.rule, f.reason, f.fragment) for f in decision.findings]
    assert found == [tuple(part.format(root=tmp_path) for part in row) for row in findings]
    # A protected file is a high risk; what needs approval (a write-protected file, a delete,
    # a walk past its budget) a medium one.
    assert [f.risk.value for f in decision.findings] == [
        "high" if ".protected_paths[" in rule else "medium" for rule, *_ in findings
    ]


def test_a_link_in_a_walked_tree_is_named_with_the_file_it_reaches(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / ".env").write_text("API_KEY=x\n")
    (tmp_path / "share").mkdir()
    (tmp_path / "share" / "readme.txt").write_text("notes\n")
    (tmp_path / "share" / "env.txt").symlink_to("../secrets/.env")
    event = ToolEvent(
        tool_name="Bash", tool_input={"command": "zip -r s.zip share"}, cwd=str(tmp_path)
    )
    decision = TREE_ENGINES["seed"].evaluate(event, CallContext(repo=str(tmp_path)))
    target = tmp_path / "secrets" / ".env"
    assert [(f.rule, f.reason, f.fragment) for f in decision.findings] == [
        (
            "file_operations.protected_paths[0]",
            f"zip -r would read share/env.txt (a link to {target}), which matches protected "
            "path `.env*`; add -x '*env.txt' or archive a narrower path",
            f"zip -r share/env.txt (a link to {target})",
        )
    ]


def test_a_folder_holding_the_hooks_settings_is_deleted_or_moved_only_by_a_person(
    tmp_path: Path,
) -> None:
    (tmp_path / "app" / ".claude").mkdir(parents=True)
    (tmp_path / "app" / ".claude" / "settings.json").write_text("{}")
    (tmp_path / "app" / "main.py").write_text("print('hi')\n")
    held = "which holds Claude Code settings that hold the governance hook; agents may not open, "
    held += "change or delete governance state (ask a person)"

    def found(command: str) -> list[tuple[str, str, str]]:
        event = ToolEvent(tool_name="Bash", tool_input={"command": command}, cwd=str(tmp_path))
        decision = TREE_ENGINES["seed"].evaluate(event, CallContext(repo=str(tmp_path)))
        return [(f.rule, f.reason, f.fragment) for f in decision.findings]

    settings_rule = "builtin.self_protection.hook_settings"
    delete_rule = "file_operations.delete_requires_approval"
    assert found("rm -rf app") == [
        (settings_rule, f"rm -r deletes `app`, {held}", "rm -r app"),
        (delete_rule, "deletes `app`; deleting files needs approval", "rm -r app"),
    ]
    assert found("rm -rf ap*") == [
        (settings_rule, f"rm -r deletes `ap*`, {held}", "rm -r ap*"),
        (settings_rule, f"rm -r deletes `app`, {held}", "rm -r app"),
        (delete_rule, "deletes `app`; deleting files needs approval", "rm -r app"),
    ]
    assert found("mv app /tmp/elsewhere") == [(settings_rule, f"mv writes `app`, {held}", "mv app")]
    assert found("cp -r app /tmp/elsewhere") == []  # a copy leaves the hook where it is
