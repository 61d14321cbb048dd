"""The report's figures computed by SQL aggregates on the audit table. It only reads the store,
in SQL both SQLite and PostgreSQL run; it never loads every audit row nor renders anything."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from engine.redact import redact_text
from engine.report.model import (
    DAY_S,
    FINISH_KINDS,
    RISK_WINDOW_S,
    TOP_REASONS,
    UNKNOWN,
    Report,
    RuleStat,
    day_range,
    health_of,
    nearest_rank,
    risk_level,
)
from engine.state.types import Database

_EPOCH = date(1970, 1, 1)


def _window(days: float, now: float | None) -> tuple[float, float]:
    if not days > 0:
        raise ValueError(f"days must be positive, got {days!r}")
    end = time.time() if now is None else float(now)
    return end - days * DAY_S, end


def _one(db: Database, sql: str, params: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(db.execute(sql, params).fetchone())


def _rows(db: Database, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in db.execute(sql, params).fetchall()]


# The SQL below runs unchanged on SQLite and PostgreSQL: counts use FILTER (a boolean does not
# sum in PostgreSQL, and SUM there returns numeric), `user` is quoted (reserved word there),
# and no bare column rides beside an aggregate (only SQLite allows that).


def _day_number(db: Database) -> str:
    """Whole UTC days since the epoch. Integers group about a third faster than date() text.
    CAST truncates in SQLite (a floor: audit timestamps are never before 1970) but rounds in
    PostgreSQL, where floor() is the one dialect-specific piece of the report's SQL."""
    if getattr(db, "dialect", "sqlite") == "postgresql":
        return "floor(ts / 86400)"
    return "CAST(ts / 86400 AS INTEGER)"


@dataclass(frozen=True, slots=True)
class _Request:
    """One approval request of the period and its outcome: its first final event, if any."""

    rule: str | None
    requested_at: float
    outcome: str | None
    finished_at: float | None


# Requests made in the period form the cohort; each one's outcome is its first final event
# before period_end. So requested == approved + denied + expired + cancelled + pending.
# One GROUP BY per approval id, not a join of two derived tables: PostgreSQL's planner cannot
# estimate such a join and picks a nested loop, quadratic in the number of approvals.
_FINISHED_AT = ", ".join(f"MIN(CASE WHEN kind = '{kind}' THEN ts END)" for kind in FINISH_KINDS)
_COHORT = f"""
SELECT MIN(CASE WHEN kind = 'approval_requested' {{user_filter}} THEN ts END),
       MIN(CASE WHEN kind = 'approval_requested' {{user_filter}} THEN rule END),
       {_FINISHED_AT}
FROM audit
WHERE kind IN ('approval_requested', {", ".join(f"'{kind}'" for kind in FINISH_KINDS)})
  AND ts >= :start AND ts < :end AND approval_id IS NOT NULL
GROUP BY approval_id
"""


def _cohort(db: Database, user_filter: str, params: dict[str, Any]) -> list[_Request]:
    """Approvals are few next to decisions: one row per request is cheap to fetch."""
    cohort = []
    for requested_at, rule, *finishes in _rows(db, _COHORT.format(user_filter=user_filter), params):
        if requested_at is None:  # finished in the period, requested before it (or by another)
            continue
        done = [(at, kind) for at, kind in zip(finishes, FINISH_KINDS, strict=True) if at]
        finished_at, outcome = min(done) if done else (None, None)
        cohort.append(_Request(rule, float(requested_at), outcome, finished_at))
    return cohort


def _ranked(groups: dict[str, list[int]]) -> list[tuple[str, int, int]]:
    return sorted(((n, t, b) for n, (t, b) in groups.items()), key=lambda r: (-r[1], r[0]))


