"""The mcp_tools section's own rule: an MCP tool whose effect cannot be told gets the policy's
`unknown` outcome. What a known tool does is judged by the other rules, over its facts."""

from __future__ import annotations

from collections.abc import Iterable

from engine.decide import Finding, Outcome, Risk
from engine.rules.book import RuleBook, finding


def unknown(book: RuleBook, tool: str, classified_by: str) -> Iterable[Finding]:
    outcome = book.policy.policies.mcp_tools.unknown
    yield finding(
        "mcp_tools.unknown",
        Outcome(outcome),
        f"what `{tool}` does cannot be told from its name or arguments "
        f"({classified_by}); mcp_tools.unknown is `{outcome}`: map it in "
        "mcp_tools.tools to have it judged",
        tool,
        Risk.LOW if outcome == "allow" else Risk.MEDIUM,
    )
