"""Claude Code's side of the hook: its event names and the answers it reads on stdout (allow, deny,
block, a permission decision). Standard library only; it builds answers and asks no one."""

PRE = "PreToolUse"
PROMPT = "UserPromptSubmit"

# Claude Code's own permission prompt: answered from Slack, or left to the terminal.
PERMISSION = "PermissionRequest"


def pre_answer(decision: str, reason: str) -> dict:
    return {
        "hookSpecificOutput": {
            "hookEventName": PRE,
            "permissionDecision": decision,
            "permissionDecisionReason": reason,
        }
    }


def _server_reason(response: dict) -> str:
    reason = response.get("reason")
    reason = reason.strip() if isinstance(reason, str) else ""
    approval = response.get("approval_id")
    decision = response["decision"]
    if not reason:
        rule = response.get("rule")
        reason = f"{decision} by rule {rule}" if isinstance(rule, str) and rule else decision
    if isinstance(approval, str) and approval and approval not in reason:
        # The agent needs the id to tell the human what to approve.
        reason += f" (approval {approval}; retry the same call after it is approved)"
    return "governance: " + reason


def permission_answer(decision: str, reason: object) -> dict | None:
    """Allow or deny from the remote prompt; anything else leaves the prompt to the terminal."""
    if decision not in ("allow", "deny"):
        return None
    answer: dict = {"behavior": decision}
    if decision == "deny":
        answer["message"] = "governance: " + (reason if isinstance(reason, str) else "denied")
    return {"hookSpecificOutput": {"hookEventName": PERMISSION, "decision": answer}}


def unreachable_reason(path: str, error: str) -> str:
    if error.startswith("did not answer"):
        return (
            f"governance: governance server at {path} {error}; the call is denied "
            "(is `governance serve` overloaded or stuck?)"
        )
    return (
        f"governance: governance server not reachable at {path} ({error}); "
        "start it with `governance serve`"
    )


def too_large() -> dict:
    return pre_answer(
        "deny",
        "governance: this tool call's input is over 16 MB, the most the governance server "
        "accepts in one call; the call is denied. Write a large file in smaller parts",
    )


def malformed(what: str) -> dict:
    return pre_answer(
        "deny", f"governance hook: malformed input from Claude Code: {what}; the call is denied"
    )
