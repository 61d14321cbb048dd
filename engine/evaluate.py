"""Judges one tool call against a policy: runs every applicable check, combines the findings.
Reads only what a check needs from disk (symlinks, SQL files); never talks to a server or Slack."""

from __future__ import annotations

import fnmatch
import os
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from engine.analysis.mcp import classify
from engine.analysis.modes import world_writable
from engine.analysis.routes import with_routes
from engine.analysis.scripts import with_scripts
from engine.analysis.sql_sources import embedded_sql, split_escapes, written_file
from engine.analysis.substitutions import listing_walks, substituted_files
from engine.commands import Access, CommandEffects, FileAccess, SqlSource, effects
from engine.decide import Decision, Finding, Outcome, Risk, decide
from engine.events import CallContext, ToolEvent
from engine.fs import FileSystem, Walk
from engine.git import ALL_BRANCHES, analyze_push
from engine.paths import PathPatterns, resolve_path
from engine.policy import CompiledPattern, Policy
from engine.self_protection import RULE_PREFIX, ProtectedState, SelfProtection
from engine.self_protection import RULES as SELF_PROTECTION_RULES
from engine.shell import ShellAnalysis, SimpleCommand, Word, analyze
from engine.sql import SqlAnalysis, analyze_sql, phrase_matches
from engine.walks import GIT_TOP, XARGS_INPUT, grep_tool_walk

# A protected file found in a walk: (path, rule, pattern index, outcome, pattern).
_Hit = tuple[str, str, int, Outcome, str]
_WALK_MEMO_LIMIT = 4096

_MAX_SQL_FILE_BYTES = 1_000_000
_FRAGMENT_CHARS = 200
_BLOCK_DEVICE = re.compile(
    r"^/dev/(sd[a-z]|nvme\d|vd[a-z]|xvd[a-z]|hd[a-z]|mmcblk\d|disk\d|md\d|dm-)"
)
_DISK_TOOLS = frozenset({"wipefs", "fdisk", "sfdisk", "cfdisk", "parted", "sgdisk", "gdisk"})
_FORMATTERS = ("mkfs", "mke2fs", "mkswap", "mkdosfs", "mkntfs")
_READ_TOOLS = frozenset({"Read", "NotebookRead"})
_SEARCH_TOOLS = frozenset({"Grep", "Glob", "LS"})
_WRITE_TOOLS = frozenset({"Write", "Edit", "MultiEdit", "NotebookEdit"})
_AGENT_TOOLS = frozenset({"Agent", "Task"})
_BASH_CHECKS = (
    "bash command patterns",
    "built-in detectors",
    "git, SQL, path and network rules",
)


def _clip(text: str) -> str:
    return text if len(text) <= _FRAGMENT_CHARS else text[: _FRAGMENT_CHARS - 1] + "…"


@dataclass(frozen=True, slots=True)
class _Where:
    """Where the call happens: what relative paths and `HEAD` mean."""

    cwd: str
    root: str
    home: str | None
    branch: str | None


@lru_cache(maxsize=8192)
def _effects(command: SimpleCommand) -> CommandEffects:
    return effects(command)


@lru_cache(maxsize=8192)
def _followed(command: str) -> ShellAnalysis:
    """The commands a line runs, scripts it writes and runs and routes to known commands
    followed: pure, so cached by text like the parse."""
    return with_routes(with_scripts(analyze(command)))


BUILTIN_RULES = (
    "builtin.rm_root",
    "builtin.rm_unknown_target",
    "builtin.disk_destroy",
    "builtin.chmod_world_writable",
    "builtin.fork_bomb",
    "builtin.unseen_code",
    *SELF_PROTECTION_RULES,
    "builtin.walk_budget",
)


