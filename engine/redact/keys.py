"""Redaction by name: which keys and options hold secrets, and which values under such a name
are still safe to show (references, code, counts). Pure: it must not scan text for shapes."""

from __future__ import annotations

import re
from functools import lru_cache

from engine.redact_args import REDACTED

# Keys this long are not names anyone wrote by hand; caching them would only pin memory.
_MAX_CACHED_KEY = 200

# Matched against the lower-cased name with every run of other characters folded to "_", so
# "apiKey", "API-KEY" and "api_key" read alike.
_SECRET_WORD = re.compile(
    r"passw(?:or)?d|passphrase|secret|token(?!i[sz])|api_?key|access_?key|private_?key"
    r"|encryption_?key|master_?key|session_?key|signing_?key|credential|cookie"
    # "author" and "authority" name people and hosts; "authorization" is still a secret.
    r"|auth(?!or(?!iz))"
)
# Too short to look for inside other words ("cwd", "bypass", "footprint").
_SECRET_PART = frozenset({"pwd", "pass", "otp", "totp"})
# Numbers under these are secrets too (PINs, one-time codes); under "max_tokens" they are counts.
_NUMERIC_SECRET_WORD = re.compile(r"passw|passphrase")
_NUMERIC_SECRET_PART = frozenset({"pwd", "pass", "otp", "totp", "pin"})
# A name that merely points at a secret ("TOKEN_URL", "auth_type", "PASSWORD_FILE") is kept so
# the auditor still sees where it came from; a credential inside the value is caught by value.
_POINTER_PART = frozenset(
    {
        "url",
        "uri",
        "urls",
        "endpoint",
        "domain",
        "host",
        "hostname",
        "port",
        "path",
        "file",
        "dir",
        "type",
        "method",
        "mode",
        "provider",
        "expiry",
        "ttl",
        "timeout",
        "enabled",
        "required",
    }
)
_PART = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def _key_facts_uncached(name: str) -> tuple[bool, bool, bool]:
    """(holds a secret, numbers under it are secret, only points at a secret)."""
    parts = [p.lower() for p in _PART.findall(name)]
    folded = _NOT_ALNUM.sub("_", name.lower())
    pointer = bool(parts) and parts[-1] in _POINTER_PART
    secret = not pointer and (
        _SECRET_WORD.search(folded) is not None or not _SECRET_PART.isdisjoint(parts)
    )
    numeric = secret and (
        _NUMERIC_SECRET_WORD.search(folded) is not None
        or not _NUMERIC_SECRET_PART.isdisjoint(parts)
    )
    return secret, numeric, pointer


_key_facts_cached = lru_cache(maxsize=4096)(_key_facts_uncached)


def _key_facts(name: str) -> tuple[bool, bool, bool]:
    if len(name) > _MAX_CACHED_KEY:
        return _key_facts_uncached(name)
    return _key_facts_cached(name)


def _is_secret_key(name: object) -> bool:
    return isinstance(name, str) and _key_facts(name)[0]


_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
# A shell or template reference names where the secret lives; it is not the secret.
_REFERENCE = re.compile(r"\$[{(A-Za-z_]")
# Source code assigns calls and subscripts ("token = get_token()", "key = env['X']"): its
# bracket closes, or opens an argument (a name, a quote, a bracket) or ends the value. One
# left open before a digit or a symbol ("Hk[8x2q") is a password's character, not code.
_CODE = re.compile(r"[A-Za-z_][\w.]*[(\[](?:[^)\]]*[)\]]|[A-Za-z_\"'(\[]|$)")
# Type annotations in source code ("password: str", "token: Optional[str]").
_TYPE_WORD = re.compile(
    r"(?:str|int|float|bool|bytes|string|number|boolean|any|none|optional|list|dict|secretstr"
    r"|secretbytes)\b",
    re.IGNORECASE,
)
_LITERAL_WORDS = frozenset({"null", "none", "nil", "true", "false", "undefined", "~"})


def _keep_value(name: str, value: str, *, in_text: bool, literal: bool = False) -> bool:
    """Whether `value`, found under the secret-sounding `name`, is safe to show as is."""
    if not value or value == REDACTED:
        return True
    _, numeric_secret, _ = _key_facts(name)
    if not numeric_secret and _NUMBER.fullmatch(value):
        return True
    if _NOT_ALNUM.sub("", name.lower()) == "pwd" and value.startswith(("/", "~")):
        return True  # $PWD is the working directory, not a password
    if not in_text:
        return False
    if value.lower() in _LITERAL_WORDS:
        return True
    if not literal and _REFERENCE.match(value):
        return True
    return _CODE.match(value) is not None or _TYPE_WORD.match(value) is not None


# An option named like a secret that takes no value (`--password-stdin`, `--no-auth`) or whose
# value only names something (`--authenticationDatabase admin`, `--auth-user bob`).
_NOT_A_SECRET_VALUE_PART = frozenset(
    {"stdin", "prompt", "jar", "env", "helper", "interactive", "database", "db", "mechanism"}
    | {"source", "user", "username", "name", "id", "scope", "scopes", "level"}
)


def _takes_secret_value(option: str) -> bool:
    """Whether `--option VALUE` of a program outside the argument table passes a secret."""
    parts = [p.lower() for p in _PART.findall(option)]
    if not parts or parts[0] == "no" or parts[-1] in _NOT_A_SECRET_VALUE_PART:
        return False
    return _is_secret_key(option)
