"""Finds the payload of every execution vector in `vector_table` on one simple command.
Pure: reads argv and variables, returns what will run (or why it cannot be seen), never judges."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache

from engine.analysis import minilangs, vector_finders, vector_minilangs
from engine.analysis.vector_finders import git_config_payload
from engine.analysis.vector_model import Call, Finder, Payload
from engine.analysis.vector_table import ENV_VECTORS, VECTORS, Find, Vector


def _by_program(rows: Sequence[Vector]) -> dict[str, tuple[tuple[Find, tuple[Vector, ...]], ...]]:
    """program -> its rows grouped by how their payload is found, so each finder runs once."""
    index: dict[str, dict[Find, list[Vector]]] = {}
    for row in rows:
        for program in row.programs:
            index.setdefault(program, {}).setdefault(row.find, []).append(row)
    return {
        program: tuple((kind, tuple(found)) for kind, found in kinds.items())
        for program, kinds in index.items()
    }


_PROGRAM_ROWS = _by_program(VECTORS)
PROGRAMS = frozenset(_PROGRAM_ROWS)


@lru_cache(maxsize=4096)
def command_payloads(call: Call) -> tuple[Payload, ...]:
    """Every payload the vectors of this program carry on this argv. Cached: the same simple
    commands (`git status`) come back in ever new command lines."""
    groups = _PROGRAM_ROWS.get(call.name)
    if not groups:
        return ()
    words = frozenset(call.argv[1:])
    found: list[Payload] = []
    for kind, rows in groups:
        given = [row for row in rows if not row.subcommand or row.subcommand in words]
        if given:
            found.extend(_FINDERS[kind](given, call))
    return tuple(found)


_FINDERS: dict[Find, Finder] = {**vector_finders.FINDERS, **vector_minilangs.FINDERS}


# ---------------------------------------------------------------- environment

_ENV_ROWS = {row.trigger: row for row in ENV_VECTORS}
_INDEXED = re.compile(r"GIT_CONFIG_VALUE_(\d+)")


def env_payloads(
    name: str, value: str | None, environment: Mapping[str, str | None]
) -> list[Payload]:
    """What a child started with `name=value` runs because of it; `environment` holds the rest."""
    if name.startswith("BASH_FUNC_"):
        row = _ENV_ROWS["BASH_FUNC_*"]
    elif _INDEXED.fullmatch(name):
        key = environment.get(f"GIT_CONFIG_KEY_{_INDEXED.fullmatch(name).group(1)}")  # type: ignore[union-attr]
        if key is None:
            return [Payload(name, unseen=f"{name} sets git config whose key is not known")]
        found = git_config_payload(key, value or "", value is None)
        return [found] if found else []
    else:
        row = _ENV_ROWS.get(name)
    if row is None or value == "":
        return []
    if value is None:
        return [Payload(name, unseen=f"{name} ({row.runs}) is set at run time")]
    if row.find is Find.CODE:
        if name in {"LESSOPEN", "LESSCLOSE"}:  # `|cmd %s`, `||cmd`, `-|cmd`: a pipe marker
            value = value.lstrip("|-")
        return [Payload(name, code=value)]
    if row.find is Find.PROMPT:
        return (
            [Payload(name, code=minilangs.expansion_probe(value))]
            if "$(" in value or "`" in value
            else []
        )
    if row.find is Find.FUNCTION:
        return [Payload(name, code=f"imported_function {value}")]
    if row.find is Find.GIT_CONFIG:
        pairs = [p.partition("=") for p in minilangs.split_words(value)]
        return [p for k, _, v in pairs if (p := git_config_payload(k, v, False))]
    return [Payload(name, unseen=f"{name}={value!r}: {row.runs}")]
