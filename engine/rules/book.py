"""A policy made ready for the rules: patterns compiled, path patterns indexed, the guard.
Holds what every rule reads; it judges nothing itself."""

from __future__ import annotations

from engine.analysis.commands import Access
from engine.decide import Finding, Outcome, Risk
from engine.facts.model import ProtectedPaths
from engine.paths import PathPatterns
from engine.policy import Policy
from engine.rules.self_protection import SelfProtection
from engine.self_protection import ProtectedState

_FRAGMENT_CHARS = 200

# A protected file found in a walk: (path, rule, pattern index, outcome, pattern).
Hit = tuple[str, str, int, Outcome, str]
# A path rule: (patterns, pattern -> index, rule id, outcome).
PathRule = tuple[PathPatterns, dict[str, int], str, Outcome]


def clip(text: str) -> str:
    return text if len(text) <= _FRAGMENT_CHARS else text[: _FRAGMENT_CHARS - 1] + "…"


def finding(rule: str, outcome: Outcome, reason: str, fragment: str, risk: Risk) -> Finding:
    return Finding(rule, outcome, reason, clip(fragment), risk)


class RuleBook:
    """One policy's rules, compiled once per engine; `walk_memo` caches walk hits by walk."""

    def __init__(self, policy: Policy, state: ProtectedState, protected: ProtectedPaths) -> None:
        self.policy = policy
        self.guard = SelfProtection(state, protected)
        self.walk_memo: dict[tuple[int, Access, str], list[Hit]] = {}
        sections = policy.policies
        bash = sections.bash_commands
        self.blocked = bash.compiled("blocked_patterns")
        self.approval = bash.compiled("requires_approval")
        self.allowed = bash.compiled("allowed_patterns")
        files = sections.file_operations
        self.protected = PathPatterns(files.protected_paths)
        self.write_protected = PathPatterns(files.write_protected_paths)
        self.delete_exempt = PathPatterns(files.delete_exempt_paths)
        self.deletes_need_approval = files.delete_requires_approval
        self.protected_index = {p: i for i, p in enumerate(files.protected_paths)}
        self.write_index = {p: i for i, p in enumerate(files.write_protected_paths)}

    def path_rules(self, access: Access) -> list[PathRule]:
        rules: list[PathRule] = [
            (
                self.protected,
                self.protected_index,
                "file_operations.protected_paths",
                Outcome.DENY,
            )
        ]
        if access in {Access.WRITE, Access.DELETE}:
            rules.append(
                (
                    self.write_protected,
                    self.write_index,
                    "file_operations.write_protected_paths",
                    Outcome.APPROVE,
                )
            )
        return rules
