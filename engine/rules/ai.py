"""The ai_operations section: blocked and approval-needing models, prompt size limits.
Judges a model name and a prompt's length; calls no model."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable

from engine.decide import Finding, Outcome, Risk
from engine.rules.book import RuleBook, finding


def model(book: RuleBook, name: str) -> Iterable[Finding]:
    ai = book.policy.policies.ai_operations
    for index, blocked in enumerate(ai.blocked_models):
        if _model_matches(name, blocked):
            yield finding(
                f"ai_operations.blocked_models[{index}]",
                Outcome.DENY,
                f"model `{name}` is blocked by policy",
                name,
                Risk.MEDIUM,
            )
    for index, listed in enumerate(ai.requires_approval_models):
        if _model_matches(name, listed):
            yield finding(
                f"ai_operations.requires_approval_models[{index}]",
                Outcome.APPROVE,
                f"model `{name}` needs approval",
                name,
                Risk.MEDIUM,
            )


def prompt(book: RuleBook, text: str) -> Iterable[Finding]:
    ai = book.policy.policies.ai_operations
    if ai.max_prompt_chars and len(text) > ai.max_prompt_chars:
        yield finding(
            "ai_operations.max_prompt_chars",
            Outcome.DENY,
            f"prompt has {len(text)} characters; the limit is {ai.max_prompt_chars}",
            text[:80],
            Risk.LOW,
        )
    # About four characters a token: a cheap bound that needs no tokenizer.
    if ai.max_context_tokens and len(text) // 4 > ai.max_context_tokens:
        yield finding(
            "ai_operations.max_context_tokens",
            Outcome.DENY,
            f"prompt is about {len(text) // 4} tokens; the limit is {ai.max_context_tokens}",
            text[:80],
            Risk.LOW,
        )


def _model_matches(model: str, name: str) -> bool:
    model, name = model.lower(), name.lower()
    return model == name or model.startswith(name + "-") or fnmatch.fnmatchcase(model, name)
