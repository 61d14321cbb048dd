"""Argument-aware redaction: secrets passed to credential-taking programs as option values
(`mysql -pX`, `redis-cli -a X`, `curl -u user:X`) and `.netrc` text. Pure text in, text out;
the caller fails closed if it raises."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum

REDACTED = "[REDACTED]"


class Takes(Enum):
    """How an option carries its secret."""

    ATTACHED = "attached"  # only glued to the option: `mysql -pSECRET` (`-p SECRET` prompts)
    SEPARATE = "separate"  # only as the next word: `redis-cli -a SECRET`
    EITHER = "either"  # `sshpass -pSECRET` or `sshpass -p SECRET`
    USERINFO = "userinfo"  # `user:SECRET`, glued or next word; only what follows `:` is secret


@dataclass(frozen=True, slots=True)
class SecretOption:
    takes: Takes
    separator: str = ":"  # for USERINFO: `smbclient -U user%SECRET` uses "%"


A, S, E, U = Takes.ATTACHED, Takes.SEPARATE, Takes.EITHER, Takes.USERINFO

# Program (or "program subcommand") -> the options that carry a secret. Long options also take
# `--name=SECRET`. A program missing here still has its secret-named long options redacted
# (`--token X`, `--api-key X`), its `name=value` pairs and its known token shapes.
_MYSQL = {"-p": A, "--password": S}
_LOGIN = {"-p": E, "--password": S}
_LDAP = {"-w": E}
_SMB_USER = SecretOption(U, "%")
_TABLE: dict[str, dict[str, Takes | SecretOption]] = {
    **dict.fromkeys(
        (
            "mysql",
            "mariadb",
            "mysqldump",
            "mariadb-dump",
            "mysqladmin",
            "mysqlimport",
            "mysqlcheck",
            "mysqlshow",
            "mysqlpump",
            "mysqlbinlog",
        ),
        _MYSQL,
    ),
    "redis-cli": {"-a": S, "--pass": S},
    **dict.fromkeys(
        (
            "docker login",
            "podman login",
            "buildah login",
            "skopeo login",
            "nerdctl login",
            "helm registry login",
            "oras login",
            "az login",
            "rabbitmqadmin",
            "cqlsh",
            "mongo",
            "mongosh",
            "mongodump",
            "mongorestore",
            "mongoexport",
            "mongoimport",
        ),
        _LOGIN,
    ),
    "sshpass": {"-p": E},
    "curl": {
        "-u": U,
        "--user": U,
        "-U": U,
        "--proxy-user": U,
        "--oauth2-bearer": S,
        "--pass": S,
        "--proxy-pass": S,
        "--tlspassword": S,
    },
    "wget": {"--password": S, "--http-password": S, "--ftp-password": S, "--proxy-password": S},
    **dict.fromkeys(("http", "https", "xh"), {"-a": U, "--auth": U}),
    **dict.fromkeys(
        (
            "ldapsearch",
            "ldapadd",
            "ldapmodify",
            "ldapdelete",
            "ldapwhoami",
            "ldapcompare",
            "ldapmodrdn",
        ),
        _LDAP,
    ),
    "ldappasswd": {"-w": E, "-s": E, "-a": E},
    **dict.fromkeys(("sqlcmd", "bcp"), {"-P": E}),
    **dict.fromkeys(
        ("smbclient", "rpcclient"), {"-U": _SMB_USER, "--user": _SMB_USER, "--password": S}
    ),
    "lftp": {"-u": SecretOption(U, ",")},
    "openssl": {"-pass": S, "-passin": S, "-passout": S, "-k": S},
    "keytool": {"-storepass": S, "-keypass": S, "-srcstorepass": S, "-deststorepass": S},
    "zip": {"-P": E},
    "unzip": {"-P": S},
    **dict.fromkeys(("7z", "7za", "rar", "unrar"), {"-p": A}),
    **dict.fromkeys(("mosquitto_pub", "mosquitto_sub"), {"-P": S, "--pw": S}),
    "clickhouse-client": {"--password": S},
}
SECRET_OPTIONS: dict[str, dict[str, SecretOption]] = {
    program: {
        flag: how if isinstance(how, SecretOption) else SecretOption(how)
        for flag, how in options.items()
    }
    for program, options in _TABLE.items()
}
# "docker", "helm", "helm registry": words that lead to a table entry with a subcommand.
_LEADS = frozenset(
    " ".join(name.split()[:i]) for name in SECRET_OPTIONS for i in range(1, name.count(" ") + 1)
)
_PROGRAMS = frozenset(name.split()[0] for name in SECRET_OPTIONS)
# Could the text name a table program, or a `--secret-name value` option? Checked first, so
# ordinary text pays a few substring searches and no tokenizing; each regex starts on a literal.
_PROGRAM_WORD = {
    name: re.compile(rf"(?<![\w.-]){re.escape(name)}(?![\w.:-])") for name in _PROGRAMS
}
_SECRET_LONG_OPTION = re.compile(
    r"(?<![\w-])--[\w-]{0,40}?(?:pass|pwd|secret|token|key|auth|cred|cookie)", re.IGNORECASE
)


def _worth_tokenizing(text: str) -> bool:
    if "--" in text and _SECRET_LONG_OPTION.search(text):
        return True
    lowered = text.lower()
    return any(name in lowered and _PROGRAM_WORD[name].search(lowered) for name in _PROGRAMS)


# --- words with their places in the text ------------------------------------------------------

_TOKEN = re.compile(
    r"(?P<op>[;&|()<>`\n])"
    r"|(?P<word>(?:[^\s;&|()<>`'\"\\]++|'[^']*+'?|\"(?:[^\"\\]|\\.)*+\"?|\\.?)++)",
    re.DOTALL,
)
_PIECE = re.compile(r"'([^']*+)'?|\"((?:[^\"\\]|\\.)*+)\"?|\\(.?)|([^'\"\\]++)", re.DOTALL)
_DOUBLE_QUOTED_ESCAPE = re.compile(r"\\([\"\\$`])")


@dataclass(frozen=True, slots=True)
class _Word:
    start: int
    end: int
    raw: str

    @property
    def value(self) -> str:
        """The word after quote removal, as the program would see it."""
        if not any(c in self.raw for c in "'\"\\"):
            return self.raw
        out = []
        for m in _PIECE.finditer(self.raw):
            single, double, escaped, plain = m.groups()
            if double is not None:
                out.append(_DOUBLE_QUOTED_ESCAPE.sub(r"\1", double))
            else:
                out.append(next(p for p in (single, escaped, plain) if p is not None))
        return "".join(out)


def _words(text: str) -> Iterator[_Word | None]:
    """Shell words of `text` with their spans; None where an operator ends a command."""
    for m in _TOKEN.finditer(text):
        yield None if m.lastgroup == "op" else _Word(m.start(), m.end(), m[0])


def _program(word: str) -> str:
    return word.rsplit("/", 1)[-1]


def _is_reference(raw: str) -> bool:
    """`$VAR`, `"$VAR"`, `${VAR}`: where the secret lives, not the secret."""
    return raw.startswith(("$", '"$')) and not raw.startswith("$'")


def _quoted(raw: str) -> str:
    """The quote the raw word is wrapped in, if it is wholly one quoted string."""
    if len(raw) >= 2 and raw[0] in "'\"" and raw[-1] == raw[0]:
        return raw[0]
    return ""


# --- the pass ---------------------------------------------------------------------------------

Found = Callable[[str], None]
_GENERIC = SecretOption(Takes.SEPARATE)
_MAX_NESTING = 3  # `bash -c "ssh host 'mysql -pX'"`


def _ignore(_secret: str) -> None:
    return None


def redact_arguments(
    text: str, takes_secret: Callable[[str], bool], found: Found = _ignore, depth: int = 0
) -> str:
    """`text` with option values that carry secrets replaced; the rest kept as written.

    `takes_secret` judges the long options of programs outside the table (`--token X`).
    `found` is told each secret value, unquoted, so the caller can hide it elsewhere too.
    """
    if depth == 0 and not _worth_tokenizing(text):
        return text
    edits: list[tuple[int, int, str]] = []
    program: dict[str, SecretOption] | None = None
    lead: str | None = None  # "docker" seen: its subcommand decides the table entry
    expect: SecretOption | None = None  # the option whose value the next word is
    after_option = False
    for word in _words(text):
        if word is None:
            program, lead, expect, after_option = None, None, None, False
            continue
        if expect is not None:
            option, expect = expect, None
            if not word.raw.startswith("-"):
                _separate(word, option, edits, found)
                continue
        quote = _quoted(word.raw)
        if quote and depth < _MAX_NESTING and any(c in word.raw for c in " \t\n"):
            inner = redact_arguments(word.raw[1:-1], takes_secret, found, depth + 1)
            if inner != word.raw[1:-1]:
                edits.append((word.start + 1, word.end - 1, inner))
            continue
        value = word.value
        follows_option, after_option = after_option, value.startswith("-")
        if after_option:
            expect = _option(word, value, program, takes_secret, edits, found)
            continue
        name = f"{lead} {value}" if lead else _program(value)
        if name in SECRET_OPTIONS:
            program, lead = SECRET_OPTIONS[name], None
        elif name in _LEADS:
            program, lead = None, name
        elif lead is not None and not follows_option:
            lead = None  # `docker run …`; but `docker --config DIR login` keeps looking
    return _apply(text, edits)


def _option(
    word: _Word,
    value: str,
    program: dict[str, SecretOption] | None,
    takes_secret: Callable[[str], bool],
    edits: list[tuple[int, int, str]],
    found: Found,
) -> SecretOption | None:
    """Handle an option word; returns the option the next word is the value of, if any."""
    flag, eq, _ = value.partition("=")
    option = program.get(flag) if program else None
    if option is not None:
        if eq:
            _glued(word, len(flag) + 1, option, edits, found)
            return None
        return option if option.takes is not Takes.ATTACHED else None
    if program and not value.startswith("--"):
        short = program.get(value[:2])
        if short is not None and len(value) > 2:
            if short.takes is not Takes.SEPARATE:
                _glued(word, 2, short, edits, found)
            return None
    if value.startswith("--") and not eq and takes_secret(flag[2:]):
        return _GENERIC
    return None


def _glued(
    word: _Word, cut: int, option: SecretOption, edits: list[tuple[int, int, str]], found: Found
) -> None:
    """The secret is the word's value after its first `cut` characters (`-pX`, `--pass=X`)."""
    prefix = word.raw[:cut]
    if any(c in prefix for c in "'\"\\"):
        return  # the option itself is quoted: too odd to split safely; whole word instead
    rest_raw = word.raw[cut:]
    rest = word.value[cut:]
    if not rest or _is_reference(rest_raw):
        return
    replacement = _hidden(rest_raw, rest, option, found)
    if replacement is not None:
        edits.append((word.start + cut, word.end, replacement))


