"""What one simple command does (command.py), by tables of known commands (tables.py), their
options (options.py), git's files (git_files.py) and SQL clients (sql_clients.py)."""

from engine.analysis.commands.command import effects
from engine.analysis.commands.types import Access, CommandEffects, FileAccess, SqlSource

__all__ = ["Access", "CommandEffects", "FileAccess", "SqlSource", "effects"]
