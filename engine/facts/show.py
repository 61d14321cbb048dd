"""The facts of one call as lines for people (`governance explain`): the same objects the
rules judged, described, not derived again. Pure: no disk, no policy."""

from __future__ import annotations

import posixpath

from engine.analysis.commands import Access
from engine.analysis.sql import SqlAnalysis
from engine.facts.model import CommandFacts, CommandLine, Facts, FileFact, SqlFact
from engine.git import GitPush

_VERBS = {
    Access.READ: "reads",
    Access.WRITE: "writes",
    Access.DELETE: "deletes",
    Access.MENTION: "passes",
}
_INDENT = "  "


def describe(facts: Facts) -> list[str]:
    """One line a fact, indented under the command it belongs to."""
    lines: list[str] = []
    if facts.malformed:
        lines.append(f"input not understood: {facts.malformed}")
    if facts.prompt is not None:
        lines.append(f"prompt of {len(facts.prompt)} characters")
    for path in facts.paths:
        line = f"{path.by} {_VERBS[path.access]} {_file(path.shown, path.path)}"
        lines.append(line + _settings(path.settings))
    for files in facts.files:
        lines += _file_fact(files)
    for text in facts.sql:
        lines += _sql_analysis(text.analysis, text.by)
    for line in facts.lines:
        lines += _line(line)
    for url in facts.urls:
        lines.append(f"{url.by} fetches {url.url!r} (host {url.host or 'none: not a URL'})")
    if facts.model:
        lines.append(f"uses model {facts.model}")
    if facts.unclassified is not None:
        lines.append(f"{facts.tool}: what it does is unknown ({facts.unclassified})")
    return lines


def _line(line: CommandLine) -> list[str]:
    lines = [f"code not seen: {reason}" for reason in line.opaque]
    lines += [f"fork bomb: function {name}" for name in line.fork_bombs]
    for command in line.commands:
        lines += _command(command)
    return lines


def _command(facts: CommandFacts) -> list[str]:
    command, effects = facts.command, facts.effects
    head = f"runs {command.display()}"
    if command.workdir:
        head += f"  (in {facts.where.cwd})"
    inner: list[str] = []
    canonical = [c for c in effects.canonical if c != effects.regex_text]
    if canonical:
        inner.append(f"means {' / '.join(canonical)}")
    if effects.noop:
        inner.append("does not act (a no-op option)")
    for files in facts.files:
        inner += _file_fact(files)
    if facts.push is not None:
        inner += _push(facts.push)
    for source in facts.sql:
        inner += _sql(source)
    inner += [f"reaches {host}" for host in effects.hosts]
    return [head, *(_INDENT + line for line in inner)]


def _file_fact(fact: FileFact) -> list[str]:
    access = fact.access
    verb = f"{access.by} {_VERBS[access.access]}"
    word = access.word.value
    if access.word.dynamic:
        return [f"{verb} {word}  (only known at run time)"]
    if fact.unseen_glob:
        return [f"{verb} {word}  (a glob in a directory that is not here)"]
    lines = []
    for seen in fact.files:
        line = f"{verb} {_file(seen.shown, seen.path, fact.where.cwd)}"
        if seen.walk is not None:
            walk = seen.walk
            line += (
                f"  (a tree of {len(walk.files)} files)"
                if walk.complete
                else f"  (tree not walked whole: {walk.reason})"
            )
        lines.append(line + _settings(seen.settings))
    return lines


def _settings(settings: tuple[str, ...]) -> str:
    """Claude Code settings files a delete or a move would take along."""
    return f"  (holds Claude Code settings: {', '.join(settings)})" if settings else ""


def _file(shown: str, path: str, cwd: str = "/") -> str:
    """The word as written, and the real path when a link or `..` makes it another file."""
    plain = posixpath.normpath(posixpath.join(cwd, shown))
    return shown if path in {shown, plain} else f"{shown} = {path}"


def _push(push: GitPush) -> list[str]:
    flags = [f for f, on in (("force", push.force), ("dry run", push.dry_run)) if on]
    lines = []
    for target in push.targets:
        action = "deletes branch" if target.delete else "pushes to branch"
        branch = target.branch or "? (the checked-out branch, not known)"
        lines.append(f"{action} {branch} of {push.remote or 'the default remote'}")
    if flags:
        lines.append(f"push options: {', '.join(flags)}")
    return lines


def _sql(fact: SqlFact) -> list[str]:
    if fact.unseen:
        return [f"{fact.client}: SQL not seen: {fact.unseen}"]
    lines = []
    if fact.file is not None:
        state = "  (cannot be read here)" if fact.unreadable else ""
        lines.append(
            f"{fact.client} reads SQL from {_file(fact.file.shown, fact.file.path)}{state}"
        )
    if fact.script_unseen:
        lines.append(f"{fact.client}: SQL not seen: {fact.script_unseen}")
    if fact.analysis is not None:
        lines += _sql_analysis(fact.analysis, fact.client)
    for escape in fact.escapes:
        lines += [f"{fact.client} shell escape: {line}" for line in _line(escape)]
    for included in fact.included:
        lines += _sql(included)
    return lines


def _sql_analysis(analysis: SqlAnalysis, by: str) -> list[str]:
    lines = [f"{by} runs SQL {op.phrase}: {op.statement}" for op in analysis.operations]
    lines += [f"{by} runs SQL that does not parse: {text}" for text in analysis.unparsed]
    return lines
