"""The network_operations section: every destination is recorded, and one off the egress
allow-list gets the policy's `unlisted_hosts` outcome. Judges host names; resolves none."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable

from engine.decide import Finding, Outcome, Risk
from engine.facts.model import WebFact
from engine.rules.book import RuleBook, finding


def host(book: RuleBook, name: str, by: str) -> Iterable[Finding]:
    network = book.policy.policies.network_operations
    allowed = any(fnmatch.fnmatchcase(name.lower(), p.lower()) for p in network.allowed_hosts)
    if network.allowed_hosts and not allowed and network.unlisted_hosts != "allow":
        yield finding(
            "network_operations.unlisted_hosts",
            Outcome(network.unlisted_hosts),
            f"{by} reaches `{name}`, which is not on the egress allow-list",
            name,
            Risk.MEDIUM,
        )
    else:
        yield finding(
            "network_operations.egress",
            Outcome.ALLOW,
            f"network egress to `{name}` by {by} (recorded)",
            name,
            Risk.LOW,
        )


def web(book: RuleBook, fact: WebFact) -> Iterable[Finding]:
    if fact.host is None:
        yield finding(
            "input.malformed",
            Outcome.DENY,
            f"{fact.by} call without a valid URL",
            str(fact.url),
            Risk.MEDIUM,
        )
        return
    yield from host(book, fact.host, fact.by)
