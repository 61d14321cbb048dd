"""The SQL stage of analysis: what SQL text would do (analyze.py), statement by statement
(split.py, schema.py), from sqlglot's trees (trees.py) or by keywords (keywords.py)."""

from engine.analysis.sql.analyze import analyze_sql, phrase_matches
from engine.analysis.sql.types import SqlAnalysis, SqlOperation

__all__ = ["SqlAnalysis", "SqlOperation", "analyze_sql", "phrase_matches"]
