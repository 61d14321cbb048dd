"""The policy file's model: the seed's policies.json verbatim, plus optional extensions.
Validates and loads (JSON or YAML); it never evaluates an action against the policy."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from engine.decide import Mode, Risk

BUILTIN_POLICY_NAME = "<built-in policy>"


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the file and the field."""


class _Strict(BaseModel):
    # An unknown key is a load error: a misspelt `blocked_patern` silently ignored would fail open.
    model_config = ConfigDict(extra="forbid", frozen=True)


class PatternRule(_Strict):
    """The extended form of a regex entry: the seed's plain strings become this with defaults."""

    pattern: str
    id: str | None = None
    risk: Risk | None = None
    reason: str | None = None


PatternEntry = str | PatternRule


@dataclass(frozen=True, slots=True)
class CompiledPattern:
    rule: str
    source: str
    regex: re.Pattern[str]
    risk: Risk | None
    reason: str | None


def _compile(entries: list[PatternEntry], section: str) -> tuple[CompiledPattern, ...]:
    compiled = []
    for index, entry in enumerate(entries):
        rule = entry if isinstance(entry, PatternRule) else PatternRule(pattern=entry)
        regex = re.compile(whole_words(rule.pattern), re.IGNORECASE)
        compiled.append(
            CompiledPattern(
                rule=rule.id or f"{section}[{index}]",
                source=rule.pattern,
                regex=regex,
                risk=rule.risk,
                reason=rule.reason,
            )
        )
    return tuple(compiled)


_GAP = re.compile(r"(?<!\\)\.\*(?=[\w-])")


def whole_words(pattern: str) -> str:
    """Make a policy regex match whole words of a command line.

    The match must start and end at a word boundary (whitespace or the ends), and a `.*`
    that leads into a word spans whole words: `rm -rf /` does not fire on `rm -rf /tmp/x`,
    and `git push.*main` fires on `git push origin main` but not on
    `git push origin feature/main` or `… feature/main-menu`.
    """
    spanning = _GAP.sub(lambda _: r"(?:.*\s)?", pattern)
    return rf"(?<!\S)(?:{spanning})(?!\S)"


def _check_regexes(entries: list[PatternEntry]) -> list[PatternEntry]:
    for index, entry in enumerate(entries):
        pattern = entry.pattern if isinstance(entry, PatternRule) else entry
        try:
            re.compile(pattern)
        except re.error as error:
            raise ValueError(f"entry {index} {pattern!r} is not a valid regex: {error}") from None
    return entries


RegexList = Annotated[list[PatternEntry], Field(default_factory=list)]


class BashCommands(_Strict):
    blocked_patterns: RegexList
    allowed_patterns: RegexList
    requires_approval: RegexList
    max_runtime_seconds: int | None = Field(default=None, gt=0)

    _check = field_validator("blocked_patterns", "allowed_patterns", "requires_approval")(
        _check_regexes
    )

    def compiled(self, section: str) -> tuple[CompiledPattern, ...]:
        return _compile(getattr(self, section), f"bash_commands.{section}")


class FileOperations(_Strict):
    protected_paths: list[str] = Field(default_factory=list)
    write_protected_paths: list[str] = Field(default_factory=list)
    delete_requires_approval: bool = False
    # Extension: deletes under these paths never need approval (scratch dirs, caches).
    delete_exempt_paths: list[str] = Field(default_factory=list)


class GitOperations(_Strict):
    blocked_branches: list[str] = Field(default_factory=list)
    requires_approval_branches: list[str] = Field(default_factory=list)
    require_pr_for_main: bool = False
    require_code_review: bool = False
    block_force_push: bool = False


class DatabaseOperations(_Strict):
    blocked_operations: list[str] = Field(default_factory=list)
    readonly_schemas: list[str] = Field(default_factory=list)
    requires_approval: list[str] = Field(default_factory=list)
    # Extension: DDL the lists above do not name (DROP VIEW, CREATE INDEX…).
    unlisted_schema_changes: Literal["allow", "approve", "deny"] = "approve"


