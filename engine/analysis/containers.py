"""Reads `docker|podman run`, `kubectl debug|run`: the command a container runs and how its paths
map back to the host (bind mounts, host root), so the walker can judge it on the host's paths."""

from __future__ import annotations

from dataclasses import dataclass

from engine.analysis.vector_model import Call

_RUNTIMES = frozenset({"docker", "podman", "nerdctl"})
PROGRAMS = _RUNTIMES | {"kubectl"}
_RUN_VALUE = frozenset(
    [
        "-v",
        "--volume",
        "--mount",
        "-w",
        "--workdir",
        "-e",
        "--env",
        "--env-file",
        "--name",
        "-p",
        "--publish",
        "-u",
        "--user",
        "--network",
        "--net",
        "--entrypoint",
        "-l",
        "--label",
        "--cpus",
        "-m",
        "--memory",
        "--platform",
        "--pid",
        "--ipc",
        "--uts",
        "--userns",
        "--cap-add",
        "--cap-drop",
        "--device",
        "--hostname",
        "-h",
        "--restart",
        "--security-opt",
        "--tmpfs",
        "--ulimit",
        "--log-driver",
        "--log-opt",
        "--add-host",
        "--dns",
        "--gpus",
        "--runtime",
        "--shm-size",
        "--stop-signal",
        "--volumes-from",
        "--cidfile",
        "--cgroupns",
        "--health-cmd",
        "--pull",
        "--label-file",
        "--expose",
        "--memory-swap",
        "--cpu-shares",
        "--cpuset-cpus",
        "--group-add",
        "--mac-address",
        "--ip",
        "--link",
    ]
)
# Spellings that give the container the host's powers: its command acts on the host.
_HOST_POWERS = (
    "--privileged",
    "--pid=host",
    "--userns=host",
    "--ipc=host",
    "--uts=host",
    "--cap-add=ALL",
    "--cap-add=SYS_ADMIN",
    "--cap-add=SYS_PTRACE",
    "--cap-add=SYS_MODULE",
)
# How a host folder is written when it is the call's own working directory.
_HERE = frozenset({"$PWD", "${PWD}", "$(pwd)", "`pwd`", ".", "./"})


@dataclass(frozen=True, slots=True)
class Mount:
    host: str
    container: str
    host_known: bool


@dataclass(frozen=True, slots=True)
class ContainerRun:
    """What a container invocation runs: argv index of its command (None: the image's own)."""

    construct: str
    start: int | None
    mounts: tuple[Mount, ...]
    workdir: str | None
    host_powers: tuple[str, ...]
    entrypoint: str | None = None


def container_run(call: Call) -> ContainerRun | None:
    argv = call.argv
    if call.name in _RUNTIMES:
        index = 1
        if index < len(argv) and argv[index] == "container":
            index += 1
        if index >= len(argv) or argv[index] != "run":
            return None
        return _docker_run(call, index + 1)
    if call.name == "kubectl" and len(argv) > 2 and argv[1] in {"debug", "run"}:
        separator = argv.index("--") if "--" in argv else None
        on_node = argv[1] == "debug" and any(a.startswith("node/") for a in argv[2:])
        mounts = (Mount("/", "/host", True),) if on_node else ()
        powers = ("kubectl debug node/",) if on_node else ()
        start = separator + 1 if separator is not None else None
        return ContainerRun(f"kubectl {argv[1]}", start, mounts, None, powers)
    return None


def _docker_run(call: Call, index: int) -> ContainerRun:
    argv = call.argv
    mounts: list[Mount] = []
    workdir: str | None = None
    entrypoint: str | None = None
    powers: list[str] = []
    while index < len(argv):
        word = argv[index]
        option, equals, glued = word.partition("=")
        if word == "--" or not word.startswith("-"):
            break
        takes_value = option in _RUN_VALUE and not equals
        value = argv[index + 1] if takes_value and index + 1 < len(argv) else glued
        known = not (call.dynamic[index + 1] if takes_value and index + 1 < len(argv) else False)
        if option in {"-v", "--volume"}:
            mounts.extend(_volume(value, known))
        elif option == "--mount":
            mounts.extend(_mount(value, known))
        elif option in {"-w", "--workdir"}:
            workdir = value
        elif option == "--entrypoint":
            entrypoint = value
        spelled = f"{option}={value}" if takes_value or equals else option
        if spelled in _HOST_POWERS or (option == "--privileged"):
            powers.append(spelled)
        if "docker.sock" in value:
            powers.append(f"{option} {value}")
        index += 2 if takes_value else 1
    image_end = index + 1  # the image name
    start = image_end if image_end < len(argv) else None
    return ContainerRun(
        f"{call.name} run", start, tuple(mounts), workdir, tuple(powers), entrypoint
    )


def _host_side(text: str, known: bool) -> tuple[str, bool]:
    if text in _HERE or text.rstrip("/") in _HERE:
        return ".", True
    for here in _HERE:
        if text.startswith(here + "/"):
            return "." + text[len(here) :], True
    return text, known


def _volume(value: str, known: bool) -> list[Mount]:
    parts = value.split(":")
    if len(parts) < 2 or not parts[1].startswith("/"):
        return []  # a named volume, not a host folder
    if not parts[0].startswith(("/", ".", "~", "$", "`")):
        return []
    host, host_known = _host_side(parts[0], known)
    return [Mount(host, parts[1].rstrip("/") or "/", host_known)]


def _mount(value: str, known: bool) -> list[Mount]:
    fields = dict(part.partition("=")[::2] for part in value.split(",") if "=" in part)
    if fields.get("type", "volume") != "bind":
        return []
    source = fields.get("source") or fields.get("src") or ""
    target = fields.get("target") or fields.get("destination") or fields.get("dst") or ""
    if not source or not target:
        return []
    host, host_known = _host_side(source, known)
    return [Mount(host, target.rstrip("/") or "/", host_known)]


def host_path(path: str, mounts: tuple[Mount, ...]) -> Mount | None:
    """The mount a container path lies under (the longest match), if any."""
    best: Mount | None = None
    for mount in mounts:
        inside = mount.container == "/" or path == mount.container
        inside = inside or path.startswith(mount.container + "/")
        if (
            inside
            and path.startswith("/")
            and (best is None or len(mount.container) > len(best.container))
        ):
            best = mount
    return best


def map_path(path: str, mount: Mount) -> str:
    rest = path[len(mount.container) :] if mount.container != "/" else path
    rest = rest.lstrip("/")
    if not rest:
        return mount.host
    return f"{mount.host.rstrip('/')}/{rest}" if mount.host != "/" else f"/{rest}"
