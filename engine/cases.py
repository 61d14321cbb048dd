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


def load_cases(path: str | Path) -> list[PolicyCase]:
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
            cases.append(PolicyCase.model_validate(json.loads(line)))
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
