"""The engine as stages: the facts of a call are built once, the rules judge those facts, and
`governance explain` shows them (files after glob expansion and tree walks, SQL, pushes, hosts)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.evaluate import Engine
from engine.events import CallContext, ToolEvent
from tests.conftest import SEED_POLICY
from tests.project_tree import build_project_tree

GOVERNANCE = str(Path(sys.executable).parent / "governance")


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_project_tree(tmp_path_factory.mktemp("pipeline"), bulk=False)


def _explain(shop: Path, command: str, *flags: str) -> str:
    result = subprocess.run(
        [GOVERNANCE, "explain", str(SEED_POLICY), "--cwd", str(shop), "--bash", command, *flags],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_explain_shows_the_files_a_glob_and_a_tree_walk_really_reach(shop: Path) -> None:
    out = _explain(shop, "rm -rf dist/*; grep -rn password config")
    facts = out.split("\nfacts:\n", 1)[1].splitlines()
    assert "    rm -r deletes dist/bundle.js" in facts
    assert "    grep -r reads config  (a tree of 3 files)" in facts
    # The deny names the file the walk found, which the facts led the rule to.
    assert "grep -r would read config/secrets.json" in out


def test_explain_shows_sql_pushes_and_hosts_as_facts(shop: Path) -> None:
    out = _explain(
        shop,
        "psql -c 'DROP TABLE users'; git push -f origin HEAD:main; curl https://example.com/x",
    )
    facts = out.split("\nfacts:\n", 1)[1].splitlines()
    assert "    psql runs SQL DROP TABLE: DROP TABLE users" in facts
    assert "    pushes to branch main of origin" in facts
    assert "    push options: force" in facts
    assert "    reaches example.com" in facts


def test_explain_as_json_carries_the_facts(shop: Path) -> None:
    document = json.loads(_explain(shop, "cat src/*.ts", "--json"))
    assert document["decision"] == "allow"
    assert "  cat reads src/app.ts" in document["facts"]


def test_a_decision_is_the_rules_over_the_facts_built_once(seed_engine: Engine, shop: Path):
    event = ToolEvent(tool_name="Bash", tool_input={"command": "cd config && cat *"}, cwd=str(shop))
    facts = seed_engine.facts(event, CallContext())
    (line,) = facts.lines
    cat = line.commands[1]
    # `cd` is followed and the glob expanded on disk before any rule looks at it.
    assert cat.where.cwd == str(shop / "config")
    shown = [seen.shown for seen in cat.files[0].files]
    assert shown == ["app.yaml", "database.yml", "secrets.json"]
    decision = seed_engine.judge(facts)
    assert decision == seed_engine.evaluate(event, CallContext())
    assert decision.would_be == "deny"
    assert decision.rule == "file_operations.protected_paths[1]"
