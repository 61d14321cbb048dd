"""`governance hosts add|list|revoke`: the remote hosts that may call the team service's API.
It prints a new token once and never stores or shows it again; the store keeps its sha256."""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

from bot import config
from engine.state import open_store
from engine.state.hosts import Host, HostError, HostRegistry


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


def _print_hosts(hosts: list[Host]) -> None:
    """One line per host: what it last told us, as of its last contact."""
    print(f"{'NAME':<20} {'LAST CONTACT':<19} {'POLICY':<12} {'BACKLOG':>7} {'HOOK':<10} REVOKED")
    for host in hosts:
        backlog = "-" if host.spool_backlog is None else f"{host.spool_backlog:,}"
        print(
            f"{host.name:<20} {_when(host.last_contact_at):<19} "
            f"{(host.policy_version or '-')[:12]:<12} {backlog:>7} "
            f"{host.hook_version or '-':<10} {_when(host.revoked_at)}"
        )
    if not hosts:
        print("(no hosts: add one with `governance hosts add NAME`)")


def cmd_hosts(args: argparse.Namespace) -> int:
    store = open_store(config.db_path(args.db))
    registry = HostRegistry(store)
    try:
        if args.hosts_command == "add":
            token = registry.add(args.name)
            print(f"host {args.name} added; its token (shown once, store it on that host):")
            print(token)
        elif args.hosts_command == "revoke":
            cancelled = registry.revoke(args.name)
            if cancelled is None:
                print(f"host {args.name} was already revoked")
            else:
                print(
                    f"host {args.name} revoked; {len(cancelled)} pending request(s) cancelled"
                    + (f": {', '.join(cancelled)}" if cancelled else "")
                )
        elif args.json:
            rows = [
                {k: v for k, v in dataclasses.asdict(host).items() if k != "token_sha256"}
                for host in registry.hosts()
            ]
            print(json.dumps(rows, indent=2))
        else:
            _print_hosts(registry.hosts())
    except HostError as error:
        print(f"governance hosts: {error}")
        return 1
    finally:
        store.close()
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    hosts = commands.add_parser("hosts", help="remote hosts allowed to call the team service")
    hosts_commands = hosts.add_subparsers(dest="hosts_command", required=True)
    add = hosts_commands.add_parser("add", help="add a host and print its token once")
    add.add_argument("name", help="the host's name of record (letters, digits, . _ -)")
    listing = hosts_commands.add_parser(
        "list", help="hosts: last contact, policy version, spool backlog, hook version, revoked"
    )
    listing.add_argument("--json", action="store_true", help="print the hosts as JSON")
    revoke = hosts_commands.add_parser("revoke", help="revoke a host's token now")
    revoke.add_argument("name", help="the host to revoke; its waiting requests are closed")
    for parser in (add, listing, revoke):
        parser.add_argument("--db", help="SQLite file or postgresql:// URL of the team service")
        parser.set_defaults(handler=cmd_hosts)
