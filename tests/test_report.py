"""The compliance report against an independent, plain-Python count of generated audit events.
Real stores on both backends (a SQLite file, a PostgreSQL database) are filled through
Store.append_audit; nothing here mocks the database."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from engine.report import (
    DAY_S,
    RISK_HIGH_BLOCKS,
    RISK_MEDIUM_BLOCKS,
    SLACK_MAX_BLOCKS,
    SLACK_MAX_FIELD_TEXT,
    SLACK_MAX_FIELDS,
    SLACK_MAX_HEADER_TEXT,
    SLACK_MAX_SECTION_TEXT,
    TOP_REASONS,
    UNKNOWN,
    Report,
    build_report,
    day_range,
    nearest_rank,
    rule_stats,
    text_bars,
    to_html,
    to_json,
    to_markdown,
    to_slack_blocks,
)
from engine.state import open_store
from engine.state.postgres import PostgresStore
from engine.store import Store

NOW = 1_750_000_000.0  # a fixed clock: 2025-06-15, mid-day UTC
USERS = [f"user-{n}" for n in range(6)]
TOOLS = ["Bash", "Read", "Edit", "Write", "WebFetch", "mcp__postgres__query"]
RULES = [f"bash_commands.blocked_patterns[{n}]" for n in range(14)]
RISKS = ["low", "medium", "high", "critical"]
# Uneven, so the by-host ordering is no tie; None is a row with no host (a local decision).
HOSTS = ["laptop-1", "laptop-2", "laptop-2", "ci-runner-1", "laptop-2", None, "laptop-1"]
FINISH = ("approval_approved", "approval_denied", "approval_expired", "approval_cancelled")


@dataclass
class Generated:
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, kind: str, **fields: Any) -> None:
        self.rows.append({"kind": kind, **fields})


def _generate(seed: int = 20250615, decisions: int = 4_200) -> Generated:
    rng = random.Random(seed)
    out = Generated()
    # Skewed weights so the by-tool and by-user orderings are not ties.
    user_weights = [1, 2, 3, 5, 8, 13]
    tool_weights = [30, 25, 15, 8, 5, 3]
    for index in range(decisions):
        # 30 days back plus a few days before that, so the period boundary is exercised.
        ts = NOW - rng.uniform(0, 33 * DAY_S)
        user = rng.choices(USERS, user_weights)[0]
        tool = rng.choices(TOOLS, tool_weights)[0]
        mode = "audit" if rng.random() < 0.15 else "enforce"
        would_be = rng.choices(["allow", "deny", "approve"], [75, 15, 10])[0]
        decision = "allow" if mode == "audit" else would_be
        rule = rng.choice(RULES) if would_be != "allow" else None
        risk = rng.choice(RISKS) if would_be != "allow" else "low"
        reason = f"{rule} matched variant {rng.randrange(4)}" if rule else "allowed: no rule"
        out.add(
            "decision",
            ts=ts,
            user=user,
            tool_name=tool,
            decision=decision,
            would_be=would_be,
            mode=mode,
            rule=rule,
            risk=risk,
            reason=reason,
            host=HOSTS[index % len(HOSTS)],
        )
        if decision == "approve":
            approval_id = f"apr-{index}"
            requested = ts + 0.01
            out.add(
                "approval_requested",
                ts=requested,
                user=user,
                tool_name=tool,
                approval_id=approval_id,
                rule=rule,
                risk=risk,
                decision="pending",
            )
            outcome = rng.choices(["approved", "denied", "expired", "cancelled", "none"])[0]
            if outcome == "none":
                continue  # never answered: pending for ever
            latency = rng.expovariate(1 / 600) if outcome != "expired" else 3_600.0
            for _ in range(rng.choice([1, 1, 1, 3])):
                out.add("vote", ts=requested + latency / 2, user=rng.choice(USERS), decision="ok")
            # Finishes after NOW exist too: as of NOW those requests are still pending.
            out.add(
                f"approval_{outcome}",
                ts=requested + latency,
                user=user,
                tool_name=tool,
                approval_id=approval_id,
                decision=outcome,
            )
    for kind, count in (
        ("break_glass_opened", 9),
        ("override", 40),
        ("false_positive", 25),
        ("spooled_event", 30),
    ):
        for _ in range(count):
            out.add(kind, ts=NOW - rng.uniform(0, 33 * DAY_S), user=rng.choice(USERS))
    # Not decisions, although they carry a decision column: must not be counted.
    for _ in range(20):
        out.add("prompt", ts=NOW - rng.uniform(0, 5 * DAY_S), user=USERS[0], decision="deny")
    # After the period's end: invisible to a report ending at NOW.
    for _ in range(15):
        out.add(
            "decision",
            ts=NOW + rng.uniform(1, 3_000),
            user=USERS[1],
            tool_name="Bash",
            decision="deny",
            mode="enforce",
            would_be="deny",
            rule=RULES[0],
            risk="critical",
            reason="late",
        )
    # A burst of blocks in the last hour so risk_last_hour is not trivially LOW.
    for minute in range(4):
        out.add(
            "decision",
            ts=NOW - 60.0 * (minute + 1) - rng.random(),
            user=USERS[2],
            tool_name="Bash",
            decision="deny",
            would_be="deny",
            mode="enforce",
            rule=RULES[1],
            risk="high",
            reason="burst",
        )
    out.rows.sort(key=lambda row: row["ts"])
    return out


def _fill(location: str, rows: list[dict[str, Any]]) -> Store:
    store = open_store(location)
    # One transaction for the batch: per-row commits would make the fixture slow.
    with store.batch():
        for row in rows:
            fields = {k: v for k, v in row.items() if k != "kind"}
            store.append_audit(row["kind"], **fields)
    return store


@pytest.fixture(scope="module")
def generated() -> Generated:
    return _generate()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def big_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, generated: Generated
) -> Iterator[Store]:
    if request.param == "sqlite":
        location = str(tmp_path_factory.mktemp("report") / "audit.db")
    else:
        location = request.getfixturevalue("pg_server").fresh_database()
    store = _fill(location, generated.rows)
    yield store
    store.close()


# ------------------------------------------------------------ the independent computation


def _in(row: dict[str, Any], start: float, end: float) -> bool:
    return start <= row["ts"] < end


def _expected(rows: list[dict[str, Any]], days: float, now: float, user: str | None) -> dict:
    start, end = now - days * DAY_S, now

    def mine(row: dict[str, Any]) -> bool:
        return user is None or row.get("user") == user

    decisions = [r for r in rows if r["kind"] == "decision" and _in(r, start, end) and mine(r)]
    blocked = [r for r in decisions if r["decision"] == "deny"]

    def tally(key: str) -> list[tuple[str, int, int]]:
        totals: dict[str, list[int]] = {}
        for row in decisions:
            entry = totals.setdefault(row.get(key) or UNKNOWN, [0, 0])
            entry[0] += 1
            entry[1] += row["decision"] == "deny"
        return sorted(((k, t, b) for k, (t, b) in totals.items()), key=lambda x: (-x[1], x[0]))

    days_seen: dict[str, list[int]] = {}
    for row in decisions:
        day = datetime.fromtimestamp(row["ts"], UTC).date().isoformat()
        entry = days_seen.setdefault(day, [0, 0])
        entry[0] += 1
        entry[1] += row["decision"] == "deny"

    reasons: dict[str, dict[str, Any]] = {}
    for row in blocked:
        entry = reasons.setdefault(row["rule"], {"count": 0, "ts": -1.0, "reason": ""})
        entry["count"] += 1
        if row["ts"] > entry["ts"]:
            entry["ts"], entry["reason"] = row["ts"], row["reason"]
    top = sorted(reasons.items(), key=lambda item: (-item[1]["count"], item[0]))[:TOP_REASONS]

    requests = [
        r for r in rows if r["kind"] == "approval_requested" and _in(r, start, end) and mine(r)
    ]
    first_finish: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["kind"] in FINISH and row["ts"] < end:
            known = first_finish.get(row["approval_id"])
            if known is None or row["ts"] < known["ts"]:
                first_finish[row["approval_id"]] = row
    outcome = {"approval_approved": 0, "approval_denied": 0, "approval_expired": 0}
    pending = 0
    latencies = []
    for request in requests:
        finish = first_finish.get(request["approval_id"])
        if finish is None:
            pending += 1
            continue
        if finish["kind"] in outcome:
            outcome[finish["kind"]] += 1
        if finish["kind"] in ("approval_approved", "approval_denied"):
            latencies.append(finish["ts"] - request["ts"])
    latencies.sort()

    def percentile(fraction: float) -> float | None:
        if not latencies:
            return None
        return latencies[math.ceil(fraction * len(latencies)) - 1]

    def count(kind: str) -> int:
        return sum(1 for r in rows if r["kind"] == kind and _in(r, start, end) and mine(r))

    recent = [r for r in blocked if r["ts"] >= end - 3_600]
    if len(recent) >= RISK_HIGH_BLOCKS or any(r["risk"] == "critical" for r in recent):
        risk = "HIGH"
    elif len(recent) >= RISK_MEDIUM_BLOCKS:
        risk = "MEDIUM"
    else:
        risk = "LOW"
    rate = len(blocked) / len(decisions) if decisions else 0.0
    return {
        "period_start": start,
        "period_end": end,
        "total_decisions": len(decisions),
        "allowed": sum(r["decision"] == "allow" for r in decisions),
        "blocked": len(blocked),
        "needed_approval": sum(r["decision"] == "approve" for r in decisions),
        "approvals_requested": len(requests),
        "approved": outcome["approval_approved"],
        "denied": outcome["approval_denied"],
        "expired": outcome["approval_expired"],
        "pending": pending,
        "would_have_blocked": sum(
            r["mode"] == "audit" and r["would_be"] in ("deny", "approve") for r in decisions
        ),
        "by_tool": tally("tool_name"),
        "by_user": tally("user"),
        "by_host": tally("host"),
        "per_day_nonzero": {day: tuple(v) for day, v in days_seen.items()},
        "top_block_reasons": [(rule, e["reason"], e["count"]) for rule, e in top],
        "latency_p50_s": percentile(0.50),
        "latency_p95_s": percentile(0.95),
        "latency_max_s": latencies[-1] if latencies else None,
        "block_rate": rate,
        "health": "no data"
        if not decisions
        else "too lenient"
        if rate < 0.01
        else "too strict"
        if rate > 0.20
        else "healthy",
        "break_glass_uses": count("break_glass_opened"),
        "overrides": count("override"),
        "false_positives": count("false_positive"),
        "risk_last_hour": risk,
    }


# ------------------------------------------------------------ the big generated store


@pytest.mark.parametrize(
    ("days", "user"),
    [(7, None), (30, None), (7, "user-3"), (30, "user-5"), (1.5, None), (30, "nobody")],
)
def test_every_figure_matches_independent_count(
    big_store: Store, generated: Generated, days: float, user: str | None
) -> None:
    report = build_report(big_store.db, days=days, now=NOW, user=user)
    expected = _expected(generated.rows, days, NOW, user)
    per_day_nonzero = expected.pop("per_day_nonzero")
    for name, value in expected.items():
        actual = getattr(report, name)
        if isinstance(value, float):
            assert actual == pytest.approx(value, abs=1e-6), name
        else:
            assert actual == value, name
    # Days without decisions are shown as zero, so the chart has no silent gaps.
    assert [day for day, _, _ in report.per_day] == day_range(NOW - days * DAY_S, NOW)
    assert {d: (t, b) for d, t, b in report.per_day if t} == per_day_nonzero
    assert report.days == days
    assert report.user == user


def test_generated_data_exercises_every_figure(big_store: Store) -> None:
    report = build_report(big_store.db, days=30, now=NOW)
    assert report.total_decisions > 3_000
    assert len(report.by_tool) == len(TOOLS) and len(report.by_user) == len(USERS)
    assert len(report.top_block_reasons) == TOP_REASONS
    for figure in ("approved", "denied", "expired", "pending", "would_have_blocked"):
        assert getattr(report, figure) > 0, figure
    assert report.break_glass_uses and report.overrides and report.false_positives
    assert report.latency_p50_s < report.latency_p95_s < report.latency_max_s
    assert report.risk_last_hour == "MEDIUM"
    assert report.health == "healthy"
    # The cohort identity: every request made in the period has exactly one state.
    cancelled = report.approvals_requested - (
        report.approved + report.denied + report.expired + report.pending
    )
    assert cancelled > 0


def test_rule_stats_match_independent_count(big_store: Store, generated: Generated) -> None:
    start, end = NOW - 30 * DAY_S, NOW
    rows = generated.rows
    expected: dict[str, list[int]] = {}
    for row in rows:
        if row["kind"] == "decision" and row.get("rule") and _in(row, start, end):
            entry = expected.setdefault(row["rule"], [0, 0, 0, 0, 0])
            entry[0] += 1
            entry[1] += row["decision"] == "deny"
    first_finish: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["kind"] in FINISH and row["ts"] < end:
            known = first_finish.get(row["approval_id"])
            if known is None or row["ts"] < known["ts"]:
                first_finish[row["approval_id"]] = row
    for row in rows:
        if row["kind"] == "approval_requested" and _in(row, start, end):
            entry = expected.setdefault(row["rule"], [0, 0, 0, 0, 0])
            entry[2] += 1
            finish = first_finish.get(row["approval_id"], {}).get("kind")
            entry[3] += finish == "approval_approved"
            entry[4] += finish == "approval_denied"
    stats = rule_stats(big_store.db, 30, now=NOW)
    assert len(stats) == len(expected)
    assert [s.fired for s in stats] == sorted((s.fired for s in stats), reverse=True)
    for stat in stats:
        fired, blocked, requested, approved, denied = expected[stat.rule]
        assert (stat.fired, stat.blocked, stat.approvals_requested) == (fired, blocked, requested)
        assert (stat.approved, stat.denied) == (approved, denied)
        rate = approved / (approved + denied) if approved + denied else None
        assert stat.approval_rate == pytest.approx(rate)


@pytest.mark.parametrize("key", ["tool_name", "host"])
def test_decision_figures_come_from_the_covering_index(big_store: Store, key: str) -> None:
    query = (
        f"SELECT {key}, COUNT(*), COUNT(*) FILTER (WHERE decision = 'deny') FROM audit "
        "WHERE kind = 'decision' AND ts >= 0 AND ts < 1 GROUP BY 1"
    )
    with big_store.batch():
        if isinstance(big_store, PostgresStore):
            # A few thousand rows would be cheaper to scan; ask whether the index can cover.
            big_store.db.execute("SET LOCAL enable_seqscan = off")
            plan = " ".join(row[0] for row in big_store.db.execute(f"EXPLAIN {query}").fetchall())
            assert "Index Only Scan using audit_report_kind_ts" in plan
        else:
            rows = big_store.db.execute(f"EXPLAIN QUERY PLAN {query}").fetchall()
            assert "COVERING INDEX audit_report_kind_ts" in " ".join(str(r[-1]) for r in rows)


# ------------------------------------------------------------ tiny hand-made stores


def _decisions(store: Store, blocked: int, allowed: int, *, risk: str = "medium") -> None:
    for n in range(blocked):
        store.append_audit(
            "decision",
            ts=NOW - 7_200 - n,
            user="alice",
            tool_name="Bash",
            decision="deny",
            rule="r.block",
            risk=risk,
            reason="no",
        )
    for n in range(allowed):
        store.append_audit("decision", ts=NOW - 7_200 - n, user="bob", decision="allow")


@pytest.mark.parametrize(
    ("blocked", "allowed", "health"),
    [
        (1, 199, "too lenient"),  # 0.5%
        (1, 99, "healthy"),  # exactly 1% is not under 1%
        (10, 90, "healthy"),  # 10%
        (20, 80, "healthy"),  # exactly 20% is not over 20%
        (25, 75, "too strict"),  # 25%
        (0, 0, "no data"),
    ],
)
def test_health_thresholds(db_location: str, blocked: int, allowed: int, health: str) -> None:
    store = open_store(db_location)
    _decisions(store, blocked, allowed)
    report = build_report(store.db, days=1, now=NOW)
    assert report.health == health
    assert report.block_rate == (blocked / (blocked + allowed) if blocked + allowed else 0.0)


def test_empty_store(db_location: str) -> None:
    report = build_report(open_store(db_location).db, days=7, now=NOW)
    assert report.total_decisions == 0 and report.block_rate == 0.0
    assert report.latency_p50_s is None and report.latency_max_s is None
    assert report.by_tool == [] and report.top_block_reasons == []
    assert report.risk_last_hour == "LOW"
    assert len(report.per_day) == 8  # a 7-day window starting mid-day touches 8 dates
    assert all(total == 0 for _, total, _ in report.per_day)
    for render in (to_json, to_markdown, to_html):
        assert render(report)
    assert len(to_slack_blocks(report)) <= SLACK_MAX_BLOCKS


@pytest.mark.parametrize(
    ("blocks", "risk", "age_s", "level"),
    [
        (1, "critical", 60, "HIGH"),
        (RISK_HIGH_BLOCKS, "medium", 60, "HIGH"),
        (RISK_HIGH_BLOCKS - 1, "high", 60, "MEDIUM"),
        (RISK_MEDIUM_BLOCKS, "low", 60, "MEDIUM"),
        (RISK_MEDIUM_BLOCKS - 1, "high", 60, "LOW"),
        (20, "critical", 3_700, "LOW"),  # older than an hour: history, not current risk
    ],
)
def test_risk_last_hour(db_location: str, blocks: int, risk: str, age_s: float, level: str) -> None:
    store = open_store(db_location)
    for n in range(blocks):
        store.append_audit(
            "decision", ts=NOW - age_s - n, decision="deny", risk=risk, rule="r", user="u"
        )
    store.append_audit("decision", ts=NOW - 30, decision="allow", risk="critical", user="u")
    assert build_report(store.db, days=1, now=NOW).risk_last_hour == level


def test_latency_uses_nearest_rank() -> None:
    values = [float(n) for n in range(1, 21)]
    assert nearest_rank(values, 0.50) == 10.0
    assert nearest_rank(values, 0.95) == 19.0
    assert nearest_rank(values, 1.0) == 20.0
    assert nearest_rank([7.0], 0.95) == 7.0
    assert nearest_rank([], 0.5) is None


def test_latency_pairs_by_approval_id(db_location: str) -> None:
    store = open_store(db_location)
    for n in range(3):
        store.append_audit("approval_requested", ts=NOW - 5_000 + n, approval_id=f"a{n}")
    # Finishes arrive interleaved and out of request order.
    store.append_audit("approval_denied", ts=NOW - 5_000 + 2 + 500.0, approval_id="a2")
    store.append_audit("approval_approved", ts=NOW - 5_000 + 0 + 5.0, approval_id="a0")
    store.append_audit("approval_approved", ts=NOW - 5_000 + 1 + 50.0, approval_id="a1")
    report = build_report(store.db, days=1, now=NOW)
    assert (report.latency_p50_s, report.latency_p95_s, report.latency_max_s) == pytest.approx(
        (50.0, 500.0, 500.0)
    )
    assert (report.approved, report.denied, report.pending) == (2, 1, 0)


def test_days_must_be_positive(db_location: str) -> None:
    with pytest.raises(ValueError):
        build_report(open_store(db_location).db, days=0, now=NOW)


def test_day_range_ignores_an_end_exactly_at_midnight() -> None:
    midnight = datetime(2025, 6, 15, tzinfo=UTC).timestamp()
    assert day_range(midnight - DAY_S, midnight) == ["2025-06-14"]
    assert day_range(midnight - DAY_S, midnight + 1) == ["2025-06-14", "2025-06-15"]


# ------------------------------------------------------------ renderers


@pytest.fixture
def report(big_store: Store) -> Report:
    return build_report(big_store.db, days=30, now=NOW)


def test_json_report_has_named_fields_iso_times_and_matches_its_published_schema(
    report: Report,
) -> None:
    document = json.loads(to_json(report))
    schema = json.loads((Path(__file__).parent.parent / "docs/report.schema.json").read_text())
    jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(document)
    assert document["total_decisions"] == report.total_decisions
    assert document["period_start"].endswith("Z") and "T" in document["period_start"]
    tool, total, blocked = report.by_tool[0]
    assert document["by_tool"][0] == {"tool": tool, "decisions": total, "blocked": blocked}
    rule, reason, count = report.top_block_reasons[0]
    assert document["top_block_reasons"][0] == {"rule": rule, "reason": reason, "count": count}


def test_markdown_has_the_totals(report: Report) -> None:
    text = to_markdown(report)
    assert f"| Decisions | {report.total_decisions:,} |" in text
    assert f"| Blocked | {report.blocked:,} |" in text
    assert report.health in text
    for tool, total, blocked in report.by_tool:
        assert f"| {tool.replace('_', chr(92) + '_')} | {total:,} | {blocked:,} |" in text


def _check_slack_limits(blocks: list[dict[str, Any]]) -> None:
    assert 0 < len(blocks) <= SLACK_MAX_BLOCKS
    for block in blocks:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= SLACK_MAX_HEADER_TEXT
        if block["type"] == "section":
            if "text" in block:
                assert len(block["text"]["text"]) <= SLACK_MAX_SECTION_TEXT
            fields = block.get("fields", [])
            assert len(fields) <= SLACK_MAX_FIELDS
            assert all(len(f["text"]) <= SLACK_MAX_FIELD_TEXT for f in fields)
    json.dumps(blocks)  # plain dicts only


def test_slack_blocks_within_limits(report: Report) -> None:
    blocks = to_slack_blocks(report)
    _check_slack_limits(blocks)
    text = json.dumps(blocks)
    assert f"{report.total_decisions:,}" in text
    assert report.top_block_reasons[0][0] in text


def test_slack_blocks_survive_huge_and_hostile_text(report: Report) -> None:
    hostile = report.model_copy(
        update={
            "user": "<!channel> " + "x" * 500,
            "by_user": [(f"<@U{n}> " + "y" * 400, n, 0) for n in range(300)],
            "by_host": [(f"<!here> ``` h{n}", n, n // 2) for n in range(300)],
            "top_block_reasons": [("r" * 500, "<!here> " + "z" * 5_000, 1)] * 10,
        }
    )
    blocks = to_slack_blocks(hostile)
    _check_slack_limits(blocks)
    # Only mrkdwn parses mentions; plain_text (the header) shows them as typed.
    mrkdwn = json.dumps([b for b in blocks if b["type"] != "header"])
    assert "<!channel>" not in mrkdwn and "<!here>" not in mrkdwn and "<@U" not in mrkdwn


def test_text_bars_scale_to_the_largest_and_mark_the_blocked_part() -> None:
    rows = [("laptop-2", 20, 5), ("ci-1", 10, 0), ("idle", 0, 0), ("a\nb", 1, 1)]
    assert text_bars(rows, width=8) == [
        "laptop-2 ██████▒▒ 20 (5 blocked)",
        "ci-1     ████     10 (0 blocked)",
        "idle              0 (0 blocked)",
        "a b      ▒        1 (1 blocked)",  # one decision still shows; a newline cannot split
    ]


def test_the_by_host_table_and_chart_are_in_every_format(report: Report) -> None:
    (first, *_) = report.by_host
    assert first[0] == "laptop-2"  # the busiest host leads
    assert {host for host, _, _ in report.by_host} == {
        "laptop-1",
        "laptop-2",
        "ci-runner-1",
        "(none)",
    }
    markdown = to_markdown(report)
    assert "## By host" in markdown and f"| laptop-2 | {first[1]:,} | {first[2]:,} |" in markdown
    assert f"    {text_bars(report.by_host)[0]}" in markdown
    slack = json.dumps(to_slack_blocks(report), ensure_ascii=False)
    assert "*By host*" in slack and text_bars(report.by_host)[0] in slack
    page = to_html(report)
    assert 'aria-label="Decisions by host"' in page
    assert f'<td>laptop-2</td><td class="n">{first[1]:,}</td>' in page


def test_html_is_self_contained(report: Report) -> None:
    page = to_html(report)
    assert page.count("<svg") == 4  # per day, by tool, by user, by host
    assert f"{report.total_decisions:,}" in page and f"{report.blocked:,}" in page
    for tool, total, _ in report.by_tool:
        assert f'<td>{tool}</td><td class="n">{total:,}</td>' in page
    lowered = page.lower()
    assert "http://" not in lowered and "https://" not in lowered
    assert "<script" not in lowered and "src=" not in lowered and "@import" not in lowered


def test_html_escapes_every_text(report: Report) -> None:
    evil = "<script>alert(1)</script>"
    hostile = report.model_copy(
        update={
            "user": evil,
            "by_tool": [(evil, 3, 1)],
            "by_user": [(evil, 3, 1)],
            "top_block_reasons": [(evil, evil, 1)],
        }
    )
    page = to_html(hostile, title=evil)
    assert "<script" not in page.lower()
    assert "&lt;script&gt;" in page


def test_markdown_cells_cannot_break_the_table(report: Report) -> None:
    hostile = report.model_copy(update={"by_user": [("a|b\n# c <img>", 2, 1)]})
    text = to_markdown(hostile)
    assert "| a\\|b # c \\<img\\> | 2 | 1 |" in text
