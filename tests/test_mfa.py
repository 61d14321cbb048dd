"""TOTP step-up on both real stores (SQLite, PostgreSQL) with a hand-driven clock: replay,
window, lockout."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from urllib.parse import unquote

import pyotp
import pytest

from engine.mfa import ISSUER, MfaRegistry, qr_text
from engine.state import open_store
from engine.store import Store

# The middle of a 30 s step, so t-30 and t+30 are unambiguously the neighbouring steps.
T0 = 1_700_000_010.0 + 10.0


class Clock:
    """Settable time; the registry only ever calls it."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(db_location: str) -> Iterator[Store]:
    opened = open_store(db_location)
    yield opened
    opened.close()


@pytest.fixture
def registry(store: Store, clock: Clock) -> MfaRegistry:
    return MfaRegistry(store.db, clock=clock)


def _code(secret: str, at: float) -> str:
    return pyotp.TOTP(secret).at(at)


def _wrong(secret: str, at: float) -> str:
    """A well-formed code valid in none of the steps the window accepts."""
    totp = pyotp.TOTP(secret)
    valid = {totp.at(at, counter_offset=offset) for offset in (-1, 0, 1)}
    return next(c for c in (f"{n:06d}" for n in range(1_000_000)) if c not in valid)


def test_enroll_returns_authenticator_uri(registry: MfaRegistry) -> None:
    assert not registry.is_enrolled("alice")
    enrollment = registry.enroll("alice")
    assert enrollment.approver == "alice"
    assert enrollment.uri.startswith("otpauth://totp/")
    assert "alice" in unquote(enrollment.uri)
    assert ISSUER == "Claude Code Governance"
    parsed = pyotp.parse_uri(enrollment.uri)
    assert parsed.name == "alice"
    assert parsed.issuer == ISSUER
    assert parsed.secret == enrollment.secret
    assert registry.is_enrolled("alice")
    assert enrollment.secret not in repr(enrollment)


def test_good_code_accepted(registry: MfaRegistry, clock: Clock) -> None:
    secret = registry.enroll("alice").secret
    check = registry.verify("alice", "APR-1", _code(secret, clock()))
    assert check.ok
    assert check.message == "code accepted"
    assert not check.locked


def test_code_with_spaces_is_normalised(registry: MfaRegistry, clock: Clock) -> None:
    secret = registry.enroll("alice").secret
    code = _code(secret, clock())
    assert registry.verify("alice", "APR-1", f" {code[:3]} {code[3:]} ").ok


def test_replay_refused_on_same_and_other_request(registry: MfaRegistry, clock: Clock) -> None:
    secret = registry.enroll("alice").secret
    code = _code(secret, clock())
    assert registry.verify("alice", "APR-1", code).ok

    again = registry.verify("alice", "APR-1", code)
    assert not again.ok
    assert "already used" in again.message
    assert again.attempts_left == 2  # a replay counts as a failure

    clock.now += 5  # still inside the same step
    elsewhere = registry.verify("alice", "APR-2", code)
    assert not elsewhere.ok
    assert "already used" in elsewhere.message
    assert elsewhere.attempts_left == 2  # counted against APR-2, not APR-1


def test_replay_is_per_approver(registry: MfaRegistry, clock: Clock) -> None:
    alice = registry.enroll("alice").secret
    bob = registry.enroll("bob").secret
    assert registry.verify("alice", "APR-1", _code(alice, clock())).ok
    assert registry.verify("bob", "APR-1", _code(bob, clock())).ok


def test_previous_step_code_accepted_once(registry: MfaRegistry, clock: Clock) -> None:
    secret = registry.enroll("alice").secret
    previous = _code(secret, clock() - 30)
    current = _code(secret, clock())
    assert previous != current

    assert registry.verify("alice", "APR-1", previous).ok
    replay = registry.verify("alice", "APR-2", previous)
    assert not replay.ok
    assert "already used" in replay.message
    # The previous step's use does not burn the current step.
    assert registry.verify("alice", "APR-3", current).ok


def test_replay_detected_across_steps(registry: MfaRegistry, clock: Clock) -> None:
    secret = registry.enroll("alice").secret
    code = _code(secret, clock())
    assert registry.verify("alice", "APR-1", code).ok
    # 30 s later the same code is the "previous step" and still inside the window.
    clock.now += 30
    replay = registry.verify("alice", "APR-2", code)
    assert not replay.ok
    assert "already used" in replay.message


