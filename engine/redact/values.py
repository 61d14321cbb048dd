"""Redacting a JSON-like value: every string by shape, and whatever sits under a secret key
hidden whole; too deep a nesting is hidden too. It must not know any secret's shape itself."""

from __future__ import annotations

from typing import Any

from engine.redact.keys import _is_secret_key, _keep_value, _key_facts
from engine.redact.text import _redact_text
from engine.redact_args import REDACTED

# Nesting deeper than this is not a real tool input; the whole subtree is hidden instead of
# risking a RecursionError (or an endless walk through a cyclic container).
_MAX_DEPTH = 100


def redact(value: Any) -> Any:
    """Deep copy of a JSON-like value (dict/list/str/numbers/None/bool) with secrets replaced."""
    try:
        return _walk(value, 0, None)
    except Exception:
        return REDACTED  # fail closed, as in redact_text


def _walk(value: Any, depth: int, found: list[str] | None) -> Any:
    if isinstance(value, str):
        out = _redact_text(value, found)
        # Unchanged strings keep their own type (a StrEnum stays an enum member).
        return value if out == value else out
    if not isinstance(value, dict | list | tuple):
        return value
    if depth >= _MAX_DEPTH:
        return REDACTED
    if isinstance(value, dict):
        return {
            k: _conceal(v, k, depth + 1, found) if _is_secret_key(k) else _walk(v, depth + 1, found)
            for k, v in value.items()
        }
    items = [_walk(v, depth + 1, found) for v in value]
    return tuple(items) if isinstance(value, tuple) else items


def _conceal(value: Any, key: str, depth: int, found: list[str] | None) -> Any:
    """`value` found under the secret key `key`: every string in it is hidden."""
    if isinstance(value, str):
        if _keep_value(key, value, in_text=False):
            return value
        if found is not None:
            found.append(value)
        return REDACTED
    if not isinstance(value, dict | list | tuple):
        return value  # counts and flags ("input_tokens": 1200, "auth_required": true)
    if depth >= _MAX_DEPTH:
        return REDACTED
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if isinstance(k, str) and _key_facts(k)[2]:
                out[k] = _walk(v, depth + 1, found)  # "auth": {"type": "oauth"}: a pointer
            else:
                out[k] = _conceal(v, k if isinstance(k, str) else key, depth + 1, found)
        return out
    if value and all(isinstance(v, str) for v in value):
        if found is not None:
            found.extend(value)
        return REDACTED
    items = [_conceal(v, key, depth + 1, found) for v in value]
    return tuple(items) if isinstance(value, tuple) else items
