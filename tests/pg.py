"""A real PostgreSQL server for the test session: Debian's binaries, a temp data dir, loopback.
It starts and stops the server and hands out fresh databases; it never installs anything."""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

MISSING = (
    "PostgreSQL server binaries (initdb, pg_ctl) were not found in /usr/lib/postgresql/*/bin "
    "or on PATH: install Debian's `postgresql` package (.ci/run does). The PostgreSQL store "
    "tests cannot run without them."
)


def server_bin_dir() -> Path | None:
    """The newest Debian server version's bin dir, else wherever pg_ctl is on PATH."""

    def version(path: str) -> tuple[int, ...]:
        name = Path(path).parent.parent.name
        return tuple(int(part) for part in name.split(".") if part.isdigit())

    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=version)
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("pg_ctl")
    return Path(found).parent if found and shutil.which("initdb") else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PgServer:
    """One throwaway cluster; `fresh_database()` returns the URL of a new, empty database."""

    def __init__(self) -> None:
        bin_dir = server_bin_dir()
        if bin_dir is None:
            raise RuntimeError(MISSING)
        self._bin = bin_dir
        # initdb refuses to run as root: the cluster belongs to the `postgres` user then.
        self._user = "postgres" if os.geteuid() == 0 else None
        # Under /tmp when the cluster belongs to `postgres`: it must reach its own data dir.
        self._root = Path(
            tempfile.mkdtemp(prefix="governance-pg-", dir="/tmp" if self._user else None)
        )
        self._data = self._root / "data"
        self.port = _free_port()
        self._names = itertools.count(1)
        if self._user:
            entry = pwd.getpwnam(self._user)
            os.chown(self._root, entry.pw_uid, entry.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self._data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        options = (
            f"-p {self.port} -k {self._root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            "pg_ctl", "-D", str(self._data), "-l", str(self._root / "log"), "-o", options, "-w"
        )
        self.admin_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str) -> None:
        command = [str(self._bin / program), *args]
        if program == "pg_ctl":
            command.insert(1, "start")
        done = subprocess.run(command, capture_output=True, text=True, user=self._user)
        if done.returncode != 0:
            log = self._root / "log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{program} failed: {done.stdout}{done.stderr}{tail}")

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def fresh_database(self) -> str:
        name = f"test_{next(self._names)}"
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            # FILE_COPY (PostgreSQL 15+) clones template0's files instead of WAL-logging them.
            fast = " STRATEGY FILE_COPY" if connection.info.server_version >= 150000 else ""
            connection.execute(f"CREATE DATABASE {name} TEMPLATE template0{fast}")
        return self.url(name)

    def postmaster_pid(self) -> int:
        """The server's main process (its backends are its children)."""
        return int((self._data / "postmaster.pid").read_text().split()[0])

    def stop(self) -> None:
        subprocess.run(
            [str(self._bin / "pg_ctl"), "stop", "-D", str(self._data), "-m", "immediate"],
            capture_output=True,
            user=self._user,
        )
        shutil.rmtree(self._root, ignore_errors=True)
