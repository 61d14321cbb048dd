"""`governance install-hook`: merges our hook entries into (or out of) Claude Code settings files.
It never touches another tool's hooks or settings, and never overwrites a file it cannot parse."""

from __future__ import annotations

import argparse
import copy
import json
import os
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

from hook_client.context import git_context

HOOK_NAME = "governance-hook"
# Longer than the hook's own approval wait (540 s) plus its margins, so the hook always
# answers before Claude Code gives up on it and lets the call run undecided.
DEFAULT_TIMEOUT_S = 600
MIN_TIMEOUT_S = 10
MANAGED_SETTINGS = "/etc/claude-code/managed-settings.json"
# Event -> matcher of the group we add (None: the event takes no matcher).
EVENTS: dict[str, str | None] = {
    "PreToolUse": "*",
    "PostToolUse": "*",
    "UserPromptSubmit": None,
}
# With --remote-prompts: Claude Code's own permission prompts go to the person's Slack DM.
REMOTE_PROMPTS: dict[str, str | None] = {"PermissionRequest": "*"}
MATCH_ALL = ("*", "", None)


class SettingsError(Exception):
    """The settings file cannot be edited safely; the message names the file and the fix."""


# ---------------------------------------------------------------- locating things


def hook_command(timeout: int) -> str:
    """The hook by absolute path, so Claude Code finds it without this venv on PATH."""
    beside = Path(os.path.abspath(sys.executable)).parent / HOOK_NAME
    if beside.is_file() and os.access(beside, os.X_OK):
        path = str(beside)
    else:
        path = shutil.which(HOOK_NAME) or HOOK_NAME
    command = shlex.quote(path)
    if timeout != DEFAULT_TIMEOUT_S:
        # The hook must know how long Claude Code gives it, to answer inside that time.
        command += f" --timeout {timeout}"
    return command


def settings_path(args: argparse.Namespace) -> Path:
    if args.settings:
        return Path(args.settings)
    if args.scope == "user":
        return Path(os.path.expanduser("~")) / ".claude" / "settings.json"
    if args.scope == "managed":
        return Path(os.environ.get("GOVERNANCE_MANAGED_SETTINGS") or MANAGED_SETTINGS)
    # Claude Code reads a project's settings at its repository root, whatever the subdirectory.
    root, _branch = git_context(os.getcwd())
    return Path(root or Path.cwd()) / ".claude" / "settings.json"


def is_ours(hook: object) -> bool:
    if not isinstance(hook, dict) or not isinstance(hook.get("command"), str):
        return False
    command = hook["command"].strip()
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    return bool(words) and os.path.basename(words[0]) == HOOK_NAME


# ---------------------------------------------------------------- reading and writing


