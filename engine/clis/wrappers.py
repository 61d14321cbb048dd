"""Where the inner command of a container or pod wrapper starts (`docker compose exec SVC CMD`,
`kubectl exec POD -- CMD`), read from engine/clis/wrappers.json. Pure: argv in, index out."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True, slots=True)
class Wrapper:
    """One wrapper shape: the programs, subcommand path, options with values and operands."""

    programs: frozenset[str]
    path: tuple[str, ...]
    global_options_with_value: frozenset[str]
    options_with_value: frozenset[str]
    positionals: int
    separator: str | None


@lru_cache(maxsize=1)
def load_wrappers() -> tuple[tuple[Wrapper, ...], tuple[tuple[str, str | None], ...]]:
    """The wrapper shapes and their examples (argv text -> inner command text, or None)."""
    document = json.loads(resources.files("engine.clis").joinpath("wrappers.json").read_text())
    wrappers = tuple(
        Wrapper(
            frozenset(entry["programs"]),
            tuple(entry["path"]),
            frozenset(entry["global_options_with_value"]),
            frozenset(entry["options_with_value"]),
            entry["positionals"],
            entry.get("separator"),
        )
        for entry in document["wrappers"]
    )
    return wrappers, tuple((e[0], e[1]) for e in document["examples"])


def inner_command_start(argv: tuple[str, ...]) -> int | None:
    """The index in argv where the wrapped command starts, or None when argv wraps none."""
    if not argv:
        return None
    program = argv[0].rsplit("/", 1)[-1]
    wrappers, _ = load_wrappers()
    for wrapper in wrappers:
        if program not in wrapper.programs:
            continue
        path = wrapper.path
        if program.endswith("-compose") and path[:1] == ("compose",):
            path = path[1:]  # `docker-compose run` is `docker compose run`
        start = _start(argv, wrapper, path)
        if start is not None:
            return start
    return None


def _start(argv: tuple[str, ...], wrapper: Wrapper, path: tuple[str, ...]) -> int | None:
    index = 1
    for word in path:
        index = _skip(argv, index, wrapper.global_options_with_value)
        if index >= len(argv) or argv[index] != word:
            return None
        index += 1
    if wrapper.separator is not None and wrapper.separator in argv[index:]:
        start = argv.index(wrapper.separator, index) + 1
        return start if start < len(argv) else None
    index = _skip(argv, index, wrapper.options_with_value)
    index += wrapper.positionals
    return index if index < len(argv) else None


def _skip(argv: tuple[str, ...], index: int, takes_value: frozenset[str]) -> int:
    while index < len(argv) and argv[index].startswith("-") and argv[index] != "-":
        if argv[index] == "--":
            return index + 1
        takes = argv[index] in takes_value and "=" not in argv[index]
        index += 2 if takes else 1
    return index
