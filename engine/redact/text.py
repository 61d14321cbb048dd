"""Redacting one text: the argument table, `.netrc` entries and every shape pass, cached for
short texts, noting what was hidden; it fails closed. It must not walk JSON-like values."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from functools import lru_cache

from engine.redact.keys import _takes_secret_value
from engine.redact.shapes import _PASSES, _Replacement
from engine.redact_args import REDACTED, redact_arguments, redact_netrc


def redact_text(text: str) -> str:
    """`text` with every secret recognisable by its shape replaced by REDACTED."""
    return _redact_text(text, None)


# Tool inputs repeat (`git status`, a cwd, a description): short texts are redacted once.
_MAX_CACHED_TEXT = 1024


@lru_cache(maxsize=8192)
def _redact_short(text: str) -> tuple[str, tuple[str, ...]]:
    found: list[str] = []
    return _redact_uncached(text, found), tuple(found)


def _redact_text(text: str, found: list[str] | None) -> str:
    if not isinstance(text, str) or not text:
        return text
    if len(text) <= _MAX_CACHED_TEXT:
        out, secrets = _redact_short(text)
        if found is not None:
            found.extend(secrets)
        return out
    return _redact_uncached(text, found)


def _redact_uncached(text: str, found: list[str] | None) -> str:
    try:
        lowered = text.lower()
        note = found.append if found is not None else _ignore
        text = redact_arguments(text, _takes_secret_value, note)
        if "machine" in lowered or "default" in lowered:
            text = redact_netrc(text, note)
        for needles, pattern, replacement in _PASSES:
            if any(needle in lowered for needle in needles):
                if found is None:
                    text = pattern.sub(replacement, text)
                else:
                    text = pattern.sub(_noting(replacement, found), text)
        return text
    except Exception:
        # Failing closed: a secret must never reach the store because redaction broke.
        return REDACTED


def _noting(replacement: _Replacement, found: list[str]) -> Callable[[re.Match[str]], str]:
    """`replacement` that also notes what it removed: the middle the old and new text differ in."""

    def replace(m: re.Match[str]) -> str:
        old = m[0]
        new = replacement(m) if callable(replacement) else m.expand(replacement)
        if new != old:
            head = len(os.path.commonprefix([old, new]))
            tail = len(os.path.commonprefix([old[head:][::-1], new[head:][::-1]]))
            removed = old[head : len(old) - tail]
            if removed:
                found.append(removed.strip("\"'"))
        return new

    return replace


def _ignore(_secret: str) -> None:
    return None
