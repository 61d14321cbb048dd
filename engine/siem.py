"""Audit rows as a security team's tools read them: OCSF 1.8.0 events and CEF lines.
Pure mapping from one stored (already redacted) audit row; it never reads or sends anything."""

from __future__ import annotations

import json
from typing import Any

OCSF_VERSION = "1.8.0"
PRODUCT = {"name": "Claude Code governance", "vendor_name": "claude-governance"}
PROFILES = ["security_control", "host"]

# OCSF class uids (category * 1000 + class) and their activity ids for our tools.
API_ACTIVITY = 6003
PROCESS_ACTIVITY = 1007
FILE_ACTIVITY = 1001
_CATEGORY = {API_ACTIVITY: 6, PROCESS_ACTIVITY: 1, FILE_ACTIVITY: 1}
_CLASS_NAME = {
    API_ACTIVITY: "API Activity",
    PROCESS_ACTIVITY: "Process Activity",
    FILE_ACTIVITY: "File System Activity",
}
_FILE_ACTIVITY = {  # tool -> (activity_id, activity name)
    "Read": (2, "Read"),
    "NotebookRead": (2, "Read"),
    "Grep": (2, "Read"),
    "Glob": (8, "Get Attributes"),
    "LS": (8, "Get Attributes"),
    "Write": (1, "Create"),
    "Edit": (3, "Update"),
    "MultiEdit": (3, "Update"),
    "NotebookEdit": (3, "Update"),
}
_LAUNCH = (1, "Launch")
_OTHER = (99, "Other")

# disposition_id (dictionary.json) for what our audit rows record.
ALLOWED, BLOCKED, APPROVED, DELAYED, REJECTED, LOGGED = 1, 2, 8, 14, 25, 17
_DISPOSITIONS = {
    ALLOWED: "Allowed",
    BLOCKED: "Blocked",
    APPROVED: "Approved",
    DELAYED: "Delayed",
    REJECTED: "Rejected",
    LOGGED: "Logged",
}
_BY_DECISION = {
    "allow": ALLOWED,
    "deny": BLOCKED,
    "approve": DELAYED,  # held for approval
    "pending": DELAYED,
    "approved": APPROVED,
    "denied": REJECTED,
    "expired": REJECTED,
    "allow (fail-open)": ALLOWED,
}
_SEVERITY = {None: (1, "Informational"), "low": (2, "Low"), "medium": (3, "Medium")}
_SEVERITY |= {"high": (4, "High"), "critical": (5, "Critical")}


def disposition(row: dict[str, Any]) -> int:
    if row.get("kind") == "override":
        return ALLOWED
    return _BY_DECISION.get(row.get("decision") or "", LOGGED)


def _action(disposition_id: int) -> tuple[int, str] | None:
    if disposition_id in (ALLOWED, APPROVED):
        return 1, "Allowed"
    if disposition_id in (BLOCKED, REJECTED):
        return 2, "Denied"
    return None  # delayed or only logged: no enforcement action yet


def _tool_input(row: dict[str, Any]) -> dict[str, Any]:
    try:
        payload = json.loads(row.get("payload") or "{}")
    except ValueError:
        return {}
    found = payload.get("tool_input") if isinstance(payload, dict) else None
    return found if isinstance(found, dict) else {}


def _class(row: dict[str, Any], tool_input: dict[str, Any]) -> tuple[int, tuple[int, str]]:
    tool = row.get("tool_name") or ""
    if tool == "Bash" and isinstance(tool_input.get("command"), str):
        return PROCESS_ACTIVITY, _LAUNCH
    if tool in _FILE_ACTIVITY and _path(tool_input):
        return FILE_ACTIVITY, _FILE_ACTIVITY[tool]
    return API_ACTIVITY, _OTHER


def _path(tool_input: dict[str, Any]) -> str | None:
    for key in ("file_path", "notebook_path", "path"):
        value = tool_input.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _iso_ms(ts: float) -> int:
    return int(round(ts * 1000))


