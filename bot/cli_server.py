"""CLI commands around the server: `serve`, and the console approver's `approve`, `deny`,
`pending`. They parse arguments and print; the server applies every approval rule."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import time

from bot import client, config
from bot.server import run


def cmd_serve(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    server_config = config.ServerConfig(
        socket=config.socket_path(args.socket),
        db=config.db_path(args.db),
        spool=config.spool_dir(args.spool_dir),
        policy=config.policy_path(args.policy),
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(server_config))
    return 0


def _vote(args: argparse.Namespace, operation: str) -> int:
    reply = client.call(
        config.socket_path(args.socket),
        {"op": operation, "approval_id": args.approval_id, "reason": args.reason},
    )
    print(f"{args.approval_id.upper()}: {reply.get('message')}")
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
        print(
            f"{item['id']}  {item['risk']:<8} {item['requester']:<12} {item['tool_name']}: "
            f"{what[:80]}  ({item['rule']}; expires in {minutes:.0f} min, "
            f"needs {item['required']})"
        )
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser("serve", help="run the governance server (console approver)")
    serve.add_argument("--policy", help="policy file (default: project's, else built-in)")
    serve.add_argument("--db", help="SQLite database (default ~/.local/state/governance/)")
    serve.add_argument("--socket", help="Unix socket path")
    serve.add_argument("--spool-dir", help="where fail-open hooks spool events")
    serve.set_defaults(handler=cmd_serve)

    for name, handler, helptext in (
        ("approve", cmd_approve, "approve a pending request"),
        ("deny", cmd_deny, "deny a pending request"),
    ):
        parser = commands.add_parser(name, help=helptext)
        parser.add_argument("approval_id")
        parser.add_argument("--reason", required=name == "deny", help="shown to the requester")
        parser.add_argument("--socket", help="server socket path")
        parser.set_defaults(handler=handler)

    pending = commands.add_parser("pending", help="list pending approval requests")
    pending.add_argument("--socket", help="server socket path")
    pending.add_argument("--json", action="store_true")
    pending.set_defaults(handler=cmd_pending)
