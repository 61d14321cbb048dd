"""The file_operations section (with the self-protection guard on files): protected and
write-protected paths, deletes that need approval, protected files found in a walked tree."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable

from engine.analysis.commands import Access, FileAccess
from engine.decide import Finding, Outcome, Risk
from engine.facts.model import FileFact, PathFact, SeenFile, Where
from engine.fs import Walk
from engine.rules.book import Hit, RuleBook, finding

_WALK_MEMO_LIMIT = 4096


def path_fact(book: RuleBook, fact: PathFact) -> Iterable[Finding]:
    """One resolved file a tool reads, writes or deletes."""
    access, path, shown, by, root = fact.access, fact.path, fact.shown, fact.by, fact.root
    guarded = book.guard.access(access, path, shown, by, root, fact.settings)
    if guarded is not None:
        yield guarded
    for patterns, index, rule, outcome in book.path_rules(access):
        pattern = patterns.match(path, root)
        if pattern is not None:
            yield _path_rule_finding(rule, index[pattern], outcome, access, shown, pattern, by)
    if (
        access is Access.DELETE
        and book.deletes_need_approval
        and book.delete_exempt.match(path, root) is None
    ):
        yield finding(
            "file_operations.delete_requires_approval",
            Outcome.APPROVE,
            f"deletes `{shown}`; deleting files needs approval",
            f"{by} {shown}",
            Risk.MEDIUM,
        )


def file_fact(book: RuleBook, fact: FileFact) -> Iterable[Finding]:
    """A shell word's file access, judged on the files it expands to."""
    access, where = fact.access, fact.where
    word = access.word
    if word.dynamic or word.glob:
        yield from book.guard.word(word, fact.named, access.by, access.access, where.root)
    if word.dynamic:
        if access.access is Access.DELETE and book.deletes_need_approval:
            yield finding(
                "file_operations.delete_requires_approval",
                Outcome.APPROVE,
                f"{access.by} deletes `{word.value}`, files only known at run time; "
                "deleting files needs approval",
                f"{access.by} {word.value}",
                Risk.MEDIUM,
            )
        return
    if fact.unseen_glob:
        yield from _unseen_glob(book, access, where)
        return
    seen_rules: set[str] = set()
    for found in _seen_files(book, access, fact.files, where):
        # One finding per rule for a glob: the first file named is enough to act on.
        if found.rule not in seen_rules:
            seen_rules.add(found.rule)
            yield found


def _seen_files(
    book: RuleBook, access: FileAccess, files: tuple[SeenFile, ...], where: Where
) -> Iterable[Finding]:
    for seen in files:
        if not access.contents_only or not seen.walkable:  # not here: judged by its name
            yield from path_fact(
                book,
                PathFact(
                    access.access, seen.path, seen.shown, access.by, where.root, seen.settings
                ),
            )
        walk = seen.walk
        if walk is None:
            continue
        yield from _walk_findings(book, access, walk, seen.shown, where)
        if access.contents_only and access.access is Access.DELETE and walk.complete:
            yield from _found_deletes(book, access, walk, seen.shown, where)


def _found_deletes(
    book: RuleBook, access: FileAccess, walk: Walk, shown: str, where: Where
) -> Iterable[Finding]:
    """`find -name … -delete`, `git clean`: the files found are deleted, not the start."""
    if not book.deletes_need_approval:
        return
    found = [p for p in walk.files if book.delete_exempt.match(p, where.root) is None]
    if not found:
        return
    display = _display_path(found[0], walk.root, shown)
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    yield finding(
        "file_operations.delete_requires_approval",
        Outcome.APPROVE,
        f"{access.by} would delete {display}{more}; deleting files needs approval",
        f"{access.by} {shown}",
        Risk.MEDIUM,
    )


def _walk_findings(
    book: RuleBook, access: FileAccess, walk: Walk, shown: str, where: Where
) -> Iterable[Finding]:
    verb = {Access.READ: "read", Access.WRITE: "change", Access.DELETE: "delete"}.get(
        access.access, "pass"
    )
    if not walk.complete:
        yield finding(
            "builtin.walk_budget",
            Outcome.APPROVE,
            f"{access.by} would {verb} every file under `{shown}`, but {walk.reason}: the "
            "engine could not check them for protected files within its budget, so it "
            "needs approval; name a narrower path",
            f"{access.by} {shown}",
            Risk.MEDIUM,
        )
        return
    hits = _walk_hits(book, walk, access.access, where.root)
    reported: set[str] = set()
    for path, rule, index, outcome, pattern in hits:
        if rule in reported:
            continue
        reported.add(rule)
        same = sum(1 for hit in hits if hit[1] == rule)
        link = next((via for target, via in walk.links if target == path), None)
        display = _display_path(link or path, walk.root, shown)
        if link is not None:
            display += f" (a link to {path})"
        name = (link or path).rsplit("/", 1)[-1]
        more = f" (and {same - 1} more)" if same > 1 else ""
        hint = access.hint.format(name=name, path=display.removeprefix("./"))
        if outcome is Outcome.DENY:
            reason = (
                f"{access.by} would {verb} {display}{more}, which matches protected path "
                f"`{pattern}`; {hint}"
            )
            risk = Risk.HIGH
        else:
            reason = (
                f"{access.by} would {verb} {display}{more}, under write-protected "
                f"`{pattern}`: needs approval; {hint}"
            )
            risk = Risk.MEDIUM
        yield finding(f"{rule}[{index}]", outcome, reason, f"{access.by} {display}", risk)


def _walk_hits(book: RuleBook, walk: Walk, access: Access, root: str) -> list[Hit]:
    key = (walk.serial, access, root)
    hits = book.walk_memo.get(key)
    if hits is None:
        hits = []
        rules = book.path_rules(access)
        for path in walk.files:
            for patterns, index, rule, outcome in rules:
                pattern = patterns.match(path, root)
                if pattern is not None:
                    hits.append((path, rule, index[pattern], outcome, pattern))
        if len(book.walk_memo) >= _WALK_MEMO_LIMIT:
            book.walk_memo.clear()
        book.walk_memo[key] = hits
    return hits


def _unseen_glob(book: RuleBook, access: FileAccess, where: Where) -> Iterable[Finding]:
    word = access.word
    for patterns, index, rule, outcome in book.path_rules(access.access):
        pattern = patterns.could_match_glob(word.value, where.cwd, where.root)
        if pattern is not None:
            yield _path_rule_finding(
                rule, index[pattern], outcome, access.access, word.value, pattern, access.by
            )


def _path_rule_finding(
    rule: str,
    index: int,
    outcome: Outcome,
    access: Access,
    shown: str,
    pattern: str,
    by: str,
) -> Finding:
    verb = {
        Access.READ: "reads",
        Access.WRITE: "writes",
        Access.DELETE: "deletes",
        Access.MENTION: "passes",
    }[access]
    if outcome is Outcome.DENY:
        reason = (
            f"{verb} `{shown}`{' to ' + by if access is Access.MENTION else ''}, "
            f"which matches protected path `{pattern}`: no tool may read or write it; "
            "ask a human for what you need from it"
        )
        risk = Risk.HIGH
    else:
        reason = f"{verb} `{shown}`, under write-protected `{pattern}`: needs approval"
        risk = Risk.MEDIUM
    return finding(f"{rule}[{index}]", outcome, reason, f"{by} {shown}", risk)


def _display_path(path: str, root: str, shown: str) -> str:
    relative = posixpath.relpath(path, root)
    base = shown.rstrip("/") or "/"
    if base == ".":
        return f"./{relative}"
    return f"{base}/{relative}"
