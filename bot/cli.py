"""The `governance` command line: argument parsing and printing around the engine.
No policy logic lives here; each subcommand calls the engine and formats what it returns."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import (
    cli_audit,
    cli_hosts,
    cli_replay,
    cli_report,
    cli_server,
    config,
    demo,
    install,
    service,
)
from bot.client import ServerUnreachable
from engine.cases import CasesError, load_cases, run_cases
from engine.decide import Decision
from engine.evaluate import Engine
from engine.events import CallContext, ToolEvent
from engine.facts.show import describe
from engine.lint import lint
from engine.policy import BUILTIN_POLICY_NAME, Policy, PolicyError, builtin_policy, load_policy
from engine.self_protection import ProtectedState
from engine.state import StoreUnavailable


def _load(path: str | None) -> tuple[Policy, str]:
    if path in (None, "builtin", BUILTIN_POLICY_NAME):
        return builtin_policy(), BUILTIN_POLICY_NAME
    return load_policy(path), path


def _state(policy: str | None) -> ProtectedState:
    """Self-protection judges against this machine's state (flags' env vars or defaults) and
    the policy file under test, as the server would."""
    policy_file = None if policy in (None, "builtin", BUILTIN_POLICY_NAME) else policy
    return config.protected_state(
        config.db_path(), config.socket_path(), config.spool_dir(), policy_file
    )


# ---------------------------------------------------------------- policy check / test


def cmd_policy_check(args: argparse.Namespace) -> int:
    policy, source = _load(config.policy_path(args.file))
    issues = lint(policy)
    bash = policy.policies.bash_commands
    regexes = len(bash.blocked_patterns) + len(bash.requires_approval) + len(bash.allowed_patterns)
    print(
        f"{source}: valid policy (mode {policy.mode}, {regexes} command patterns, "
        f"{len(policy.approval_rules)} approval rules)"
    )
    for issue in issues:
        print(f"{issue.level}: {issue.rule}: {issue.message}")
    warnings = sum(1 for issue in issues if issue.level == "warning")
    print(f"{warnings} warning(s), {len(issues) - warnings} note(s)")
    return 1 if args.strict and warnings else 0


def cmd_policy_test(args: argparse.Namespace) -> int:
    policy, _ = _load(args.policy)
    results = run_cases(Engine(policy, _state(args.policy)), load_cases(args.cases, args.tree))
    failed = [result for result in results if not result.passed]
    for result in failed:
        decision = result.decision
        print(
            f"FAIL {result.case.id}: expected {result.case.expected}, got "
            f"{decision.would_be} ({decision.rule or 'no rule'}: {decision.reason})"
        )
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


# ---------------------------------------------------------------- explain


def _event_text(argument: str) -> tuple[str, str]:
    """(the event's JSON text, what to call it in errors): `-` is stdin, a file is read."""
    if argument == "-":
        return sys.stdin.read(), "the event on stdin"
    if argument.lstrip().startswith(("{", "[")):
        return argument, "the event"
    try:
        return Path(argument).read_text(encoding="utf-8"), f"the event file {argument}"
    except OSError as error:
        raise SystemExit(
            f"governance explain: {argument}: not JSON and not a readable file "
            f"({error.strerror or error})"
        ) from None


def _event_from_args(args: argparse.Namespace) -> tuple[ToolEvent, CallContext]:
    if args.bash is not None:
        document = {"tool_name": "Bash", "tool_input": {"command": args.bash}}
    elif args.event is not None:
        text, origin = _event_text(args.event)
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise SystemExit(f"governance explain: {origin} is not JSON: {error}") from None
        if not isinstance(document, dict):
            raise SystemExit("governance explain: the event must be a JSON object")
    else:
        raise SystemExit("governance explain: give an event as JSON or --bash 'command'")
    context = document.pop("context", {}) if isinstance(document.get("context"), dict) else {}
    if args.cwd:
        document["cwd"] = args.cwd
    document.setdefault("cwd", os.getcwd())
    if args.branch:
        context["git_branch"] = args.branch
    return ToolEvent.model_validate(document), CallContext.model_validate(context)


def decision_as_dict(decision: Decision) -> dict:
    return {
        "decision": decision.outcome.value,
        "would_be": decision.would_be.value,
        "mode": decision.mode.value,
        "rule": decision.rule,
        "risk": decision.risk.value,
        "reason": decision.reason,
        "findings": [
            {
                "rule": f.rule,
                "outcome": f.outcome.value,
                "risk": f.risk.value,
                "reason": f.reason,
                "fragment": f.fragment,
            }
            for f in decision.findings
        ],
        "commands": list(decision.commands),
        "egress_hosts": list(decision.egress_hosts),
    }


def cmd_explain(args: argparse.Namespace) -> int:
    policy, source = _load(args.policy)
    event, context = _event_from_args(args)
    engine = Engine(policy, _state(args.policy))
    facts = engine.facts(event, context)
    decision = engine.judge(facts)
    if args.json:
        print(json.dumps({**decision_as_dict(decision), "facts": describe(facts)}, indent=2))
        return 0
    mode_note = (
        ""
        if decision.outcome is decision.would_be
        else (f" (enforce mode would {decision.would_be})")
    )
    print(f"decision: {decision.outcome}{mode_note}  [mode {decision.mode}, policy {source}]")
    print(f"reason:   {decision.reason}")
    # "matched": every rule whose check found something; `report --rules` counts the rule that
    # decided each call, so one call can match several rules but is decided by one.
    print("rules that matched:" if decision.findings else "rules that matched: none")
    for finding in decision.findings:
        print(f"  {finding.outcome:<8} {finding.rule}  [{finding.risk}]")
        print(f"           {finding.reason}")
        print(f"           matched: {finding.fragment}")
    if decision.commands:
        print("commands seen:")
        for command in decision.commands:
            print(f"  {command}")
    # The facts the rules judged: files after glob expansion and tree walks, SQL, pushes, hosts.
    print("facts:" if (described := describe(facts)) else "facts: none")
    for line in described:
        print(f"  {line}")
    return 0


# ---------------------------------------------------------------- wiring


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="governance", description="Governance for Claude Code: policy, approvals, audit."
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {config.product_version()}"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    policy = commands.add_parser("policy", help="validate, lint and test policy files")
    policy_commands = policy.add_subparsers(dest="policy_command", required=True)
    check = policy_commands.add_parser("check", help="validate and lint a policy file")
    check.add_argument("file", nargs="?", help="policy file (default: project's, else built-in)")
    check.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 on lint warnings (the built-in policy has none)",
    )
    check.set_defaults(handler=cmd_policy_check)
    test = policy_commands.add_parser("test", help="run JSONL policy test cases")
    test.add_argument("policy", help="policy file, or `builtin`")
    test.add_argument("cases", help="JSONL file of cases")
    test.add_argument("--tree", help="directory that `{tree}` in the cases stands for")
    test.set_defaults(handler=cmd_policy_test)
    cli_replay.register(policy_commands)

    explain = commands.add_parser("explain", help="show how a policy judges one tool call")
    explain.add_argument("policy", help="policy file, or `builtin`")
    explain.add_argument(
        "event", nargs="?", help="a PreToolUse event: JSON text, a JSON file, or - for stdin"
    )
    explain.add_argument("--bash", help="judge this Bash command")
    explain.add_argument("--cwd", help="working directory of the call (default: here)")
    explain.add_argument("--branch", help="checked-out git branch, for `git push` with no refspec")
    explain.add_argument("--json", action="store_true", help="print the decision as JSON")
    explain.set_defaults(handler=cmd_explain)

    install.register(commands)
    service.register(commands)
    cli_server.register(commands)
    cli_audit.register(commands)
    demo.register(commands)
    cli_report.register(commands)
    cli_hosts.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not getattr(args, "long_running", False):
        # `governance … | head` ends quietly. Never for a server: a hook that hangs up before
        # its reply would kill it with SIGPIPE, and with it every agent on the machine.
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        return args.handler(args)
    except (PolicyError, CasesError, ServerUnreachable, StoreUnavailable) as error:
        print(f"governance: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
