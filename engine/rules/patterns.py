"""The bash_commands section: the policy's command patterns over each executed command (and
its canonical spellings), and the runtime limit. Matches facts; parses nothing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from engine.analysis.commands import CommandEffects
from engine.analysis.shell import SimpleCommand
from engine.decide import Finding, Outcome, Risk
from engine.policy import CompiledPattern
from engine.rules.book import RuleBook, clip, finding

_VERBS = {
    Outcome.DENY: "is blocked",
    Outcome.APPROVE: "needs approval",
    Outcome.ALLOW: "is allowed",
}


def command_patterns(
    book: RuleBook, command: SimpleCommand, command_effects: CommandEffects
) -> Iterable[Finding]:
    text = command_effects.regex_text
    if not text:
        return
    texts = (text, f"{' '.join(command.prefix)} {text}") if command.prefix else (text,)
    # The canonical spelling (`pnpm publish` -> `npm publish`) is matched too.
    texts += tuple(t for t in command_effects.canonical if t not in texts)
    lists: tuple[tuple[tuple[CompiledPattern, ...], Outcome, Risk], ...] = (
        (book.blocked, Outcome.DENY, Risk.HIGH),
        (book.approval, Outcome.APPROVE, Risk.MEDIUM),
        (book.allowed, Outcome.ALLOW, Risk.LOW),
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
            spelled = ""
            if matched_text in command_effects.canonical and matched_text != text:
                spelled = f"`{clip(text)}` is `{matched_text}`: "
            reason = pattern.reason or (
                f"{spelled}`{match.group(0)}` {_VERBS[outcome]} by policy pattern "
                f"`{pattern.source}`"
            )
            yield finding(
                pattern.rule, outcome, reason, match.group(0), pattern.risk or default_risk
            )


def runtime(book: RuleBook, timeout_ms: Any) -> Iterable[Finding]:
    limit = book.policy.policies.bash_commands.max_runtime_seconds
    if limit and isinstance(timeout_ms, int | float) and timeout_ms > limit * 1000:
        yield finding(
            "bash_commands.max_runtime_seconds",
            Outcome.DENY,
            f"asks for a {timeout_ms / 1000:g} s timeout; the policy allows at most {limit} s: "
            f"retry with timeout <= {limit * 1000}",
            str(timeout_ms),
            Risk.LOW,
        )