class AiOperations(_Strict):
    max_cost_per_action: float | None = None
    max_context_tokens: int | None = None
    blocked_models: list[str] = Field(default_factory=list)
    requires_approval_models: list[str] = Field(default_factory=list)
    # Extension: UserPromptSubmit prompts longer than this are refused.
    max_prompt_chars: int | None = Field(default=None, gt=0)


class NetworkOperations(_Strict):
    """Extension: egress is always recorded; hosts outside `allowed_hosts` get `unlisted_hosts`."""

    allowed_hosts: list[str] = Field(default_factory=list)
    unlisted_hosts: Literal["allow", "approve", "deny"] = "allow"


class McpKind(StrEnum):
    READ = "read"
    WRITE = "write"
    DELETE = "delete"
    MOVE = "move"
    SQL = "sql"
    SHELL = "shell"
    PUSH = "push"
    FETCH = "fetch"
    NONE = "none"  # does nothing the policy governs
    AUTO = "auto"  # read the kind off the argument names
    UNKNOWN = "unknown"


class McpToolRule(_Strict):
    kind: McpKind
    # The arguments that carry the paths, SQL, command, branch or URL; empty = the usual names.
    arguments: list[str] = Field(default_factory=list)


class McpTools(_Strict):
    # Tool name or glob (`mcp__acme__run_*`) -> what it does.
    tools: dict[str, McpToolRule] = Field(default_factory=dict)
    # What a call whose kind cannot be told gets.
    unknown: Literal["allow", "approve", "deny"] = "allow"


class Policies(_Strict):
    bash_commands: BashCommands = Field(default_factory=BashCommands)
    file_operations: FileOperations = Field(default_factory=FileOperations)
    git_operations: GitOperations = Field(default_factory=GitOperations)
    database_operations: DatabaseOperations = Field(default_factory=DatabaseOperations)
    ai_operations: AiOperations = Field(default_factory=AiOperations)
    network_operations: NetworkOperations = Field(default_factory=NetworkOperations)
    mcp_tools: McpTools = Field(default_factory=McpTools)


class EscalationLevel(_Strict):
    after_minutes: float = Field(gt=0)
    notify: list[str] = Field(min_length=1)


