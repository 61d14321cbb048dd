"""The compliance report: figures computed by SQL aggregates on the audit table, and renderers.
It only reads the store, in SQL both SQLite and PostgreSQL run; it never loads every audit row."""

from __future__ import annotations

import html
import json
import math
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from engine.redact import redact_text
from engine.state.types import Database

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
_EPOCH = date(1970, 1, 1)

FINISH_KINDS = ("approval_approved", "approval_denied", "approval_expired", "approval_cancelled")

# Slack Block Kit limits (api.slack.com/reference/block-kit).
SLACK_MAX_BLOCKS = 50
SLACK_MAX_SECTION_TEXT = 3_000
SLACK_MAX_FIELD_TEXT = 2_000
SLACK_MAX_FIELDS = 10
SLACK_MAX_HEADER_TEXT = 150


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


# ---------------------------------------------------------------- SQL


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


# ---------------------------------------------------------------- renderers


BAR_WIDTH = 24


def text_bars(rows: list[tuple[str, int, int]], width: int = BAR_WIDTH) -> list[str]:
    """Stacked bars in text, one line per row: `█` not blocked, `▒` blocked, scaled to the
    largest; a row with any decision shows at least one cell."""
    if not rows:
        return []
    peak = max(total for _, total, _ in rows) or 1
    names = [" ".join(name.split()) for name, _, _ in rows]
    label = min(max(len(name) for name in names), 28)
    lines = []
    for name, (_, total, blocked) in zip(names, rows, strict=True):
        cells = max(round(total / peak * width), 1 if total else 0)
        blocked_cells = min(cells, max(round(blocked / peak * width), 1 if blocked else 0))
        bar = "█" * (cells - blocked_cells) + "▒" * blocked_cells
        lines.append(
            f"{_clip(name, label):<{label}} {bar:<{width}} {total:,} ({blocked:,} blocked)"
        )
    return lines


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _seconds(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value < 120:
        return f"{value:.1f} s"
    if value < 7_200:
        return f"{value / 60:.1f} min"
    return f"{value / 3_600:.1f} h"


def _period(report: Report) -> str:
    who = f" for {report.user}" if report.user else ""
    return f"{_when(report.period_start)} to {_when(report.period_end)}{who}"


def _figures(report: Report) -> list[tuple[str, str]]:
    return [
        ("Decisions", f"{report.total_decisions:,}"),
        ("Allowed", f"{report.allowed:,}"),
        ("Blocked", f"{report.blocked:,}"),
        ("Needed approval", f"{report.needed_approval:,}"),
        ("Block rate", f"{report.block_rate:.1%} ({report.health})"),
        ("Would have blocked (audit mode)", f"{report.would_have_blocked:,}"),
        ("Approvals requested", f"{report.approvals_requested:,}"),
        (
            "Approved / denied / expired",
            f"{report.approved:,} / {report.denied:,} / {report.expired:,}",
        ),
        ("Pending", f"{report.pending:,}"),
        (
            "Approval latency p50 / p95 / max",
            f"{_seconds(report.latency_p50_s)} / "
            f"{_seconds(report.latency_p95_s)} / {_seconds(report.latency_max_s)}",
        ),
        ("Break-glass uses", f"{report.break_glass_uses:,}"),
        ("Overrides", f"{report.overrides:,}"),
        ("False-positive flags", f"{report.false_positives:,}"),
        ("Risk (last hour)", report.risk_last_hour),
    ]


REPORT_SCHEMA_ID = "https://github.com/claude-governance/schemas/report-1.json"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def report_document(report: Report) -> dict[str, Any]:
    """The published JSON form (docs/report.schema.json): named fields, ISO 8601 UTC times."""
    document = report.model_dump(
        exclude={
            "period_start",
            "period_end",
            "by_tool",
            "by_user",
            "by_host",
            "per_day",
            "top_block_reasons",
        }
    )
    return {
        "$schema": REPORT_SCHEMA_ID,
        "period_start": _iso(report.period_start),
        "period_end": _iso(report.period_end),
        **document,
        "by_tool": [{"tool": t, "decisions": n, "blocked": b} for t, n, b in report.by_tool],
        "by_user": [{"user": u, "decisions": n, "blocked": b} for u, n, b in report.by_user],
        "by_host": [{"host": h, "decisions": n, "blocked": b} for h, n, b in report.by_host],
        "per_day": [{"date": d, "decisions": n, "blocked": b} for d, n, b in report.per_day],
        "top_block_reasons": [
            {"rule": rule, "reason": reason, "count": n}
            for rule, reason, n in report.top_block_reasons
        ],
    }


def to_json(report: Report) -> str:
    return json.dumps(report_document(report), indent=2, ensure_ascii=False)


def _md(text: str) -> str:
    # Table cells break on pipes and newlines; emphasis, code, links and raw HTML would let a
    # rule or user name restyle the page. Other syntax only matters at a line start.
    text = " ".join(str(text).split())
    return "".join("\\" + c if c in "\\`*_[]<>|" else c for c in text)


def to_markdown(report: Report) -> str:
    lines = [
        "# Claude Code governance report",
        "",
        f"Period: {_md(_period(report))} ({report.days:g} days)",
        "",
        "| Figure | Value |",
        "| --- | --- |",
        *(f"| {_md(name)} | {_md(value)} |" for name, value in _figures(report)),
    ]
    for title, rows in (
        ("By tool", report.by_tool),
        ("By user", report.by_user),
        ("By host", report.by_host),
    ):
        lines += ["", f"## {title}", "", "| Name | Decisions | Blocked |", "| --- | ---: | ---: |"]
        lines += [f"| {_md(name)} | {total:,} | {blocked:,} |" for name, total, blocked in rows]
    if report.by_host:  # an indented code block: no name can close it
        lines += ["", *("    " + line for line in text_bars(report.by_host))]
    lines += ["", "## Top block reasons", ""]
    if report.top_block_reasons:
        lines += ["| Rule | Example reason | Count |", "| --- | --- | ---: |"]
        lines += [
            f"| {_md(rule)} | {_md(reason)} | {count:,} |"
            for rule, reason, count in report.top_block_reasons
        ]
    else:
        lines.append("No blocks in this period.")
    lines += ["", "## Per day (UTC)", "", "| Date | Decisions | Blocked |", "| --- | ---: | ---: |"]
    lines += [f"| {day} | {total:,} | {blocked:,} |" for day, total, blocked in report.per_day]
    return "\n".join(lines) + "\n"


def _slack_escape(text: str) -> str:
    # Slack treats only these three as control characters in mrkdwn.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _mrkdwn(text: str, limit: int) -> dict[str, str]:
    return {"type": "mrkdwn", "text": _clip(text, limit)}


def _ranked_section(title: str, lines: list[str]) -> dict[str, Any]:
    text = f"*{title}*"
    for index, line in enumerate(lines):
        more = f"\n_…and {len(lines) - index} more_"
        if len(text) + 1 + len(line) + len(more) > SLACK_MAX_SECTION_TEXT:
            text += more
            break
        text += "\n" + line
    return {"type": "section", "text": _mrkdwn(text, SLACK_MAX_SECTION_TEXT)}


def _chart_section(title: str, lines: list[str]) -> dict[str, Any]:
    """A text chart in a code block (Slack draws no charts), cut at a whole line to fit."""
    shown: list[str] = []
    for index, line in enumerate(lines):
        more = f"…and {len(lines) - index} more"
        if len(title) + 10 + sum(len(x) + 1 for x in (*shown, line, more)) > SLACK_MAX_SECTION_TEXT:
            shown.append(more)
            break
        shown.append(line)
    body = "\n".join(shown)
    return {"type": "section", "text": _mrkdwn(f"*{title}*\n```{body}```", SLACK_MAX_SECTION_TEXT)}


def to_slack_blocks(report: Report) -> list[dict[str, Any]]:
    """Block Kit for `/governance report`, clipped to Slack's limits."""
    header = "Governance report" + (f": {report.user}" if report.user else "")
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _clip(header, SLACK_MAX_HEADER_TEXT)},
        },
        {
            "type": "context",
            "elements": [_mrkdwn(_slack_escape(_period(report)), SLACK_MAX_FIELD_TEXT)],
        },
    ]
    fields = [
        _mrkdwn(f"*{_slack_escape(name)}*\n{_slack_escape(value)}", SLACK_MAX_FIELD_TEXT)
        for name, value in _figures(report)
    ]
    for offset in range(0, len(fields), SLACK_MAX_FIELDS):
        blocks.append({"type": "section", "fields": fields[offset : offset + SLACK_MAX_FIELDS]})
    if report.top_block_reasons:
        blocks.append({"type": "divider"})
        blocks.append(
            _ranked_section(
                "Top block reasons",
                [
                    f"{rank}. `{_slack_escape(_clip(rule, 200))}` — *{count:,}*\n"
                    f"     _{_slack_escape(_clip(' '.join(reason.split()), 300))}_"
                    for rank, (rule, reason, count) in enumerate(report.top_block_reasons, 1)
                ],
            )
        )
    if report.by_host:
        safe = [(_slack_escape(name.replace("`", "'")), t, b) for name, t, b in report.by_host]
        blocks.append(_chart_section("By host", text_bars(safe)))
    for title, rows in (("By tool", report.by_tool), ("By user", report.by_user)):
        if rows:
            blocks.append(
                _ranked_section(
                    title,
                    [
                        f"{_slack_escape(_clip(name, 200))}: {total:,} ({blocked:,} blocked)"
                        for name, total, blocked in rows
                    ],
                )
            )
    return blocks[:SLACK_MAX_BLOCKS]


