"""Runs every rule over one call's facts, in a fixed order: the call's own input, then each
command line command by command. The order is the findings' order; nothing here judges."""

from __future__ import annotations

from collections.abc import Iterable

from engine.decide import Finding, Outcome, Risk
from engine.facts.model import CommandFacts, CommandLine, Facts, SqlFact
from engine.rules import ai, destructive, git, mcp, network, paths, patterns, sql, unseen
from engine.rules.book import RuleBook, finding
from engine.rules.risk import with_risk


def judge(book: RuleBook, facts: Facts) -> list[Finding]:
    """Every finding of every rule over `facts`, with the policy's risk overrides applied."""
    return with_risk(list(_findings(book, facts)), book.policy.risk_overrides)


def _findings(book: RuleBook, facts: Facts) -> Iterable[Finding]:
    if facts.malformed is not None:
        yield finding("input.malformed", Outcome.DENY, facts.malformed, "", Risk.MEDIUM)
    if facts.prompt is not None:
        yield from ai.prompt(book, facts.prompt)
    for path in facts.paths:
        yield from paths.path_fact(book, path)
    for files in facts.files:
        yield from paths.file_fact(book, files)
    for text in facts.sql:
        yield from sql.statements(book, text.analysis, text.by)
    for line in facts.lines:
        yield from _line(book, line)
    yield from patterns.runtime(book, facts.timeout)
    for url in facts.urls:
        yield from network.web(book, url)
    if facts.model:
        yield from ai.model(book, facts.model)
    if facts.unclassified is not None:
        yield from mcp.unknown(book, facts.tool, facts.unclassified)


def _line(book: RuleBook, line: CommandLine) -> Iterable[Finding]:
    yield from unseen.unseen_code(line)
    yield from destructive.fork_bombs(line)
    for command in line.commands:
        yield from _command(book, command)


def _command(book: RuleBook, facts: CommandFacts) -> Iterable[Finding]:
    command, where = facts.command, facts.where
    yield from book.guard.command(command, where.cwd, where.root)
    accessed = frozenset(access.word.value for access in facts.effects.files)
    yield from book.guard.mentions(command, where.cwd, accessed)
    yield from patterns.command_patterns(book, command, facts.effects)
    yield from destructive.destructive(command, where)
    yield from git.git(book, facts)
    for source in facts.sql:
        yield from _sql(book, source)
    for files in facts.files:
        yield from paths.file_fact(book, files)
    for host in facts.effects.hosts:
        yield from network.host(book, host, command.name)


def _sql(book: RuleBook, fact: SqlFact) -> Iterable[Finding]:
    yield from sql.source(book, fact)
    for line in fact.escapes:  # the client's shell escape runs it as a command line
        yield from _line(book, line)
    for included in fact.included:
        yield from _sql(book, included)