class Engine:
    """A policy made ready to evaluate: regexes compiled, path patterns indexed.

    `state` says where this machine's governance state lives (the server passes its own
    configuration); the built-in self-protection rules keep agents away from it.
    """

    def __init__(
        self,
        policy: Policy,
        state: ProtectedState | None = None,
        filesystem: FileSystem | None = None,
    ) -> None:
        self.policy = policy
        self._guard = SelfProtection(state)
        self.filesystem = filesystem or _shared_filesystem()
        self._walk_memo: dict[tuple[int, Access, str], list[_Hit]] = {}
        self._call_cwds: dict[str, str] = {}
        sections = policy.policies
        bash = sections.bash_commands
        self._blocked = bash.compiled("blocked_patterns")
        self._approval = bash.compiled("requires_approval")
        self._allowed = bash.compiled("allowed_patterns")
        files = sections.file_operations
        self._protected = PathPatterns(files.protected_paths)
        self._write_protected = PathPatterns(files.write_protected_paths)
        self._delete_exempt = PathPatterns(files.delete_exempt_paths)
        self._deletes_need_approval = files.delete_requires_approval
        self._protected_index = {p: i for i, p in enumerate(files.protected_paths)}
        self._write_index = {p: i for i, p in enumerate(files.write_protected_paths)}

    def rule_ids(self) -> list[str]:
        """Every rule id this policy can fire, for tuning views that must list quiet rules."""
        sections = self.policy.policies

        def indexed(section: str, entries: list[Any]) -> list[str]:
            return [f"{section}[{i}]" for i in range(len(entries))]

        files, git = sections.file_operations, sections.git_operations
        database, ai = sections.database_operations, sections.ai_operations
        ids = [p.rule for p in (*self._blocked, *self._approval, *self._allowed)]
        ids += indexed("file_operations.protected_paths", files.protected_paths)
        ids += indexed("file_operations.write_protected_paths", files.write_protected_paths)
        ids += indexed("database_operations.blocked_operations", database.blocked_operations)
        ids += indexed("database_operations.requires_approval", database.requires_approval)
        ids += indexed("ai_operations.blocked_models", ai.blocked_models)
        ids += indexed("ai_operations.requires_approval_models", ai.requires_approval_models)
        switches = {
            "file_operations.delete_requires_approval": files.delete_requires_approval,
            "git_operations.blocked_branches": git.blocked_branches,
            "git_operations.requires_approval_branches": git.requires_approval_branches,
            "git_operations.block_force_push": git.block_force_push,
            "git_operations.require_pr_for_main": git.require_pr_for_main,
            "git_operations.require_code_review": git.require_code_review,
            "database_operations.readonly_schemas": database.readonly_schemas,
        }
        ids += [rule for rule, on in switches.items() if on]
        return [*ids, *BUILTIN_RULES]

    # ------------------------------------------------------------ entry point

    def evaluate(self, event: ToolEvent, context: CallContext | None = None) -> Decision:
        context = context or CallContext()
        self._call_cwds.clear()  # real paths of working directories, looked up once a call
        cwd = event.cwd or context.repo or "/"
        where = _Where(cwd, context.repo or cwd, context.home, context.git_branch)
        findings: list[Finding] = []
        commands: tuple[str, ...] = ()
        hosts: list[str] = []
        tool = event.tool_name
        tool_input = event.tool_input
        checks: tuple[str, ...] = ()
        if event.hook_event_name == "UserPromptSubmit":
            checks = ("prompt limits",)
            findings.extend(self._prompt(event.prompt or ""))
        elif tool == "Bash":
            checks = _BASH_CHECKS
            command = tool_input.get("command")
            if not isinstance(command, str):
                findings.append(
                    self._finding(
                        "input.malformed",
                        Outcome.DENY,
                        "Bash call without a command string",
                        "",
                        Risk.MEDIUM,
                    )
                )
            else:
                analysis = _followed(command)
                commands = tuple(c.display() for c in analysis.commands)
                findings.extend(self._bash(analysis, where, hosts))
                findings.extend(self._runtime(tool_input))
        elif tool == "Grep":
            checks = ("path rules",)
            findings.extend(self._grep_tool(tool_input, where))
        elif tool in _READ_TOOLS or tool in _WRITE_TOOLS or tool in _SEARCH_TOOLS:
            checks = ("path rules",)
            findings.extend(self._file_tool(tool, tool_input, where))
        elif tool == "WebFetch":
            checks = ("network rules",)
            findings.extend(self._web(tool_input.get("url"), hosts))
        elif tool in _AGENT_TOOLS:
            checks = ("model rules",)
            findings.extend(self._model(tool_input.get("model")))
        elif tool.startswith("mcp__"):
            checks = ("MCP effects: path, SQL, shell, git hosting and network rules",)
            findings.extend(self._mcp(tool, tool_input, where, hosts))
        return decide(
            self._with_risk(findings),
            self.policy.mode,
            commands,
            tuple(dict.fromkeys(hosts)),
            checks,
        )

    def _finding(
        self, rule: str, outcome: Outcome, reason: str, fragment: str, risk: Risk
    ) -> Finding:
        return Finding(rule, outcome, reason, _clip(fragment), risk)

    def _with_risk(self, findings: list[Finding]) -> list[Finding]:
        overrides = self.policy.risk_overrides
        if not overrides:
            return findings
        adjusted = []
        for finding in findings:
            if finding.rule.startswith(RULE_PREFIX):  # always critical, whatever the policy
                adjusted.append(finding)
                continue
            risk = overrides.get(finding.rule)
            if risk is None:
                for prefix, level in overrides.items():
                    if prefix.endswith((".", "[")) and finding.rule.startswith(prefix):
                        risk = level
            adjusted.append(
                Finding(finding.rule, finding.outcome, finding.reason, finding.fragment, risk)
                if risk
                else finding
            )
        return adjusted

    # ------------------------------------------------------------ bash

    def _bash(self, analysis: ShellAnalysis, where: _Where, hosts: list[str]) -> Iterable[Finding]:
        for reason in analysis.opaque:
            yield self._finding(
                "builtin.unseen_code",
                Outcome.APPROVE,
                f"{reason}; code that cannot be checked before it runs needs approval",
                reason,
                Risk.HIGH,
            )
        for name in analysis.fork_bombs:
            yield self._finding(
                "builtin.fork_bomb",
                Outcome.DENY,
                f"function `{name}` calls itself in the background: a fork bomb that exhausts "
                "the machine",
                name,
                Risk.CRITICAL,
            )
        base = where
        globstar = False
        previous: SimpleCommand | None = None
        written: dict[str, str] = {}  # files this command line writes before it runs them
        for command in analysis.commands:
            where = base
            if command.workdir:
                where = replace(base, cwd=resolve_path(command.workdir, base.cwd, base.home))
            if command.name == "shopt" and "globstar" in command.argv:
                globstar = "-s" in command.argv
            upstream = previous
            if command.name != "xargs":  # `xargs CMD` is followed by CMD itself
                previous = command
            command_effects = _effects(command)
            yield from self._guard.command(command, where.cwd, where.root)
            accessed = frozenset(access.word.value for access in command_effects.files)
            yield from self._guard.mentions(command, where.cwd, accessed)
            yield from self._patterns(command, command_effects)
            yield from self._destructive(command, where)
            yield from self._git(command, where)
            for source in (*command_effects.sql, *embedded_sql(command)):
                yield from self._sql_source(source, where, written)
            if (write := written_file(command)) is not None:
                written[resolve_path(write[0], where.cwd, where.home)] = write[1]
            for listed in (s for f in command_effects.files for s in substituted_files(f)):
                for access in _fed_by_find(listed, command, upstream):
                    yield from self._shell_file(access, where, globstar)
            for host in command_effects.hosts:
                hosts.append(host)
                yield from self._host(host, command.name)

    def _patterns(
        self, command: SimpleCommand, command_effects: CommandEffects
    ) -> Iterable[Finding]:
        text = command_effects.regex_text
        if not text:
            return
        texts = (text, f"{' '.join(command.prefix)} {text}") if command.prefix else (text,)
        # The canonical spelling (`pnpm publish` -> `npm publish`) is matched too.
        texts += tuple(t for t in command_effects.canonical if t not in texts)
        lists: tuple[tuple[tuple[CompiledPattern, ...], Outcome, Risk], ...] = (
            (self._blocked, Outcome.DENY, Risk.HIGH),
            (self._approval, Outcome.APPROVE, Risk.MEDIUM),
            (self._allowed, Outcome.ALLOW, Risk.LOW),
        )
        if command_effects.noop:
            # `npm publish --dry-run` names the action but does not do it.
            lists = lists[2:]
        for patterns, outcome, default_risk in lists:
            for pattern in patterns:
                found = next(((t, m) for t in texts if (m := pattern.regex.search(t))), None)
                if found is None:
                    continue
                matched_text, match = found
                verb = {
                    Outcome.DENY: "is blocked",
                    Outcome.APPROVE: "needs approval",
                    Outcome.ALLOW: "is allowed",
                }[outcome]
                spelled = ""
                if matched_text in command_effects.canonical and matched_text != text:
                    spelled = f"`{_clip(text)}` is `{matched_text}`: "
                reason = pattern.reason or (
                    f"{spelled}`{match.group(0)}` {verb} by policy pattern `{pattern.source}`"
                )
                yield self._finding(
                    pattern.rule, outcome, reason, match.group(0), pattern.risk or default_risk
                )

    def _destructive(self, command: SimpleCommand, where: _Where) -> Iterable[Finding]:
        name, words = command.name, command.words
        if name == "rm":
            yield from self._rm(words, where)
        elif name == "chmod":
            # A mode starting with `-` (`chmod -w f`) only removes rights: skip options.
            yield from self._world_writable(
                words, next((w.value for w in words[1:] if not w.value.startswith("-")), None)
            )
        elif name in {"mkdir", "install", "mkfifo", "mknod"}:
            modes = [
                words[i + 1].value for i, w in enumerate(words[:-1]) if w.value in {"-m", "--mode"}
            ]
            modes += [w.value.split("=", 1)[1] for w in words if w.value.startswith("--mode=")]
            for mode in modes:
                yield from self._world_writable(words, mode)
        elif name == "find" and any(w.value in {"-delete", "-exec", "-execdir"} for w in words):
            for start in words[1:]:
                if start.value.startswith(("-", "(", "!")):
                    break
                if self._is_catastrophic_target(start, where):
                    yield self._finding(
                        "builtin.rm_root",
                        Outcome.DENY,
                        f"`find {start.value} -delete/-exec` would delete a system directory "
                        "or home; delete only inside the project",
                        command.display(),
                        Risk.CRITICAL,
                    )
        elif name.startswith(_FORMATTERS) or name in _DISK_TOOLS:
            devices = [w.value for w in words[1:] if w.value.startswith("/dev/")]
            listing = any(w.value in {"-l", "--list", "print"} for w in words[1:])
            if name.startswith(_FORMATTERS) or (devices and not listing):
                yield self._disk(command.display())
        elif name == "dd":
            if any(w.value.startswith("of=") and _BLOCK_DEVICE.match(w.value[3:]) for w in words):
                yield self._disk(command.display())
        elif name == "shred" and any(_BLOCK_DEVICE.match(w.value) for w in words[1:]):
            yield self._disk(command.display())
        for redirect in command.redirects:
            if redirect.op != "<" and _BLOCK_DEVICE.match(redirect.target.value):
                yield self._disk(f"> {redirect.target.value}")

    def _disk(self, fragment: str) -> Finding:
        return self._finding(
            "builtin.disk_destroy",
            Outcome.DENY,
            "writes directly to a disk device or formats one; this destroys the file system",
            fragment,
            Risk.CRITICAL,
        )

    def _is_catastrophic_target(self, word: Word, where: _Where) -> bool:
        value = word.value
        if word.dynamic:
            return False
        if word.glob:
            parent = value.rsplit("/", 1)[0] if "/" in value else "."
            if value.startswith("/") and parent == "":
                return True  # `/*`, `/e*`
            return self._is_catastrophic_path(
                resolve_path(parent or "/", where.cwd, where.home), where
            )
        if value in {"~", "~/", "$HOME", "${HOME}"}:
            return True
        return self._is_catastrophic_path(resolve_path(value, where.cwd, where.home), where)

    def _is_catastrophic_path(self, path: str, where: _Where) -> bool:
        parts = PurePosixPath(path).parts
        if len(parts) <= 2:
            return True  # `/` or a top-level directory such as /etc, /usr, /home
        homes = {os.path.expanduser("~"), where.home or ""}
        if path in homes:
            return True
        return len(parts) == 3 and parts[1] in {"home", "Users"}

    def _rm(self, words: tuple[Word, ...], where: _Where) -> Iterable[Finding]:
        recursive = no_preserve = False
        targets: list[Word] = []
        only_targets = False
        for word in words[1:]:
            value = word.value
            if only_targets or not value.startswith("-") or value == "-":
                targets.append(word)
            elif value == "--":
                only_targets = True
            elif value in {"--recursive", "--dir"}:
                recursive = recursive or value == "--recursive"
            elif value == "--no-preserve-root":
                no_preserve = True
            elif not value.startswith("--"):
                recursive = recursive or "r" in value or "R" in value
        display = " ".join(w.value for w in words)
        if no_preserve:
            yield self._finding(
                "builtin.rm_root",
                Outcome.DENY,
                "`rm --no-preserve-root` exists only to delete `/`",
                display,
                Risk.CRITICAL,
            )
        if not recursive:
            return
        for target in targets:
            if self._is_catastrophic_target(target, where):
                yield self._finding(
                    "builtin.rm_root",
                    Outcome.DENY,
                    f"recursive delete of `{target.value}` would wipe the system or a home "
                    "directory; delete specific paths inside the project instead",
                    display,
                    Risk.CRITICAL,
                )
            elif target.dynamic:
                yield self._finding(
                    "builtin.rm_unknown_target",
                    Outcome.APPROVE,
                    f"recursive delete of `{target.value}`, a path only known at run time",
                    display,
                    Risk.HIGH,
                )

    def _world_writable(self, words: tuple[Word, ...], mode: str | None) -> Iterable[Finding]:
        if mode is None or not world_writable(mode):
            return
        display = " ".join(w.value for w in words)
        yield self._finding(
            "builtin.chmod_world_writable",
            Outcome.DENY,
            f"mode `{mode}` makes files writable by every user; use 755 for programs or 644 "
            "for files",
            display,
            Risk.HIGH,
        )

    # ------------------------------------------------------------ git

    def _git(self, command: SimpleCommand, where: _Where) -> Iterable[Finding]:
        git_policy = self.policy.policies.git_operations
        if command.name == "gh":
            argv = command.argv
            if (
                git_policy.require_code_review
                and argv[1:3] == ("pr", "merge")
                and "--admin" in argv
            ):
                yield self._finding(
                    "git_operations.require_code_review",
                    Outcome.DENY,
                    "`gh pr merge --admin` bypasses required reviews; merge after approval",
                    command.display(),
                    Risk.HIGH,
                )
            return
        if command.name != "git":
            return
        # A bare `git push` follows the repository's own config (remote.*.push, push.default).
        top = self.filesystem.git_top(self._real_cwd(where)) if "push" in command.argv else None
        push = analyze_push(
            command.argv, where.branch, self.filesystem.git_config(top) if top else ()
        )
        if push is None or push.dry_run:
            return
        display = command.display()
        if push.force and git_policy.block_force_push:
            yield self._finding(
                "git_operations.block_force_push",
                Outcome.DENY,
                "force push rewrites shared history and is blocked; push new commits instead",
                display,
                Risk.HIGH,
            )
        guarded = set(git_policy.blocked_branches) | set(git_policy.requires_approval_branches)
        for target in push.targets:
            branch = target.branch
            if branch is None:
                if guarded:
                    yield self._finding(
                        "git_operations.unknown_target",
                        Outcome.APPROVE,
                        "cannot tell which branch this push updates (no branch checked out is "
                        "known); name it explicitly, e.g. `git push origin my-branch`",
                        display,
                        Risk.MEDIUM,
                    )
                continue
            action = "deletes" if target.delete else "pushes to"
            blocked = _branch_matches(branch, git_policy.blocked_branches)
            if blocked:
                yield self._finding(
                    "git_operations.blocked_branches",
                    Outcome.DENY,
                    f"{action} protected branch `{blocked}`; push a feature branch and open a "
                    "pull request",
                    display,
                    Risk.HIGH,
                )
            if git_policy.require_pr_for_main and _branch_matches(branch, ["main", "master"]):
                yield self._finding(
                    "git_operations.require_pr_for_main",
                    Outcome.DENY,
                    f"changes reach `{branch}` only through a reviewed pull request",
                    display,
                    Risk.HIGH,
                )
            needs_approval = _branch_matches(branch, git_policy.requires_approval_branches)
            if needs_approval:
                yield self._finding(
                    "git_operations.requires_approval_branches",
                    Outcome.APPROVE,
                    f"{action} `{needs_approval}`, which needs approval",
                    display,
                    Risk.HIGH,
                )

    # ------------------------------------------------------------ SQL

    def _sql_source(
        self, source: SqlSource, where: _Where, written: dict[str, str], depth: int = 0
    ) -> Iterable[Finding]:
        if source.unseen:
            yield self._finding(
                "database_operations.unseen_sql",
                Outcome.APPROVE,
                f"{source.unseen}; SQL that cannot be checked needs approval",
                source.client,
                Risk.HIGH,
            )
            return
        text = source.text
        if source.file is not None:
            path = resolve_path(source.file.value, where.cwd, where.home)
            yield from self._path_finding(Access.READ, path, source.file.value, source.client)
            text = None if source.file.dynamic else written.get(path) or _read_sql_file(path)
            if text is None:
                yield self._finding(
                    "database_operations.unseen_sql",
                    Outcome.APPROVE,
                    f"{source.client} runs SQL from `{source.file.value}`, which cannot be read "
                    "here; SQL that cannot be checked needs approval",
                    source.file.value,
                    Risk.HIGH,
                )
                return
        if text is None:
            return
        script = split_escapes(text, source.client)
        if script.unseen:
            unseen = SqlSource(source.client, source.dialect, unseen=script.unseen)
            yield from self._sql_source(unseen, where, written)
        yield from self._sql(analyze_sql(script.sql, source.dialect), source.client)
        for command in script.commands:  # the client's shell escape runs it as a command
            yield from self._bash(analyze(command), where, [])
        for file in script.files if depth < 4 else ():
            included = SqlSource(source.client, source.dialect, file=Word(file))
            yield from self._sql_source(included, where, written, depth + 1)

    def _sql(self, analysis: SqlAnalysis, client: str) -> Iterable[Finding]:
        database = self.policy.policies.database_operations
        readonly = {schema.lower() for schema in database.readonly_schemas}
        for statement in analysis.unparsed:
            yield self._finding(
                "database_operations.unparsed_sql",
                Outcome.APPROVE,
                f"{client} would run SQL that does not parse; it needs approval",
                statement,
                Risk.MEDIUM,
            )
        for operation in analysis.operations:
            handled = False
            for index, phrase in enumerate(database.blocked_operations):
                if phrase_matches(phrase, operation):
                    handled = True
                    yield self._finding(
                        f"database_operations.blocked_operations[{index}]",
                        Outcome.DENY,
                        f"`{operation.phrase}` is blocked by the database policy ({phrase}); "
                        "ask a human to run destructive SQL",
                        operation.statement,
                        Risk.CRITICAL,
                    )
            if operation.is_write:
                touched = [t for t in operation.tables if set(t.split(".")[:-1]) & readonly]
                if touched:
                    yield self._finding(
                        "database_operations.readonly_schemas",
                        Outcome.DENY,
                        f"writes into read-only schema `{touched[0].rsplit('.', 1)[0]}` "
                        f"({operation.phrase} {touched[0]})",
                        operation.statement,
                        Risk.HIGH,
                    )
            for index, phrase in enumerate(database.requires_approval):
                if phrase_matches(phrase, operation):
                    handled = True
                    yield self._finding(
                        f"database_operations.requires_approval[{index}]",
                        Outcome.APPROVE,
                        f"`{operation.phrase}` changes the schema and needs approval",
                        operation.statement,
                        Risk.MEDIUM,
                    )
            if (
                not handled
                and operation.phrase.split(" ", 1)[0]
                in {
                    "DROP",
                    "CREATE",
                    "ALTER",
                    "TRUNCATE",
                    "RENAME",
                    "GRANT",
                    "REVOKE",
                }
                and database.unlisted_schema_changes != "allow"
            ):
                yield self._finding(
                    "database_operations.unlisted_schema_changes",
                    Outcome(database.unlisted_schema_changes),
                    f"`{operation.phrase}` changes the schema; the policy does not list it, so it "
                    f"gets `{database.unlisted_schema_changes}`",
                    operation.statement,
                    Risk.MEDIUM,
                )

    # ------------------------------------------------------------ files

    def _shell_file(
        self, access: FileAccess, where: _Where, globstar: bool = False
    ) -> Iterable[Finding]:
        word = access.word
        if word.dynamic or word.glob:
            yield from self._guard.word(word, where.cwd, access.by, access.access, where.root)
        if word.dynamic:
            if access.access is Access.DELETE and self._deletes_need_approval:
                yield self._finding(
                    "file_operations.delete_requires_approval",
                    Outcome.APPROVE,
                    f"{access.by} deletes `{word.value}`, files only known at run time; "
                    "deleting files needs approval",
                    f"{access.by} {word.value}",
                    Risk.MEDIUM,
                )
            return
        shown_words = [word.value]
        resolved: tuple[str, ...] = ()
        if word.glob:
            base = self._real_cwd(where)
            expansion = self.filesystem.expand_glob(word.value, base, globstar)
            if expansion is None:
                # The glob starts in a directory that is not here: reason without the disk.
                yield from self._unseen_glob(access, where)
                return
            shown_words, resolved = list(expansion.matches), expansion.paths
        seen_rules: set[str] = set()
        for finding in self._real_files(access, shown_words, resolved, where):
            # One finding per rule for a glob: the first file named is enough to act on.
            if finding.rule not in seen_rules:
                seen_rules.add(finding.rule)
                yield finding

    def _real_files(
        self, access: FileAccess, shown_words: list[str], resolved: tuple[str, ...], where: _Where
    ) -> Iterable[Finding]:
        for position, shown in enumerate(shown_words):
            if resolved:
                path = resolved[position]
            elif shown == GIT_TOP:
                path = self.filesystem.git_top(resolve_path("", where.cwd)) or where.root
                shown = os.path.relpath(path, resolve_path("", where.cwd))
            else:
                path = self._resolve(shown, where)
            walkable = access.walk is not None and self.filesystem.is_dir(path)
            if not access.contents_only or not walkable:  # not here: judged by its name
                yield from self._path_finding(access.access, path, shown, access.by, where.root)
            if not walkable:
                continue
            if access.access is Access.DELETE and self._is_catastrophic_path(path, where):
                continue  # judged by builtin.rm_root; walking `/` would only spend the budget
            walk = self.filesystem.walk(path, access.walk)
            yield from self._walk_findings(access, walk, shown, where)
            if access.contents_only and access.access is Access.DELETE and walk.complete:
                yield from self._found_deletes(access, walk, shown, where)

    def _found_deletes(
        self, access: FileAccess, walk: Walk, shown: str, where: _Where
    ) -> Iterable[Finding]:
        """`find -name … -delete`, `git clean`: the files found are deleted, not the start."""
        if not self._deletes_need_approval:
            return
        found = [p for p in walk.files if self._delete_exempt.match(p, where.root) is None]
        if not found:
            return
        display = _display_path(found[0], walk.root, shown)
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        yield self._finding(
            "file_operations.delete_requires_approval",
            Outcome.APPROVE,
            f"{access.by} would delete {display}{more}; deleting files needs approval",
            f"{access.by} {shown}",
            Risk.MEDIUM,
        )

    def _real_cwd(self, where: _Where) -> str:
        real = self._call_cwds.get(where.cwd)
        if real is None:
            # realpath, not the cached listings: the directories above a project (/tmp,
            # /home) change all the time, and re-reading them costs more than a few lstat.
            real = self._call_cwds[where.cwd] = resolve_path("", where.cwd, where.home)
        return real

    def _resolve(self, shown: str, where: _Where) -> str:
        """resolve_path, answered from the directory listings fs.py keeps when it can."""
        if shown.startswith(("/", "~")):
            return resolve_path(shown, where.cwd, where.home)
        found = self.filesystem.resolve(self._real_cwd(where), shown)
        return found if found is not None else resolve_path(shown, where.cwd, where.home)

    def _unseen_glob(self, access: FileAccess, where: _Where) -> Iterable[Finding]:
        word = access.word
        for patterns, index, rule, outcome in self._path_rules(access.access):
            pattern = patterns.could_match_glob(word.value, where.cwd, where.root)
            if pattern is not None:
                yield self._path_rule_finding(
                    rule, index[pattern], outcome, access.access, word.value, pattern, access.by
                )

    def _walk_findings(
        self, access: FileAccess, walk: Walk, shown: str, where: _Where
    ) -> Iterable[Finding]:
        verb = {Access.READ: "read", Access.WRITE: "change", Access.DELETE: "delete"}.get(
            access.access, "pass"
        )
        if not walk.complete:
            yield self._finding(
                "builtin.walk_budget",
                Outcome.APPROVE,
                f"{access.by} would {verb} every file under `{shown}`, but {walk.reason}: the "
                "engine could not check them for protected files within its budget, so it "
                "needs approval; name a narrower path",
                f"{access.by} {shown}",
                Risk.MEDIUM,
            )
            return
        hits = self._walk_hits(walk, access.access, where.root)
        reported: set[str] = set()
        for path, rule, index, outcome, pattern in hits:
            if rule in reported:
                continue
            reported.add(rule)
            same = sum(1 for hit in hits if hit[1] == rule)
            link = next((via for target, via in walk.links if target == path), None)
            display = _display_path(link or path, walk.root, shown)
            if link is not None:
                display += f" (a link to {path})"
            name = (link or path).rsplit("/", 1)[-1]
            more = f" (and {same - 1} more)" if same > 1 else ""
            hint = access.hint.format(name=name, path=display.removeprefix("./"))
            if outcome is Outcome.DENY:
                reason = (
                    f"{access.by} would {verb} {display}{more}, which matches protected path "
                    f"`{pattern}`; {hint}"
                )
                risk = Risk.HIGH
            else:
                reason = (
                    f"{access.by} would {verb} {display}{more}, under write-protected "
                    f"`{pattern}`: needs approval; {hint}"
                )
                risk = Risk.MEDIUM
            yield self._finding(f"{rule}[{index}]", outcome, reason, f"{access.by} {display}", risk)

    def _walk_hits(self, walk: Walk, access: Access, root: str) -> list[_Hit]:
        key = (walk.serial, access, root)
        hits = self._walk_memo.get(key)
        if hits is None:
            hits = []
            rules = self._path_rules(access)
            for path in walk.files:
                for patterns, index, rule, outcome in rules:
                    pattern = patterns.match(path, root)
                    if pattern is not None:
                        hits.append((path, rule, index[pattern], outcome, pattern))
            if len(self._walk_memo) >= _WALK_MEMO_LIMIT:
                self._walk_memo.clear()
            self._walk_memo[key] = hits
        return hits

    def _path_rules(
        self, access: Access
    ) -> list[tuple[PathPatterns, dict[str, int], str, Outcome]]:
        rules = [
            (
                self._protected,
                self._protected_index,
                "file_operations.protected_paths",
                Outcome.DENY,
            )
        ]
        if access in {Access.WRITE, Access.DELETE}:
            rules.append(
                (
                    self._write_protected,
                    self._write_index,
                    "file_operations.write_protected_paths",
                    Outcome.APPROVE,
                )
            )
        return rules

    def _path_finding(
        self, access: Access, path: str, shown: str, by: str, root: str | None = None
    ) -> Iterable[Finding]:
        guarded = self._guard.access(access, path, shown, by, root)
        if guarded is not None:
            yield guarded
        for patterns, index, rule, outcome in self._path_rules(access):
            pattern = patterns.match(path, root)
            if pattern is not None:
                yield self._path_rule_finding(
                    rule, index[pattern], outcome, access, shown, pattern, by
                )
        if (
            access is Access.DELETE
            and self._deletes_need_approval
            and self._delete_exempt.match(path, root) is None
        ):
            yield self._finding(
                "file_operations.delete_requires_approval",
                Outcome.APPROVE,
                f"deletes `{shown}`; deleting files needs approval",
                f"{by} {shown}",
                Risk.MEDIUM,
            )

    def _path_rule_finding(
        self,
        rule: str,
        index: int,
        outcome: Outcome,
        access: Access,
        shown: str,
        pattern: str,
        by: str,
    ) -> Finding:
        verb = {
            Access.READ: "reads",
            Access.WRITE: "writes",
            Access.DELETE: "deletes",
            Access.MENTION: "passes",
        }[access]
        if outcome is Outcome.DENY:
            reason = (
                f"{verb} `{shown}`{' to ' + by if access is Access.MENTION else ''}, "
                f"which matches protected path `{pattern}`: no tool may read or write it; "
                "ask a human for what you need from it"
            )
            risk = Risk.HIGH
        else:
            reason = f"{verb} `{shown}`, under write-protected `{pattern}`: needs approval"
            risk = Risk.MEDIUM
        return self._finding(f"{rule}[{index}]", outcome, reason, f"{by} {shown}", risk)

    def _file_tool(self, tool: str, tool_input: dict[str, Any], where: _Where) -> Iterable[Finding]:
        raw = (
            tool_input.get("file_path") or tool_input.get("notebook_path") or tool_input.get("path")
        )
        if not isinstance(raw, str) or not raw:
            if tool in _SEARCH_TOOLS:
                return
            yield self._finding(
                "input.malformed", Outcome.DENY, f"{tool} call without a file path", "", Risk.MEDIUM
            )
            return
        if "\x00" in raw:
            yield self._finding(
                "input.malformed",
                Outcome.DENY,
                f"{tool} call with a NUL byte in its file path, which no file can have",
                "",
                Risk.MEDIUM,
            )
            return
        access = Access.WRITE if tool in _WRITE_TOOLS else Access.READ
        path = resolve_path(raw, where.cwd, where.home)
        yield from self._path_finding(access, path, raw, tool, where.root)

    def _grep_tool(self, tool_input: dict[str, Any], where: _Where) -> Iterable[Finding]:
        """Grep searches a tree (the cwd when no path is given): judge the files it reads."""
        raw = tool_input.get("path")
        path = raw if isinstance(raw, str) and raw else "."
        tree = grep_tool_walk(path, tool_input.get("glob"))
        access = FileAccess(Access.READ, tree.word, tree.by, tree.spec, tree.hint)
        yield from self._shell_file(access, where)

    # ------------------------------------------------------------ network, models, MCP, prompts

    def _host(self, host: str, by: str) -> Iterable[Finding]:
        network = self.policy.policies.network_operations
        allowed = any(fnmatch.fnmatchcase(host.lower(), p.lower()) for p in network.allowed_hosts)
        if network.allowed_hosts and not allowed and network.unlisted_hosts != "allow":
            yield self._finding(
                "network_operations.unlisted_hosts",
                Outcome(network.unlisted_hosts),
                f"{by} reaches `{host}`, which is not on the egress allow-list",
                host,
                Risk.MEDIUM,
            )
        else:
            yield self._finding(
                "network_operations.egress",
                Outcome.ALLOW,
                f"network egress to `{host}` by {by} (recorded)",
                host,
                Risk.LOW,
            )

    def _web(self, url: Any, hosts: list[str], by: str = "WebFetch") -> Iterable[Finding]:
        try:
            host = urlsplit(url).hostname if isinstance(url, str) else None
        except ValueError:
            host = None
        if host is None:
            yield self._finding(
                "input.malformed",
                Outcome.DENY,
                f"{by} call without a valid URL",
                str(url),
                Risk.MEDIUM,
            )
            return
        hosts.append(host)
        yield from self._host(host, by)

    def _model(self, model: Any) -> Iterable[Finding]:
        if not isinstance(model, str) or not model:
            return
        ai = self.policy.policies.ai_operations
        for index, name in enumerate(ai.blocked_models):
            if _model_matches(model, name):
                yield self._finding(
                    f"ai_operations.blocked_models[{index}]",
                    Outcome.DENY,
                    f"model `{model}` is blocked by policy",
                    model,
                    Risk.MEDIUM,
                )
        for index, name in enumerate(ai.requires_approval_models):
            if _model_matches(model, name):
                yield self._finding(
                    f"ai_operations.requires_approval_models[{index}]",
                    Outcome.APPROVE,
                    f"model `{model}` needs approval",
                    model,
                    Risk.MEDIUM,
                )

    def _mcp(
        self, tool: str, tool_input: dict[str, Any], where: _Where, hosts: list[str]
    ) -> Iterable[Finding]:
        facts = classify(tool, tool_input, self.policy.policies.mcp_tools)
        for access, raw in facts.paths:
            path = resolve_path(raw, where.cwd, where.home)
            yield from self._path_finding(access, path, raw, tool, where.root)
        for text in facts.sql:
            yield from self._sql(analyze_sql(text), tool)
        for text in facts.maybe_sql:
            analysis = analyze_sql(text)
            if analysis.operations:
                yield from self._sql(analysis, tool)
        for command in facts.commands:
            yield from self._bash(analyze(command), where, hosts)
        for push in facts.pushes:  # judged as `git push` of that branch, from no checkout
            target = f"HEAD:{shlex.quote(push.branch)}" if push.branch else ""
            flag = "--force " if push.force else ""
            yield from self._bash(
                analyze(f"git push {flag}origin {target}"), replace(where, branch=None), hosts
            )
        for url in facts.urls:
            yield from self._web(url, hosts, tool)
        if facts.unknown:
            unknown = self.policy.policies.mcp_tools.unknown
            yield self._finding(
                "mcp_tools.unknown",
                Outcome(unknown),
                f"what `{tool}` does cannot be told from its name or arguments "
                f"({facts.classified_by}); mcp_tools.unknown is `{unknown}`: map it in "
                "mcp_tools.tools to have it judged",
                tool,
                Risk.LOW if unknown == "allow" else Risk.MEDIUM,
            )

    def _prompt(self, prompt: str) -> Iterable[Finding]:
        ai = self.policy.policies.ai_operations
        if ai.max_prompt_chars and len(prompt) > ai.max_prompt_chars:
            yield self._finding(
                "ai_operations.max_prompt_chars",
                Outcome.DENY,
                f"prompt has {len(prompt)} characters; the limit is {ai.max_prompt_chars}",
                prompt[:80],
                Risk.LOW,
            )
        # About four characters a token: a cheap bound that needs no tokenizer.
        if ai.max_context_tokens and len(prompt) // 4 > ai.max_context_tokens:
            yield self._finding(
                "ai_operations.max_context_tokens",
                Outcome.DENY,
                f"prompt is about {len(prompt) // 4} tokens; the limit is {ai.max_context_tokens}",
                prompt[:80],
                Risk.LOW,
            )

    def _runtime(self, tool_input: dict[str, Any]) -> Iterable[Finding]:
        limit = self.policy.policies.bash_commands.max_runtime_seconds
        timeout_ms = tool_input.get("timeout")
        if limit and isinstance(timeout_ms, int | float) and timeout_ms > limit * 1000:
            yield self._finding(
                "bash_commands.max_runtime_seconds",
                Outcome.DENY,
                f"asks for a {timeout_ms / 1000:g} s timeout; the policy allows at most {limit} s: "
                f"retry with timeout <= {limit * 1000}",
                str(timeout_ms),
                Risk.LOW,
            )


