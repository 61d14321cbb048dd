"""Redaction by shape: the patterns that find secrets in free text (keys, URLs, headers,
assignments, issuer tokens) and what replaces each. Pure: it must not walk values or cache."""

from __future__ import annotations

import re
from collections.abc import Callable

from engine.redact.keys import _is_secret_key, _keep_value
from engine.redact_args import REDACTED

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
