"""`governance hosts add|list|revoke`: the remote hosts that may call the team service's API.
It prints a new token once and never stores or shows it again; the store keeps its sha256."""

from __future__ import annotations

import argparse
import json
import time

from bot import config
from engine.state import open_store
from engine.state.hosts import HostError, HostRegistry


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


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
                {
                    "name": h.name,
                    "created_at": h.created_at,
                    "last_contact_at": h.last_contact_at,
                    "revoked_at": h.revoked_at,
                }
                for h in registry.hosts()
            ]
            print(json.dumps(rows, indent=2))
        else:
            hosts = registry.hosts()
            print(f"{'NAME':<24} {'CREATED':<20} {'LAST CONTACT':<20} REVOKED")
            for host in hosts:
                print(
                    f"{host.name:<24} {_when(host.created_at):<20} "
                    f"{_when(host.last_contact_at):<20} {_when(host.revoked_at)}"
                )
            if not hosts:
                print("(no hosts: add one with `governance hosts add NAME`)")
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
    listing = hosts_commands.add_parser("list", help="hosts, created, last contact, revoked")
    listing.add_argument("--json", action="store_true", help="print the hosts as JSON")
    revoke = hosts_commands.add_parser("revoke", help="revoke a host's token now")
    revoke.add_argument("name", help="the host to revoke; its waiting requests are closed")
    for parser in (add, listing, revoke):
        parser.add_argument("--db", help="SQLite file or postgresql:// URL of the team service")
        parser.set_defaults(handler=cmd_hosts)
