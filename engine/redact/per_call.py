"""One tool call's secrets, learnt while redacting its input and scrubbed from every other
field of that call (`Redaction`). It must not add redaction rules of its own."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import Any

from engine.redact.values import _MAX_DEPTH, _walk, redact
from engine.redact_args import REDACTED


def _failed(value: Any) -> Any:
    """Failing closed, in the value's own shape, so callers can still pick their part."""
    if isinstance(value, dict):
        return {k: {"redacted": REDACTED} for k in value}
    if isinstance(value, list | tuple):
        return [{"redacted": REDACTED} for _ in value]
    return REDACTED


# Shorter values are not worth hiding everywhere: "-p ab" would blank every "ab" in a reason.
_MIN_SCRUBBED = 3


@dataclass(frozen=True, slots=True)
class Redaction:
    """The secrets one tool call carried, learnt while redacting its input, so the same values
    are hidden wherever else they show up: a rule's reason or a finding quotes the command
    after quote removal (`mysql -p'a b'` becomes `-pa b`), which shape-based redaction of the
    reason alone could not see. Every sink of that call goes through one instance."""

    secrets: tuple[str, ...] = ()
    # The value `learn` read, redacted and scrubbed: redacting it again would repeat the walk.
    redacted: Any = None

    @classmethod
    def learn(cls, value: Any) -> Redaction:
        found: list[str] = []
        try:
            redacted = _walk(value, 0, found)
        except Exception:
            return cls((), _failed(value))
        spellings = set()
        for secret in found:
            secret = secret.strip()
            if len(secret) >= _MIN_SCRUBBED and secret not in REDACTED:
                spellings.add(secret)
                spellings.add(json.dumps(secret, ensure_ascii=False)[1:-1])  # inside JSON text
                spellings.add(shlex.quote(secret))  # as a command's display re-quotes it
        if not spellings:
            return cls((), redacted)
        learnt = cls(tuple(sorted(spellings, key=len, reverse=True)))
        try:
            return cls(learnt.secrets, learnt._scrub(redacted, 0))
        except Exception:
            return cls(learnt.secrets, _failed(value))

    def __call__(self, value: Any) -> Any:
        """`value` scrubbed of this call's secrets, then redacted by shape and by key."""
        if self.secrets:
            try:
                # Scrub first: the literal secret, before shape rules cut it at a space.
                value = self._scrub(value, 0)
            except Exception:
                return REDACTED
        return redact(value)

    def _scrub(self, value: Any, depth: int) -> Any:
        if isinstance(value, str):
            out = value
            for secret in self.secrets:
                if secret in out:
                    out = out.replace(secret, REDACTED)
            return value if out == value else out
        if depth >= _MAX_DEPTH or not isinstance(value, dict | list | tuple):
            return value
        if isinstance(value, dict):
            return {k: self._scrub(v, depth + 1) for k, v in value.items()}
        items = [self._scrub(v, depth + 1) for v in value]
        return tuple(items) if isinstance(value, tuple) else items
