"""Lint for policy files: rules that can never decide anything, rules hidden behind stronger ones,
patterns that match everything or nothing. Pure: it evaluates sample commands, never real ones."""

from __future__ import annotations

import itertools
import re
import shlex
from dataclasses import dataclass
from enum import StrEnum

from engine.analysis.mcp import mapped_kind
from engine.clis import covered_spellings
from engine.decide import Outcome, Risk
from engine.evaluate import Engine
from engine.events import ToolEvent
from engine.policy import CompiledPattern, McpKind, Policy

try:  # CPython's own regex parser: the only way to build a string a regex matches.
    import re._parser as _sre_parse
except ImportError:  # pragma: no cover - older or alternative Pythons
    import sre_parse as _sre_parse  # type: ignore[no-redef]


_MCP_NAME = re.compile(r"mcp__[A-Za-z0-9_-]+__[A-Za-z0-9_-]+")


class Level(StrEnum):
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class LintIssue:
    level: Level
    rule: str
    message: str


# What `.*` and friends stand for when we build sample commands from a regex.
_FILLERS = ("", " ", " origin ", " x ")
_CATEGORY_SAMPLES = {
    "CATEGORY_DIGIT": "0",
    "CATEGORY_SPACE": " ",
    "CATEGORY_WORD": "a",
    "CATEGORY_NOT_DIGIT": "a",
    "CATEGORY_NOT_SPACE": "a",
    "CATEGORY_NOT_WORD": " ",
}


def _render(tokens, choices: list[str], counter: list[int]) -> str:
    out: list[str] = []
    for op, value in tokens:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(value))
        elif name == "NOT_LITERAL":
            out.append("a" if chr(value) != "a" else "b")
        elif name == "ANY":
            out.append("x")
        elif name == "IN":
            out.append(_first_of_class(value))
        elif name in {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}:
            low, _high, inner = value
            body = _render(inner, choices, counter)
            if low == 0 and all(str(o) == "ANY" for o, _ in inner):
                index = counter[0]
                counter[0] += 1
                out.append(choices[index] if index < len(choices) else "")
            else:
                out.append(body * max(low, 1) if low else "")
        elif name == "SUBPATTERN":
            out.append(_render(value[-1], choices, counter))
        elif name == "BRANCH":
            out.append(_render(value[1][0], choices, counter))
        elif name in {"AT", "ASSERT", "ASSERT_NOT", "GROUPREF"}:
            continue
        else:
            raise ValueError(name)
    return "".join(out)


def _first_of_class(items) -> str:
    for op, value in items:
        name = str(op)
        if name == "LITERAL":
            return chr(value)
        if name == "RANGE":
            return chr(value[0])
        if name == "CATEGORY":
            return _CATEGORY_SAMPLES.get(str(value), "a")
        if name == "NEGATE":
            return "a"
    return "a"


def sample_commands(pattern: str, limit: int = 12) -> list[str]:
    """Concrete command lines the regex matches, trying several fillers for each `.*`."""
    try:
        tokens = _sre_parse.parse(pattern, re.IGNORECASE)
        wildcards = _render(tokens, [], [0]) and None
    except (ValueError, re.error, RecursionError):
        return []
    del wildcards
    counter = [0]
    _render(tokens, [], counter)
    slots = min(counter[0], 3)
    samples = []
    for combination in itertools.islice(itertools.product(_FILLERS, repeat=slots), limit):
        try:
            text = _render(tokens, list(combination), [0])
        except (ValueError, RecursionError):
            continue
        text = re.sub(r"\s+", " ", text).strip()
        if text and text not in samples:
            samples.append(text)
    return samples


def _bash(engine: Engine, command: str):
    return engine.evaluate(
        ToolEvent(tool_name="Bash", tool_input={"command": command}, cwd="/srv/app")
    )


