"""A command's words as options and operands, by the options that take a value; and the hosts
named in URLs. Reads words only."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from engine.analysis.commands.tables import _URL
from engine.analysis.shell import Word


@dataclass(frozen=True, slots=True)
class _Parsed:
    """A command's words split into positionals and option values, by index into argv.

    An option glued to its value (`-oX`, `--out=X`) contributes its own index, so marking
    it as data hides the whole word.
    """

    words: tuple[Word, ...]
    positional: tuple[int, ...]
    options: dict[str, list[int]]

    def pos(self) -> list[Word]:
        return [self.words[i] for i in self.positional]

    def has(self, *names: str) -> bool:
        return any(name in self.options for name in names)

    def value_indexes(self, *names: str) -> list[int]:
        return [i for name in names for i in self.options.get(name, [])]

    def values(self, *names: str) -> list[Word]:
        found = []
        for name in names:
            for index in self.options.get(name, []):
                word = self.words[index]
                if word.value.startswith(name) and word.value != name:
                    word = Word(word.value[len(name) :].removeprefix("="), word.glob, word.dynamic)
                found.append(word)
        return found


def _parse(words: tuple[Word, ...], takes_value: frozenset[str]) -> _Parsed:
    positional: list[int] = []
    options: dict[str, list[int]] = {}
    index, only_positional = 1, False
    while index < len(words):
        value = words[index].value
        if only_positional or not value.startswith("-") or value == "-":
            positional.append(index)
        elif value == "--":
            only_positional = True
        elif value.startswith("--") and "=" in value:
            options.setdefault(value.split("=", 1)[0], []).append(index)
        elif value in takes_value:
            if index + 1 < len(words):
                options.setdefault(value, []).append(index + 1)
            index += 1
        elif not value.startswith("--") and len(value) > 2 and value[:2] in takes_value:
            options.setdefault(value[:2], []).append(index)
        elif not value.startswith("--") and f"-{value[-1]}" in takes_value:
            # `git commit -am MSG`: a cluster of flags whose last one takes the next word.
            if index + 1 < len(words):
                options.setdefault(f"-{value[-1]}", []).append(index + 1)
            index += 1
        else:
            options.setdefault(value, [])
        index += 1
    return _Parsed(words, tuple(positional), options)


def _hosts_from_urls(words: list[Word]) -> list[str]:
    hosts = []
    for word in words:
        text = word.value if _URL.match(word.value) else f"http://{word.value}"
        try:
            host = urlsplit(text).hostname
        except ValueError:
            host = None
        if host and ("." in host or host == "localhost" or _URL.match(word.value)):
            hosts.append(host)
    return hosts


def _strip_user(host: str) -> str:
    return host.rsplit("@", 1)[-1].split(":", 1)[0]
