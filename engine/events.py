"""The shape of what Claude Code sends a hook, and the context the hook adds to it.
Tolerant by design: Claude Code adds fields release by release, and none may break us."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class ToolEvent(BaseModel):
    """A PreToolUse (or UserPromptSubmit) event. Unknown fields are kept, never rejected."""

    model_config = ConfigDict(extra="allow", frozen=True)

    session_id: str = ""
    transcript_path: str | None = None
    cwd: str | None = None
    permission_mode: str | None = None
    hook_event_name: str = "PreToolUse"
    tool_name: str = ""
    tool_input: dict[str, Any] = Field(default_factory=dict)
    tool_use_id: str | None = None
    prompt: str | None = None

    @field_validator("tool_input", mode="before")
    @classmethod
    def _input_is_a_mapping(cls, value: Any) -> Any:
        # A tool whose input is not an object is still a tool call to judge, not a crash.
        if value is None:
            return {}
        if not isinstance(value, dict):
            return {"value": value}
        return value


class CallContext(BaseModel):
    """What the hook learns cheaply on the agent's machine; the server adds the peer uid."""

    model_config = ConfigDict(extra="allow", frozen=True)

    user: str | None = None
    host: str | None = None
    git_branch: str | None = None
    repo: str | None = None
    home: str | None = None