def test_code_outside_window_rejected(registry: MfaRegistry, clock: Clock) -> None:
    secret = registry.enroll("alice").secret
    stale = _code(secret, clock() - 60)
    if stale in {_code(secret, clock() + d) for d in (-30, 0, 30)}:
        pytest.skip("one-in-a-million collision of neighbouring codes")
    check = registry.verify("alice", "APR-1", stale)
    assert not check.ok
    assert check.message == "wrong code (2 attempts left)"


def test_three_wrong_codes_lock_out_that_request_only(registry: MfaRegistry, clock: Clock) -> None:
    secret = registry.enroll("alice").secret
    wrong = _wrong(secret, clock())

    first = registry.verify("alice", "APR-1", wrong)
    assert (first.ok, first.locked, first.attempts_left) == (False, False, 2)
    assert first.message == "wrong code (2 attempts left)"
    second = registry.verify("alice", "APR-1", wrong)
    assert (second.locked, second.attempts_left) == (False, 1)
    assert second.message == "wrong code (1 attempt left)"
    third = registry.verify("alice", "APR-1", wrong)
    assert (third.ok, third.locked, third.attempts_left) == (False, True, 0)
    assert "locked out of APR-1" in third.message

    good = _code(secret, clock())
    fourth = registry.verify("alice", "APR-1", good)
    assert not fourth.ok
    assert fourth.locked
    assert fourth.message.startswith("too many wrong codes: you are locked out of APR-1")
    assert "ask another approver" in fourth.message

    # The refused attempt did not consume the code, and other requests are unaffected.
    assert registry.verify("alice", "APR-2", good).ok
    # Another approver on the locked request is unaffected too.
    bob = registry.enroll("bob").secret
    assert registry.verify("bob", "APR-1", _code(bob, clock())).ok


def test_success_does_not_reset_failures(registry: MfaRegistry, clock: Clock) -> None:
    secret = registry.enroll("alice").secret
    wrong = _wrong(secret, clock())
    registry.verify("alice", "APR-1", wrong)
    registry.verify("alice", "APR-1", wrong)
    assert registry.verify("alice", "APR-1", _code(secret, clock())).ok
    clock.now += 30
    last = registry.verify("alice", "APR-1", _wrong(secret, clock()))
    assert last.locked


def test_not_enrolled_gets_enrol_hint_and_no_failure(registry: MfaRegistry, clock: Clock) -> None:
    for _ in range(5):
        check = registry.verify("bob", "APR-1", "123456")
        assert not check.ok
        assert not check.locked
        assert "governance mfa enroll bob" in check.message
    secret = registry.enroll("bob").secret
    assert registry.verify("bob", "APR-1", _code(secret, clock())).ok


@pytest.mark.parametrize("code", ["", "12 34 5", "abcdef", "1234567", "١٢٣٤٥٦"])
def test_malformed_codes_count_as_wrong(registry: MfaRegistry, code: str) -> None:
    registry.enroll("alice")
    check = registry.verify("alice", "APR-1", code)
    assert not check.ok
    assert check.attempts_left == 2
    assert check.message == "wrong code (2 attempts left)"


def test_malformed_codes_lock_out(registry: MfaRegistry) -> None:
    registry.enroll("alice")
    results = [registry.verify("alice", "APR-1", code) for code in ("", "abcdef", "1234567")]
    assert [r.attempts_left for r in results] == [2, 1, 0]
    assert results[-1].locked


def test_state_survives_reopening_the_database(db_location: str, clock: Clock) -> None:
    first_store = open_store(db_location)
    first = MfaRegistry(first_store.db, clock=clock)
    secret = first.enroll("alice").secret
    code = _code(secret, clock())
    assert first.verify("alice", "APR-1", code).ok
    wrong = _wrong(secret, clock())
    first.verify("alice", "APR-2", wrong)
    first.verify("alice", "APR-2", wrong)
    first_store.close()

    second_store = open_store(db_location)
    try:
        second = MfaRegistry(second_store.db, clock=clock)
        assert second.is_enrolled("alice")
        replay = second.verify("alice", "APR-3", code)
        assert not replay.ok
        assert "already used" in replay.message
        assert second.verify("alice", "APR-2", wrong).locked
        assert second.verify("alice", "APR-2", _code(secret, clock() + 30)).locked
    finally:
        second_store.close()