def _top_block_reasons(
    db: Database, decisions: str, user_filter: str, params: dict[str, Any]
) -> list[tuple[str, str, int]]:
    """The rules that blocked most, each with its latest reason as the example."""
    groups = _rows(
        db,
        "SELECT COALESCE(rule, :unknown), COUNT(*), MAX(ts) "
        f"FROM audit WHERE {decisions} AND decision = 'deny' GROUP BY 1",
        {**params, "unknown": UNKNOWN},
    )
    # Ranked here, not by ORDER BY: the two databases may collate rule names differently.
    top = sorted(groups, key=lambda group: (-int(group[1]), str(group[0])))[:TOP_REASONS]
    reasons = []
    for rule, count, latest in top:
        # A point lookup on (kind, ts): the latest block is inside the period by construction.
        row = db.execute(
            f"SELECT reason FROM audit WHERE kind = 'decision' AND ts = :latest {user_filter} "
            "AND decision = 'deny' AND COALESCE(rule, :unknown) = :rule "
            "ORDER BY seq DESC LIMIT 1",
            {**params, "unknown": UNKNOWN, "rule": rule, "latest": latest},
        ).fetchone()
        reason = redact_text(str(row[0] or "")) if row else ""
        reasons.append((str(rule), reason, int(count)))
    return reasons


def _by_host(
    db: Database, decisions: str, every_host: bool, params: dict[str, Any]
) -> list[tuple[str, int, int]]:
    """Decisions and blocks per host, with every live remote host (a silent one at 0) when
    `every_host`. Its own pass: as a fourth key of the main pass it would multiply the groups
    by the hosts each user works from (CI runners shared by everyone)."""
    hosts: dict[str, list[int]] = {
        UNKNOWN if host is None else host: [int(count), int(blocked)]
        for host, count, blocked in _rows(
            db,
            "SELECT host, COUNT(*), COUNT(*) FILTER (WHERE decision = 'deny') "
            f"FROM audit WHERE {decisions} GROUP BY 1",
            params,
        )
    }
    if every_host:
        for (name,) in _rows(db, "SELECT name FROM remote_hosts WHERE revoked_at IS NULL", {}):
            hosts.setdefault(name, [0, 0])
    return _ranked(hosts)


