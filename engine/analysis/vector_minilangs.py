"""The finders of payloads written in a tool's own little language (awk, sed, vim and ex, less,
crontab): the program text, read by `minilangs`. Pure: it reads argv and stdin, never judges."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from engine.analysis import minilangs
from engine.analysis.vector_model import Call, Finder, Payload, option_values
from engine.analysis.vector_table import Find, Vector


def _program_text(call: Call, with_value: frozenset[str], file_options: frozenset[str]) -> str:
    index = 1
    while index < len(call.argv):
        word = call.argv[index]
        if word == "--":
            index += 1
            break
        if word in file_options:
            return ""
        if not word.startswith("-") or word == "-":
            break
        index += 1 + (word in with_value)
    return call.argv[index] if index < len(call.argv) else ""


_AWK_VALUE = frozenset({"-F", "-v", "--assign", "--field-separator", "-i", "--include"})
_AWK_FILE = frozenset({"-f", "--file", "-E", "--exec"})


def _find_awk(rows: list[Vector], call: Call) -> list[Payload]:
    if option_values(call, ("-l", "--load")):
        return [Payload("awk --load", unseen="awk --load loads a compiled extension")]
    texts = [v for _, v, _ in option_values(call, ("-e", "--source"))]
    if not texts:
        texts = [_program_text(call, _AWK_VALUE, _AWK_FILE)]
    return _language_payloads("awk", minilangs.awk_commands, texts)


_SED_VALUE = frozenset({"-l", "--line-length"})
_SED_FILE = frozenset({"-f", "--file"})


def _find_sed(rows: list[Vector], call: Call) -> list[Payload]:
    texts = [v for _, v, _ in option_values(call, ("-e", "--expression"))]
    if not texts and not option_values(call, ("-f", "--file")):
        texts = [_program_text(call, _SED_VALUE, _SED_FILE)]
    return _language_payloads("sed", minilangs.sed_commands, texts)


def _find_vim(rows: list[Vector], call: Call) -> list[Payload]:
    pager = call.name in {"less", "more"}
    texts = [] if pager else [v for _, v, _ in option_values(call, ("-c", "--cmd"))]
    texts += [w[1:] for w in call.argv[1:] if w.startswith("+") and len(w) > 1]
    reader = minilangs.less_commands if pager else minilangs.ex_commands
    return _language_payloads(call.name, reader, texts)


def _find_crontab(rows: list[Vector], call: Call) -> list[Payload]:
    arguments = [a for a in call.argv[1:] if not a.startswith("-") or a == "-"]
    options = [a for a in call.argv[1:] if a.startswith("-") and a != "-"]
    if any(o in {"-l", "-r", "-e", "-i", "-V", "-T"} for o in options):
        return []
    if arguments and arguments[-1] != "-":
        file = arguments[-1]
        return [Payload("crontab FILE", unseen=f"crontab installs jobs from the file {file!r}")]
    if call.stdin_text is not None:
        return _language_payloads("crontab", minilangs.crontab_commands, [call.stdin_text])
    if call.piped:
        return [Payload("crontab", unseen="crontab installs piped jobs")]
    if call.stdin_file is not None:
        unseen = f"crontab installs jobs from the file {call.stdin_file!r}"
        return [Payload("crontab < FILE", unseen=unseen)]
    return []


def _language_payloads(
    label: str, reader: Callable[[str], minilangs.Commands], texts: Sequence[str]
) -> list[Payload]:
    found = []
    for text in texts:
        commands = reader(text)
        found.extend(Payload(label, code=code) for code in commands.code)
        found.extend(Payload(label, unseen=f"{label}: {why}") for why in commands.unseen)
    return found


FINDERS: dict[Find, Finder] = {
    Find.AWK: _find_awk,
    Find.SED: _find_sed,
    Find.VIM: _find_vim,
    Find.CRONTAB: _find_crontab,
}
