"""The CLI tables (engine/clis/*.json): each example row canonicalizes as written, every entry
of every table is exercised by a row, and the seed policy's patterns judge the intent."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from engine.clis import canonicalize, load_tables
from engine.decide import Outcome
from engine.evaluate import Engine
from engine.events import ToolEvent

TABLES, RUNNERS, RUNNER_EXAMPLES = load_tables()
ROWS = [(t.program, src, want) for t in TABLES for src, want in t.examples]
ROWS += [("runners", src, want) for src, want in RUNNER_EXAMPLES]


@pytest.mark.parametrize(("table", "spelling", "expected"), ROWS, ids=[r[1] for r in ROWS])
def test_each_row_canonicalizes_as_written(table: str, spelling: str, expected: str | None):
    canonical = canonicalize(tuple(spelling.split()))
    assert canonical is not None, f"{table}: no table knows `{spelling}`"
    if expected is None:
        assert canonical.noop
    else:
        assert not canonical.noop
        assert canonical.texts == tuple(expected.split("|"))


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.program)
def test_every_entry_of_a_table_has_an_example(table) -> None:
    spellings = [src.split() for src, _ in table.examples]
    words = {word for spelling in spellings for word in spelling}
    for other in table.equivalents:
        assert any(s[0] == other for s in spellings), f"no example for equivalent {other}"
    for alias in [*table.aliases, *table.flag_actions]:
        assert all(part in words for part in alias.split()), f"no example for `{alias}`"
    for action, flags in table.noop_flags.items():
        for flag in flags:
            assert any(action in s and flag in s for s in spellings), f"no example for {flag}"
    if table.global_options_with_value:
        assert any(w in table.global_options_with_value for w in words)


def test_every_runner_has_an_example() -> None:
    for runner in RUNNERS:
        assert any(src.split()[0] == runner.name for src, _ in RUNNER_EXAMPLES), runner.name


def test_programs_no_table_knows_are_left_alone() -> None:
    assert canonicalize(("make", "publish")) is None
    assert canonicalize(("npx",)) is None


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("pnpm publish", Outcome.APPROVE),
        ("npx -y npm@10 publish", Outcome.APPROVE),
        ("docker compose -f prod.yml push web", Outcome.APPROVE),
        ("nerdctl push app", Outcome.APPROVE),
        ("npm publish --dry-run", Outcome.ALLOW),
        ("docker pull app", Outcome.ALLOW),
        ("pnpm test", Outcome.ALLOW),
    ],
)
def test_the_seed_policy_judges_the_intent(seed_engine: Engine, command, expected) -> None:
    event = ToolEvent(tool_name="Bash", tool_input={"command": command}, cwd="/srv/app")
    assert seed_engine.evaluate(event).would_be is expected


def test_a_canonical_match_says_which_spelling_it_read(seed_engine: Engine) -> None:
    event = ToolEvent(tool_name="Bash", tool_input={"command": "bun publish"}, cwd="/srv/app")
    assert "`bun publish` is `npm publish`" in seed_engine.evaluate(event).reason


def test_every_effects_table_is_documented() -> None:
    """engine/clis/effects.json: a reader extending it finds each key explained in `_doc`."""
    document = json.loads(resources.files("engine.clis").joinpath("effects.json").read_text())
    assert set(document["_doc"]) - {"about"} == set(document["effects"])


def test_a_program_from_the_effects_data_is_judged_by_what_it_does(seed_engine: Engine) -> None:
    """`bat` is a reader and `trash` a deleter only by effects.json: the engine judges them so."""

    def reasons(command: str) -> list[str]:
        event = ToolEvent(tool_name="Bash", tool_input={"command": command}, cwd="/srv/app")
        return [f"{f.rule}: {f.reason}" for f in seed_engine.evaluate(event).findings]

    assert reasons("bat .env")[0].startswith("file_operations.protected_paths[0]: reads `.env`")
    assert any(
        r.startswith("file_operations.delete_requires_approval: deletes `notes.txt`")
        for r in reasons("trash notes.txt")
    )
