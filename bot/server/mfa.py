"""The second factor: TOTP checks for votes and for break-glass, each audited, and the alert
when an approver is locked. It must not record a vote or open a window itself."""

from __future__ import annotations

import time

from bot.server.internals import ServerParts
from engine.mfa import MfaCheck


class SecondFactor(ServerParts):
    """Check an approver's code and audit the check."""

    def check_mfa(self, approver: str, approval_id: str, code: str) -> MfaCheck:
        """The one code check, console or Slack: no code is checked against a request that does
        not exist; every check is audited, and so is the lock that ends a run of failures."""
        if self.store.approval(approval_id) is None:
            check = self.mfa.refuse_unknown_request(approver, approval_id)
        else:
            check = self.mfa.verify(approver, approval_id, code)
        self.store.append_audit(
            "mfa_check",
            approval_id=approval_id,
            user=approver,
            decision="ok" if check.ok else "refused",
            reason=check.message,
        )
        self._audit_mfa_lock(approver, approval_id, check)
        return check

    def _audit_mfa_lock(self, approver: str, approval_id: str | None, check: MfaCheck) -> None:
        if not check.approver_locked:
            return
        self.store.append_audit(
            "mfa_locked",
            approval_id=approval_id,
            user=approver,
            decision="locked",
            reason=check.message,
        )
        self._background(
            self.notifier.alert(f"MFA locked for approver {approver}", [check.message])
        )

    def mfa_required(self) -> bool:
        """Break-glass asks for a second factor whenever any approval rule does."""
        return any(rule.require_mfa for rule in self.policy.engine.policy.approval_rules.values())

    def verify_break_glass_code(self, approver: str, code: str) -> MfaCheck:
        # Failures count per approver and day: three wrong codes lock break-glass until tomorrow.
        check = self.mfa.verify(approver, f"break-glass-{time.strftime('%Y%m%d')}", code)
        self.store.append_audit(
            "mfa_check",
            user=approver,
            decision="ok" if check.ok else "refused",
            reason=f"break-glass: {check.message}",
        )
        self._audit_mfa_lock(approver, None, check)
        return check
