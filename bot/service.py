"""`governance install-service`: run the server as a dedicated system user that owns the state
(0700 dirs, 0600 files) with the socket in the developers' group (0660). Writes a systemd unit,
prints the launchd equivalent; it never edits policy and `--dry-run` only says what it would do."""

from __future__ import annotations

import argparse
import grp
import os
import pwd
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

UNIT_NAME = "governance.service"
LAUNCHD_LABEL = "dev.governance.server"


@dataclass(frozen=True, slots=True)
class ServicePlan:
    """Everything the service set-up decides, so the unit text and the steps agree."""

    user: str
    group: str
    socket_group: str
    state_dir: Path
    runtime_dir: Path
    policy: str | None
    executable: str
    root: Path  # "/" normally; a staging directory to prepare an image or to test

    @property
    def db(self) -> Path:
        return self.state_dir / "governance.db"

    @property
    def socket(self) -> Path:
        return self.runtime_dir / "governance.sock"

    @property
    def spool(self) -> Path:
        return self.state_dir / "spool"

    @property
    def unit_path(self) -> Path:
        return self.root / "etc/systemd/system" / UNIT_NAME

    def staged(self, path: Path) -> Path:
        return self.root / path.relative_to("/")

    def serve_argv(self) -> list[str]:
        argv = [
            self.executable,
            "serve",
            "--db",
            str(self.db),
            "--socket",
            str(self.socket),
            "--spool-dir",
            str(self.spool),
            "--socket-group",
            self.socket_group,
        ]
        return argv + (["--policy", self.policy] if self.policy else [])


def systemd_unit(plan: ServicePlan) -> str:
    state, runtime = plan.state_dir.name, plan.runtime_dir.name
    return f"""\
[Unit]
Description=Governance for Claude Code: policy, approvals, audit
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User={plan.user}
Group={plan.group}
# The socket is chowned to this group (mode 0660): the developers' accounts are its members.
SupplementaryGroups={plan.socket_group}
UMask=0077
ExecStart={shlex.join(plan.serve_argv())}
# Slack tokens, if any: SLACK_BOT_TOKEN=..., SLACK_APP_TOKEN=... (file mode 0600, root-owned)
EnvironmentFile=-/etc/governance/slack.env
StateDirectory={state}
StateDirectoryMode=0700
RuntimeDirectory={runtime}
RuntimeDirectoryMode=0711
Restart=on-failure
RestartSec=2
KillSignal=SIGTERM
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=read-only
PrivateTmp=yes
ReadWritePaths={plan.state_dir}

[Install]
WantedBy=multi-user.target
"""


def launchd_plist(plan: ServicePlan) -> str:
    arguments = "\n".join(f"        <string>{_xml(a)}</string>" for a in plan.serve_argv())
    return f"""\
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- /Library/LaunchDaemons/{LAUNCHD_LABEL}.plist; load with
     sudo launchctl bootstrap system /Library/LaunchDaemons/{LAUNCHD_LABEL}.plist
     Create the user and groups first (sysadminctl / dscl), and the folders:
     sudo install -d -o {plan.user} -g {plan.group} -m 0700 {plan.state_dir}
     sudo install -d -o {plan.user} -g {plan.socket_group} -m 0711 {plan.runtime_dir} -->
<plist version="1.0">
<dict>
    <key>Label</key>
    <string>{LAUNCHD_LABEL}</string>
    <key>UserName</key>
    <string>{_xml(plan.user)}</string>
    <key>GroupName</key>
    <string>{_xml(plan.group)}</string>
    <key>Umask</key>
    <integer>63</integer>
    <key>ProgramArguments</key>
    <array>
{arguments}
    </array>
    <key>RunAtLoad</key>
    <true/>
    <key>KeepAlive</key>
    <true/>
    <key>StandardErrorPath</key>
    <string>{_xml(str(plan.state_dir / "server.log"))}</string>
</dict>
</plist>
"""


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---------------------------------------------------------------- the steps


@dataclass(frozen=True, slots=True)
class Step:
    """One thing installing does: a command to run, or work done here (`act`)."""

    says: str
    argv: tuple[str, ...] = ()
    act: Callable[[], None] | None = None

    def run(self) -> None:
        if self.argv:
            subprocess.run(self.argv, check=True)
        elif self.act is not None:
            self.act()


def steps(plan: ServicePlan, start: bool) -> list[Step]:
    """What installing does, in order; existing users, groups and folders are kept. Owners are
    looked up when a step runs, after the steps that create them."""
    planned: list[Step] = []
    if not _group_exists(plan.group):
        planned.append(
            Step(f"create system group {plan.group}", ("groupadd", "--system", plan.group))
        )
    if not _user_exists(plan.user):
        useradd = ("useradd", "--system", "--gid", plan.group, "--home-dir", str(plan.state_dir))
        planned.append(
            Step(
                f"create system user {plan.user} (no login shell, home {plan.state_dir})",
                (*useradd, "--no-create-home", "--shell", "/usr/sbin/nologin", plan.user),
            )
        )
    if not _group_exists(plan.socket_group):
        planned.append(
            Step(
                f"create group {plan.socket_group} for the developers who may reach the socket",
                ("groupadd", "--system", plan.socket_group),
            )
        )
    state, spool, runtime = (plan.staged(p) for p in (plan.state_dir, plan.spool, plan.runtime_dir))

    def owner() -> tuple[int, int]:
        return pwd.getpwnam(plan.user).pw_uid, grp.getgrnam(plan.group).gr_gid

    def socket_owner() -> tuple[int, int]:
        return owner()[0], grp.getgrnam(plan.socket_group).gr_gid

    def write_unit() -> None:
        plan.unit_path.parent.mkdir(parents=True, exist_ok=True)
        plan.unit_path.write_text(systemd_unit(plan))
        plan.unit_path.chmod(0o644)

    planned += [
        Step(
            f"create {state} owned by {plan.user}, mode 0700",
            act=lambda: _owned_dir(state, *owner(), 0o700),
        ),
        Step(
            f"create {spool} owned by {plan.user}, mode 0700",
            act=lambda: _owned_dir(spool, *owner(), 0o700),
        ),
        Step(
            f"make every file under {state} {plan.user}'s, mode 0600 (folders 0700)",
            act=lambda: _own_tree(state, *owner()),
        ),
        Step(
            f"create {runtime} owned by {plan.user}:{plan.socket_group}, mode 0711 (systemd "
            "recreates it at boot)",
            act=lambda: _owned_dir(runtime, *socket_owner(), 0o711),
        ),
        Step(f"write {plan.unit_path} (mode 0644)", act=write_unit),
    ]
    if start:
        planned += [
            Step("reload systemd", ("systemctl", "daemon-reload")),
            Step(f"enable and start {UNIT_NAME}", ("systemctl", "enable", "--now", UNIT_NAME)),
        ]
    return planned


