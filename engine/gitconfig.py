"""Reads a git config file's text (`.git/config`) into (key, value) pairs the way git names them:
`remote.origin.push`, `push.default`. Pure: text in, pairs out; fs.py reads the file."""

from __future__ import annotations

import re

_SECTION = re.compile(r'\[\s*([A-Za-z0-9.-]+)\s*(?:"((?:[^"\\]|\\.)*)")?\s*\]')
_UNESCAPE = re.compile(r"\\(.)")
_ENTRY = re.compile(r"([A-Za-z][A-Za-z0-9-]*)\s*(?:=\s*(.*))?$")


def parse_git_config(text: str) -> tuple[tuple[str, str], ...]:
    """Every `section[.subsection].name = value` of a config file, in file order."""
    pairs: list[tuple[str, str]] = []
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        match = _SECTION.match(line)
        if match is not None:
            name, sub = match.group(1), match.group(2)
            # `[remote "origin"]` keeps the subsection's case; old `[remote.origin]` does not.
            section = name.lower()
            if sub is not None:
                section += "." + _UNESCAPE.sub(lambda m: m.group(1), sub)
            line = line[match.end() :].strip()
        if not line or line[0] in "#;" or not section:
            continue
        entry = _ENTRY.match(line)
        if entry is not None:
            value = "true" if entry.group(2) is None else _value(entry.group(2))
            pairs.append((f"{section}.{entry.group(1).lower()}", value))
    return tuple(pairs)


def _value(text: str) -> str:
    """A value with its quotes removed and a trailing `# comment` dropped."""
    out: list[str] = []
    quoted = False
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            out.append({"n": "\n", "t": "\t"}.get(text[index + 1], text[index + 1]))
            index += 2
            continue
        if char == '"':
            quoted = not quoted
        elif char in "#;" and not quoted:
            break
        else:
            out.append(char)
        index += 1
    return "".join(out).strip()
