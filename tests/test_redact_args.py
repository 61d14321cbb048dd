"""The argument table: every program's secret options, each spelling they accept, and the words
around them kept readable; plus `.netrc` text and the per-call scrubbing of learnt secrets."""

from __future__ import annotations

import pytest

from engine.redact import REDACTED, Redaction, redact_text
from engine.redact_args import SECRET_OPTIONS, Takes

R = REDACTED
SECRET = "Sx9-unit-Pw"
ROWS = [
    (program, flag, option)
    for program, options in SECRET_OPTIONS.items()
    for flag, option in options.items()
]


def spellings(program: str, flag: str, takes: Takes, sep: str) -> list[tuple[str, str]]:
    """(command, expected) for every way the table says `flag` carries its secret."""
    value, shown = (f"bob{sep}{SECRET}", f"bob{sep}{R}") if takes is Takes.USERINFO else (SECRET, R)
    out = []
    if takes in (Takes.SEPARATE, Takes.EITHER, Takes.USERINFO):
        out.append((f"{program} {flag} {value} target", f"{program} {flag} {shown} target"))
        out.append((f"{program} {flag} '{value}' target", f"{program} {flag} '{shown}' target"))
    if takes in (Takes.ATTACHED, Takes.EITHER, Takes.USERINFO) and len(flag) == 2:
        out.append((f"{program} {flag}{value} target", f"{program} {flag}{shown} target"))
    if flag.startswith("--"):
        out.append((f"{program} {flag}={value} target", f"{program} {flag}={shown} target"))
    return out


@pytest.mark.parametrize(("program", "flag", "option"), ROWS, ids=[f"{p} {f}" for p, f, _ in ROWS])
def test_every_table_row_hides_its_secret_in_every_spelling(
    program: str, flag: str, option: object
) -> None:
    cases = spellings(program, flag, option.takes, option.separator)  # type: ignore[attr-defined]
    assert cases
    for command, expected in cases:
        assert redact_text(command) == expected, command
        assert redact_text(f"sudo {command}") == f"sudo {expected}"
        assert redact_text(f"cd /srv && {command}") == f"cd /srv && {expected}"


@pytest.mark.parametrize(
    "command",
    [
        "mysql -u root -p prod",  # `-p` then a word: mysql prompts; `prod` is the database
        "docker run -p 8080:80 nginx",  # `-p` of `docker run` publishes a port
        "docker login --password-stdin -u bob registry.io",
        'mysql -p"$DB_PASSWORD" prod',
        "redis-cli -a $REDIS_PASSWORD ping",
        "curl -u alice https://x.io",  # no password given: curl prompts
        "psql --no-password prod",
        "llm --max-tokens 500 ask",
        "mongosh -u admin -p --authenticationDatabase admin",
        "echo see --token-file ~/.tok for details",
    ],
)
def test_options_that_carry_no_secret_are_left_alone(command: str) -> None:
    assert redact_text(command) == command


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"mysql -p'{SECRET} two' db", f"mysql -p'{R}' db"),
        (f'bash -c "mysql -uroot -p{SECRET} db"', f'bash -c "mysql -uroot -p{R} db"'),
        (f"ssh h 'redis-cli -a {SECRET} ping'", f"ssh h 'redis-cli -a {R} ping'"),
        (f"docker --config /c login -p {SECRET} r.io", f"docker --config /c login -p {R} r.io"),
        (f"helm registry login r.io -p {SECRET}", f"helm registry login r.io -p {R}"),
        (f"/usr/local/bin/sshpass -p{SECRET} ssh h", f"/usr/local/bin/sshpass -p{R} ssh h"),
        (f"kubectl --token {SECRET} get pods", f"kubectl --token {R} get pods"),
        (f"tool --client-secret {SECRET} --id 3", f"tool --client-secret {R} --id 3"),
        (f"smbclient //fs/s -U bob%{SECRET}", f"smbclient //fs/s -U bob%{R}"),
    ],
)
def test_quoting_nesting_wrappers_and_generic_options(text: str, expected: str) -> None:
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"machine api.x.io login bob password {SECRET}",
            f"machine api.x.io login bob password {R}",
        ),
        (
            f"machine git.x.io\n  login deploy\n  password {SECRET}\n",
            f"machine git.x.io\n  login deploy\n  password {R}\n",
        ),
        (f"default login bob password {SECRET}", f"default login bob password {R}"),
        (
            f"machine a.io login u account {SECRET} password {SECRET}",
            f"machine a.io login u account {R} password {R}",
        ),
    ],
)
def test_netrc_entries(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def test_prose_about_passwords_is_kept() -> None:
    text = "the machine asks for a password every login; by default the password expires"
    assert redact_text(text) == text


def test_a_calls_secrets_are_hidden_where_a_reason_quotes_them_unquoted() -> None:
    # A rule's reason quotes the command after quote removal: `-p'a b'` reads `-pa b` there,
    # which shape-based redaction alone would cut after `a`.
    redaction = Redaction.learn({"command": f"mysql -p'{SECRET} two' prod"})
    reason = f"`mysql -p{SECRET} two prod` needs approval by policy pattern `mysql`"
    assert redaction(reason) == f"`mysql -p{R} prod` needs approval by policy pattern `mysql`"
    assert redaction({"fragment": f"'-p{SECRET} two'"}) == {"fragment": f"'-p{R}'"}


def test_a_redaction_learns_from_keys_and_shapes_too() -> None:
    redaction = Redaction.learn({"api_key": SECRET, "url": "https://u:Zz8-secret@h.io"})
    assert redaction(f"sent {SECRET} and Zz8-secret") == f"sent {R} and {R}"
    assert redaction.redacted == {"api_key": R, "url": f"https://u:{R}@h.io"}
    assert Redaction.learn({"command": "ls -la"}).secrets == ()
