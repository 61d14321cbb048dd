"""Runs every rule over one call's facts, in a fixed order: the call's own input, then each
command line command by command. The order is the findings' order; nothing here judges."""

from __future__ import annotations

from engine.decide import Finding, Outcome, Risk
from engine.facts.model import CommandFacts, CommandLine, Facts, SqlFact
from engine.rules import ai, destructive, git, mcp, network, paths, patterns, sql, unseen
from engine.rules.book import RuleBook, finding
from engine.rules.risk import with_risk


def judge(book: RuleBook, facts: Facts) -> list[Finding]:
    """Every finding of every rule over `facts`, with the policy's risk overrides applied."""
    found: list[Finding] = []
    if facts.malformed is not None:
        found.append(finding("input.malformed", Outcome.DENY, facts.malformed, "", Risk.MEDIUM))
    if facts.prompt is not None:
        found.extend(ai.prompt(book, facts.prompt))
    for path in facts.paths:
        found.extend(paths.path_fact(book, path))
    for files in facts.files:
        found.extend(paths.file_fact(book, files))
    for text in facts.sql:
        found.extend(sql.statements(book, text.analysis, text.by))
    for line in facts.lines:
        _line(book, line, found)
    if facts.timeout is not None:
        found.extend(patterns.runtime(book, facts.timeout))
    for url in facts.urls:
        found.extend(network.web(book, url))
    if facts.model:
        found.extend(ai.model(book, facts.model))
    if facts.unclassified is not None:
        found.extend(mcp.unknown(book, facts.tool, facts.unclassified))
    return with_risk(found, book.policy.risk_overrides)


# The helpers below append to `found` rather than yield: one list, no generator per level.


def _line(book: RuleBook, line: CommandLine, found: list[Finding]) -> None:
    if line.opaque:
        found.extend(unseen.unseen_code(line))
    if line.fork_bombs:
        found.extend(destructive.fork_bombs(line))
    for command in line.commands:
        _command(book, command, found)


def _command(book: RuleBook, facts: CommandFacts, found: list[Finding]) -> None:
    command, effects = facts.command, facts.effects
    found.extend(book.guard.command(facts))
    accessed = frozenset(access.word.value for access in effects.files)
    found.extend(book.guard.mentions(facts, accessed))
    found.extend(patterns.command_patterns(book, command, effects))
    found.extend(destructive.destructive(facts))
    found.extend(git.git(book, facts))
    for source in facts.sql:
        _sql(book, source, found)
    for files in facts.files:
        found.extend(paths.file_fact(book, files))
    for host in effects.hosts:
        found.extend(network.host(book, host, command.name))


def _sql(book: RuleBook, fact: SqlFact, found: list[Finding]) -> None:
    found.extend(sql.source(book, fact))
    for line in fact.escapes:  # the client's shell escape runs it as a command line
        _line(book, line, found)
    for included in fact.included:
        _sql(book, included, found)
