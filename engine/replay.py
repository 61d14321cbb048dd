"""Policy replay: re-judge recorded tool calls under a new policy and say what would change.
Pure logic over rows handed in (no store, no files); rendering to Markdown and JSON included."""

from __future__ import annotations

import gc
import json
import multiprocessing
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from engine.evaluate import Engine
from engine.events import CallContext, ToolEvent
from engine.policy import Policy
from engine.redact import REDACTED

EXAMPLES_PER_GROUP = 3
_OUTCOMES = frozenset({"allow", "deny", "approve"})
_PARALLEL_FROM = 20_000  # distinct calls; below this, starting worker processes costs more
NEWLY_DENIED = "newly_denied"
NEWLY_APPROVAL = "newly_needs_approval"
NEWLY_ALLOWED = "newly_allowed"
CHANGES = (NEWLY_DENIED, NEWLY_APPROVAL, NEWLY_ALLOWED)
_TITLES = {
    NEWLY_DENIED: "Newly denied",
    NEWLY_APPROVAL: "Newly needing approval",
    NEWLY_ALLOWED: "Newly allowed",
}


@dataclass(frozen=True, slots=True)
class RecordedCall:
    """One decision row of the audit trail, as much of the original call as was stored."""

    seq: int
    ts: float
    user: str | None
    tool_name: str
    tool_input: dict[str, Any]
    cwd: str | None
    repo: str | None
    branch: str | None
    decision: str  # what the old policy enforced: allow, deny, approve
    rule: str | None
    redacted: bool = False  # a secret was replaced by [REDACTED] before it was stored


def recorded_call(row: dict[str, Any]) -> RecordedCall | None:
    """A Store.decision_rows row as a call to replay; None for rows that hold no tool call
    (a grant's retry, a row whose payload is unreadable)."""
    seq, ts, user, tool_name = row["seq"], row["ts"], row["user"], row["tool_name"]
    decision, rule, payload = row["decision"], row["rule"], row["payload"]
    repo, branch = row["repo"], row["branch"]
    if rule == "approval.grant" or not tool_name or decision not in _OUTCOMES:
        return None
    try:
        recorded = json.loads(payload or "{}")
    except ValueError:
        return None
    tool_input = recorded.get("tool_input") if isinstance(recorded, dict) else None
    if not isinstance(tool_input, dict):
        return None
    cwd = recorded.get("cwd")
    return RecordedCall(
        seq,
        ts,
        user,
        tool_name,
        tool_input,
        cwd if isinstance(cwd, str) else None,
        repo,
        branch,
        decision,
        rule,
        REDACTED in json.dumps(tool_input),
    )


@dataclass(frozen=True, slots=True)
class Example:
    seq: int
    when: str
    user: str | None
    tool_name: str
    what: str
    old: str
    new: str
    rule: str | None
    reason: str
    redacted: bool


@dataclass
class ReplayResult:
    """Counts of changes by kind, rule and user, with a few examples of each."""

    policy: str
    since: str
    replayed: int = 0
    unchanged: int = 0
    redacted: int = 0
    by_change: Counter[str] = field(default_factory=Counter)
    by_rule: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    by_user: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    examples: dict[tuple[str, str], list[Example]] = field(
        default_factory=lambda: defaultdict(list)
    )

    @property
    def newly_denied(self) -> int:
        return self.by_change[NEWLY_DENIED]


def _describe(call: RecordedCall) -> str:
    value = call.tool_input.get("command") or call.tool_input.get("file_path")
    text = value if isinstance(value, str) else json.dumps(call.tool_input)
    return text if len(text) <= 200 else text[:199] + "…"


def _change(old: str, new: str) -> str | None:
    if old == new:
        return None
    return {"deny": NEWLY_DENIED, "approve": NEWLY_APPROVAL, "allow": NEWLY_ALLOWED}[new]


# What the worker processes judge: set before they fork, so they inherit it without pickling.
_worker_engine: Engine | None = None
_worker_calls: list[RecordedCall] = []


def _judge_in_worker(span: tuple[int, int]) -> list[tuple[str, str | None, str]]:
    assert _worker_engine is not None
    return [_judge(_worker_engine, call) for call in _worker_calls[span[0] : span[1]]]


def _judge(engine: Engine, call: RecordedCall) -> tuple[str, str | None, str]:
    event = ToolEvent(tool_name=call.tool_name, tool_input=call.tool_input, cwd=call.cwd)
    context = CallContext(repo=call.repo, git_branch=call.branch)
    decision = engine.evaluate(event, context)
    return str(decision.outcome), decision.rule, decision.reason


