"""In-place editors among the interpreters: `perl -pi -e CODE FILE…`, `ruby -i.bak -pe CODE FILE…`
rewrite their file operands. Pure: names the files from argv; never reads them or judges."""

from __future__ import annotations

import re

from engine.analysis.shell import Word

# Switches whose value is the next word (or the rest of the cluster).
_VALUE_SWITCHES = {"perl": "eEIMmxlF0", "ruby": "eErIxFC0lK"}
_IN_PLACE = re.compile(r"-[0-9a-zA-Z]*?i")


def in_place_files(language: str, words: tuple[Word, ...]) -> list[Word]:
    """The files a Perl or Ruby one-liner with `-i` edits in place; empty without `-i`."""
    takes_value = _VALUE_SWITCHES.get(language)
    if takes_value is None:
        return []
    in_place = has_code = False
    operands: list[Word] = []
    index = 1
    while index < len(words):
        value = words[index].value
        if value == "--" or not value.startswith("-") or value == "-":
            operands.extend(words[index + (value == "--") :])
            break
        if not value.startswith("--"):
            for position, switch in enumerate(value[1:], start=1):
                if switch == "i":
                    in_place = True
                    break  # the rest of the cluster is the backup suffix
                if switch in takes_value:
                    has_code = has_code or switch in "eE"
                    if position == len(value) - 1 and switch in "eEIrMm":
                        index += 1  # `-e CODE`: the code is the next word
                    break
        index += 1
    if not in_place:
        return []
    return operands if has_code else operands[1:]  # without -e the first operand is the script