def _owned_dir(path: Path, uid: int, gid: int, mode: int) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chown(path, uid, gid)
    path.chmod(mode)


def _own_tree(top: Path, uid: int, gid: int) -> None:
    for folder, dirs, files in os.walk(top):
        for name in dirs:
            os.chown(Path(folder, name), uid, gid)
            Path(folder, name).chmod(0o700)
        for name in files:
            os.chown(Path(folder, name), uid, gid)
            Path(folder, name).chmod(0o600)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _group_exists(name: str) -> bool:
    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


def _unreachable_by_others(executable: str) -> Path | None:
    """The first folder on the way to the program (or its `#!` interpreter) that other users
    cannot traverse."""
    programs = [Path(executable)]
    try:
        with open(executable, "rb") as script:
            first = script.readline(512)
        if first.startswith(b"#!") and first[2:].split():
            programs.append(Path(first[2:].split()[0].decode()))
    except OSError:
        pass
    for program in programs:
        for folder in program.resolve().parents:
            if folder.exists() and not os.stat(folder).st_mode & 0o001:
                return folder
    return None


# ---------------------------------------------------------------- the command


def cmd_install_service(args: argparse.Namespace) -> int:
    executable = args.executable or shutil.which("governance") or sys.argv[0]
    plan = ServicePlan(
        user=args.user,
        group=args.group or args.user,
        socket_group=args.socket_group,
        state_dir=Path(args.state_dir),
        runtime_dir=Path(args.runtime_dir),
        policy=os.path.abspath(args.policy) if args.policy else None,
        executable=os.path.abspath(executable),
        root=Path(args.root),
    )
    if args.launchd:
        print(launchd_plist(plan), end="")
        return 0
    planned = steps(plan, start=not args.no_start and args.root == "/")
    blocked = _unreachable_by_others(plan.executable)
    if blocked is not None:
        print(
            f"warning: {blocked} is closed to other users, so {plan.user} cannot run "
            f"{plan.executable}; install governance where every user can (e.g. /opt/governance "
            "with `pip install`, or `pipx install --global`) and pass --executable",
            file=sys.stderr,
        )
    if args.dry_run:
        print("governance install-service would:")
        for step in planned:
            print(f"- {step.says}" + (f"   ($ {shlex.join(step.argv)})" if step.argv else ""))
        print(f"\n{plan.unit_path}:\n{systemd_unit(plan)}")
        _print_next(plan)
        return 0
    if os.geteuid() != 0:
        print("governance install-service: run it as root (or see --dry-run)", file=sys.stderr)
        return 1
    for step in planned:
        print(f"- {step.says}", flush=True)
        step.run()
    _print_next(plan)
    return 0


def _print_next(plan: ServicePlan) -> None:
    print(
        f"Next: add each developer to {plan.socket_group} (`usermod -aG {plan.socket_group} "
        f"alice`, then log in again) and point their hooks at the socket: "
        f"GOVERNANCE_SOCKET={plan.socket}. The database is {plan.db}, readable by "
        f"{plan.user} only: run `sudo -u {plan.user} governance audit verify --db {plan.db}`."
    )


def register(commands: argparse._SubParsersAction) -> None:
    service = commands.add_parser(
        "install-service",
        help="run the server as a dedicated system user (systemd; --launchd prints a plist)",
    )
    service.add_argument("--user", default="governance", help="service user (default governance)")
    service.add_argument("--group", help="service user's group (default: same as --user)")
    service.add_argument(
        "--socket-group",
        default="governance-clients",
        help="group of the developers whose agents use the socket (default governance-clients)",
    )
    service.add_argument(
        "--state-dir",
        default="/var/lib/governance",
        help="where the service keeps its database and spool (default /var/lib/governance)",
    )
    service.add_argument(
        "--runtime-dir",
        default="/run/governance",
        help="where the service's socket lives (default /run/governance)",
    )
    service.add_argument("--policy", help="policy file the service enforces (default: built-in)")
    service.add_argument("--executable", help="the governance program the service runs")
    service.add_argument("--root", default="/", help="stage into this directory instead of /")
    service.add_argument("--no-start", action="store_true", help="do not enable or start it")
    service.add_argument("--launchd", action="store_true", help="print a launchd plist instead")
    service.add_argument("--dry-run", action="store_true", help="print what it would do")
    service.set_defaults(handler=cmd_install_service)
