"""CLI commands around the server: `serve`, and the console approver's `approve`, `deny`,
`pending`. They parse arguments and print; the server applies every approval rule."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path

from bot import client, config
from bot.edge.runtime import Edge, policy_cache
from bot.private_files import SERVER_UMASK
from bot.remote import listen
from bot.server import GovernanceServer
from bot.slack.runner import SlackSettings, attach
from engine.mfa import MfaRegistry, qr_text
from engine.policy import PolicyError
from engine.redact import redact_text
from engine.state import describe, open_store


class _RedactingFilter(logging.Filter):
    """The console is a sink like any other: log lines and tracebacks are redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact_text(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
        return True


def cmd_serve(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(_RedactingFilter())
    db = config.db_path(args.db)
    server_config = config.ServerConfig(
        socket=config.socket_path(args.socket),
        db=db,
        spool=config.spool_dir(args.spool_dir),
        policy=config.policy_path(args.policy),
        socket_group=args.socket_group,
        witness=config.witness_path(args.witness_file, db),
        anchor_interval_s=args.anchor_interval,
    )
    settings = SlackSettings.from_env()
    edge = _edge_settings(args, db)
    if edge is not None:  # approvals and Slack belong to the team service
        settings = None
        server_config = replace(server_config, policy=str(edge[3]))
    if args.listen and not (args.tls_cert and args.tls_key):
        raise SystemExit("governance serve --listen needs --tls-cert and --tls-key (HTTPS only)")
    if args.http and settings is None:
        raise SystemExit("governance serve --http needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET")
    # Everything the server creates (database, WAL, SHM, folders, lock files) is owner-only.
    os.umask(SERVER_UMASK)
    try:
        with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
            asyncio.run(
                _serve(
                    server_config,
                    settings,
                    args.port if args.http else None,
                    args.host,
                    (args.listen, args.tls_cert, args.tls_key) if args.listen else None,
                    edge,
                )
            )
    except (RuntimeError, OSError, PolicyError) as error:  # a clear line, not a traceback
        print(f"governance serve: {error}", file=sys.stderr)
        return 1
    return 0


async def _serve(
    server_config: config.ServerConfig,
    settings: SlackSettings | None,
    http_port: int | None,
    host: str,
    remote: tuple[str, str, str] | None = None,
    edge_settings: tuple[str, str, str | None, Path] | None = None,
) -> None:
    edge = None
    if edge_settings is not None:
        url, token_file, ca_file, cache = edge_settings
        edge = Edge(url, token_file, ca_file, cache, server_config.protected_state())
        try:
            print(f"governance edge: policy {await edge.start()}", flush=True)
        except BaseException:
            await edge.close()
            raise
    server = GovernanceServer(server_config, edge=edge)
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, server.request_stop, signal.Signals(number).name)
    await server.start()
    runner = await attach(server, settings, http_port, host) if settings else None
    api = await listen(server, *remote) if remote else None
    approvals = (
        f"the team service at {edge.upstream.url}"
        if edge
        else f"Slack over HTTP on {host}:{http_port}/slack/events"
        if http_port
        else "Slack (Socket Mode)"
        if settings
        else "this console"
    )
    print(
        f"governance server listening on {server_config.socket} (policy "
        f"{server.policy.source}, database {describe(server_config.db)}); approvals in "
        f"{approvals}" + (f"; remote hosts on https://{remote[0]}/v1" if remote else ""),
        flush=True,
    )
    try:
        await server.serve_forever()
    finally:
        if api is not None:
            await api.stop()
        if runner is not None:
            await runner.stop()
        await server.close()
        if edge is not None:
            await edge.close()
        print(f"governance server stopped ({server.stop_reason})", flush=True)


def _edge_settings(
    args: argparse.Namespace, db: Path | str
) -> tuple[str, str, str | None, Path] | None:
    """(upstream URL, token file, CA file, policy cache) in edge mode, else None."""
    url = args.upstream or os.environ.get("GOVERNANCE_UPSTREAM")
    if not url:
        return None
    if args.listen:
        raise SystemExit("governance serve: --upstream (an edge) and --listen (the team service)")
    if args.policy:
        raise SystemExit("governance serve --upstream: the policy comes from the team service")
    if isinstance(db, str):
        raise SystemExit("governance serve --upstream: an edge keeps its audit in SQLite (--db)")
    token_file = args.token_file or os.environ.get("GOVERNANCE_TOKEN_FILE")
    if not token_file:
        raise SystemExit(
            "governance serve --upstream needs --token-file (or GOVERNANCE_TOKEN_FILE): the "
            "token `governance hosts add NAME` printed on the team service"
        )
    ca_file = args.ca_file or os.environ.get("GOVERNANCE_CA_FILE")
    return url, token_file, ca_file, policy_cache(Path(db).parent)


def resolve_approval_id(typed: str, pending_ids: list[str]) -> str:
    """The full id for what was typed: `APR-7Q2F`, `7q2f` or the whole id, if unambiguous."""
    wanted = typed.strip().upper()
    if not wanted.startswith("APR-"):
        wanted = "APR-" + wanted
    if wanted in pending_ids:
        return wanted
    matches = [approval_id for approval_id in pending_ids if approval_id.startswith(wanted)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise SystemExit(
            f"governance: {typed} is ambiguous: {', '.join(sorted(matches))}; type more of it"
        )
    return wanted  # not pending: the server says what became of it


def _vote(args: argparse.Namespace, operation: str) -> int:
    socket = config.socket_path(args.socket)
    pending = client.call(socket, {"op": "pending"}).get("pending", [])
    approval_id = resolve_approval_id(args.approval_id, [item["id"] for item in pending])
    request = {"op": operation, "approval_id": approval_id, "reason": args.reason}
    if getattr(args, "code", None):
        request["code"] = args.code
    reply = client.call(socket, request)
    print(f"{approval_id}: {reply.get('message')}")
    return 0 if reply.get("ok") else 1


def cmd_approve(args: argparse.Namespace) -> int:
    return _vote(args, "approve")


def cmd_deny(args: argparse.Namespace) -> int:
    return _vote(args, "deny")


def cmd_pending(args: argparse.Namespace) -> int:
    reply = client.call(config.socket_path(args.socket), {"op": "pending"})
    pending = reply.get("pending", [])
    if args.json:
        print(json.dumps(pending, indent=2))
        return 0
    if not pending:
        print("no approval requests are pending")
    for item in pending:
        what = item["tool_input"].get("command") or item["tool_input"].get("file_path") or ""
        minutes = max(0, (item["expires_at"] - time.time()) / 60)
        mfa = ", MFA code: approve with --code" if item.get("require_mfa") else ""
        who = item.get("requester_label") or item["requester"]
        print(
            f"{item['id']}  {item['risk']:<8} {who:<12} "
            f"{item['tool_name']}: "
            f"{what[:80]}  ({item['rule']}; expires in {minutes:.0f} min, "
            f"needs {item['required']}{mfa})"
        )
    return 0


def cmd_break_glass(args: argparse.Namespace) -> int:
    reply = client.call(
        config.socket_path(args.socket),
        {
            "op": "break_glass",
            "minutes": args.minutes,
            "reason": args.reason,
            "for": args.for_user,
            "code": args.code,
        },
    )
    print(reply.get("message"))
    return 0 if reply.get("ok") else 1


def cmd_mfa_enroll(args: argparse.Namespace) -> int:
    store = open_store(config.db_path(args.db))
    enrollment = MfaRegistry(store.db).enroll(args.approver)
    store.append_audit(
        "mfa_enrolled",
        user=args.approver,
        decision="enrolled",
        reason="new TOTP secret (a previous one, if any, is replaced)",
    )
    print(f"Enrolled {args.approver}. Add this to an authenticator app:\n{enrollment.uri}")
    qr = qr_text(enrollment.uri)
    if qr:
        print(qr)
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    glass = commands.add_parser("break-glass", help="open an audited emergency window")
    glass.add_argument("--reason", required=True, help="why: shown to the security channel")
    glass.add_argument(
        "--minutes", type=float, required=True, help="how long (at most break_glass.max_minutes)"
    )
    glass.add_argument(
        "--for",
        dest="for_user",
        required=True,
        help="OS user whose agents the window covers (never your own uid: use Slack for that)",
    )
    glass.add_argument("--code", help="TOTP code, when the policy's approval rules ask for MFA")
    glass.add_argument("--socket", help=config.SOCKET_HELP)
    glass.set_defaults(handler=cmd_break_glass)

    mfa = commands.add_parser("mfa", help="TOTP enrolment for approvers")
    mfa_commands = mfa.add_subparsers(dest="mfa_command", required=True)
    enroll = mfa_commands.add_parser("enroll", help="enrol an approver (Slack id or OS user)")
    enroll.add_argument("approver", help="Slack user id (U…) or OS user name")
    enroll.add_argument("--db", help=config.DB_HELP)
    enroll.set_defaults(handler=cmd_mfa_enroll)

    serve = commands.add_parser(
        "serve",
        help="run the governance server (approvals in Slack when SLACK_BOT_TOKEN is set, "
        "else on this console)",
    )
    serve.add_argument("--policy", help="policy file (default: project's, else built-in)")
    serve.add_argument(
        "--db",
        help="SQLite file (default ~/.local/state/governance/governance.db) or a postgresql:// URL",
    )
    serve.add_argument("--socket", help=config.SOCKET_HELP)
    serve.add_argument("--spool-dir", help="where fail-open hooks spool events")
    serve.add_argument(
        "--socket-group",
        help="group that may reach the socket (mode 0660), e.g. the developers' group",
    )
    serve.add_argument(
        "--witness-file",
        help="append-only file the chain's head is anchored to "
        "(default: beside the database; or $GOVERNANCE_WITNESS)",
    )
    serve.add_argument(
        "--anchor-interval",
        type=float,
        default=60.0,
        help="seconds between anchors of a changed chain head (default 60; also at shutdown)",
    )
    serve.add_argument(
        "--http",
        action="store_true",
        help="Slack over HTTP (needs SLACK_SIGNING_SECRET) instead of Socket Mode",
    )
    serve.add_argument("--port", type=int, default=3000, help="HTTP mode port")
    serve.add_argument("--host", default="0.0.0.0", help="HTTP mode address")
    serve.add_argument(
        "--listen",
        metavar="HOST:PORT",
        help="serve remote hosts (edges) over HTTPS here; needs --tls-cert and --tls-key",
    )
    serve.add_argument("--tls-cert", help="PEM certificate (chain) for --listen")
    serve.add_argument("--tls-key", help="PEM private key for --listen")
    serve.add_argument(
        "--upstream",
        metavar="URL",
        help="edge mode: judge here, approvals and the audit of record at this team service "
        "(https://…; or $GOVERNANCE_UPSTREAM)",
    )
    serve.add_argument(
        "--token-file",
        help="edge mode: file holding this host's token (or $GOVERNANCE_TOKEN_FILE)",
    )
    serve.add_argument(
        "--ca-file",
        help="edge mode: PEM CA bundle to trust for the team service (or $GOVERNANCE_CA_FILE; "
        "default: the system's CAs)",
    )
    serve.set_defaults(handler=cmd_serve, long_running=True)

    for name, handler, helptext in (
        ("approve", cmd_approve, "approve a pending request"),
        ("deny", cmd_deny, "deny a pending request"),
    ):
        parser = commands.add_parser(name, help=helptext)
        parser.add_argument("approval_id", help="APR-XXXXXX, or an unambiguous prefix such as 7Q2F")
        parser.add_argument("--reason", required=name == "deny", help="shown to the requester")
        parser.add_argument("--socket", help=config.SOCKET_HELP)
        if name == "approve":
            parser.add_argument("--code", help="TOTP code, for rules with require_mfa")
        parser.set_defaults(handler=handler)

    pending = commands.add_parser("pending", help="list pending approval requests")
    pending.add_argument("--socket", help=config.SOCKET_HELP)
    pending.add_argument("--json", action="store_true", help="print the requests as JSON")
    pending.set_defaults(handler=cmd_pending)
