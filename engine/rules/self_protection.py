"""The built-in self-protection rule: the state that decides (database, socket, spool, policy, the
Claude Code settings holding our hook), the approver's CLI and the server itself are out of an
agent's reach. Always on and critical; it reads no policy and is told the state's paths."""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Iterable

from engine.analysis.code import interpreter_language
from engine.analysis.commands import Access
from engine.analysis.shell import SimpleCommand, Word
from engine.decide import Finding, Outcome, Risk
from engine.facts.model import CommandFacts, HeldPath, NamedPath, ProtectedPaths
from engine.self_protection import (
    CLI_RULE,
    FIND_ACTIONS,
    MANAGED_SETTINGS,
    SETTINGS_RULE,
    SETTINGS_TAILS,
    STATE_RULE,
    STOP_RULE,
    ProtectedState,
    path_candidates,
)

# `governance` subcommands only a human may run: they decide, enrol, open windows, remove the
# hook, cut the audit trail, or replace the server.
_HUMAN_ONLY = frozenset({"approve", "deny", "mfa", "break-glass", "install-service", "serve"})
_STOP_VERBS = {
    "systemctl": frozenset({"stop", "disable", "mask", "kill"}),
    "service": frozenset({"stop"}),
    "launchctl": frozenset({"unload", "bootout", "remove", "stop", "disable"}),
}
_KILL_VALUE_OPTIONS = frozenset({"-s", "-n", "--signal"})
_PKILL_VALUE_OPTIONS = frozenset(
    {"-u", "-U", "-g", "-G", "-P", "-s", "-t", "--signal", "-F", "--pidfile", "--ns", "-d"}
)
_STATE_VARIABLES = re.compile(r"GOVERNANCE_(DB|SOCKET|SPOOL_DIR|POLICY)\b")
_NO_MENTION = frozenset({"echo", "printf", ":", "true", "false", "logger", "test", "["})