def build_report(
    db: Database, days: float = 7, now: float | None = None, user: str | None = None
) -> Report:
    """Every figure for the `days` before `now` (half-open [start, end)), optionally one user."""
    start, end = _window(days, now)
    params: dict[str, Any] = {"start": start, "end": end, "user": user}
    user_filter = 'AND "user" = :user' if user is not None else ""
    decisions = f"kind = 'decision' AND ts >= :start AND ts < :end {user_filter}"

    # One pass over the period's decisions, grouped by (day, tool, user); every decision figure
    # is a sum over these groups. Separate aggregates would each scan the period again.
    totals = Counter[str]()
    days_seen: dict[str, list[int]] = {}
    tools: dict[str, list[int]] = {}
    users: dict[str, list[int]] = {}
    for day_number, tool, who, count, allowed, blocked, approve, would_have in _rows(
        db,
        f'SELECT {_day_number(db)}, tool_name, "user", '
        "COUNT(*), COUNT(*) FILTER (WHERE decision = 'allow'), "
        "COUNT(*) FILTER (WHERE decision = 'deny'), "
        "COUNT(*) FILTER (WHERE decision = 'approve'), "
        "COUNT(*) FILTER (WHERE mode = 'audit' AND would_be IN ('deny', 'approve')) "
        f"FROM audit WHERE {decisions} GROUP BY 1, 2, 3",
        params,
    ):
        totals.update(
            total=count, allowed=allowed, blocked=blocked, approve=approve, would_have=would_have
        )
        day = (_EPOCH + timedelta(days=int(day_number))).isoformat()
        tool, who = UNKNOWN if tool is None else tool, UNKNOWN if who is None else who
        for table, key in ((days_seen, day), (tools, tool), (users, who)):
            pair = table.setdefault(key, [0, 0])
            pair[0] += count
            pair[1] += blocked
    total, blocked = totals["total"], totals["blocked"]

    calendar = day_range(start, end)
    counts = dict.fromkeys(calendar, (0, 0)) | {
        day: (int(t), int(b)) for day, (t, b) in days_seen.items()
    }
    per_day = [(day, *counts[day]) for day in sorted(set(calendar) | set(counts))]

    cohort = _cohort(db, user_filter, params)
    outcomes = Counter(request.outcome for request in cohort)
    latencies = sorted(
        request.finished_at - request.requested_at
        for request in cohort
        if request.finished_at is not None
        and request.outcome in ("approval_approved", "approval_denied")
    )

    events = f"ts >= :start AND ts < :end {user_filter}"
    break_glass, overrides, false_positives = _one(
        db,
        "SELECT COUNT(*) FILTER (WHERE kind = 'break_glass_opened'), "
        "COUNT(*) FILTER (WHERE kind = 'override'), "
        "COUNT(*) FILTER (WHERE kind = 'false_positive') "
        "FROM audit WHERE kind IN ('break_glass_opened', 'override', 'false_positive') "
        f"AND {events}",
        params,
    )

    recent_blocks, critical = _one(
        db,
        f"SELECT COUNT(*), COUNT(*) FILTER (WHERE risk = 'critical') FROM audit "
        "WHERE kind = 'decision' AND decision = 'deny' AND ts >= :hour AND ts < :end "
        f"{user_filter}",
        {**params, "hour": end - RISK_WINDOW_S},
    )

    return Report(
        period_start=start,
        period_end=end,
        days=days,
        user=user,
        total_decisions=total,
        allowed=totals["allowed"],
        blocked=blocked,
        needed_approval=totals["approve"],
        approvals_requested=len(cohort),
        approved=outcomes["approval_approved"],
        denied=outcomes["approval_denied"],
        expired=outcomes["approval_expired"],
        pending=outcomes[None],
        would_have_blocked=totals["would_have"],
        by_tool=_ranked(tools),
        by_user=_ranked(users),
        by_host=_by_host(db, decisions, user is None, params),
        per_day=per_day,
        top_block_reasons=_top_block_reasons(db, decisions, user_filter, params),
        latency_p50_s=nearest_rank(latencies, 0.50),
        latency_p95_s=nearest_rank(latencies, 0.95),
        latency_max_s=latencies[-1] if latencies else None,
        block_rate=blocked / total if total else 0.0,
        health=health_of(blocked, total),
        break_glass_uses=break_glass,
        overrides=overrides,
        false_positives=false_positives,
        risk_last_hour=risk_level(recent_blocks, bool(critical)),
    )


def rule_stats(db: Database, days: float, now: float | None = None) -> list[RuleStat]:
    """Per rule: how often it fired and blocked, and how approvers answered its requests."""
    start, end = _window(days, now)
    params = {"start": start, "end": end}
    fired: dict[str, list[int]] = {}
    for rule, count, blocked in _rows(
        db,
        "SELECT rule, COUNT(*), COUNT(*) FILTER (WHERE decision = 'deny') FROM audit "
        "WHERE kind = 'decision' AND ts >= :start AND ts < :end AND rule IS NOT NULL "
        "GROUP BY rule",
        params,
    ):
        fired[rule] = [int(count), int(blocked), 0, 0, 0]
    for request in _cohort(db, "", params):
        if request.rule is None:
            continue
        counts = fired.setdefault(request.rule, [0, 0, 0, 0, 0])
        counts[2] += 1
        counts[3] += request.outcome == "approval_approved"
        counts[4] += request.outcome == "approval_denied"
    stats = [
        RuleStat(
            rule=rule,
            fired=f,
            blocked=b,
            approvals_requested=r,
            approved=a,
            denied=d,
            approval_rate=a / (a + d) if a + d else None,
        )
        for rule, (f, b, r, a, d) in fired.items()
    ]
    return sorted(stats, key=lambda s: (-s.fired, -s.approvals_requested, s.rule))
