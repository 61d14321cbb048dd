"""The shell stage of analysis: a bash command line as the simple commands that would execute
(walker.py, with pipeline.py, expand.py, unwrap.py), their words (words.py), wrappers.py."""

from engine.analysis.shell.expansion import brace_expand
from engine.analysis.shell.walker import analyze, analyze_uncached
from engine.analysis.shell.words import SHELLS, ShellAnalysis, SimpleCommand, Word, command_name
from engine.analysis.shell.wrappers import SSH_VALUE_OPTIONS, shell_code_argument

__all__ = [
    "SHELLS",
    "SSH_VALUE_OPTIONS",
    "ShellAnalysis",
    "SimpleCommand",
    "Word",
    "analyze",
    "analyze_uncached",
    "brace_expand",
    "command_name",
    "shell_code_argument",
]
