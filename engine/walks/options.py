"""How the walking commands' argv options are read: short clusters, glued and separate values,
exclude patterns by base name. Pure: it must not know which command is which."""

from __future__ import annotations

from engine.analysis.shell import Word


def read_options(
    words: tuple[Word, ...], long_values: frozenset[str], short_values: frozenset[str]
):
    """(options as (name, value)), positionals; short clusters like `-rn` are split."""
    options: list[tuple[str, str | None]] = []
    positional: list[Word] = []
    index, only_positional = 1, False
    while index < len(words):
        value = words[index].value
        if only_positional or not value.startswith("-") or value == "-":
            positional.append(words[index])
        elif value == "--":
            only_positional = True
        elif value.startswith("--"):
            name, eq, glued = value.partition("=")
            if eq:
                options.append((name, glued))
            elif name in long_values and index + 1 < len(words):
                index += 1
                options.append((name, words[index].value))
            else:
                options.append((name, None))
        else:
            for position, char in enumerate(value[1:], start=1):
                if char in short_values:
                    rest = value[position + 1 :]
                    if not rest and index + 1 < len(words):
                        index += 1
                        rest = words[index].value
                    options.append((f"-{char}", rest))
                    break
                options.append((f"-{char}", None))
        index += 1
    return options, positional


def option_values(options: list[tuple[str, str | None]], *names: str) -> tuple[str, ...]:
    return tuple(v for n, v in options if n in names and v is not None)


def has_option(options: list[tuple[str, str | None]], *names: str) -> bool:
    return any(n in names for n, _ in options)


def base_names(patterns: tuple[str, ...]) -> tuple[str, ...]:
    """Exclude patterns by last component: `config/*` leaves out `config`, `*.pem` any pem."""
    names = []
    for pattern in patterns:
        parts = [p for p in pattern.split("/") if p]
        while len(parts) > 1 and parts[-1] in ("*", "**"):
            parts.pop()
        if parts:
            names.append(parts[-1])
    return tuple(names)
