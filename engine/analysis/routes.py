"""The same effect by another route: commands that do what a known command does are followed by
that command (`rimraf x` by `rm -rf x`, `rsync --delete … d/` by `rm -r d/`, a ref update through
`gh api` or `git subtree push` by `git push`), and a `git push` after `git switch`/`git config`
in the same line is spelled with the branches it really updates. Pure: no disk, no policy."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from engine.clis import runner_target
from engine.git import ALL_BRANCHES, GitConfig, analyze_push, git_subcommand, inline_config
from engine.shell import ShellAnalysis, SimpleCommand, Word, command_name

# Programs that delete their operands recursively, as `rm -rf` does.
_RECURSIVE_DELETERS = frozenset({"rimraf", "del", "del-cli", "trash", "trash-put", "premove"})
_RSYNC_VALUE_OPTIONS = frozenset(
    [
        "-e",
        "--rsh",
        "-f",
        "--filter",
        "--exclude",
        "--include",
        "--exclude-from",
        "--include-from",
        "--files-from",
        "--chmod",
        "--chown",
        "--backup-dir",
        "--suffix",
        "-T",
        "--temp-dir",
        "--partial-dir",
        "--compare-dest",
        "--link-dest",
        "--copy-dest",
        "-B",
        "--block-size",
        "--port",
        "--timeout",
        "--bwlimit",
        "--max-size",
        "--min-size",
        "-M",
        "--remote-option",
        "--info",
        "--debug",
        "--out-format",
        "--log-file",
        "--usermap",
        "--groupmap",
        "--iconv",
        "--rsync-path",
        "--password-file",
    ]
)
_RSYNC_DELETES = re.compile(r"--del(ete(-(before|during|delay|after|excluded))?)?$")
_REMOTE = re.compile(r"^(?:[\w.+-]+@)?([A-Za-z0-9][\w.-]*):(?!//)(.*)$")
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
_UNKNOWN_BRANCH = "\x00unknown"


@dataclass(frozen=True, slots=True)
class _RefUpdate:
    """A branch a hosting-API call updates; `branch` None when the call does not say which."""

    branch: str | None
    force: bool = False
    delete: bool = False


@dataclass(slots=True)
class _GitLine:
    """What earlier commands of the line did to the checkout: the branch and the config."""

    branch: str | None = None
    config: GitConfig = ()
    changed_by: tuple[str, ...] = ()
    opaque: list[str] = field(default_factory=list)


def with_routes(analysis: ShellAnalysis) -> ShellAnalysis:
    """The analysis with the known equivalent of each command added after it."""
    commands: list[SimpleCommand] = []
    git = _GitLine()
    for command in analysis.commands:
        for reason in _unseen_updates(command):
            git.opaque.append(reason)
        if command.name == "git" and git.changed_by:
            commands.append(_resolved_push(command, git))
        else:
            commands.append(command)
        commands.extend(_equivalents(command))
        if command.name == "git":
            _follow_git(command.argv, git)
    if commands == list(analysis.commands) and not git.opaque:
        return analysis
    return ShellAnalysis(tuple(commands), (*analysis.opaque, *git.opaque), analysis.fork_bombs)


def _equivalents(command: SimpleCommand) -> list[SimpleCommand]:
    argv = command.argv
    inner = runner_target(argv)
    if inner is not None:
        argv = inner
    name = command_name(argv[0]) if argv else ""
    words = command.words[len(command.words) - len(argv) :]
    via = (*command.prefix, *command.argv[: len(command.words) - len(argv) + 1])
    if name in _RECURSIVE_DELETERS:
        operands = [w for w in words[1:] if not w.value.startswith("-")]
        return [_synthetic(["rm", "-rf"], operands, via, command)] if operands else []
    if name == "rsync":
        return _rsync_deletes(words, via, command)
    if name == "gh" and argv[1:2] == ("api",):
        return _pushes(_gh_api_updates(argv[2:]), (*via, "api"), command)
    if name == "curl":
        return _pushes(_curl_updates(argv[1:]), via, command)
    if name == "git":
        start, _ = git_subcommand(argv)
        if argv[start : start + 2] == ("subtree", "push"):
            push = analyze_push(argv, None)
            branches = [_RefUpdate(t.branch) for t in push.targets] if push else []
            return _pushes(branches, (*via, *argv[start : start + 2]), command)
    return []


def _synthetic(
    head: list[str], operands: list[Word], via: tuple[str, ...], like: SimpleCommand
) -> SimpleCommand:
    return SimpleCommand((*(Word(w) for w in head), *operands), prefix=via, workdir=like.workdir)


# ---------------------------------------------------------------- deletes


def _rsync_deletes(
    words: tuple[Word, ...], via: tuple[str, ...], command: SimpleCommand
) -> list[SimpleCommand]:
    """`--delete` empties the destination of what the source lacks; `--remove-source-files`
    deletes the sources. Judged as `rm -r` of those paths (a superset: files in both stay)."""
    operands: list[Word] = []
    deletes = removes_sources = False
    index = 1
    while index < len(words):
        value = words[index].value
        if value in _RSYNC_VALUE_OPTIONS:
            index += 2
            continue
        if value.startswith("-"):
            deletes = deletes or bool(_RSYNC_DELETES.match(value.split("=", 1)[0]))
            removes_sources = removes_sources or value == "--remove-source-files"
        else:
            operands.append(words[index])
        index += 1
    if len(operands) < 2:
        return []
    out = []
    if deletes:
        destination = _local_view(operands[-1])
        out.append(_synthetic(["rm", "-r"], [destination], (*via, "--delete"), command))
    if removes_sources:
        sources = [_local_view(w) for w in operands[:-1]]
        out.append(_synthetic(["rm"], sources, (*via, "--remove-source-files"), command))
    return out


def _local_view(word: Word) -> Word:
    """`host:dir` as the path it names on that host: relative paths start at its home."""
    match = _REMOTE.match(word.value)
    if match is None or word.value.startswith("rsync://"):
        return word
    path = match.group(2)
    if not path.startswith("/"):
        path = f"~/{path}" if path else "~"
    return Word(path, word.glob, word.dynamic)


# ---------------------------------------------------------------- hosting API ref updates


def _unseen_updates(command: SimpleCommand) -> list[str]:
    """Hosting-API calls that update a branch the call does not name (GraphQL, a body file)."""
    argv = command.argv
    if command.name == "gh" and argv[1:2] == ("api",):
        updates = _gh_api_updates(argv[2:])
    elif command.name == "curl":
        updates = _curl_updates(argv[1:])
    else:
        return []
    if any(update.branch is None for update in updates):
        return [f"`{command.display()}` updates a branch it does not name"]
    return []


def _pushes(
    updates: list[_RefUpdate], via: tuple[str, ...], command: SimpleCommand
) -> list[SimpleCommand]:
    out = []
    for update in updates:
        if update.branch is None:
            continue  # opaque: see _unseen_updates
        if update.delete:
            spec = [f":refs/heads/{update.branch}"]
        else:
            spec = [f"{'+' if update.force else ''}HEAD:refs/heads/{update.branch}"]
        out.append(_synthetic(["git", "push", "origin", *spec], [], via, command))
    return out


def _gh_api_updates(args: tuple[str, ...]) -> list[_RefUpdate]:
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


def _curl_updates(args: tuple[str, ...]) -> list[_RefUpdate]:
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
    if not (parts.hostname or "").startswith("api.") and "/api/v3/" not in parts.path:
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


def _ref_updates(method: str, endpoint: str, fields: dict[str, str]) -> list[_RefUpdate]:
    """The branches a GitHub REST or GraphQL call updates."""
    force = fields.get("force", "").lower() in {"true", "1"}
    path = endpoint.split("?", 1)[0]
    if path.lstrip("/") == "graphql":
        query = fields.get("query", "") + fields.get("\x00input", "")
        return [_RefUpdate(None)] if _GRAPHQL_REF_MUTATION.search(query) else []
    match = _REPO_ENDPOINT.match(path.lstrip("/").removeprefix("api/v3/"))
    if match is None or method == "GET":
        return []
    rest = match.group(1).rstrip("/")
    if rest.startswith("git/refs/heads/"):
        branch = rest[len("git/refs/heads/") :]
        return [_RefUpdate(branch, force, delete=method == "DELETE")]
    if rest == "git/refs" and fields.get("ref", "").startswith("refs/heads/"):
        return [_RefUpdate(fields["ref"][len("refs/heads/") :], force)]
    if rest == "merges":
        return [_RefUpdate(fields.get("base") or None)]
    if rest.startswith("contents/") and method in {"PUT", "DELETE"}:
        return [_RefUpdate(fields.get("branch") or None)]
    if rest.startswith("branches/") and rest.endswith("/rename"):
        return [_RefUpdate(rest[len("branches/") : -len("/rename")], delete=True)]
    return []


# ---------------------------------------------------------------- the checkout through the line


def _follow_git(argv: tuple[str, ...], git: _GitLine) -> None:
    start, _ = git_subcommand(argv)
    sub, rest = (argv[start], argv[start + 1 :]) if start < len(argv) else ("", ())
    if sub in {"switch", "checkout"}:
        branch = _checked_out(sub, rest)
        if branch is not None:
            git.branch = None if branch == _UNKNOWN_BRANCH else branch
            git.changed_by = argv
            if branch == _UNKNOWN_BRANCH:
                git.opaque.append(
                    f"`{' '.join(argv)}` checks out a branch only known at run time, so a "
                    "later `git push` pushes a branch that cannot be checked"
                )
    elif sub == "config":
        setting = _config_set(rest)
        if setting is not None:
            git.config = (*git.config, setting)
            git.changed_by = argv


def _checked_out(sub: str, rest: tuple[str, ...]) -> str | None:
    """The branch `git switch|checkout …` leaves checked out; None when it only restores files."""
    if "--" in rest and sub == "checkout":
        return None
    creates = {"-c", "-C", "--create", "--force-create", "-b", "-B", "--orphan"}
    positional: list[str] = []
    index = 0
    while index < len(rest):
        word = rest[index]
        if word in creates:
            return rest[index + 1] if index + 1 < len(rest) else None
        if word in {"--detach", "-d", "-"}:
            return _UNKNOWN_BRANCH
        if word.startswith("--track=") or word in {"-t", "--track"}:
            remote_branch = next((w for w in rest[index + 1 :] if not w.startswith("-")), "")
            return remote_branch.split("/", 1)[-1] or None
        if not word.startswith("-"):
            positional.append(word)
        index += 1
    if len(positional) != 1:
        return None
    target = positional[0]
    if target == "@{-1}" or "$" in target:
        return _UNKNOWN_BRANCH
    return target


def _config_set(rest: tuple[str, ...]) -> tuple[str, str] | None:
    """`git config [--local|--global] [--add] key value` and `git config set key value`."""
    words = [w for w in rest if not w.startswith("-")]
    if words[:1] == ["set"]:
        words = words[1:]
    if len(words) != 2 or any(w in {"--unset", "--unset-all", "--get"} for w in rest):
        return None
    key, value = words
    return inline_config(("git", "-c", f"{key}={value}", "push"))[0]


def _resolved_push(command: SimpleCommand, git: _GitLine) -> SimpleCommand:
    """`git push` after `git switch main` is `git push origin HEAD:refs/heads/main`."""
    push = analyze_push(command.argv, git.branch, git.config)
    if push is None:
        return command
    head = [w.value for w in command.words[: git_subcommand(command.argv)[0]]]
    specs = []
    for target in push.targets:
        if target.branch is None:
            return command  # judged against the checkout the call started from
        if target.branch == ALL_BRANCHES:
            specs.append("--all")
        elif target.delete:
            specs.append(f":refs/heads/{target.branch}")
        else:
            specs.append(f"{'+' if target.force else ''}HEAD:refs/heads/{target.branch}")
    flags = ["--force"] if push.force else []
    flags += ["--dry-run"] if push.dry_run else []
    argv = [*head, "push", *flags, push.remote or "origin", *specs]
    return SimpleCommand(
        tuple(Word(w) for w in argv),
        command.redirects,
        command.stdin_text,
        command.piped_input,
        (*command.prefix, *git.changed_by),
        command.workdir,
    )
