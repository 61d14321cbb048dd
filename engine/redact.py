"""Secret redaction: what is hidden before a value is stored in the audit trail or sent to Slack.
Pure: no I/O, no policy; it never raises and keeps the text around a secret as it was."""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from engine.redact_args import REDACTED, redact_arguments, redact_netrc

# Nesting deeper than this is not a real tool input; the whole subtree is hidden instead of
# risking a RecursionError (or an endless walk through a cyclic container).
_MAX_DEPTH = 100
# Keys this long are not names anyone wrote by hand; caching them would only pin memory.
_MAX_CACHED_KEY = 200

# --- which names hold secrets ---------------------------------------------------------------

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


# --- secrets found by their shape -----------------------------------------------------------
#
# Every pattern must stay linear on a megabyte of hostile text. Each starts either on a literal
# or behind a negative lookbehind, so a long run of letters is entered once, not at every
# letter, and no quantified group can match the same characters two ways.

_PRIVATE_KEY = re.compile(
    r"(-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----)(.*?)"
    r"(-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|\Z)",
    re.DOTALL,
)


def _private_key(m: re.Match[str]) -> str:
    # Keep the armour lines so the auditor sees a key went by; keep line breaks if there were.
    gap = "\n" if "\n" in m[2] else ""
    tail = gap + m[3] if m[3] else ""
    return f"{m[1]}{gap}{REDACTED}{tail}"


# scheme://user:password@host — the password runs to the last "@" before the path, since raw
# "@" in passwords is common. A "$VAR" password is a reference and stays.
_URL_PASSWORD = re.compile(r"(://[^\s:/?#@'\"<>]*:)(?!\$)[^\s/?#'\"<>]+(?=@)")

# Cookies are "a=b; c=d": one assignment per cookie, so the whole header value goes.
_COOKIE_HEADER = re.compile(
    r"(?<![\w-])((?:set-)?cookie[ \t]*:[ \t]*)[^\s\"'`][^\r\n\"'`]*", re.IGNORECASE
)

_AWS_SECRET = re.compile(
    r"(aws_?secret_?access_?key[\"']?[ \t]*[=:]?[ \t]*[\"']?)[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])",
    re.IGNORECASE,
)

# The value of `name=value`, `name: value`, `"name": "value"`. Already redacted values come
# first so a second pass leaves them alone.
_QUOTED_VALUE = (
    r"\[REDACTED\]"
    r"|\"(?:[^\"\\\n]|\\.)*+\""
    r"|'[^'\n]*+'"
    r"|\\\"(?:[^\"\\\n]|\\[^\"\n])*+\\\""  # JSON escaped inside a shell string
)
# A quote never closed on its line (a truncated input, a string continued on the next line):
# the value runs to the end of the line or the next quote, so the secret in it is still hidden.
_UNCLOSED = r"\\?[\"'][^\r\n\"'`]+"
_WORD_VALUE = rf"(?P<v>{_QUOTED_VALUE}|{_UNCLOSED}|(?![=(\[{{])[^\s\"'`;&|,<>)}}\]]+)"
# After `name:` at the start of a line (YAML, HTTP headers) the value runs to the end of line.
_LINE_VALUE = rf"(?P<v>{_QUOTED_VALUE}|{_UNCLOSED}|[^\s\"'`,}}\]{{\[|>&*][^\r\n\"'`,}}\]]*)"
# "Authorization: Bearer xyz" keeps the scheme; possessive, so the scheme is never the secret.
_SCHEME = (
    r"(?P<scheme>(?i:bearer|basic|token|digest|negotiate|ntlm|bot|apikey|api-key|key|sso-key"
    r"|ssws)[ \t]+)?+"
)

_ASSIGN_EQ = re.compile(
    r"(?<![\w.-])(?P<name>-{0,2}[A-Za-z_][\w.-]*)[ \t]*=[ \t]*" + _SCHEME + _WORD_VALUE
)
_ASSIGN_QUOTED = re.compile(
    r"(?P<q>\\?[\"'])(?P<name>[A-Za-z_-][\w.-]*)(?P=q)[ \t]*[:=][ \t]*" + _SCHEME + _WORD_VALUE
)
# Unquoted `name: value` only where a key can start (line start, list item, after a brace or a
# quote as in `-H "X-Api-Key: abc"`), so prose and `host:port` are left alone.
_ASSIGN_COLON = re.compile(
    r"(?:^|(?<=[{,\[\"']))[ \t]*(?:-[ \t]+)?(?P<name>[A-Za-z_][\w.-]*)[ \t]*:[ \t]+"
    + _SCHEME
    + _LINE_VALUE,
    re.MULTILINE,
)