def _judge_all(
    policy: Policy, unique: list[RecordedCall], workers: int
) -> list[tuple[str, str | None, str]]:
    global _worker_engine, _worker_calls
    engine = Engine(policy)
    if workers <= 1 or len(unique) < _PARALLEL_FROM:
        return [_judge(engine, call) for call in unique]
    size = max(1, len(unique) // (workers * 8))
    spans = [(start, start + size) for start in range(0, len(unique), size)]
    _worker_engine, _worker_calls = engine, unique
    # Without this the children's garbage collector walks every inherited object, and each
    # page it touches is copied: the whole parent, a million rows' worth, per child.
    gc.freeze()
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            return [verdict for part in pool.map(_judge_in_worker, spans) for verdict in part]
    finally:
        gc.unfreeze()
        _worker_engine, _worker_calls = None, []


# A Store.decision_rows row: seq, ts, user, tool_name, decision, rule, repo, branch, payload.
Row = dict[str, Any]


def replay(
    rows: Iterable[Row],
    policy: Policy,
    policy_name: str,
    since: str,
    workers: int | None = None,
) -> ReplayResult:
    """Judge each distinct recorded call once (in `workers` processes when there are many).

    Rows with the same tool, place and stored payload are the same call, so the payload text
    itself is the cache key: only the first of them is parsed and judged."""
    index_of: dict[tuple[Any, ...], int | None] = {}
    unique: list[RecordedCall] = []
    seen: list[tuple[tuple[Any, ...], int]] = []
    for row in rows:
        key = (row["tool_name"], row["repo"], row["branch"], row["payload"])
        if key in index_of:
            index = index_of[key]
        else:
            call = recorded_call(row)
            index = index_of[key] = None if call is None else len(unique)
            if call is not None:
                unique.append(call)
        decision, rule = row["decision"], row["rule"]
        if index is not None and rule != "approval.grant" and decision in _OUTCOMES:
            seen.append(((row["seq"], row["ts"], row["user"], decision, rule), index))
    verdicts = _judge_all(policy, unique, workers or 1)
    result = ReplayResult(policy=policy_name, since=since)
    for (seq, ts, user, decision, rule), index in seen:
        _tally(result, unique[index], seq, ts, user, decision, rule, verdicts[index])
    return result


def _tally(
    result: ReplayResult,
    call: RecordedCall,
    seq: int,
    ts: float,
    user: str | None,
    old: str,
    old_rule: str | None,
    verdict: tuple[str, str | None, str],
) -> None:
    new, new_rule, reason = verdict
    result.replayed += 1
    flagged = call.redacted
    result.redacted += flagged
    change = _change(old, new)
    if change is None:
        result.unchanged += 1
        return
    # A call newly allowed is explained by the old rule that no longer fires.
    rule = (old_rule if change == NEWLY_ALLOWED else new_rule) or "(none)"
    result.by_change[change] += 1
    result.by_rule[rule][change] += 1
    result.by_user[user or "(unknown)"][change] += 1
    examples = result.examples[(change, rule)]
    if len(examples) < EXAMPLES_PER_GROUP:
        examples.append(
            Example(
                seq=seq,
                when=_iso(ts),
                user=user,
                tool_name=call.tool_name,
                what=_describe(call),
                old=old,
                new=new,
                rule=rule,
                reason=reason,
                redacted=flagged,
            )
        )


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# ---------------------------------------------------------------- rendering


def to_document(result: ReplayResult) -> dict[str, Any]:
    def rows(table: dict[str, Counter[str]], name: str) -> list[dict[str, Any]]:
        return [
            {name: key, **{change: counts[change] for change in CHANGES}}
            for key, counts in sorted(table.items(), key=lambda item: -item[1].total())
        ]

    return {
        "policy": result.policy,
        "since": result.since,
        "replayed": result.replayed,
        "unchanged": result.unchanged,
        "redacted_inputs": result.redacted,
        "changes": {change: result.by_change[change] for change in CHANGES},
        "by_rule": rows(result.by_rule, "rule"),
        "by_user": rows(result.by_user, "user"),
        "examples": [
            {"change": change, **asdict(example)}
            for (change, _rule), examples in sorted(result.examples.items())
            for example in examples
        ],
    }


def to_json(result: ReplayResult) -> str:
    return json.dumps(to_document(result), indent=2, ensure_ascii=False)


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|").replace("`", "'")


def to_markdown(result: ReplayResult) -> str:
    return "\n".join(_markdown_lines(result)) + "\n"


def _markdown_lines(result: ReplayResult) -> Iterator[str]:
    yield f"# Policy replay: {_cell(result.policy)}"
    yield ""
    yield (
        f"{result.replayed:,} recorded tool calls since {result.since} re-judged; "
        f"{result.unchanged:,} unchanged."
    )
    if result.redacted:
        yield (
            f"{result.redacted:,} call(s) had secrets redacted when recorded; they were replayed "
            "as recorded (marked *redacted* below), so their verdict may differ from the real "
            "call's."
        )
    yield ""
    yield "| Change | Calls |"
    yield "| --- | --- |"
    for change in CHANGES:
        yield f"| {_TITLES[change]} | {result.by_change[change]:,} |"
    for title, table in (("rule", result.by_rule), ("user", result.by_user)):
        if not table:
            continue
        yield ""
        yield f"## By {title}"
        yield ""
        yield f"| {title.capitalize()} | Newly denied | Newly needing approval | Newly allowed |"
        yield "| --- | --- | --- | --- |"
        for key, counts in sorted(table.items(), key=lambda item: -item[1].total()):
            yield f"| {_cell(key)} | " + " | ".join(f"{counts[c]:,}" for c in CHANGES) + " |"
    if result.examples:
        yield ""
        yield "## Examples"
    for (change, rule), examples in sorted(result.examples.items()):
        yield ""
        yield f"### {_TITLES[change]}: {_cell(rule)}"
        yield ""
        for example in examples:
            note = " *redacted*" if example.redacted else ""
            yield (
                f"- row {example.seq}, {example.when}, {_cell(example.user)}: "
                f"{example.tool_name} `{_cell(example.what)}` {example.old} → {example.new}"
                f"{note}: {_cell(example.reason)}"
            )


RENDERERS: dict[str, Callable[[ReplayResult], str]] = {"markdown": to_markdown, "json": to_json}
