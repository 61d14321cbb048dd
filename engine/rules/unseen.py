"""The built-in unseen-code detector: code in a command line that cannot be checked before it
runs (decoded, downloaded, computed) needs approval. Reads the facts' list; finds nothing itself."""

from __future__ import annotations

from collections.abc import Iterable

from engine.decide import Finding, Outcome, Risk
from engine.facts.model import CommandLine
from engine.rules.book import finding


def unseen_code(line: CommandLine) -> Iterable[Finding]:
    for reason in line.opaque:
        yield finding(
            "builtin.unseen_code",
            Outcome.APPROVE,
            f"{reason}; code that cannot be checked before it runs needs approval",
            reason,
            Risk.HIGH,
        )
