"""Secret redaction: what is hidden before a value is stored in the audit trail or sent to Slack.
Pure: no I/O, no policy; it never raises and keeps the text around a secret as it was."""

from engine.redact.per_call import Redaction
from engine.redact.text import redact_text
from engine.redact.values import redact
from engine.redact_args import REDACTED

__all__ = ["REDACTED", "Redaction", "redact", "redact_text"]