def load_settings(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SettingsError(f"cannot read {path}: {error}") from None
    if not text.strip():
        return {}  # an empty file holds nothing to clobber
    try:
        settings = json.loads(text)
    except json.JSONDecodeError as error:
        raise SettingsError(
            f"{path} is not valid JSON ({error}); fix it by hand, it was left untouched"
        ) from None
    if not isinstance(settings, dict):
        raise SettingsError(
            f"{path} holds a JSON {type(settings).__name__}, not an object; "
            "fix it by hand, it was left untouched"
        )
    return settings


def write_settings(path: Path, settings: dict) -> None:
    """Replace the file atomically, keeping its mode and owner; follows a symlinked file."""
    target = Path(os.path.realpath(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        existing = target.stat()
    except FileNotFoundError:
        existing = None
    data = json.dumps(settings, indent=2, ensure_ascii=False) + "\n"
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if existing is not None:
            os.chmod(temporary, existing.st_mode & 0o7777)
            if os.geteuid() == 0 and (existing.st_uid, existing.st_gid) != (0, 0):
                # root editing someone's file must not leave it owned by root.
                os.chown(temporary, existing.st_uid, existing.st_gid)
        else:
            # mkstemp makes 0600; managed settings in particular must be readable by every user.
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------- merging


def _event_groups(hooks: dict, event: str, path: Path) -> list:
    groups = hooks.setdefault(event, [])
    if not isinstance(groups, list):
        raise SettingsError(f"{path}: hooks.{event} is not a list; fix it by hand")
    return groups


def _hooks_section(settings: dict, path: Path, create: bool) -> dict | None:
    if "hooks" not in settings and not create:
        return None
    hooks = settings.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise SettingsError(f"{path}: `hooks` is not an object; fix it by hand")
    return hooks


def _remove_ours(groups: list, keep: dict | None = None) -> bool:
    """Drop our hook objects (except `keep`) and groups left empty by that; True if any went."""
    removed = False
    for group in list(groups):
        if not isinstance(group, dict) or not isinstance(group.get("hooks"), list):
            continue
        inner = group["hooks"]
        mine = [h for h in inner if is_ours(h) and h is not keep]
        if not mine:
            continue
        removed = True
        group["hooks"] = [h for h in inner if not any(h is m for m in mine)]
        if not group["hooks"]:
            groups.remove(group)
    return removed


def _matches_all(group: dict) -> bool:
    # Claude Code runs a group with matcher "*", "" or none for every tool.
    return group.get("matcher") in MATCH_ALL


def install(
    settings: dict, path: Path, command: str, timeout: int, events: dict[str, str | None] = EVENTS
) -> None:
    hooks = _hooks_section(settings, path, create=True)
    assert hooks is not None
    for event, matcher in events.items():
        groups = _event_groups(hooks, event, path)
        ours = next(
            (
                hook
                for group in groups
                if isinstance(group, dict)
                and _matches_all(group)
                and isinstance(group.get("hooks"), list)
                for hook in group["hooks"]
                if is_ours(hook)
            ),
            None,
        )
        # One entry per event: duplicates and copies under narrower matchers go.
        _remove_ours(groups, keep=ours)
        if ours is not None:
            ours.update(type="command", command=command, timeout=timeout)
            continue
        group: dict = {} if matcher is None else {"matcher": matcher}
        group["hooks"] = [{"type": "command", "command": command, "timeout": timeout}]
        groups.append(group)


def uninstall(settings: dict, path: Path) -> list[str]:
    """Remove our hook objects from every event; return the events we were removed from."""
    hooks = _hooks_section(settings, path, create=False)
    if hooks is None:
        return []
    removed = []
    for event in list(hooks):
        groups = hooks[event]
        if not isinstance(groups, list):
            continue
        if _remove_ours(groups):
            removed.append(event)
            if not groups:
                del hooks[event]
    if removed and not hooks:
        del settings["hooks"]
    return removed


# ---------------------------------------------------------------- the command


def cmd_install_hook(args: argparse.Namespace) -> int:
    path = settings_path(args)
    events = {**EVENTS, **REMOTE_PROMPTS} if args.remote_prompts else EVENTS
    if args.allow_managed_hooks_only and args.scope != "managed" and not args.settings:
        print(
            "governance install-hook: --allow-managed-hooks-only only works in the managed "
            "settings file; add --managed",
            file=sys.stderr,
        )
        return 2
    if args.timeout < MIN_TIMEOUT_S:
        print(
            f"governance install-hook: --timeout must be at least {MIN_TIMEOUT_S} s",
            file=sys.stderr,
        )
        return 2
    try:
        settings = load_settings(path)
        before = copy.deepcopy(settings)
        if args.uninstall:
            return _uninstall(path, settings, before)
        command = hook_command(args.timeout)
        install(settings, path, command, args.timeout, events)
        if args.allow_managed_hooks_only:
            settings["allowManagedHooksOnly"] = True
        if settings == before:
            print(f"already installed, unchanged: {path}")
            return 0
        write_settings(path, settings)
    except SettingsError as error:
        print(f"governance install-hook: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"governance install-hook: cannot write {path}: {error}", file=sys.stderr)
        return 2
    verb = "updated governance-hook in" if _has_ours(before) else "installed governance-hook into"
    print(f"{verb} {path} ({', '.join(events)}), timeout {args.timeout} s")
    print(f"command: {command}")
    if args.allow_managed_hooks_only:
        print("allowManagedHooksOnly: true (user and project hooks are now ignored)")
    return 0


def _uninstall(path: Path, settings: dict, before: dict) -> int:
    removed = uninstall(settings, path)
    if not removed:
        print(f"{HOOK_NAME} is not installed in {path}, nothing removed")
        return 0
    write_settings(path, settings)
    print(f"removed {HOOK_NAME} from {path} ({', '.join(removed)})")
    if settings.get("allowManagedHooksOnly") is True:
        print("note: allowManagedHooksOnly is still true there; remove it by hand if intended")
    return 0


def _has_ours(settings: dict) -> bool:
    hooks = settings.get("hooks")
    if not isinstance(hooks, dict):
        return False
    return any(
        is_ours(hook)
        for groups in hooks.values()
        if isinstance(groups, list)
        for group in groups
        if isinstance(group, dict) and isinstance(group.get("hooks"), list)
        for hook in group["hooks"]
    )


def register(commands: argparse._SubParsersAction) -> None:
    """Add the `install-hook` subcommand to the `governance` parser."""
    parser = commands.add_parser(
        "install-hook",
        help="add the governance hook to Claude Code settings (or remove it)",
        description=(
            "Merge governance-hook into a Claude Code settings file for PreToolUse, "
            "PostToolUse and UserPromptSubmit, keeping every other setting and hook."
        ),
    )
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument(
        "--project",
        dest="scope",
        action="store_const",
        const="project",
        help="this project's .claude/settings.json (default)",
    )
    scope.add_argument(
        "--user", dest="scope", action="store_const", const="user", help="~/.claude/settings.json"
    )
    scope.add_argument(
        "--managed",
        dest="scope",
        action="store_const",
        const="managed",
        help=f"organisation-wide {MANAGED_SETTINGS} (or $GOVERNANCE_MANAGED_SETTINGS)",
    )
    parser.add_argument("--settings", metavar="PATH", help="edit this settings file instead")
    parser.add_argument(
        "--uninstall", action="store_true", help="remove only governance-hook's entries"
    )
    parser.add_argument(
        "--allow-managed-hooks-only",
        action="store_true",
        help="with --managed: set allowManagedHooksOnly so no user or project setting drops it",
    )
    parser.add_argument(
        "--remote-prompts",
        action="store_true",
        help="also answer Claude Code's permission prompts from Slack (PermissionRequest)",
    )
    parser.add_argument(
        "--timeout",
        type=int,
        default=DEFAULT_TIMEOUT_S,
        metavar="N",
        help=f"seconds Claude Code gives the hook (default {DEFAULT_TIMEOUT_S})",
    )
    parser.set_defaults(handler=cmd_install_hook, scope="project")