class ApprovalRule(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    threshold: Risk
    approvers: list[str] = Field(min_length=1)
    timeout_minutes: float = Field(default=60, gt=0)
    require_mfa: bool = False
    required_approvers: int = Field(default=1, ge=1, alias="requiredApprovers")
    channel: str | None = None
    escalation: list[EscalationLevel] = Field(default_factory=list)
    # On an edge, what a request under this rule gets while the team service cannot be reached:
    # nobody could approve it, so "deny" (fail closed); "allow" is a team's explicit fail-open.
    when_unreachable: Literal["deny", "allow"] = "deny"


class StreamSink(_Strict):
    """Where every audit event is also sent as it is recorded (the database stays the record).

    syslog: `address` is udp://host:port, tcp://host:port or unix:/path (RFC 5424 messages);
    http: `url` of a Splunk HEC-style collector, its token read from the environment variable
    `token_env` so that no secret lives in the policy file."""

    type: Literal["syslog", "http"]
    address: str | None = None
    url: str | None = None
    token_env: str | None = None
    format: Literal["ocsf", "cef"] = "ocsf"

    @field_validator("address")
    @classmethod
    def _address_scheme(cls, value: str | None) -> str | None:
        if value is not None and not re.match(
            r"^(udp://[^:/]+:\d+|tcp://[^:/]+:\d+|unix:/.+)$", value
        ):
            raise ValueError(f"{value!r}: use udp://host:port, tcp://host:port or unix:/path")
        return value

    @property
    def key(self) -> str:
        """Names this sink's delivery cursor: a changed target starts its own."""
        return f"{self.type}:{self.address or self.url}:{self.format}"


class AuditSettings(_Strict):
    log_all_actions: bool = True
    log_blocked_actions: bool = True
    log_approvals: bool = True
    retention_days: int = Field(default=365, gt=0)
    stream: list[StreamSink] = Field(default_factory=list)

    @field_validator("stream")
    @classmethod
    def _sink_has_target(cls, sinks: list[StreamSink]) -> list[StreamSink]:
        for sink in sinks:
            if (sink.type == "syslog") != (sink.address is not None) or (
                (sink.type == "http") != (sink.url is not None)
            ):
                needs = "address" if sink.type == "syslog" else "url"
                raise ValueError(f"a {sink.type} sink needs `{needs}` and not the other")
        return sinks


class BreakGlass(_Strict):
    allowed_users: list[str] = Field(default_factory=list)
    max_minutes: int = Field(default=60, gt=0)
    skip_critical_denies: bool = False


class SlackSettings(_Strict):
    approval_channel: str = "#governance-approvals"
    security_channel: str = "#security-alerts"
    # OS user or email -> Slack user id, for DMs to requesters.
    user_map: dict[str, str] = Field(default_factory=dict)
    # Who may read pending requests, others' audits and reports, and flag false positives,
    # besides the approver pools' members: Slack user ids (U…) or user-group ids (S…).
    auditors: list[str] = Field(default_factory=list)
    # How long a Claude Code permission prompt waits for a click in Slack before it is left
    # to the terminal (install-hook --remote-prompts).
    remote_prompt_seconds: int = Field(default=120, gt=0)


class Policy(_Strict):
    version: str = "1.0"
    mode: Mode = Mode.ENFORCE
    policies: Policies = Field(default_factory=Policies)
    approval_rules: dict[str, ApprovalRule] = Field(default_factory=dict)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    # Extensions: role -> Slack user ids (U…) or user-group ids (S…).
    approver_pools: dict[str, list[str]] = Field(default_factory=dict)
    # Extension: rule id (or a prefix ending in `.`/`[`) -> risk, to retune built-in risks.
    risk_overrides: dict[str, Risk] = Field(default_factory=dict)
    # Extension: how long an approval's single-use grant waits for the agent's retry.
    grant_expiry_minutes: float = Field(default=15, gt=0)
    break_glass: BreakGlass = Field(default_factory=BreakGlass)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    description: str | None = None


def _format_errors(error: ValidationError, source: str) -> str:
    lines = [f"{source}: invalid policy ({error.error_count()} problem(s))"]
    for problem in error.errors():
        location = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        message = problem["msg"]
        if problem["type"] == "extra_forbidden":
            message = "unknown key (a typo here would silently disable a rule)"
        lines.append(f"  {location}: {message}")
    return "\n".join(lines)


def parse_policy(document: Any, source: str) -> Policy:
    try:
        return Policy.model_validate(document)
    except ValidationError as error:
        raise PolicyError(_format_errors(error, source)) from None


def parse_policy_text(text: str, source: str) -> Policy:
    is_yaml = source.endswith((".yaml", ".yml"))
    try:
        document = yaml.safe_load(text) if is_yaml else json.loads(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise PolicyError(f"{source}: not valid {'YAML' if is_yaml else 'JSON'}: {error}") from None
    if not isinstance(document, dict):
        raise PolicyError(f"{source}: a policy must be a mapping at the top level")
    return parse_policy(document, source)


def load_policy(path: str | Path) -> Policy:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyError(f"{path}: cannot read policy: {error}") from None
    return parse_policy_text(text, str(path))


def builtin_policy_text() -> str:
    return resources.files("engine").joinpath("default_policy.json").read_text(encoding="utf-8")


def builtin_policy() -> Policy:
    return parse_policy_text(builtin_policy_text(), BUILTIN_POLICY_NAME)
