"""Interpreter one-liners (python -c, node -e, perl -e, ruby -e, php -r) as shell text: one
module per language. The engine judges what comes back; nothing here runs or judges code."""

from engine.analysis.code.analyze import CodeEffects, analyze_code
from engine.analysis.code.argv import code_argument, interpreter_language

__all__ = ["CodeEffects", "analyze_code", "code_argument", "interpreter_language"]
