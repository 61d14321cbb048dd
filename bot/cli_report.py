"""`governance report` and `governance feedback`: the compliance report in four formats, the
per-rule tuning view, and false-positive flags. Rendering lives in engine/report.py."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot import config
from bot.config import DB_HELP
from engine.evaluate import Engine
from engine.policy import builtin_policy, load_policy
from engine.report import build_report, rule_stats, to_html, to_json, to_markdown, to_slack_blocks
from engine.state import open_store
from engine.store import Store


def cmd_report(args: argparse.Namespace) -> int:
    store = open_store(config.db_path(args.db))
    if args.rules:
        policy_file = config.policy_path(args.policy)
        policy = load_policy(policy_file) if policy_file else builtin_policy()
        return _print_rules(store, args.days, Engine(policy).rule_ids())
    report = build_report(store.db, days=args.days, user=args.user)
    rendered = {
        "markdown": to_markdown,
        "json": to_json,
        "html": to_html,
        "slack": lambda r: json.dumps(to_slack_blocks(r), indent=2),
    }[args.format](report)
    if args.output:
        Path(args.output).write_text(rendered, encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(rendered if rendered.endswith("\n") else rendered + "\n")
    return 0


def _print_rules(store: Store, days: float, policy_rules: list[str]) -> int:
    stats = rule_stats(store.db, days)
    fired = {stat.rule for stat in stats}
    quiet = [rule for rule in policy_rules if rule not in fired]
    # A false-positive row carries the flagged rule in its own rule column.
    flags = dict(
        store.db.execute(
            "SELECT rule, COUNT(*) FROM audit WHERE kind = 'false_positive' GROUP BY 1"
        ).fetchall()
    )
    # "decided": the rule that made a call's decision (the audit row's rule). `explain` lists
    # every rule that *matched*; a rule can match a call that a stricter rule decided.
    print(f"{'rule':<48} {'decided':>7} {'blocked':>7} {'asked':>6} {'granted':>7} {'FP':>4}")
    for stat in stats:
        rate = "" if stat.approval_rate is None else f"{stat.approval_rate:.0%}"
        hint = "  <- always approved: a candidate to relax" if rate == "100%" else ""
        print(
            f"{stat.rule:<48} {stat.fired:>7} {stat.blocked:>7} {stat.approvals_requested:>6} "
            f"{rate:>7} {flags.get(stat.rule, 0):>4}{hint}"
        )
    for rule in quiet:
        print(
            f"{rule:<48} {0:>7} {0:>7} {0:>6} {'':>7} {flags.get(rule, 0):>4}  "
            f"<- decided no call in {days:g} days"
        )
    return 0


def cmd_feedback(args: argparse.Namespace) -> int:
    store = open_store(config.db_path(args.db))
    flagged = store.flag_false_positive(
        args.audit_id,
        args.user or config.current_user(),
        args.note or "flagged as a false positive",
    )
    if flagged is None:
        print(f"governance feedback: no audit row {args.audit_id}", file=sys.stderr)
        return 1
    seq, rule = flagged
    what = f"rule {rule}" if rule else "a call no rule objected to"
    print(f"recorded false positive on row {args.audit_id} ({what}) as row {seq}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser("report", help="the compliance report")
    report.add_argument("--days", type=float, default=7, help="the last N days (default 7)")
    report.add_argument("--user", help="only this user's activity")
    report.add_argument(
        "--format",
        choices=("markdown", "json", "html", "slack"),
        default="markdown",
        help="json follows docs/report.schema.json; slack is Block Kit JSON",
    )
    report.add_argument("-o", "--output", help="write to a file instead of stdout")
    report.add_argument(
        "--rules",
        action="store_true",
        help="per rule: fired, blocked, approval rate, false-positive flags",
    )
    report.add_argument("--policy", help="policy whose rules --rules lists (default as serve)")
    report.add_argument("--db", help=DB_HELP)
    report.set_defaults(handler=cmd_report)

    feedback = commands.add_parser("feedback", help="flag a decision as a false positive")
    feedback.add_argument("audit_id", type=int, help="the audit row's seq (audit search shows it)")
    feedback.add_argument(
        "--false-positive", action="store_true", required=True, help="the only kind of feedback"
    )
    feedback.add_argument("--note", help="why the decision was wrong")
    feedback.add_argument("--user", help="who flags it (default: you)")
    feedback.add_argument("--db", help=DB_HELP)
    feedback.set_defaults(handler=cmd_feedback)
