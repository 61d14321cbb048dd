"""No code passes unseen: every execution vector in the table is judged by its payload or
answered with approval, and random compositions of wrappers and quoting never reach allow."""

from __future__ import annotations

import json
import shlex
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.analysis import minilangs
from engine.analysis.vector_table import ENV_VECTORS, VECTORS, Vector
from engine.decide import Outcome
from engine.evaluate import Engine
from engine.events import CallContext, ToolEvent
from engine.policy import load_policy
from tests.conftest import SEED_POLICY, case_failures

ENGINE = Engine(load_policy(SEED_POLICY))


def judge(command: str):
    event = ToolEvent(tool_name="Bash", tool_input={"command": command}, cwd="/srv/app")
    return ENGINE.evaluate(event, CallContext(git_branch="feature/x"))


@pytest.mark.parametrize(
    "row", [*VECTORS, *ENV_VECTORS], ids=lambda row: f"{'/'.join(row.programs[:2])}:{row.trigger}"
)
def test_every_vector_row_is_judged_by_its_payload_or_needs_approval(row: Vector) -> None:
    decision = judge(row.example)
    assert decision.would_be.value == row.verdict, (row.example, decision.rule, decision.reason)
    if row.verdict == "approve":  # the approval names the construct it could not see into
        assert decision.rule == "builtin.unseen_code"
        assert any(name in decision.reason for name in (*row.programs, row.trigger.split()[0]))


# ---------------------------------------------------------------- the property

# Payloads whose verdict against the seed policy is known not to be allow, as shell words.
PAYLOADS: tuple[tuple[str, ...], ...] = (
    ("rm", "-rf", "/"),
    ("rm", "-rf", "~"),
    ("chmod", "-R", "777", "."),
    ("git", "push", "-f", "origin", "main"),
    ("cat", ".env"),
)


@dataclass(frozen=True)
class Line:
    """Shell text being built: statements that set variables, then one command."""

    preamble: tuple[str, ...]
    words: tuple[str, ...]
    simple: bool = True  # a plain program call that argv wrappers (sudo, env…) can wrap

    def text(self) -> str:
        return "; ".join((*self.preamble, " ".join(self.words)))


def _ansi_c(word: str) -> str:
    return "$'" + "".join(f"\\x{ord(c):02x}" for c in word) + "'"


@st.composite
def spelled_word(draw: st.DrawFn, word: str, index: int) -> tuple[str | None, str]:
    """(an assignment it needs, how the word is written): bash reads it back as `word`."""
    if word == "~":  # quoting ~ would stop its expansion: only home spellings keep the meaning
        return None, draw(st.sampled_from(["~", "$HOME", '"$HOME"', "${HOME}", "~/"]))
    style = draw(
        st.sampled_from(["plain", "single", "double", "backslash", "ansi", "split", "var"])
    )
    if style == "single":
        return None, f"'{word}'"
    if style == "double":
        return None, f'"{word}"'
    if style == "backslash":
        return None, "".join(f"\\{c}" for c in word)
    if style == "ansi":
        return None, _ansi_c(word)
    if style == "split" and len(word) > 1:
        cut = draw(st.integers(1, len(word) - 1))
        return None, f"{word[:cut]}''{word[cut:]}"
    if style == "var":
        name = f"v{index}"
        form = draw(st.sampled_from(["$%s", "${%s}", '"$%s"']))
        return f"{name}={shlex.quote(word)}", form % name
    return None, word


@st.composite
def spelled_payload(draw: st.DrawFn) -> Line:
    words = draw(st.sampled_from(PAYLOADS))
    preamble: list[str] = []
    spelled: list[str] = []
    for index, word in enumerate(words):
        assignment, text = draw(spelled_word(word, index))
        if assignment:
            preamble.append(assignment)
        spelled.append(text)
    joining = draw(
        st.sampled_from(["space", "space", "ifs", "brace", "ifs-comma", "printf-v", "function"])
    )
    # Inside a variable's value `~` does not expand, but an assignment expands `$HOME`.
    plain = ",".join('"$HOME"' if w == "~" else shlex.quote(w) for w in words)
    if joining == "ifs":
        return Line(tuple(preamble), ("${IFS}".join(spelled),))
    if joining == "brace" and not any("," in w or "{" in w or "}" in w for w in spelled):
        return Line(tuple(preamble), ("{" + ",".join(spelled) + "}",))
    if joining == "ifs-comma":  # `IFS=,; all=rm,-rf,/; $all`
        return Line(("IFS=,", f"all={plain}"), ("$all",))
    if joining == "printf-v":  # `printf -v all '%s,%s' rm -rf; $all` with IFS=,
        return Line(("IFS=,", f"printf -v all %s {plain}"), ("$all",))
    if joining == "function":  # `f() { rm -rf /; }; f`
        return Line((*preamble, f"f() {{ {' '.join(spelled)}; }}"), ("f",), simple=False)
    return Line(tuple(preamble), tuple(spelled))


@dataclass(frozen=True)
class Code:
    """Where a wrapper puts the command it runs as one shell word: `before` + quoted text, or
    quoted `inside` + text (an awk program needs its string escapes first)."""

    before: str = ""
    inside: str = ""
    after: str = ""
    awk: bool = False

    def word(self, text: str) -> str:
        if self.awk:
            text = text.replace("\\", "\\\\").replace('"', '\\"')
        return self.before + shlex.quote(self.inside + text + self.after)