def to_ocsf(row: dict[str, Any], version: str = "0") -> dict[str, Any]:
    """One OCSF event for one audit row. The hash chain: metadata.uid is the row's hash,
    metadata.sequence its seq, unmapped.prev_hash the previous row's hash."""
    tool_input = _tool_input(row)
    class_uid, (activity_id, activity) = _class(row, tool_input)
    disposition_id = disposition(row)
    severity_id, severity = _SEVERITY.get(row.get("risk"), _SEVERITY[None])
    event: dict[str, Any] = {
        "class_uid": class_uid,
        "class_name": _CLASS_NAME[class_uid],
        "category_uid": _CATEGORY[class_uid],
        "activity_id": activity_id,
        "activity_name": activity,
        "type_uid": class_uid * 100 + activity_id,
        "time": _iso_ms(row["ts"]),
        "severity_id": severity_id,
        "severity": severity,
        "message": row.get("reason") or row.get("kind"),
        "disposition_id": disposition_id,
        "disposition": _DISPOSITIONS[disposition_id],
        "metadata": {
            "version": OCSF_VERSION,
            "product": {**PRODUCT, "version": version},
            "profiles": PROFILES,
            "uid": row["hash"],
            "sequence": row["seq"],
            "log_name": "governance audit",
            "event_code": row["kind"],
            **({"correlation_uid": row["approval_id"]} if row.get("approval_id") else {}),
        },
        "actor": _actor(row),
        "device": {"type_id": 0, **({"hostname": row["host"]} if row.get("host") else {})},
        "unmapped": {
            "prev_hash": row.get("prev_hash"),
            "kind": row["kind"],
            "decision": row.get("decision"),
            "would_be": row.get("would_be"),
            "mode": row.get("mode"),
            "repo": row.get("repo"),
            "branch": row.get("branch"),
            "tool_name": row.get("tool_name"),
        },
    }
    action = _action(disposition_id)
    if action is not None:
        event["action_id"], event["action"] = action
    if row.get("rule"):
        event["policy"] = {"uid": row["rule"], "name": row["rule"], "desc": row.get("reason")}
    event |= _subject(class_uid, row, tool_input)
    return event


def _actor(row: dict[str, Any]) -> dict[str, Any]:
    actor: dict[str, Any] = {"app_name": "Claude Code"}
    if row.get("user"):
        actor["user"] = {"name": row["user"]}
    if row.get("session_id"):
        actor["session"] = {"uid": row["session_id"]}
    return actor


def _subject(class_uid: int, row: dict[str, Any], tool_input: dict[str, Any]) -> dict[str, Any]:
    if class_uid == PROCESS_ACTIVITY:
        process: dict[str, Any] = {"cmd_line": tool_input["command"]}
        if row.get("repo"):
            process["working_directory"] = row["repo"]
        return {"process": process}
    if class_uid == FILE_ACTIVITY:
        path = _path(tool_input) or ""
        return {"file": {"name": path.rsplit("/", 1)[-1] or path, "path": path, "type_id": 1}}
    operation = row.get("tool_name") or row["kind"]
    endpoint = {"hostname": row["host"]} if row.get("host") else {}
    return {
        "api": {"operation": operation, "service": {"name": "claude-code-governance"}},
        "src_endpoint": endpoint,
    }


# ---------------------------------------------------------------- CEF


def _cef_header(text: object) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _cef_value(text: object) -> str:
    escaped = str(text).replace("\\", "\\\\").replace("=", "\\=")
    return escaped.replace("\r", "\\r").replace("\n", "\\n")


_CEF_SEVERITY = {None: 1, "low": 3, "medium": 5, "high": 8, "critical": 10}


def to_cef(row: dict[str, Any], version: str = "0") -> str:
    """One ArcSight CEF:0 line. Extension keys are the standard dictionary's where one fits;
    the hash chain goes in cs5/cs6 with their labels."""
    tool_input = _tool_input(row)
    disposition_id = disposition(row)
    what = tool_input.get("command") or _path(tool_input)
    labelled = {
        "cs1": ("rule", row.get("rule")),
        "cs2": ("tool", row.get("tool_name")),
        "cs3": ("session", row.get("session_id")),
        "cs4": ("approval", row.get("approval_id")),
        "cs5": ("prevHash", row.get("prev_hash")),
        "cs6": ("hash", row.get("hash")),
        "cn1": ("seq", row.get("seq")),
    }
    extension: dict[str, Any] = {
        "rt": _iso_ms(row["ts"]),
        "suser": row.get("user"),
        "shost": row.get("host"),
        "act": _DISPOSITIONS[disposition_id],
        "outcome": row.get("decision"),
        "reason": row.get("reason"),
    }
    for key, (label, value) in labelled.items():
        if value is not None:
            extension |= {f"{key}Label": label, key: value}
    if isinstance(what, str):
        extension["request"] = what
    header = "|".join(
        _cef_header(part)
        for part in (
            "CEF:0",
            PRODUCT["vendor_name"],
            "claude-code-governance",
            version,
            row["kind"] + (f":{row['decision']}" if row.get("decision") else ""),
            row.get("rule") or row["kind"],
            _CEF_SEVERITY.get(row.get("risk"), 1),
        )
    )
    body = " ".join(
        f"{key}={_cef_value(value)}" for key, value in extension.items() if value is not None
    )
    return f"{header}|{body}"
