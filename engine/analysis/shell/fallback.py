"""A best-effort split of a command line that tree-sitter cannot parse, so a deny still fires
on what it says. Used only when the parse has errors; it resolves nothing."""

from __future__ import annotations

import shlex

from engine.analysis.shell.expansion import _GLOB_CHARS, brace_expand
from engine.analysis.shell.words import SimpleCommand, Word

_CONTROL = {";", "&&", "||", "|", "&", "(", ")", ";;", "|&", "\n"}


def _fallback_commands(code: str) -> list[SimpleCommand]:
    """Best-effort split for input tree-sitter cannot parse, so a deny still fires on it."""
    lexer = shlex.shlex(code, posix=True, punctuation_chars=";&|()")
    lexer.whitespace_split = True
    commands: list[SimpleCommand] = []
    current: list[Word] = []
    try:
        for token in lexer:
            if token in _CONTROL or set(token) <= set(";&|()"):
                if current:
                    commands.append(SimpleCommand(tuple(current)))
                current = []
            else:
                stripped = token.strip("{}") if token.startswith("{") and "," in token else token
                values = brace_expand("{" + stripped + "}") if stripped != token else [token]
                current.extend(Word(v, glob=bool(_GLOB_CHARS.search(v))) for v in values)
    except ValueError:
        pass  # unterminated quote: keep what was read
    if current:
        commands.append(SimpleCommand(tuple(current)))
    return commands
