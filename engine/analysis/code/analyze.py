"""The entry point of code analysis: the shell commands equivalent to an interpreter one-liner
and what could not be seen. It never decides allow or deny and never runs the code."""

from __future__ import annotations

from dataclasses import dataclass

from engine.analysis.code.internals import _LABELS, _MAX_STEPS, _Budget
from engine.analysis.code.python import _PythonAnalyzer
from engine.analysis.code.tokens import _TokenAnalyzer


@dataclass(frozen=True, slots=True)
class CodeEffects:
    shell_commands: tuple[str, ...]  # shell command lines equivalent to what the code does
    opaque: tuple[str, ...]  # why some behaviour cannot be seen statically


def analyze_code(language: str, code: str) -> CodeEffects:
    """Shell commands equivalent to what `code` does, and what could not be seen."""
    label = _LABELS.get(language)
    if label is None:
        return CodeEffects((), (f"no analyzer for {language!r} code",))
    try:
        effects = _analyze(language, str(code), 0, _Budget(_MAX_STEPS))
    except (RecursionError, MemoryError):
        effects = [("opaque", f"{label}: code is nested too deeply to analyze")]
    except Exception as exc:
        # A bug here must not let code through unseen: callers treat opaque as "ask a human".
        effects = [("opaque", f"{label}: code could not be analyzed ({type(exc).__name__})")]
    commands = [text for kind, text in effects if kind == "cmd"]
    reasons = [text for kind, text in effects if kind == "opaque"]
    return CodeEffects(tuple(dict.fromkeys(commands)), tuple(dict.fromkeys(reasons)))


def _analyze(language: str, code: str, depth: int, budget: _Budget) -> list[tuple[str, str]]:
    if language == "python":
        return _PythonAnalyzer(code, depth, budget).run()
    return _TokenAnalyzer(language, code, depth, budget).run()
