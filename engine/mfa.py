"""TOTP step-up for approvers: enrolment, code checks, replay refusal and lockouts (per request
and per approver across requests).
It only says whether a code is good: it must not record votes, log secrets or encrypt anything."""

from __future__ import annotations

import hmac
import io
import time
from collections.abc import Callable
from dataclasses import dataclass

import pyotp

from engine.state.types import Database

ISSUER = "Claude Code Governance"


@dataclass(frozen=True, slots=True)
class Enrollment:
    approver: str
    secret: str
    uri: str

    def __repr__(self) -> str:
        # Keeps the secret out of logs and tracebacks that print the object.
        return f"Enrollment(approver={self.approver!r}, secret='***', uri='***')"


@dataclass(frozen=True, slots=True)
class MfaCheck:
    ok: bool
    message: str
    locked: bool = False
    attempts_left: int | None = None
    # True on the one failure that locked the approver out of MFA altogether (to audit it).
    approver_locked: bool = False


class MfaRegistry:
    """Enrolled secrets, used time steps and per-request failure counts, in the store's tables
    (created by its migrations, on SQLite or PostgreSQL).

    Secrets are stored in the clear (the authenticator app holds the same value), so the
    database file must be protected like a credential store: mode 0600, owned by the service
    user, and kept out of backups less protected than the secrets themselves.
    """

    MAX_FAILURES = 3
    # Across all requests: this many failures within the window lock the approver out of MFA
    # for LOCKOUT_S, so guessing codes over many (or made-up) request ids gets nowhere.
    MAX_APPROVER_FAILURES = 5
    APPROVER_WINDOW_S = 15 * 60
    LOCKOUT_S = 15 * 60

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    def enroll(self, approver: str) -> Enrollment:
        secret = pyotp.random_base32()
        self._db.execute(
            "INSERT INTO mfa_secrets (approver, secret, enrolled_at) VALUES (?, ?, ?) "
            "ON CONFLICT(approver) DO UPDATE SET secret = excluded.secret, "
            "enrolled_at = excluded.enrolled_at",
            [approver, secret, self._clock()],
        )
        # Counters used under the old secret say nothing about the new one; keeping them would
        # refuse a fresh, legitimate code in the same 30 s step. Failures are kept on purpose:
        # re-enrolling must not be a way out of a lockout.
        self._db.execute("DELETE FROM mfa_used_codes WHERE approver = ?", [approver])
        uri = pyotp.TOTP(secret).provisioning_uri(name=approver, issuer_name=ISSUER)
        return Enrollment(approver=approver, secret=secret, uri=uri)

    def is_enrolled(self, approver: str) -> bool:
        return self._secret(approver) is not None

    def unenroll(self, approver: str) -> bool:
        cursor = self._db.execute("DELETE FROM mfa_secrets WHERE approver = ?", [approver])
        self._db.execute("DELETE FROM mfa_used_codes WHERE approver = ?", [approver])
        return cursor.rowcount > 0

    def verify(self, approver: str, approval_id: str, code: str) -> MfaCheck:
        locked_until = self._locked_until(approver)
        if locked_until is not None:
            return self._approver_locked_out(locked_until)
        if self._failures(approver, approval_id) >= self.MAX_FAILURES:
            return self._locked_out(approval_id)
        secret = self._secret(approver)
        if secret is None:
            return MfaCheck(
                ok=False,
                message=(
                    f"{approver} has no authenticator enrolled: "
                    f"run `governance mfa enroll {approver}` first"
                ),
            )
        now = self._clock()
        normalised = "".join(str(code).split())
        # isascii: str.isdigit also accepts other scripts' digits, which no authenticator emits.
        if not (len(normalised) == 6 and normalised.isascii() and normalised.isdigit()):
            return self._fail(approver, approval_id, "wrong code")
        totp = pyotp.TOTP(secret)
        if not totp.verify(normalised, for_time=now, valid_window=1):
            return self._fail(approver, approval_id, "wrong code")
        counter = _matched_counter(totp, normalised, now)
        # The primary key makes the claim atomic: of two concurrent uses of one code (even from
        # two processes on the same file) exactly one insert lands.
        claimed = self._db.execute(
            "INSERT INTO mfa_used_codes (approver, counter, approval_id, used_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [approver, counter, approval_id, now],
        ).rowcount
        if not claimed:
            return self._fail(
                approver, approval_id, "this code was already used; wait for the next one"
            )
        return MfaCheck(ok=True, message="code accepted")

    def refuse_unknown_request(self, approver: str, approval_id: str) -> MfaCheck:
        """No code is checked against a request that does not exist; the try still counts
        against the approver's limit, since scanning made-up ids is how codes get guessed."""
        locked_until = self._locked_until(approver)
        if locked_until is not None:
            return self._approver_locked_out(locked_until)
        locked = self._count_approver_failure(approver)
        message = f"no approval request {approval_id}: no code was checked"
        if locked:
            return self._approver_lock_started(message)
        return MfaCheck(ok=False, message=message)

    def _locked_until(self, approver: str) -> float | None:
        row = self._db.execute(
            "SELECT until FROM mfa_lockouts WHERE approver = ? AND until > ?",
            [approver, self._clock()],
        ).fetchone()
        return row[0] if row else None

    def _count_approver_failure(self, approver: str) -> bool:
        """Log one failure; True when it locks the approver out of MFA."""
        now = self._clock()
        self._db.execute(
            "INSERT INTO mfa_failure_log (approver, at) VALUES (?, ?)", [approver, now]
        )
        recent = self._db.execute(
            "SELECT COUNT(*) FROM mfa_failure_log WHERE approver = ? AND at > ?",
            [approver, now - self.APPROVER_WINDOW_S],
        ).fetchone()[0]
        if recent < self.MAX_APPROVER_FAILURES:
            return False
        self._db.execute(
            "INSERT INTO mfa_lockouts (approver, since, until) VALUES (?, ?, ?) "
            "ON CONFLICT (approver) DO UPDATE SET since = excluded.since, until = excluded.until",
            [approver, now, now + self.LOCKOUT_S],
        )
        # The lock is the penalty for these failures: they must not start the next one.
        self._db.execute("DELETE FROM mfa_failure_log WHERE approver = ?", [approver])
        return True

    def _approver_lock_started(self, reason: str) -> MfaCheck:
        minutes = self.LOCKOUT_S / 60
        return MfaCheck(
            ok=False,
            message=(
                f"{reason}; {self.MAX_APPROVER_FAILURES} failed MFA attempts in "
                f"{self.APPROVER_WINDOW_S / 60:g} min: MFA is locked for you for {minutes:g} min"
            ),
            locked=True,
            attempts_left=0,
            approver_locked=True,
        )

    def _approver_locked_out(self, until: float) -> MfaCheck:
        minutes = max(1, round((until - self._clock()) / 60))
        return MfaCheck(
            ok=False,
            message=(
                f"too many failed codes: MFA is locked for you for about {minutes} more min "
                "(no code was checked; ask another approver)"
            ),
            locked=True,
            attempts_left=0,
        )

    def _secret(self, approver: str) -> str | None:
        row = self._db.execute(
            "SELECT secret FROM mfa_secrets WHERE approver = ?", [approver]
        ).fetchone()
        return row[0] if row else None

    def _failures(self, approver: str, approval_id: str) -> int:
        row = self._db.execute(
            "SELECT failures FROM mfa_failures WHERE approver = ? AND approval_id = ?",
            [approver, approval_id],
        ).fetchone()
        return row[0] if row else 0

    def _fail(self, approver: str, approval_id: str, reason: str) -> MfaCheck:
        # One upsert with RETURNING so the count we report is the count we stored, even if
        # another process failed on the same request in between.
        failures = self._db.execute(
            "INSERT INTO mfa_failures (approver, approval_id, failures, last_at) "
            "VALUES (?, ?, 1, ?) "
            "ON CONFLICT(approver, approval_id) DO UPDATE SET "
            "failures = mfa_failures.failures + 1, last_at = excluded.last_at "
            "RETURNING failures",
            [approver, approval_id, self._clock()],
        ).fetchone()[0]
        if self._count_approver_failure(approver):
            return self._approver_lock_started(reason)
        left = max(self.MAX_FAILURES - failures, 0)
        if left == 0:
            return MfaCheck(
                ok=False,
                message=(
                    f"{reason} (0 attempts left): you are now locked out of {approval_id} "
                    "(ask another approver)"
                ),
                locked=True,
                attempts_left=0,
            )
        plural = "attempt" if left == 1 else "attempts"
        return MfaCheck(ok=False, message=f"{reason} ({left} {plural} left)", attempts_left=left)

    def _locked_out(self, approval_id: str) -> MfaCheck:
        return MfaCheck(
            ok=False,
            message=(
                f"too many wrong codes: you are locked out of {approval_id} (ask another approver)"
            ),
            locked=True,
            attempts_left=0,
        )


def _matched_counter(totp: pyotp.TOTP, code: str, now: float) -> int:
    """The time-step counter whose code this is, among the steps valid_window=1 accepts."""
    base = totp.timecode(now)
    # Current step first: if two neighbouring steps share a code, the current one is the step
    # the approver is most likely reading, and either choice blocks a replay of that code.
    for offset in (0, -1, 1):
        if hmac.compare_digest(totp.at(now, counter_offset=offset), code):
            return base + offset
    raise ValueError("code does not match any step in the verification window")


def qr_text(uri: str) -> str | None:
    """A QR code for a terminal, or None when no QR library is installed or rendering fails."""
    try:
        import segno

        buffer = io.StringIO()
        segno.make(uri, error="m").terminal(out=buffer, compact=True)
        return buffer.getvalue()
    except Exception:  # a convenience only: the URI alone is enough to enrol
        pass
    try:
        import qrcode

        qr = qrcode.QRCode(border=1)
        qr.add_data(uri)
        qr.make(fit=True)
        buffer = io.StringIO()
        qr.print_ascii(out=buffer, invert=True)
        return buffer.getvalue()
    except Exception:
        return None
