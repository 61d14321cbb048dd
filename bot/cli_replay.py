"""`governance policy replay`: what a new policy would have done to the recorded tool calls.
Reads the audit trail read-only and prints the engine's comparison; it never writes a row."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bot import config
from bot.cli_audit import parse_since
from engine.policy import BUILTIN_POLICY_NAME, builtin_policy, load_policy
from engine.replay import RENDERERS, replay
from engine.state import open_store


def _idle_cores() -> int:
    """Two processes only when a second core is idle: on a busy machine (measured, load 9 on
    2 cores) the second process made replay slower, not faster."""
    cores = min(2, os.cpu_count() or 1)
    return cores if os.getloadavg()[0] <= (os.cpu_count() or 1) - 1 else 1


def cmd_policy_replay(args: argparse.Namespace) -> int:
    if args.policy in ("builtin", BUILTIN_POLICY_NAME):
        policy, name = builtin_policy(), BUILTIN_POLICY_NAME
    else:
        policy, name = load_policy(args.policy), args.policy
    db = config.db_path(args.db)
    if isinstance(db, Path) and not db.exists():
        print(f"governance policy replay: no audit database at {db}", file=sys.stderr)
        return 2
    rows = open_store(db).decision_rows(parse_since(args.since))
    result = replay(rows, policy, name, args.since, workers=args.workers or _idle_cores())
    rendered = RENDERERS[args.format](result)
    if args.output:
        Path(args.output).write_text(rendered, encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(rendered)
    # For CI: a policy change that would newly deny recorded work fails the build.
    return 1 if result.newly_denied else 0


def register(policy_commands: argparse._SubParsersAction) -> None:
    parser = policy_commands.add_parser(
        "replay", help="re-judge the recorded tool calls under a new policy, report changes"
    )
    parser.add_argument("policy", help="the new policy file, or `builtin`")
    parser.add_argument("--since", default="30d", help="7d, 24h, 30m or an ISO date (default 30d)")
    parser.add_argument("--db", help=config.DB_HELP)
    parser.add_argument(
        "--format", choices=tuple(RENDERERS), default="markdown", help="default markdown"
    )
    parser.add_argument("-o", "--output", help="write to this file instead of stdout")
    parser.add_argument(
        "--workers",
        type=int,
        help="processes judging distinct calls (default: 2 when a second core is idle, else 1)",
    )
    parser.set_defaults(handler=cmd_policy_replay)