@lru_cache(maxsize=1)
def _shared_filesystem() -> FileSystem:
    """One disk cache for every engine of the process, made when the first engine is."""
    return FileSystem()


def _fed_by_find(
    access: FileAccess, command: SimpleCommand, upstream: SimpleCommand | None
) -> list[FileAccess]:
    """`find DIR … | xargs cat` reads what find prints: the walk of DIR with find's tests
    (also `grep -rl …`, `rg -l`, `git ls-files`: the files those listings print)."""
    word = access.word
    fed = word.dynamic and word.value == XARGS_INPUT and command.piped_input
    if not fed or upstream is None or upstream.prefix:
        return [access]
    walks = listing_walks(upstream.name, upstream.words)
    if walks is None:
        return [access]
    by = f"{upstream.name} | xargs {access.by}"
    hint = (
        "narrow find's -name test or its start path"
        if upstream.name == "find"
        else f"narrow the {upstream.name} listing"
    )
    return [FileAccess(access.access, w, by, spec, hint) for w, spec in walks]


def _display_path(path: str, root: str, shown: str) -> str:
    relative = os.path.relpath(path, root)
    base = shown.rstrip("/") or "/"
    if base == ".":
        return f"./{relative}"
    return f"{base}/{relative}"


def _branch_matches(branch: str, patterns: list[str]) -> str | None:
    for pattern in patterns:
        if branch in (ALL_BRANCHES, pattern) or (
            any(c in pattern for c in "*?[") and fnmatch.fnmatchcase(branch, pattern)
        ):
            return pattern
    return None


def _model_matches(model: str, name: str) -> bool:
    model, name = model.lower(), name.lower()
    return model == name or model.startswith(name + "-") or fnmatch.fnmatchcase(model, name)


def _read_sql_file(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return handle.read(_MAX_SQL_FILE_BYTES).decode("utf-8", "replace")
    except OSError:
        return None
