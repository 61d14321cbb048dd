"""`governance audit verify|search|export`: reads the audit trail straight from the database.
Read-only: the server is the trail's only writer."""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot import config
from bot.config import DB_HELP, product_version
from engine.anchors import check_anchor, parse_anchor
from engine.policy import builtin_policy, load_policy
from engine.redact import redact
from engine.siem import to_cef, to_ocsf
from engine.state import open_store
from engine.state.hosts import HostRegistry
from engine.state.streams import host_streams
from engine.store import Store
from engine.witness import WitnessFile, current_anchor, table_state

SIEM_FORMATS = {"ocsf": to_ocsf, "cef": to_cef}
MAX_GAPS_SHOWN = 10

_COLUMNS = (
    "seq",
    "ts",
    "kind",
    "user",
    "tool_name",
    "decision",
    "rule",
    "risk",
    "reason",
    "approval_id",
    "session_id",
    "repo",
    "branch",
)


def parse_since(text: str) -> float:
    """`7d`, `24h`, `30m` ago, or an ISO date/time."""
    match = re.fullmatch(r"(\d+)\s*([dhm])", text.strip())
    if match:
        seconds = {"d": 86400, "h": 3600, "m": 60}[match.group(2)]
        return time.time() - int(match.group(1)) * seconds
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise SystemExit(f"governance: --since {text!r}: use 7d, 24h, 30m or an ISO date") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _filters(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    clauses, params = [], {}
    for column, value in (
        ("user", args.user),
        ("host", args.host),
        ("tool_name", args.tool),
        ("decision", args.status),
    ):
        if value:
            clauses.append(f'"{column}" = :{column}')
            params[column] = value
    if args.since:
        clauses.append("ts >= :since")
        params["since"] = parse_since(args.since)
    return " AND ".join(clauses), params


def cmd_verify(args: argparse.Namespace) -> int:
    """The chain's own links, then the table against the latest witness anchor and any
    `--anchor SEQ:HASH` copied from the security channel."""
    try:
        given = [parse_anchor(text) for text in args.anchor or ()]
    except ValueError as error:
        raise SystemExit(f"governance audit verify: {error}") from None
    db = config.db_path(args.db)
    store = open_store(db)
    report = store.verify()
    failed = not report.ok
    if report.ok:
        print(f"audit chain intact: {report.checked} rows verified")
    else:
        print(
            f"audit chain BROKEN at row {report.first_bad_seq}: {report.problem} "
            f"({report.checked} rows before it verified)"
        )
    failed |= not _print_host_streams(store)
    witness = WitnessFile(config.witness_path(args.witness_file, db))
    log = witness.read()
    if log is None:
        print(f"no witness file at {witness.path}: the trail was checked against no anchor")
    elif log.problem is not None:
        print(f"witness file {witness.path} BROKEN: {log.problem}")
        failed = True
    elif log.latest is None:
        print(f"witness file {witness.path} holds no anchor yet")
    anchors = ([log.latest] if log is not None and log.latest is not None else []) + given
    for anchor in anchors:
        problem = check_anchor(anchor, table_state(store, anchor))
        if problem is None:
            print(f"the trail extends {anchor.describe()}")
        else:
            print(f"audit trail FAILS its anchor: {problem}")
            failed = True
    return 1 if failed else 0


def _print_host_streams(store: Store) -> bool:
    """Each remote host's uploaded stream, checked for gaps; False if any stream has one."""
    registry = HostRegistry(store)
    streams = host_streams(registry.received_event_ids())
    backlog = {host.name: host.spool_backlog for host in registry.hosts()}
    for stream in streams:
        waiting = backlog.get(stream.host)
        spooled = f"; {waiting:,} more were spooled on it at its last contact" if waiting else ""
        if stream.ok:
            print(f"host {stream.host}: events 1-{stream.highest} all received{spooled}")
            continue
        if stream.gaps:
            shown = ", ".join(gap.describe() for gap in stream.gaps[:MAX_GAPS_SHOWN])
            more = len(stream.gaps) - MAX_GAPS_SHOWN
            print(
                f"host {stream.host}: stream has GAPS: {stream.missing:,} of events "
                f"1-{stream.highest} missing: {shown}"
                + (f" and {more:,} more ranges" if more > 0 else "")
                + spooled
            )
        if stream.unnumbered:
            print(
                f"host {stream.host}: {len(stream.unnumbered):,} event(s) with ids that are not "
                f"sequence numbers, so unchecked: {', '.join(stream.unnumbered[:MAX_GAPS_SHOWN])}"
            )
    return all(stream.ok for stream in streams)


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def cmd_search(args: argparse.Namespace) -> int:
    where, params = _filters(args)
    rows = list(open_store(config.db_path(args.db)).audit_rows(where, params, order="seq DESC"))
    for row in reversed(rows[: args.limit]):
        print(
            f"{row['seq']:>7}  {_when(row['ts'])}  {row['kind']:<18} {row['user'] or '-':<12} "
            f"{row['host'] or '-':<14} {row['tool_name'] or '-':<10} {row['decision'] or '-':<9} "
            f"{row['rule'] or '-'}"
            f"{'  ' + row['approval_id'] if row['approval_id'] else ''}"
        )
    print(f"{min(len(rows), args.limit)} of {len(rows)} matching rows")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    where, params = _filters(args)
    # Rows are redacted when written; redacting again on the way out covers rows written by
    # an older version with a narrower redaction table.
    rows = map(redact, open_store(config.db_path(args.db)).audit_rows(where, params))
    with contextlib.ExitStack() as stack:
        out = sys.stdout
        if args.output:
            out = stack.enter_context(open(args.output, "w", newline="", encoding="utf-8"))
        if args.format in SIEM_FORMATS:
            render = SIEM_FORMATS[args.format]
            for row in rows:
                rendered = render(row, product_version())
                out.write((rendered if isinstance(rendered, str) else json.dumps(rendered)) + "\n")
        elif args.format == "csv":
            writer = csv.DictWriter(
                out, fieldnames=[*_COLUMNS, "payload", "prev_hash", "hash"], extrasaction="ignore"
            )
            writer.writeheader()
            writer.writerows(rows)
        else:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return 0


def cmd_prune(args: argparse.Namespace) -> int:
    days = args.days
    if days is None:
        policy_file = config.policy_path(args.policy)
        policy = load_policy(policy_file) if policy_file else builtin_policy()
        days = policy.audit.retention_days
    store = open_store(config.db_path(args.db))
    # Absolute, so `audit verify` finds the archive from any directory.
    archive_dir = (
        Path(args.archive_dir) if args.archive_dir else config.state_dir() / "archive"
    ).absolute()
    checkpoint = store.prune(time.time() - days * 86400, archive_dir)
    if checkpoint is None:
        print(f"nothing older than {days:g} days")
        return 0
    # The new checkpoint is anchored at once, so a checkpoint forged later cannot pass for it.
    # (`config.db_path`, not the store: a PostgreSQL store has no file path.)
    witness = WitnessFile(config.witness_path(args.witness_file, config.db_path(args.db)))
    anchor = current_anchor(store, "prune")
    try:
        if anchor is not None:
            witness.append(anchor)
    except OSError as error:
        print(f"could not anchor the prune in {witness.path}: {error.strerror}", file=sys.stderr)
    print(
        f"archived {checkpoint['rows']} rows older than {days:g} days to "
        f"{checkpoint['archive']} (sha256 {checkpoint['archive_sha256'][:16]}…); the chain "
        f"now starts after row {checkpoint['last_pruned_seq']}"
    )
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    audit = commands.add_parser("audit", help="verify, search and export the audit trail")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_commands.add_parser(
        "verify", help="check the hash chain and every host's uploaded stream, name what is bad"
    )
    verify.add_argument("--db", help=DB_HELP)
    verify.add_argument(
        "--witness-file", help="default: beside the database, or $GOVERNANCE_WITNESS"
    )
    verify.add_argument(
        "--anchor",
        action="append",
        metavar="SEQ:HASH",
        help="also check against this anchor, as the security channel's message shows it",
    )
    verify.set_defaults(handler=cmd_verify)
    prune = audit_commands.add_parser("prune", help="archive and remove rows past retention")
    prune.add_argument("--db", help=DB_HELP)
    prune.add_argument("--days", type=float, help="default: the policy's audit.retention_days")
    prune.add_argument("--policy", help="policy file for retention_days")
    prune.add_argument("--archive-dir", help="default ~/.local/state/governance/archive")
    prune.add_argument("--witness-file", help="where the new checkpoint is anchored")
    prune.set_defaults(handler=cmd_prune)
    for name, handler, helptext in (
        ("search", cmd_search, "list matching audit rows, newest last"),
        ("export", cmd_export, "write matching rows as JSON lines or CSV"),
    ):
        parser = audit_commands.add_parser(name, help=helptext)
        parser.add_argument("--db", help=DB_HELP)
        parser.add_argument("--user", help="only this requester or approver")
        parser.add_argument("--host", help="only this host's rows (a remote host's name)")
        parser.add_argument("--tool", help="only this tool (Bash, Read, mcp__…)")
        parser.add_argument("--status", help="decision: allow, deny, pending, approved, …")
        parser.add_argument("--since", help="7d, 24h, 30m or an ISO date")
        if name == "search":
            parser.add_argument("--limit", type=int, default=50, help="rows to show (default 50)")
        else:
            parser.add_argument(
                "--format",
                choices=("jsonl", "csv", *SIEM_FORMATS),
                default="jsonl",
                help="jsonl (rows as stored), csv, ocsf (OCSF 1.8.0 JSON lines) or cef",
            )
            parser.add_argument("-o", "--output", help="write to this file instead of stdout")
        parser.set_defaults(handler=handler)