def test_reenrolling_replaces_the_secret(registry: MfaRegistry, clock: Clock) -> None:
    old = registry.enroll("alice").secret
    new = registry.enroll("alice").secret
    assert old != new
    old_code = _code(old, clock())
    if old_code in {_code(new, clock() + d) for d in (-30, 0, 30)}:
        pytest.skip("one-in-a-million collision between the two secrets")
    assert not registry.verify("alice", "APR-1", old_code).ok
    assert registry.verify("alice", "APR-1", _code(new, clock())).ok


def test_reenrolling_does_not_lift_a_lockout(registry: MfaRegistry, clock: Clock) -> None:
    secret = registry.enroll("alice").secret
    for _ in range(MfaRegistry.MAX_FAILURES):
        registry.verify("alice", "APR-1", _wrong(secret, clock()))
    fresh = registry.enroll("alice").secret
    assert registry.verify("alice", "APR-1", _code(fresh, clock())).locked


def test_unenroll(registry: MfaRegistry, clock: Clock) -> None:
    secret = registry.enroll("alice").secret
    assert registry.unenroll("alice")
    assert not registry.unenroll("alice")
    assert not registry.is_enrolled("alice")
    check = registry.verify("alice", "APR-1", _code(secret, clock()))
    assert not check.ok
    assert "governance mfa enroll alice" in check.message


def test_secret_never_in_check_messages(registry: MfaRegistry, clock: Clock) -> None:
    secret = registry.enroll("alice").secret
    code = _code(secret, clock())
    checks = [
        registry.verify("alice", "APR-1", code),
        registry.verify("alice", "APR-1", code),
        registry.verify("alice", "APR-1", "nope"),
        registry.verify("alice", "APR-1", "nope"),
        registry.verify("alice", "APR-1", code),
    ]
    assert all(secret not in repr(check) for check in checks)


def test_failures_across_requests_lock_the_approver_then_the_lock_lifts(
    registry: MfaRegistry, clock: Clock
) -> None:
    secret = registry.enroll("alice").secret
    bad = _wrong(secret, clock.now)
    for n in range(4):
        assert not registry.verify("alice", f"APR-{n}", bad).approver_locked
    fifth = registry.verify("alice", "APR-4", bad)
    assert fifth.approver_locked and "MFA is locked for you for 15 min" in fifth.message
    right = registry.verify("alice", "APR-5", _code(secret, clock.now))
    assert not right.ok and right.locked and "no code was checked" in right.message
    assert registry.verify("bob", "APR-5", "000000").message != right.message  # alice only
    clock.now += MfaRegistry.LOCKOUT_S + 60
    assert registry.verify("alice", "APR-5", _code(secret, clock.now)).ok


def test_failures_spread_beyond_the_window_do_not_lock(registry: MfaRegistry, clock: Clock) -> None:
    secret = registry.enroll("alice").secret
    for n in range(8):
        check = registry.verify("alice", f"APR-{n}", _wrong(secret, clock.now))
        assert not check.approver_locked
        clock.now += MfaRegistry.APPROVER_WINDOW_S / 4 + 1


def test_an_unknown_request_checks_no_code_but_counts(registry: MfaRegistry) -> None:
    registry.enroll("alice")
    checks = [registry.refuse_unknown_request("alice", f"APR-FAKE{n}") for n in range(5)]
    assert all(not c.ok and "no code was checked" in c.message for c in checks)
    assert [c.approver_locked for c in checks] == [False] * 4 + [True]


def test_qr_text_never_raises() -> None:
    uri = pyotp.TOTP(pyotp.random_base32()).provisioning_uri(name="alice", issuer_name=ISSUER)
    rendered = qr_text(uri)
    assert rendered is None or (isinstance(rendered, str) and rendered)


class _Exploding:
    def __getattr__(self, name: str) -> Callable[..., object]:
        raise RuntimeError("broken QR library")


def test_qr_text_without_or_with_broken_libraries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "segno", None)  # makes `import segno` fail
    monkeypatch.setitem(sys.modules, "qrcode", None)
    assert qr_text("otpauth://totp/x?secret=AAAA") is None
    monkeypatch.setitem(sys.modules, "segno", _Exploding())
    monkeypatch.setitem(sys.modules, "qrcode", _Exploding())
    assert qr_text("otpauth://totp/x?secret=AAAA") is None
