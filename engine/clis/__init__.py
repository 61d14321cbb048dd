"""The command line of each known CLI as data (engine/clis/*.json) and the canonicalizer that
turns a spelling into the action it names. Pure: argv in, canonical text out; no policy."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

_MAX_DEPTH = 4


@dataclass(frozen=True, slots=True)
class CliTable:
    """One CLI: its equivalent programs, global options, subcommand aliases and no-op flags."""

    program: str
    equivalents: dict[str, tuple[str, ...]]  # other program -> words it puts before the action
    global_options_with_value: frozenset[str]
    subcommand_options_with_value: dict[str, frozenset[str]]
    aliases: dict[str, str]  # "image push" -> "push"
    flag_actions: dict[str, dict[str, str]]  # "build" -> {"--push": "push"}
    noop_flags: dict[str, frozenset[str]]  # "publish" -> {"--dry-run"}
    examples: tuple[tuple[str, str | None], ...]

    @property
    def paths(self) -> frozenset[str]:
        """Every subcommand word sequence the table names."""
        return frozenset([*self.aliases, *self.flag_actions, *self.noop_flags])


@dataclass(frozen=True, slots=True)
class Runner:
    """A program that runs another tool: `npx TOOL`, `pnpm dlx TOOL`."""

    name: str
    subcommands: tuple[str, ...]
    options_with_value: frozenset[str]


@dataclass(frozen=True, slots=True)
class Canonical:
    """The actions one command names. `noop`: an option makes it do nothing (`--dry-run`)."""

    texts: tuple[str, ...]
    noop: bool = False


def _table(document: dict[str, Any]) -> CliTable:
    return CliTable(
        program=document["program"],
        equivalents={k: tuple(v) for k, v in document["equivalents"].items()},
        global_options_with_value=frozenset(document["global_options_with_value"]),
        subcommand_options_with_value={
            k: frozenset(v) for k, v in document["subcommand_options_with_value"].items()
        },
        aliases=dict(document["aliases"]),
        flag_actions={k: dict(v) for k, v in document["flag_actions"].items()},
        noop_flags={k: frozenset(v) for k, v in document["noop_flags"].items()},
        examples=tuple((e[0], e[1]) for e in document["examples"]),
    )


@lru_cache(maxsize=1)
def load_tables() -> tuple[tuple[CliTable, ...], tuple[Runner, ...], tuple[tuple[str, str], ...]]:
    """The CLI tables, the runners, and the runners' examples, read from the package data."""
    tables, runners, examples = [], [], []
    for entry in sorted(resources.files("engine.clis").iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        document = json.loads(entry.read_text(encoding="utf-8"))
        if "wrappers" in document:
            continue  # read by engine.clis.wrappers
        if "effects" in document:
            continue  # read by engine.analysis.commands.tables
        if "runners" in document:
            runners.extend(
                Runner(name, tuple(spec["subcommands"]), frozenset(spec["options_with_value"]))
                for name, spec in document["runners"].items()
            )
            examples.extend((e[0], e[1]) for e in document["examples"])
        else:
            tables.append(_table(document))
    return tuple(tables), tuple(runners), tuple(examples)


@lru_cache(maxsize=1)
def _index() -> tuple[dict[str, tuple[CliTable, tuple[str, ...]]], dict[str, list[Runner]]]:
    tables, runners, _ = load_tables()
    programs: dict[str, tuple[CliTable, tuple[str, ...]]] = {}
    for table in tables:
        programs[table.program] = (table, ())
        for other, lead in table.equivalents.items():
            programs.setdefault(other, (table, lead))
    by_name: dict[str, list[Runner]] = {}
    for runner in runners:
        by_name.setdefault(runner.name, []).append(runner)
    return programs, by_name


def canonicalize(argv: tuple[str, ...]) -> Canonical | None:
    """The canonical spellings of a command, or None when no table knows its program."""
    return _canonicalize(argv, 0)


def _program(word: str) -> str:
    return word.rsplit("/", 1)[-1]


def _canonicalize(argv: tuple[str, ...], depth: int) -> Canonical | None:
    if not argv or depth > _MAX_DEPTH:
        return None
    inner = _run_by_runner(argv)
    if inner is not None:
        return _canonicalize(inner, depth + 1) or Canonical((" ".join(inner),))
    programs, _ = _index()
    name = _program(argv[0])
    found = programs.get(name)
    if found is None:
        return None
    table, lead = found
    rest = list(argv[1:])
    index = 0
    while index < len(rest) and rest[index].startswith("-") and rest[index] != "--":
        option = rest[index].split("=", 1)[0]
        takes_value = option in table.global_options_with_value and "=" not in rest[index]
        index += 2 if takes_value else 1
    rest = rest[index:]
    if lead and rest[: len(lead)] == list(lead):
        rest = rest[len(lead) :]
    path, rest = _subcommand_path(table, rest)
    action = table.aliases.get(" ".join(path), " ".join(path))
    head = f"{table.program} {action}".rstrip()
    texts = [" ".join([head, *rest])]
    for flag, flagged in table.flag_actions.get(action, {}).items():
        if any(word == flag or word.startswith(flag + "=") for word in rest):
            kept = [w for w in rest if w != flag and not w.startswith(flag + "=")]
            texts.append(" ".join([f"{table.program} {flagged}", *kept]))
    noop_flags = table.noop_flags.get(action, frozenset())
    noop = any(word in noop_flags for word in rest)
    return Canonical(tuple(texts), noop)


def _subcommand_path(table: CliTable, rest: list[str]) -> tuple[list[str], list[str]]:
    """The subcommand words (`image push`, `compose … push`) and the arguments after them."""
    known = table.paths
    path: list[str] = []
    index = 0
    while index < len(rest):
        word = rest[index]
        if word.startswith("-") and path:
            options = table.subcommand_options_with_value.get(" ".join(path), frozenset())
            index += 2 if word in options else 1
            continue
        candidate = " ".join([*path, word])
        if not path or any(key == candidate or key.startswith(candidate + " ") for key in known):
            path.append(word)
            index += 1
            if not any(key.startswith(candidate + " ") for key in known):
                break
        else:
            break
    return path, rest[index:]


def runner_target(argv: tuple[str, ...]) -> tuple[str, ...] | None:
    """The tool a package runner starts (`npx -y rimraf dist` -> `rimraf dist`), or None."""
    return _run_by_runner(argv) if argv else None


def _run_by_runner(argv: tuple[str, ...]) -> tuple[str, ...] | None:
    """`npx -y npm@10 publish` runs `npm publish`; None when argv is not a runner's."""
    _, runners = _index()
    for runner in runners.get(_program(argv[0]), []):
        index = 1
        if runner.subcommands:
            words = next(
                (w for s in runner.subcommands if list(argv[1 : 1 + len(w := s.split())]) == w),
                None,
            )
            if words is None:
                continue
            index += len(words)
        while index < len(argv) and argv[index].startswith("-"):
            if argv[index] == "--":
                index += 1
                break
            takes_value = argv[index] in runner.options_with_value
            index += 2 if takes_value else 1
        if index >= len(argv):
            return None
        return (_tool_name(argv[index]), *argv[index + 1 :])
    return None


def _tool_name(package: str) -> str:
    """`npm@10` -> `npm`, `@scope/cli@2` -> `cli`: the program a package runner starts."""
    base = package.rsplit("/", 1)[-1]
    return base.split("@", 1)[0] if not base.startswith("@") else base[1:].split("@", 1)[0]


def covered_spellings(regex: re.Pattern[str], samples: list[str]) -> list[str]:
    """Spellings a command pattern now covers through the tables: the tables' own examples,
    and each sample command of the pattern with its program swapped for an equivalent."""
    tables, _, runner_examples = load_tables()
    programs, _ = _index()
    candidates = [src for table in tables for src, _ in table.examples]
    candidates += [src for src, _ in runner_examples]
    for sample in samples:
        words = sample.split()
        found = programs.get(words[0]) if words else None
        if found is not None and found[0].program == words[0]:
            for other, lead in found[0].equivalents.items():
                candidates.append(" ".join([other, *lead, *words[1:]]))
    covered = []
    for candidate in dict.fromkeys(candidates):
        canonical = canonicalize(tuple(candidate.split()))
        if canonical is None or canonical.noop or regex.search(candidate):
            continue
        if any(regex.search(text) for text in canonical.texts):
            covered.append(candidate)
    return covered