def _regex_issues(engine: Engine, pattern: CompiledPattern, outcome: Outcome) -> list[LintIssue]:
    source = pattern.source
    issues = []
    if re.search(source, "", re.IGNORECASE) is not None:
        issues.append(
            LintIssue(
                Level.WARNING,
                pattern.rule,
                f"`{source}` matches the empty string, so it matches every command",
            )
        )
        return issues
    samples = [s for s in sample_commands(source) if pattern.regex.search(s)]
    if not samples:
        issues.append(
            LintIssue(
                Level.WARNING,
                pattern.rule,
                f"`{source}` matches no command we could build; check it is not anchored or "
                "escaped wrongly (patterns match whole words of one executed command)",
            )
        )
        return issues
    fired_anywhere = False
    for sample in samples:
        decision = _bash(engine, sample)
        own = [f for f in decision.findings if f.rule == pattern.rule]
        fired_anywhere = fired_anywhere or bool(own)
        if not own:
            continue
        if outcome is Outcome.APPROVE and decision.would_be is Outcome.DENY:
            winners = sorted({f.rule for f in decision.deciding})
            issues.append(
                LintIssue(
                    Level.WARNING,
                    pattern.rule,
                    f"approval rule `{source}` is shadowed: a command it matches, `{sample}`, is "
                    f"denied by {', '.join(winners)} first (deny > approve), so this approval "
                    "never "
                    "decides that command",
                )
            )
            break
        if outcome is Outcome.DENY:
            others = sorted(
                {
                    f.rule
                    for f in decision.findings
                    if f.outcome is Outcome.DENY and f.rule != pattern.rule
                }
            )
            if others:
                issues.append(
                    LintIssue(
                        Level.INFO,
                        pattern.rule,
                        f"`{source}` is also enforced by {', '.join(others)} (e.g. `{sample}`), "
                        "which "
                        "catches spellings the regex misses",
                    )
                )
                break
    if not fired_anywhere:
        issues.append(
            LintIssue(
                Level.INFO,
                pattern.rule,
                f"`{source}` only matches text that is never executed as a command of its own "
                "(data such as messages); it will not fire",
            )
        )
    else:
        issues.extend(_sql_pattern_issue(engine, pattern, samples))
    return issues


def _sql_pattern_issue(
    engine: Engine, pattern: CompiledPattern, samples: list[str]
) -> list[LintIssue]:
    """A bash pattern written for SQL never sees SQL: clients' SQL is judged as SQL."""
    for sample in sorted(samples, key=len, reverse=True):
        decision = _bash(engine, f"psql -c {shlex.quote(sample)}")
        sql_rules = sorted(
            {
                f.rule
                for f in decision.findings
                if f.rule.startswith(
                    (
                        "database_operations.blocked",
                        "database_operations.requires",
                        "database_operations.readonly",
                    )
                )
            }
        )
        if sql_rules and not any(f.rule == pattern.rule for f in decision.findings):
            return [
                LintIssue(
                    Level.INFO,
                    pattern.rule,
                    f"`{pattern.source}` looks like SQL; SQL run by a client "
                    f"(`psql -c '{sample}'`) "
                    f"is judged by {', '.join(sql_rules)}, not by command patterns",
                )
            ]
    return []


def _spelling_issues(pattern: CompiledPattern) -> list[LintIssue]:
    """Which other spellings of the same action the pattern covers (engine/clis tables)."""
    spellings = covered_spellings(pattern.regex, sample_commands(pattern.source))
    if not spellings:
        return []
    shown = ", ".join(f"`{s}`" for s in spellings[:8])
    more = f" and {len(spellings) - 8} more" if len(spellings) > 8 else ""
    return [
        LintIssue(
            Level.INFO,
            pattern.rule,
            f"`{pattern.source}` also covers {shown}{more} (equivalent programs, global options, "
            "aliases and runners from engine/clis/*.json)",
        )
    ]


