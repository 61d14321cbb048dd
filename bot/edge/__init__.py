"""Edge mode (`governance serve --upstream URL`): this machine judges allow/deny itself and
leaves approvals and the audit of record to the team service (bot/remote.py)."""
