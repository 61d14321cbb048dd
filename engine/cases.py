"""Policy test cases (`governance policy test`): one JSON object a line, run against an engine.
Pure apart from reading the case file; printing the results is the CLI's job."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine.decide import Decision, Outcome
from engine.evaluate import Engine
from engine.events import CallContext, ToolEvent


class CasesError(ValueError):
    """A case file that cannot be used; the message names the file and the line."""


class PolicyCase(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    id: str
    tool_name: str = ""
    tool_input: dict[str, Any] = Field(default_factory=dict)
    expected: Outcome
    cwd: str | None = None
    context: dict[str, Any] = Field(default_factory=dict)
    hook_event_name: str = "PreToolUse"
    prompt: str | None = None
    why: str | None = None

    def event(self) -> ToolEvent:
        return ToolEvent(
            tool_name=self.tool_name,
            tool_input=self.tool_input,
            cwd=self.cwd,
            hook_event_name=self.hook_event_name,
            prompt=self.prompt,
            session_id=f"policy-test-{self.id}",
        )


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: PolicyCase
    decision: Decision

    @property
    def passed(self) -> bool:
        # Cases state what the policy means, so they compare the enforce-mode outcome.
        return self.decision.would_be is self.case.expected


TREE = "{tree}"


def _with_tree(value: Any, tree: str) -> Any:
    if isinstance(value, str):
        return value.replace(TREE, tree)
    if isinstance(value, list):
        return [_with_tree(item, tree) for item in value]
    if isinstance(value, dict):
        return {key: _with_tree(item, tree) for key, item in value.items()}
    return value


def load_cases(path: str | Path, tree: str | None = None) -> list[PolicyCase]:
    """Cases of a JSONL file; `{tree}` anywhere in a case stands for the directory `tree`
    (a project tree the cases were written against, e.g. tests/project_tree.py's)."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise CasesError(f"{path}: cannot read cases: {error}") from None
    cases = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            document = json.loads(line)
            if TREE in line:
                if tree is None:
                    raise CasesError(
                        f"{path}:{number}: the case refers to {TREE}; give the project tree "
                        "it was written against (--tree DIR)"
                    )
                document = _with_tree(document, tree.rstrip("/") or "/")
            cases.append(PolicyCase.model_validate(document))
        except json.JSONDecodeError as error:
            raise CasesError(f"{path}:{number}: not JSON: {error}") from None
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
            )
            raise CasesError(f"{path}:{number}: invalid case: {problems}") from None
    return cases


def run_cases(engine: Engine, cases: list[PolicyCase]) -> list[CaseResult]:
    return [
        CaseResult(case, engine.evaluate(case.event(), CallContext.model_validate(case.context)))
        for case in cases
    ]