def lint(policy: Policy) -> list[LintIssue]:
    engine = Engine(policy)
    bash = policy.policies.bash_commands
    issues: list[LintIssue] = []
    for section, outcome in (
        ("blocked_patterns", Outcome.DENY),
        ("requires_approval", Outcome.APPROVE),
    ):
        for pattern in bash.compiled(section):
            issues.extend(_regex_issues(engine, pattern, outcome))
            issues.extend(_spelling_issues(pattern))
    for pattern in bash.compiled("allowed_patterns"):
        if re.search(pattern.source, "", re.IGNORECASE) is not None:
            issues.append(
                LintIssue(Level.WARNING, pattern.rule, f"`{pattern.source}` matches every command")
            )
    if bash.allowed_patterns:
        issues.append(
            LintIssue(
                Level.INFO,
                "bash_commands.allowed_patterns",
                "allowed_patterns document intent: they never override a deny or an approval found "
                "by another check, so they only label commands that were allowed anyway",
            )
        )

    git = policy.policies.git_operations
    both = [b for b in git.requires_approval_branches if b in git.blocked_branches]
    if both:
        issues.append(
            LintIssue(
                Level.WARNING,
                "git_operations.requires_approval_branches",
                f"{', '.join(both)} also in blocked_branches: pushes there are denied (deny > "
                "approve), so their approval entries are unreachable",
            )
        )

    database = policy.policies.database_operations
    for index, phrase in enumerate(database.requires_approval):
        blocked = [
            b
            for b in database.blocked_operations
            if b.upper().split()[: len(phrase.split())] == phrase.upper().split()
        ]
        if blocked:
            issues.append(
                LintIssue(
                    Level.INFO,
                    f"database_operations.requires_approval[{index}]",
                    f"`{phrase}` needs approval except {', '.join(blocked)}, which is denied",
                )
            )

    ai = policy.policies.ai_operations
    if ai.max_cost_per_action is not None:
        issues.append(
            LintIssue(
                Level.INFO,
                "ai_operations.max_cost_per_action",
                "a PreToolUse hook cannot know an action's cost before it runs; "
                "recorded, not enforced",
            )
        )

    issues.extend(_mcp_issues(policy))
    issues.extend(_approval_issues(policy))
    return issues


def _mcp_issues(policy: Policy) -> list[LintIssue]:
    """MCP tools the policy names (anywhere) whose kind neither its map nor the conventions give."""
    tools = policy.policies.mcp_tools
    named = dict.fromkeys(_MCP_NAME.findall(policy.model_dump_json()))
    unclassified = []
    for name in named:
        mapped = mapped_kind(name, tools)
        if mapped is None or mapped[0] is McpKind.UNKNOWN:
            unclassified.append(name)
    if not unclassified:
        return []
    return [
        LintIssue(
            Level.WARNING,
            "mcp_tools",
            f"cannot classify MCP tool(s) {', '.join(unclassified)}: they are judged by their "
            f"argument names only, and get mcp_tools.unknown (`{tools.unknown}`) when those "
            "say nothing; map them in mcp_tools.tools",
        )
    ]


def _approval_issues(policy: Policy) -> list[LintIssue]:
    issues = []
    thresholds = {rule.threshold for rule in policy.approval_rules.values()}
    if not policy.approval_rules:
        issues.append(
            LintIssue(
                Level.WARNING,
                "approval_rules",
                "no approval rules: every approval falls back to one approver from the console",
            )
        )
    for risk in Risk:
        if policy.approval_rules and risk not in thresholds:
            issues.append(
                LintIssue(
                    Level.INFO,
                    "approval_rules",
                    f"no rule has threshold `{risk}`: {risk}-risk approvals use the nearest rule",
                )
            )
    for name, rule in policy.approval_rules.items():
        unknown = [
            a
            for a in rule.approvers
            if a not in policy.approver_pools and not re.fullmatch(r"[USW][A-Z0-9]{6,}", a)
        ]
        if unknown:
            issues.append(
                LintIssue(
                    Level.INFO,
                    f"approval_rules.{name}",
                    f"approvers {', '.join(unknown)} are roles with no Slack ids in "
                    "approver_pools: "
                    "until mapped, only the console approver can decide these requests",
                )
            )
    return issues