# Each wrapper: the words before and after the command it runs; a Code marks where the command
# goes as one quoted shell string instead of as words; `simple` says the result is a plain
# program call that an argv wrapper (sudo, env…) can wrap in turn. The list first, then
# vectors from the table, so the property covers them too.
WRAPPERS: dict[str, tuple[tuple[object, ...], tuple[str, ...], bool]] = {
    "sudo": (("sudo",), (), True),
    "sudo -u root": (("sudo", "-u", "root"), (), True),
    "env": (("env", "LC_ALL=C"), (), True),
    "nohup": (("nohup",), (), True),
    "timeout": (("timeout", "30"), (), True),
    "xargs": (("true", "|", "xargs"), (), False),
    "find -exec": (("find", ".", "-maxdepth", "0", "-exec"), ("\\;",), True),
    "docker exec": (("docker", "exec", "web"), (), True),
    "bash -c": (("bash", "-c", Code()), (), True),
    "sh -c": (("sh", "-c", Code()), (), True),
    "eval": (("eval", Code()), (), False),
    "ssh host": (("ssh", "build-host", Code()), (), True),
    "at": (("at", "now", "<<<", Code()), (), False),
    "trap": (("trap", Code()), ("EXIT",), False),
    "setsid": (("setsid",), (), True),
    "systemd-run": (("systemd-run", "--user"), (), True),
    "ssh -o ProxyCommand": (("ssh", "-o", Code(inside="ProxyCommand=")), ("host",), True),
    "git -c core.pager": (("git", "-c", Code(inside="core.pager=")), ("log",), True),
    "PROMPT_COMMAND": ((Code(before="PROMPT_COMMAND="), "bash", "-i"), (), False),
    "sudo VAR=": (("sudo", "LC_ALL=C"), (), True),
    "script -c": (("script", "-q", "-c", Code()), ("/dev/null",), True),
    "watch": (("watch", Code()), (), True),
    "tar --to-command": (("tar", Code(inside="--to-command=")), ("-xf", "a.tar"), True),
    "awk system()": (("awk", Code(inside='BEGIN { system("', after='") }', awk=True)), (), True),
}
_NOT_WORDS = frozenset({"|", "<<<", "\\;"})  # shell syntax, not words to respell


@st.composite
def wrapped_payload(draw: st.DrawFn) -> str:
    line = draw(spelled_payload())
    names = iter(range(100, 10_000))  # variable names must not collide with earlier ones
    for name in draw(st.lists(st.sampled_from(sorted(WRAPPERS)), max_size=4)):
        head, tail, simple = WRAPPERS[name]
        takes_words = not any(isinstance(part, Code) for part in head)
        if takes_words and not line.simple:
            line = Line((), ("sh", "-c", shlex.quote(line.text())))
        preamble = list(line.preamble) if takes_words else []
        words: list[str] = []
        for part in head:
            if isinstance(part, Code):
                words.append(part.word(line.text()))
            elif part in _NOT_WORDS:
                words.append(str(part))
            else:  # the wrapper's own words get respelled too: `s\udo`, `$'\x65'val`
                assignment, spelled = draw(spelled_word(str(part), next(names)))
                preamble += [assignment] if assignment else []
                words.append(spelled)
        if takes_words:
            words.extend(line.words)
        words.extend(tail)
        line = Line(tuple(preamble), tuple(words), simple)
    return line.text()


@settings(
    max_examples=3000,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(wrapped_payload())
def test_no_composition_of_wrappers_and_quoting_is_allowed(command: str) -> None:
    decision = judge(command)
    assert decision.would_be is not Outcome.ALLOW, command


# ---------------------------------------------------------------- the case suite

CASES = Path(__file__).parent / "policy_cases" / "unseen_code.jsonl"


def test_every_unseen_code_case_passes(seed_engine: Engine) -> None:
    assert case_failures(seed_engine, CASES) == []


def test_the_unseen_code_suite_covers_every_vector_class_with_lookalikes() -> None:
    cases = [json.loads(line) for line in CASES.read_text().splitlines() if line.strip()]
    assert len(cases) >= 300
    assert all(case["why"] for case in cases)
    assert len({case["id"] for case in cases}) == len(cases)
    by_class = Counter((case["category"], case["kind"]) for case in cases)
    for category in {case["category"] for case in cases}:
        assert by_class[category, "evasion"] >= 5, category
        assert by_class[category, "lookalike"] >= 5, category


# ---------------------------------------------------------------- the small-language readers


@pytest.mark.parametrize(
    ("reader", "text", "code", "unseen"),
    [
        (minilangs.awk_commands, 'BEGIN { system("make test") }', ("make test",), False),
        (minilangs.awk_commands, '{ print | "sort -u" }', ("sort -u",), False),
        (minilangs.awk_commands, 'BEGIN { "date" | getline d }', ("date",), False),
        (minilangs.awk_commands, "{ system($0) }", (), True),
        (minilangs.awk_commands, "/a|b/ && $1 || $2 { print }", (), False),
        (minilangs.sed_commands, "1e make test", ("make test",), False),
        (minilangs.sed_commands, "s/e/E/g;/^e/d", (), False),
        (minilangs.sed_commands, "s/.*/ls/e", (), True),
        (minilangs.ex_commands, ":!make test", ("make test",), False),
        (minilangs.ex_commands, "%s/a/b/g | wq", (), False),
        (minilangs.ex_commands, 'call system("id")', (), True),
        (minilangs.less_commands, "+!make test", ("make test",), False),
        (
            minilangs.crontab_commands,
            "# x\nMAILTO=a\n*/5 * * * * make test\n",
            ("make test",),
            False,
        ),
    ],
)
def test_small_language_readers_find_the_commands_they_run(reader, text, code, unseen) -> None:
    found = reader(text)
    assert found.code == code
    assert bool(found.unseen) is unseen


def test_git_ext_urls_and_socat_addresses_decode_to_their_commands() -> None:
    assert minilangs.ext_command("sh -c make% test") == "sh -c 'make test'"
    assert minilangs.socat_command('"make test",pty,stderr') == '"make test"'