class SelfProtection:
    """Judges one command or file access against the protected state; yields findings only."""

    def __init__(self, state: ProtectedState, protected: ProtectedPaths) -> None:
        self.state = state
        self._state = dict(protected.entries)
        self._settings = {path: "the managed Claude Code settings" for path in MANAGED_SETTINGS}
        self._home = protected.home
        self._basenames = protected.names

    # ------------------------------------------------------------ files

    def access(
        self,
        access: Access,
        path: str,
        shown: str,
        by: str,
        root: str | None = None,
        settings: tuple[str, ...] = (),
    ) -> Finding | None:
        """A resolved file access: the protected file itself, anything under a protected dir,
        and (for writes and deletes, which take what is inside along) a dir holding one;
        `settings` are the Claude Code settings files found inside it."""
        found = self._match(path)
        if found is not None:
            return self._file_finding(found, access, shown, by)
        # The disk, a top-level folder or a home are rm_root's business (and ordinary reads).
        broad = path.count("/") <= 1 or path == self._home
        if broad:
            held = None
        elif access in (Access.WRITE, Access.DELETE):
            # Only a delete or a move takes a folder's settings files along with it.
            held = self._held(path, access is Access.DELETE or by == "mv", settings)
        elif path != root:
            # Copying or archiving a folder that holds the database copies the database; a
            # read of the whole project is ordinary work.
            held = self._held(path, False, ())
        else:
            held = None
        if held is not None:
            rule, what = held
            return self._finding(
                rule, f"{by} {_VERBS[access]} `{shown}`, which holds {what}", f"{by} {shown}"
            )
        return None

    def word(
        self, word: Word, named: NamedPath | None, by: str, access: Access, root: str | None
    ) -> Iterable[Finding]:
        """A shell word that is a file access, as the path it names (`named`; for a glob, with
        its matches on disk); words only known at run time are judged by the state variables
        they name."""
        if word.dynamic:
            if _STATE_VARIABLES.search(word.value):
                yield self._finding(
                    STATE_RULE,
                    f"{by} uses `{word.value}`, the location of governance state",
                    f"{by} {word.value}",
                )
            return
        if named is None:
            return
        if word.glob:
            # What the text could match (the files may not exist yet, or not here) is
            # already absolute and real; then what it does match here.
            could = [HeldPath(c) for c in self._could_match(named.path, access)]
            for hit in [*could, *named.matches]:
                finding = self.access(access, hit.path, word.value, by, root, hit.settings)
                if finding is not None:
                    yield finding
                    return
            return
        finding = self.access(access, named.path, word.value, by, root)
        if finding is not None:
            yield finding

    def mentions(
        self, facts: CommandFacts, accessed: frozenset[str] = frozenset()
    ) -> Iterable[Finding]:
        """Any argument naming protected state (`nc -U SOCK`, `--db=DB`, `sqlite3 DB`, a path
        inside `python -c` code): programs we do not model may open what they are given."""
        command = facts.command
        if command.name in _NO_MENTION:
            return
        for word in command.words[1:]:
            value = word.value
            if word.dynamic:
                if _STATE_VARIABLES.search(value):
                    yield self._finding(
                        STATE_RULE,
                        f"{command.name} is given `{value}`, the location of governance state",
                        command.display(),
                    )
                    return
                continue
            found = self._named_in(value, facts)
            if found is not None:
                if value in accessed and self._match(facts.named_path(value).path) is not None:
                    continue  # judged as the file access it is
                rule, what = found
                yield self._finding(
                    rule, f"{command.name} is given {what} (`{value}`)", command.display()
                )
                return

    def _named_in(self, value: str, facts: CommandFacts) -> tuple[str, str] | None:
        for entry, what in self._state.items():
            if entry in value:
                return STATE_RULE, what
        for entry, what in self._settings.items():
            if entry in value:
                return SETTINGS_RULE, what
        if any(name in value for name in self._basenames):
            for candidate in path_candidates(value):
                found = self._match(facts.named_path(candidate).path)
                if found is not None:
                    return found
        return None

    def _could_match(self, pattern: str, access: Access) -> list[str]:
        """Protected paths (or, for writes and deletes, folders holding them) the glob could
        expand to, judged on the text: the files may not exist yet, or not here."""
        candidates = list(self._state) + list(self._settings)
        if access in (Access.WRITE, Access.DELETE):
            candidates += [parent for entry in self._state for parent in _parents(entry)]
        folder = posixpath.dirname(pattern)
        if fnmatch.fnmatchcase(".claude", posixpath.basename(folder)):
            candidates += [f"{folder}/settings.json", f"{folder}/settings.local.json"]
        return [c for c in candidates if fnmatch.fnmatchcase(c, pattern)]

    def _match(self, path: str) -> tuple[str, str] | None:
        for entry, what in self._state.items():
            if path == entry or path.startswith(entry + "/"):
                return STATE_RULE, what
        if path in self._settings:
            return SETTINGS_RULE, self._settings[path]
        if path.endswith(SETTINGS_TAILS):
            return SETTINGS_RULE, "Claude Code settings that hold the governance hook"
        return None

    def _held(
        self, path: str, include_settings: bool, settings: tuple[str, ...]
    ) -> tuple[str, str] | None:
        inside = path.rstrip("/") + "/"
        for entry, what in self._state.items():
            if entry.startswith(inside):
                return STATE_RULE, what
        if not include_settings:
            return None
        if path.endswith("/.claude") or any(p.startswith(inside) for p in self._settings):
            return SETTINGS_RULE, "Claude Code settings that hold the governance hook"
        if settings:
            return SETTINGS_RULE, "Claude Code settings that hold the governance hook"
        return None

    def _file_finding(self, found: tuple[str, str], access: Access, shown: str, by: str) -> Finding:
        rule, what = found
        return self._finding(rule, f"{by} {_VERBS[access]} {what} (`{shown}`)", f"{by} {shown}")

    # ------------------------------------------------------------ commands

    def command(self, facts: CommandFacts) -> Iterable[Finding]:
        """The approver's CLI, anything that stops the server, and `find … -exec` over a
        folder holding state (what `{}` stands for is every file found)."""
        command, root = facts.command, facts.where.root
        name, argv = command.name, command.argv
        if name == "find" and FIND_ACTIONS & set(argv):
            for start in command.words[1:]:
                if start.value.startswith(("-", "(", "!")):
                    break
                named = None if start.dynamic else facts.named_path(start.value)
                yield from self.word(start, named, "find -exec", Access.READ, root)
        elif name == "governance" or _runs_governance_module(name, argv):
            start = 3 if name != "governance" else 1
            yield from self._cli(argv[start:], command.display())
        elif name == "kill":
            yield from self._kill(command)
        elif name in {"pkill", "killall"}:
            yield from self._pkill(command)
        elif name in _STOP_VERBS:
            verbs = _STOP_VERBS[name]
            words = [w for w in argv[1:] if not w.startswith("-")]
            stops = words and (words[0] in verbs or (name == "service" and words[-1] in verbs))
            if stops and any("governance" in w.lower() for w in words):
                yield self._stop(command.display())

    def _cli(self, args: tuple[str, ...], display: str) -> Iterable[Finding]:
        positional = [a for a in args if not a.startswith("-")]
        sub = positional[0] if positional else ""
        human_only = (
            sub in _HUMAN_ONLY
            or (sub == "audit" and positional[1:2] == ["prune"])
            or (sub == "install-hook" and "--uninstall" in args)
        )
        if human_only:
            shown = " ".join(positional[:2]) if sub == "audit" else sub
            yield self._finding(
                CLI_RULE,
                f"`governance {shown}` is for the humans who govern agents; an agent may not "
                "run it (ask a person to)",
                display,
            )

    def _kill(self, command: SimpleCommand) -> Iterable[Finding]:
        pid = self.state.server_pid
        words = command.words[1:]
        skip = False
        for word in words:
            if skip:
                skip = False
                continue
            value = word.value
            if value in _KILL_VALUE_OPTIONS:
                skip = True
                continue
            if word.dynamic and "governance" in value.lower():
                yield self._stop(command.display())
                return
            if pid is not None and value.lstrip("-") == str(pid) and value != "-":
                yield self._stop(command.display())
                return

    def _pkill(self, command: SimpleCommand) -> Iterable[Finding]:
        argv = command.argv
        full = any(
            a in {"-f", "--full"} or (a.startswith("-") and "f" in a[1:] and not a.startswith("--"))
            for a in argv[1:]
        )
        process = self.state.server_name[:15]  # the kernel keeps 15 characters of it
        line = " ".join(self.state.server_command)
        skip = False
        for value in argv[1:]:
            if skip:
                skip = False
                continue
            if value in _PKILL_VALUE_OPTIONS:
                skip = True
                continue
            if value.startswith("-"):
                continue
            if command.name == "killall" and "-r" not in argv and "--regexp" not in argv:
                hit = value in {process, self.state.server_name}
            else:
                try:
                    regex = re.compile(value)
                except re.error:
                    continue
                hit = bool(regex.search(line if full else process))
            if hit:
                yield self._stop(command.display())
                return

    def _stop(self, display: str) -> Finding:
        return self._finding(
            STOP_RULE,
            "this would stop the governance server, and with it every agent's checks; an "
            "agent may not stop it (ask a person to)",
            display,
        )

    @staticmethod
    def _finding(rule: str, reason: str, fragment: str) -> Finding:
        if rule in (STATE_RULE, SETTINGS_RULE):
            reason += "; agents may not open, change or delete governance state (ask a person)"
        return Finding(rule, Outcome.DENY, reason, fragment[:200], Risk.CRITICAL)


_VERBS = {
    Access.READ: "reads",
    Access.WRITE: "writes",
    Access.DELETE: "deletes",
    Access.MENTION: "opens",
}


def _parents(path: str) -> list[str]:
    parts = path.rstrip("/").split("/")
    return ["/".join(parts[:end]) for end in range(2, len(parts))]


def _runs_governance_module(name: str, argv: tuple[str, ...]) -> bool:
    """`python -m bot.cli …` is the governance CLI under another spelling."""
    return (
        interpreter_language(name) == "python"
        and len(argv) >= 3
        and argv[1] == "-m"
        and argv[2] in {"bot.cli", "bot"}
    )
