"""The Engine: runs the stages of one decision in order, each entered once:
facts (engine/facts/) -> rules (engine/rules/) -> decide. Holds no check of its own."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from engine.decide import Decision, decide
from engine.events import CallContext, ToolEvent
from engine.facts.build import FactFinder
from engine.facts.guarded import locate
from engine.facts.model import Facts
from engine.fs import FileSystem
from engine.policy import Policy
from engine.rules.book import RuleBook
from engine.rules.pipeline import judge
from engine.self_protection import RULES as SELF_PROTECTION_RULES
from engine.self_protection import ProtectedState

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
        self.filesystem = filesystem or _shared_filesystem()
        state = state or ProtectedState()
        protected = locate(state)  # once: the guards' paths as this machine has them
        self._facts = FactFinder(policy, self.filesystem, protected)
        self._rules = RuleBook(policy, state, protected)

    def evaluate(self, event: ToolEvent, context: CallContext | None = None) -> Decision:
        return self.judge(self.facts(event, context))

    def facts(self, event: ToolEvent, context: CallContext | None = None) -> Facts:
        """What the call will really do on this machine: the input of every rule."""
        return self._facts.facts(event, context)

    def judge(self, facts: Facts) -> Decision:
        """The rules over the facts, combined into a decision under the policy's mode."""
        return decide(
            judge(self._rules, facts),
            self.policy.mode,
            facts.commands,
            tuple(dict.fromkeys(facts.hosts)),
            facts.checks,
        )

    def rule_ids(self) -> list[str]:
        """Every rule id this policy can fire, for tuning views that must list quiet rules."""
        sections = self.policy.policies

        def indexed(section: str, entries: list[Any]) -> list[str]:
            return [f"{section}[{i}]" for i in range(len(entries))]

        files, git = sections.file_operations, sections.git_operations
        database, ai = sections.database_operations, sections.ai_operations
        book = self._rules
        ids = [p.rule for p in (*book.blocked, *book.approval, *book.allowed)]
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


@lru_cache(maxsize=1)
def _shared_filesystem() -> FileSystem:
    """One disk cache for every engine of the process, made when the first engine is."""
    return FileSystem()
