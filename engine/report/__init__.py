"""The compliance report: one model over the store, its figures from SQL aggregates, and the
renderers (JSON, Markdown, Slack, HTML). Each part lives in its own module; this names them."""

from engine.report.document import REPORT_SCHEMA_ID, report_document, to_json, to_markdown
from engine.report.figures import build_report, rule_stats
from engine.report.html_page import to_html
from engine.report.model import (
    DAY_S,
    RISK_HIGH_BLOCKS,
    RISK_MEDIUM_BLOCKS,
    TOP_REASONS,
    UNKNOWN,
    Report,
    RuleStat,
    day_range,
    nearest_rank,
    risk_level,
)
from engine.report.slack import (
    SLACK_MAX_BLOCKS,
    SLACK_MAX_FIELD_TEXT,
    SLACK_MAX_FIELDS,
    SLACK_MAX_HEADER_TEXT,
    SLACK_MAX_SECTION_TEXT,
    to_slack_blocks,
)
from engine.report.text import text_bars

__all__ = [
    "DAY_S",
    "REPORT_SCHEMA_ID",
    "RISK_HIGH_BLOCKS",
    "RISK_MEDIUM_BLOCKS",
    "SLACK_MAX_BLOCKS",
    "SLACK_MAX_FIELDS",
    "SLACK_MAX_FIELD_TEXT",
    "SLACK_MAX_HEADER_TEXT",
    "SLACK_MAX_SECTION_TEXT",
    "TOP_REASONS",
    "UNKNOWN",
    "Report",
    "RuleStat",
    "build_report",
    "day_range",
    "nearest_rank",
    "report_document",
    "risk_level",
    "rule_stats",
    "text_bars",
    "to_html",
    "to_json",
    "to_markdown",
    "to_slack_blocks",
]
