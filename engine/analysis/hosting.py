"""Branch updates made through a git host's API (`gh api`, `curl`, `http`): which branch a call
updates, and whether it forces. Pure: argv in, updates out; never talks to the network."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

_GH_API_VALUE_OPTIONS = frozenset(
    [
        "-X",
        "--method",
        "-f",
        "--raw-field",
        "-F",
        "--field",
        "-H",
        "--header",
        "--input",
        "-q",
        "--jq",
        "-t",
        "--template",
        "--hostname",
        "-p",
        "--preview",
        "--cache",
    ]
)
_REPO_ENDPOINT = re.compile(r"^/?(?:api/v3/)?repos/[^/]+/[^/]+/(.+)$")
_GRAPHQL_REF_MUTATION = re.compile(
    r"\b(updateRefs?|deleteRef|createRef|createCommitOnBranch|mergeBranch)\b"
)


@dataclass(frozen=True, slots=True)
class RefUpdate:
    """A branch a hosting-API call updates; `branch` None when the call does not say which."""

    branch: str | None
    force: bool = False
    delete: bool = False


def ref_updates(argv: tuple[str, ...]) -> list[RefUpdate]:
    """The branches `gh api …`, or `curl`/`http` to https://api.github.com/…, would update."""
    name = argv[0].rsplit("/", 1)[-1] if argv else ""
    if name == "gh" and argv[1:2] == ("api",):
        return _gh_api_updates(argv[2:])
    if name == "curl":
        return _curl_updates(argv[1:])
    if name in {"http", "https", "xh", "xhs"}:
        return _httpie_updates(argv[1:])
    return []


def _httpie_updates(args: tuple[str, ...]) -> list[RefUpdate]:
    """`http PATCH api.github.com/repos/o/r/git/refs/heads/main sha=… force:=true`."""
    operands = [a for a in args if not a.startswith("-")]
    method = None
    if operands and operands[0].isalpha() and operands[0].isupper():
        method, operands = operands[0], operands[1:]
    if not operands:
        return []
    url = operands[0] if "://" in operands[0] else f"https://{operands[0]}"
    parts = urlsplit(url)
    if not _is_api(parts.hostname or "", parts.path):
        return []
    fields: dict[str, str] = {}
    for item in operands[1:]:
        match = re.match(r"([^:=@]+)(:=|=)(.*)$", item, re.DOTALL)
        if match is not None:
            fields[match.group(1)] = match.group(3).strip('"')
    return _ref_updates(method or ("POST" if fields else "GET"), parts.path, fields)


def _is_api(host: str, path: str) -> bool:
    return host.startswith("api.") or "/api/v3/" in path


def _gh_api_updates(args: tuple[str, ...]) -> list[RefUpdate]:
    method, endpoint, fields = None, None, {}
    index = 0
    while index < len(args):
        word = args[index]
        option, eq, glued = word.partition("=")
        if word in _GH_API_VALUE_OPTIONS or (eq and option in _GH_API_VALUE_OPTIONS):
            value = glued if eq else (args[index + 1] if index + 1 < len(args) else "")
            index += 1 if eq else 2
            if option in {"-X", "--method"}:
                method = value.upper()
            elif option in {"-f", "--raw-field", "-F", "--field"}:
                key, _, field_value = value.partition("=")
                fields[key.split("[", 1)[0]] = field_value
            elif option == "--input":
                fields["\x00input"] = value
            continue
        if len(word) > 2 and word[:2] in {"-X", "-f", "-F"}:
            args = (*args[:index], word[:2], word[2:], *args[index + 1 :])
            continue
        if not word.startswith("-") and endpoint is None:
            endpoint = word
        index += 1
    if endpoint is None:
        return []
    method = method or ("POST" if fields else "GET")
    return _ref_updates(method, endpoint, fields)


def _curl_updates(args: tuple[str, ...]) -> list[RefUpdate]:
    method, url, body = None, None, None
    index = 0
    while index < len(args):
        word = args[index]
        value = args[index + 1] if index + 1 < len(args) else ""
        if word in {"-X", "--request"}:
            method, index = value.upper(), index + 2
            continue
        if word in {"-d", "--data", "--data-raw", "--data-binary", "--json"}:
            body, index = value, index + 2
            continue
        if word.startswith("-X") and len(word) > 2:
            method = word[2:].upper()
        elif not word.startswith("-") and url is None and "://" in word:
            url = word
        index += 1
    if url is None:
        return []
    parts = urlsplit(url)
    if not _is_api(parts.hostname or "", parts.path):
        return []
    fields: dict[str, str] = {}
    if body is not None:
        try:
            document = json.loads(body)
        except ValueError:
            document = None
        if isinstance(document, dict):
            fields = {str(k): json.dumps(v).strip('"') for k, v in document.items()}
        else:
            fields = {"\x00input": body}
    return _ref_updates(method or ("POST" if body else "GET"), parts.path, fields)


def _ref_updates(method: str, endpoint: str, fields: dict[str, str]) -> list[RefUpdate]:
    """The branches a GitHub REST or GraphQL call updates."""
    force = fields.get("force", "").lower() in {"true", "1"}
    path = endpoint.split("?", 1)[0]
    if path.lstrip("/") == "graphql":
        query = fields.get("query", "") + fields.get("\x00input", "")
        return [RefUpdate(None)] if _GRAPHQL_REF_MUTATION.search(query) else []
    match = _REPO_ENDPOINT.match(path.lstrip("/").removeprefix("api/v3/"))
    if match is None or method == "GET":
        return []
    rest = match.group(1).rstrip("/")
    if rest.startswith("git/refs/heads/"):
        branch = rest[len("git/refs/heads/") :]
        return [RefUpdate(branch, force, delete=method == "DELETE")]
    if rest == "git/refs" and fields.get("ref", "").startswith("refs/heads/"):
        return [RefUpdate(fields["ref"][len("refs/heads/") :], force)]
    if rest == "merges":
        return [RefUpdate(fields.get("base") or None)]
    if rest.startswith("contents/") and method in {"PUT", "DELETE"}:
        return [RefUpdate(fields.get("branch") or None)]
    if rest.startswith("branches/") and rest.endswith("/rename"):
        return [RefUpdate(rest[len("branches/") : -len("/rename")], delete=True)]
    return []