def _assignment(m: re.Match[str]) -> str:
    if not _is_secret_key(m["name"]):
        value_at = m.start("v") - m.start()
        if "=" in m["v"]:  # `--from-literal=password=X`: the value is itself an assignment
            return m[0][:value_at] + _ASSIGN_EQ.sub(_assignment, m[0][value_at:])
        return m[0]
    raw = m["v"]
    if REDACTED[:-1] in raw:  # a more precise pass already hid the secret part (`u:[REDACTED]`)
        return m[0]
    opener = ""
    if raw.startswith('\\"') and raw.endswith('\\"') and len(raw) >= 4:
        opener = '\\"'
    elif raw[0] in "\"'" and len(raw) >= 2 and raw[-1] == raw[0]:
        opener = raw[0]
    inner = raw[len(opener) : len(raw) - len(opener)] if opener else raw.rstrip()
    if _keep_value(m["name"], inner, in_text=True, literal=opener == "'"):
        return m[0]
    start, end = m.start("v") - m.start(), m.start("v") - m.start() + len(opener) + len(inner)
    return f"{m[0][:start]}{opener}{REDACTED}{opener}{m[0][end + len(opener) :]}"


def _bearer(m: re.Match[str]) -> str:
    return m[1] + REDACTED


_BEARER = re.compile(
    # A credential has a digit somewhere, which "Bearer tokens expire" has not.
    r"(?<![A-Za-z0-9_-])(bearer[ \t]+)(?=[A-Za-z._~+/=-]*+[0-9])[A-Za-z0-9._~+/-]+=*",
    re.IGNORECASE,
)
_SLACK_WEBHOOK = re.compile(
    r"(hooks\.slack(?:-gov)?\.com/(?:services|workflows|triggers)/)[A-Za-z0-9_/-]+"
)

# Whole tokens recognisable by their issuer's prefix.
_TOKENS = re.compile(
    "|".join(
        (
            r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])",
            r"(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{20,}",
            r"(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{20,}",
            r"(?<![A-Za-z0-9-])(?:xox[abposre]|xapp)-[A-Za-z0-9-]{10,}",
            r"(?<![A-Za-z0-9_])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}",
            r"(?<![A-Za-z0-9_])whsec_[A-Za-z0-9]{20,}",
            # Needs an upper-case letter and a digit, so "sk-learn-2024-branch-name" is kept.
            r"(?<![A-Za-z0-9_-])sk-(?=[a-z0-9_-]*+[A-Z])(?=[A-Za-z_-]*+[0-9])[A-Za-z0-9_-]{20,}",
            r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])",
            r"(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])",
            r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",
        )
    )
)

_SECRET_NEEDLES = ("pass", "pwd", "secret", "token", "key", "auth", "cred", "cookie", "otp")

# (lower-case substrings one of which must be present, pattern, replacement). Checking the
# substrings first keeps a megabyte of ordinary text from paying for every regex.
_Replacement = str | Callable[[re.Match[str]], str]
_PASSES: tuple[tuple[tuple[str, ...], re.Pattern[str], _Replacement], ...] = (
    (("private key",), _PRIVATE_KEY, _private_key),
    (("://",), _URL_PASSWORD, rf"\g<1>{REDACTED}"),
    (("cookie",), _COOKIE_HEADER, rf"\g<1>{REDACTED}"),
    (("secret",), _AWS_SECRET, rf"\g<1>{REDACTED}"),
    (_SECRET_NEEDLES, _ASSIGN_QUOTED, _assignment),
    (_SECRET_NEEDLES, _ASSIGN_COLON, _assignment),
    (_SECRET_NEEDLES, _ASSIGN_EQ, _assignment),
    (("bearer",), _BEARER, _bearer),
    (("hooks.slack",), _SLACK_WEBHOOK, rf"\g<1>{REDACTED}"),
    (
        (
            "akia",
            "asia",
            "gh",
            "github_pat_",
            "xox",
            "xapp-",
            "_live_",
            "_test_",
            "whsec_",
            "sk-",
            "aiza",
            "npm_",
            "eyj",
        ),
        _TOKENS,
        REDACTED,
    ),
)


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


# --- JSON-like values -----------------------------------------------------------------------


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


# --- one tool call's secrets, wherever they show up -------------------------------------------


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
