"""The compliance report's figures (`Report`, `RuleStat`) and how each is judged: percentiles,
block-rate health, the last hour's risk, the calendar. Pure: it must not query the store."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict

DAY_S = 86_400.0
# Block-rate health thresholds from the article: fewer than 1% blocked means the policy
# barely bites; more than 20% means agents are stopped so often that people route around it.
LENIENT_BELOW = 0.01
STRICT_ABOVE = 0.20
# "Risk of the last hour": a burst of blocks suggests an agent probing the fence.
RISK_WINDOW_S = 3_600.0
RISK_HIGH_BLOCKS = 10
RISK_MEDIUM_BLOCKS = 3
TOP_REASONS = 10
UNKNOWN = "(none)"

FINISH_KINDS = ("approval_approved", "approval_denied", "approval_expired", "approval_cancelled")


# The covering index lets every decision aggregate run from the index alone: at a million
# rows a table scan per figure would blow the 2 s budget. kind was not indexed before.
class Report(BaseModel):
    model_config = ConfigDict(frozen=True)

    period_start: float
    period_end: float
    days: float
    user: str | None = None
    total_decisions: int
    allowed: int
    blocked: int
    needed_approval: int
    approvals_requested: int
    approved: int
    denied: int
    expired: int
    pending: int
    would_have_blocked: int
    by_tool: list[tuple[str, int, int]]
    by_user: list[tuple[str, int, int]]
    by_host: list[tuple[str, int, int]]
    per_day: list[tuple[str, int, int]]
    top_block_reasons: list[tuple[str, str, int]]
    latency_p50_s: float | None
    latency_p95_s: float | None
    latency_max_s: float | None
    block_rate: float
    health: str
    break_glass_uses: int
    overrides: int
    false_positives: int
    risk_last_hour: str


class RuleStat(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule: str
    fired: int
    blocked: int
    approvals_requested: int
    approved: int
    denied: int
    approval_rate: float | None


# ---------------------------------------------------------------- pure helpers


def nearest_rank(sorted_values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile: the value at 1-based rank ceil(fraction * n), ascending.

    No interpolation, so the figure is always a latency that really happened.
    """
    if not sorted_values:
        return None
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def health_of(blocked: int, total: int) -> str:
    if total == 0:
        return "no data"
    rate = blocked / total
    if rate < LENIENT_BELOW:
        return "too lenient"
    if rate > STRICT_ABOVE:
        return "too strict"
    return "healthy"


def risk_level(blocks: int, critical: bool) -> str:
    if critical or blocks >= RISK_HIGH_BLOCKS:
        return "HIGH"
    if blocks >= RISK_MEDIUM_BLOCKS:
        return "MEDIUM"
    return "LOW"


def day_range(start: float, end: float) -> list[str]:
    """UTC dates touched by [start, end); an end exactly at midnight adds no empty day."""
    first = datetime.fromtimestamp(start, UTC).date()
    last_moment = datetime.fromtimestamp(end, UTC)
    last = last_moment.date()
    if last_moment == datetime.combine(last, datetime.min.time(), UTC) and end > start:
        last -= timedelta(days=1)
    count = max((last - first).days + 1, 0)
    return [(first + timedelta(days=offset)).isoformat() for offset in range(count)]