def _separate(
    word: _Word, option: SecretOption, edits: list[tuple[int, int, str]], found: Found
) -> None:
    value = word.value
    if _is_reference(word.raw) or not value or value == REDACTED:
        return
    if option is _GENERIC and value.isdigit():
        return  # `--max-tokens 5`: a count, not a secret
    replacement = _hidden(word.raw, value, option, found)
    if replacement is not None:
        edits.append((word.start, word.end, replacement))


def _hidden(raw: str, value: str, option: SecretOption, found: Found) -> str | None:
    """The replacement for a raw value: a user name and wrapping quotes are kept."""
    quote = _quoted(raw)
    if option.takes is Takes.USERINFO:
        user, sep, secret = value.partition(option.separator)
        if not sep or not secret or secret.startswith("$") or secret == REDACTED:
            return None
        found(secret)
        return f"{quote}{user}{sep}{REDACTED}{quote}"
    if value == REDACTED:
        return None
    found(value)
    return f"{quote}{REDACTED}{quote}"


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    if not edits:
        return text
    out, at = [], 0
    for start, end, replacement in sorted(edits):
        if start < at:
            continue
        out += [text[at:start], replacement]
        at = end
    out.append(text[at:])
    return "".join(out)


# --- .netrc -----------------------------------------------------------------------------------

# `machine HOST login USER password SECRET` (one line or several); `default` stands for machine.
_NETRC = re.compile(
    r"(?<![\w-])(?:machine[ \t\r\n]++[^\s]++|default)"
    r"(?:[ \t\r\n]++(?:login|password|passwd|account|port|protocol|macdef)[ \t\r\n]++[^\s'\"]++)++"
)
_NETRC_SECRET = re.compile(r"(?<![\w-])((?:password|passwd|account)[ \t\r\n]++)([^\s'\"]++)")


def redact_netrc(text: str, found: Found = _ignore) -> str:
    """`.netrc` entries with their password and account values hidden."""

    def entry(m: re.Match[str]) -> str:
        def secret(s: re.Match[str]) -> str:
            found(s[2])
            return s[1] + REDACTED

        return _NETRC_SECRET.sub(secret, m[0])

    return _NETRC.sub(entry, text)