# ---------------------------------------------------------------- HTML

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2rem;color:#1f2328}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}
th,td{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.health{font-weight:bold}.chart{margin:.5rem 0}
.legend span{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem 0 1rem}
"""
_ALLOWED_COLOUR = "#54aeff"
_BLOCKED_COLOUR = "#cf222e"


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _bar_chart(rows: list[tuple[str, int, int]], label: str) -> str:
    """Horizontal stacked bars (not blocked / blocked) as inline SVG."""
    if not rows:
        return "<p>No decisions in this period.</p>"
    bar_h, gap, label_w, plot_w = 18, 6, 180, 520
    height = len(rows) * (bar_h + gap) + gap
    peak = max(total for _, total, _ in rows) or 1
    parts = [
        f'<svg class="chart" role="img" aria-label="{_e(label)}" '
        f'width="{label_w + plot_w + 90}" height="{height}">'
    ]
    for index, (name, total, blocked) in enumerate(rows):
        y = gap + index * (bar_h + gap)
        rest_w = (total - blocked) / peak * plot_w
        blocked_w = blocked / peak * plot_w
        parts.append(
            f'<text x="{label_w - 6}" y="{y + bar_h - 4}" text-anchor="end" font-size="12">'
            f"{_e(_clip(name, 28))}</text>"
            f'<rect x="{label_w}" y="{y}" width="{rest_w:.1f}" height="{bar_h}" '
            f'fill="{_ALLOWED_COLOUR}"><title>{_e(name)}: {total - blocked:,} not blocked'
            f"</title></rect>"
            f'<rect x="{label_w + rest_w:.1f}" y="{y}" width="{blocked_w:.1f}" '
            f'height="{bar_h}" fill="{_BLOCKED_COLOUR}"><title>{_e(name)}: {blocked:,} blocked'
            f"</title></rect>"
            f'<text x="{label_w + rest_w + blocked_w + 4:.1f}" y="{y + bar_h - 4}" '
            f'font-size="12">{total:,}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _column_chart(rows: list[tuple[str, int, int]], label: str) -> str:
    """Vertical stacked columns per day as inline SVG."""
    if not rows:
        return "<p>No decisions in this period.</p>"
    plot_h, base, left = 200, 40, 50
    step = max(3.0, min(24.0, 900 / len(rows)))
    width = left + step * len(rows) + 10
    peak = max(total for _, total, _ in rows) or 1
    parts = [
        f'<svg class="chart" role="img" aria-label="{_e(label)}" '
        f'width="{width:.0f}" height="{plot_h + base}">',
        f'<text x="{left - 6}" y="12" text-anchor="end" font-size="11">{peak:,}</text>',
        f'<text x="{left - 6}" y="{plot_h}" text-anchor="end" font-size="11">0</text>',
        f'<line x1="{left}" y1="{plot_h}" x2="{width - 10:.0f}" y2="{plot_h}" stroke="#888"/>',
    ]
    label_every = max(1, math.ceil(len(rows) / 12))
    for index, (day, total, blocked) in enumerate(rows):
        x = left + index * step
        rest_h = (total - blocked) / peak * (plot_h - 10)
        blocked_h = blocked / peak * (plot_h - 10)
        parts.append(
            f'<rect x="{x:.1f}" y="{plot_h - rest_h:.1f}" width="{step * 0.8:.1f}" '
            f'height="{rest_h:.1f}" fill="{_ALLOWED_COLOUR}"><title>{_e(day)}: '
            f"{total:,} decisions</title></rect>"
            f'<rect x="{x:.1f}" y="{plot_h - rest_h - blocked_h:.1f}" width="{step * 0.8:.1f}" '
            f'height="{blocked_h:.1f}" fill="{_BLOCKED_COLOUR}"><title>{_e(day)}: '
            f"{blocked:,} blocked</title></rect>"
        )
        if index % label_every == 0:
            parts.append(
                f'<text x="{x:.1f}" y="{plot_h + 14}" font-size="10" '
                f'transform="rotate(30 {x:.1f} {plot_h + 14})">{_e(day[5:])}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _table(headers: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{value:,}</td>' if isinstance(value, int) else f"<td>{_e(value)}</td>"
            for value in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def to_html(report: Report, title: str = "Claude Code governance report") -> str:
    """A self-contained page for auditors: inline CSS and SVG, no scripts, nothing fetched."""
    legend = (
        f'<p class="legend"><span style="background:{_ALLOWED_COLOUR}"></span>not blocked'
        f'<span style="background:{_BLOCKED_COLOUR}"></span>blocked</p>'
    )
    reasons = (
        _table(("Rule", "Example reason", "Count"), list(report.top_block_reasons))
        if report.top_block_reasons
        else "<p>No blocks in this period.</p>"
    )
    sections = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f"<p>Period: {_e(_period(report))} ({report.days:g} days). Generated "
        f"{_e(_when(time.time()))}.</p>",
        f'<p class="health">Block rate {report.block_rate:.1%}: {_e(report.health)} '
        f"(healthy between {LENIENT_BELOW:.0%} and {STRICT_ABOVE:.0%}). "
        f"Risk in the last hour: {_e(report.risk_last_hour)}.</p>",
        "<h2>Summary</h2>",
        _table(("Figure", "Value"), _figures(report)),
        "<h2>Decisions per day (UTC)</h2>",
        legend,
        _column_chart(report.per_day, "Decisions per day"),
        _table(("Date", "Decisions", "Blocked"), list(report.per_day)),
        "<h2>Decisions by tool</h2>",
        _bar_chart(report.by_tool, "Decisions by tool"),
        _table(("Tool", "Decisions", "Blocked"), list(report.by_tool)),
        "<h2>Decisions by user</h2>",
        _bar_chart(report.by_user, "Decisions by user"),
        _table(("User", "Decisions", "Blocked"), list(report.by_user)),
        "<h2>Decisions by host</h2>",
        _bar_chart(report.by_host, "Decisions by host"),
        _table(("Host", "Decisions", "Blocked"), list(report.by_host)),
        "<h2>Top block reasons</h2>",
        reasons,
        "</body></html>",
    ]
    return "\n".join(sections) + "\n"
