"""The engine for the current policy file: loaded, reloaded on change, the last good one kept.
It must not judge calls or write the audit; the server's chores audit a reload."""

from __future__ import annotations

import os

from engine.evaluate import Engine
from engine.policy import BUILTIN_POLICY_NAME, Policy, PolicyError, builtin_policy, load_policy
from engine.self_protection import ProtectedState


class PolicyHolder:
    """The engine for the current policy file; reloads on change, keeps the old one on error."""

    # An edge's policy (bot/edge/policy_sync.py) has the service's version; a file has none.
    version: str | None = None

    def __init__(self, path: str | None, state: ProtectedState | None = None) -> None:
        self.path = path
        self.state = state
        self.source = path or BUILTIN_POLICY_NAME
        self.engine = Engine(self._load(), state)
        self._mtime = self._stat()

    def _load(self) -> Policy:
        return load_policy(self.path) if self.path else builtin_policy()

    def _stat(self) -> int | None:
        if not self.path:
            return None
        try:
            return os.stat(self.path).st_mtime_ns
        except OSError:
            return None

    def reload_if_changed(self) -> str | None:
        """None when nothing changed; 'reloaded' or the error text otherwise."""
        mtime = self._stat()
        if mtime == self._mtime:
            return None
        self._mtime = mtime
        try:
            self.engine = Engine(self._load(), self.state)
        except PolicyError as error:
            return str(error)
        return "reloaded"
