"""`governance demo`: a scripted agent session through the real hook against a real server on a
temporary socket and database, then the audit trail it left. A newcomer's first command."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from bot.config import ServerConfig
from bot.server import ConsoleNotifier, GovernanceServer
from engine.approvals import Approver, Vote

HOOK = Path(sys.executable).parent / "governance-hook"
# The scripted lead is a second person with no account on this machine (no uid), the way a
# Slack approver is: the agent's hook runs as your uid, which may never approve its requests.
LEAD = Approver("lead", "console")


@dataclass(frozen=True, slots=True)
class Step:
    title: str
    tool_name: str
    tool_input: dict[str, Any]
    approver_vote: Vote | None = None
    note: str | None = None


SCRIPT = (
    Step("ordinary work", "Bash", {"command": "ls -la && git status"}),
    Step("read a source file", "Read", {"file_path": "{cwd}/src/app.py"}),
    Step(
        "an evasion: base64 payload piped into a shell",
        "Bash",
        {"command": "echo cm0gLXJmIC8= | base64 -d | sh"},
    ),
    Step(
        "a benign look-alike: searching history for SQL",
        "Bash",
        {"command": "git log --oneline --grep 'DROP TABLE'"},
    ),
    Step("reading secrets through a subshell", "Bash", {"command": "cat $(echo .env)"}),
    Step(
        "a delete that needs approval; the lead approves",
        "Bash",
        {"command": "rm -rf build/"},
        Vote.APPROVE,
        "build output, fine",
    ),
    Step(
        "a clean-up the lead refuses",
        "Bash",
        {"command": "git clean -fdx"},
        Vote.DENY,
        "it would delete untracked work; use `make clean`",
    ),
    Step("pushing straight to main", "Bash", {"command": "git push origin HEAD:main"}),
)


def _event(step: Step, cwd: str) -> dict[str, Any]:
    tool_input = {
        k: v.replace("{cwd}", cwd) if isinstance(v, str) else v for k, v in step.tool_input.items()
    }
    return {
        "session_id": "demo-session",
        "transcript_path": "/dev/null",
        "cwd": cwd,
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": step.tool_name,
        "tool_input": tool_input,
        "tool_use_id": "toolu_demo",
    }


async def _run_hook(event: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        str(HOOK),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, _ = await process.communicate(json.dumps(event).encode())
    return json.loads(out)["hookSpecificOutput"]


async def _ask(prompt: str, out: Any) -> str:
    print(prompt, end="", file=out, flush=True)
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    return line.strip()


async def _your_vote(approval_id: str, out: Any) -> tuple[Vote, str | None]:
    """The person at the terminal decides, in the role of the approver `lead`."""
    while True:
        answer = (await _ask(f"   you are `lead`: approve or deny {approval_id}? [a/d] ", out))[:1]
        if answer.lower() in ("a", "d"):
            break
    if answer.lower() == "a":
        return Vote.APPROVE, None
    return Vote.DENY, (await _ask("   reason shown to the agent: ", out)) or "denied in the demo"


async def _decide_when_pending(
    server: GovernanceServer, step: Step, out: Any, interactive: bool
) -> None:
    assert step.approver_vote is not None
    for _ in range(200):
        pending = server.store.pending_approvals()
        if pending:
            if interactive:
                vote, note = await _your_vote(pending[0].id, out)
            else:
                await asyncio.sleep(0.3)  # let the reader see the request before it is decided
                vote, note = step.approver_vote, step.note
            result = await server.vote(pending[0].id, LEAD, vote, note)
            print(f"   approver `lead` votes {vote}: {result.message}", file=out)
            return
        await asyncio.sleep(0.05)


async def run_demo(out: io.TextIOBase | Any = sys.stdout, interactive: bool = False) -> int:
    with tempfile.TemporaryDirectory(prefix="governance-demo-") as tmp:
        root = Path(tmp)
        # The agent's project is only a path the engine reasons about; nothing is touched.
        # (A real dir under /tmp would hit the built-in policy's delete exemption for /tmp.)
        project = PurePosixPath("/srv/demo-app")
        config = ServerConfig(
            socket=root / "gov.sock", db=root / "gov.db", spool=root / "spool", policy=None
        )
        server = GovernanceServer(config, ConsoleNotifier(out))
        await server.start()
        serving = asyncio.create_task(server.serve_forever())
        env = dict(
            os.environ,
            GOVERNANCE_SOCKET=str(config.socket),
            GOVERNANCE_SPOOL_DIR=str(config.spool),
            GOVERNANCE_USER="agent-alice",
            # The agent waits as a real one would: long enough for a person to decide.
            GOVERNANCE_WAIT_S="300" if interactive else "20",
        )
        print(
            f"governance demo: server on {config.socket}, built-in policy, an agent working "
            f"for `agent-alice` in {project}\n",
            file=out,
        )
        try:
            for number, step in enumerate(SCRIPT, start=1):
                event = _event(step, str(project))
                shown = event["tool_input"].get("command") or event["tool_input"].get("file_path")
                print(f"{number}. {step.title}\n   {step.tool_name}: {shown}", file=out)
                deciding = (
                    asyncio.create_task(_decide_when_pending(server, step, out, interactive))
                    if step.approver_vote
                    else None
                )
                answer = await _run_hook(event, env)
                if deciding is not None:
                    await deciding
                print(
                    f"   -> {answer['permissionDecision'].upper()}: "
                    f"{answer['permissionDecisionReason']}\n",
                    file=out,
                )
            _print_audit(server, out)
        finally:
            serving.cancel()
            await server.close()
    return 0


def _print_audit(server: GovernanceServer, out: Any) -> None:
    print("audit trail (hash-chained, append-only):", file=out)
    for row in server.store.audit_rows():
        print(
            f"  {row['seq']:>3} {row['kind']:<18} {row['tool_name'] or '':<6} "
            f"{row['decision'] or '':<9} {row['rule'] or '':<45} {row['approval_id'] or ''}",
            file=out,
        )
    report = server.store.verify()
    print(
        f"\naudit verify: {'intact' if report.ok else 'BROKEN'}, {report.checked} rows "
        "(try `governance audit verify` on your own database)",
        file=out,
    )


def cmd_demo(args: argparse.Namespace) -> int:
    return asyncio.run(run_demo(interactive=args.interactive))


def register(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser("demo", help="a scripted agent session through the real hook")
    demo.add_argument(
        "--interactive",
        action="store_true",
        help="you decide the approval requests (as the approver `lead`) while the agent waits",
    )
    demo.set_defaults(handler=cmd_demo, long_running=True)
