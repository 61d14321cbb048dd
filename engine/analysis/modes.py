"""File modes: whether a mode (octal in any spelling, symbolic clauses, `stat` constants) gives
every user write access. Pure: knows no policy and reads no file."""

from __future__ import annotations

import re
import stat

# `stat.S_IWOTH`, `fs.constants.S_IRWXO`, `File::S_IWOTH`…: the POSIX names every language
# shares, with the values of Python's own `stat` module.
STAT_CONSTANTS: dict[str, int] = {
    name: getattr(stat, name)
    for name in dir(stat)
    if re.fullmatch(r"S_I(RWX[UGO]|[RWX](USR|GRP|OTH)|S[UG]ID|SVTX|READ|WRITE|EXEC)", name)
}
_OTHERS_WRITE = 0o002
_CLAUSE = re.compile(r"([ugoa]*)((?:[-+=](?:[ugo]|[rwxXst]*))+)")
_ACTION = re.compile(r"([-+=])([ugo]|[rwxXst]*)")
_NUMBER = re.compile(r"0[oO]?[0-7_]+|[1-9][0-9_]*|0[xX][0-9a-fA-F_]+|0")


def world_writable(mode: str) -> bool:
    """True when `chmod MODE` leaves a file writable by every user.

    Octal modes may carry any number of leading zeros (`777`, `0777`, `00777`). Symbolic
    clauses are applied in order (`a+w,o-w` is safe). A clause without `u/g/o/a` is masked by
    the umask, which never grants others write; copying rights (`o=u`) copies the owner's
    write bit, which owners have.
    """
    if re.fullmatch(r"[0-7]+", mode):
        return int(mode, 8) & _OTHERS_WRITE != 0
    others_write = False
    for clause in mode.split(","):
        match = _CLAUSE.fullmatch(clause)
        if match is None:
            return False  # chmod refuses a mode it cannot read
        who = match.group(1)
        if who and "o" not in who and "a" not in who:
            continue
        for op, perms in _ACTION.findall(match.group(2)):
            grants = "w" in perms or perms in {"u", "g"}
            if op == "+" and who:
                others_write = others_write or grants
            elif op == "=":
                others_write = grants and bool(who)
            elif op == "-" and "w" in perms:
                others_write = False
    return others_write


def mode_number(parts: list[str]) -> int | None:
    """The value of a mode written as numbers and `stat` names joined by `|` or `+`
    (`0o777`, `511`, `S_IRWXU | S_IRWXO`, `fs.constants.S_IWOTH`); None otherwise."""
    if not parts or len(parts) % 2 == 0:
        return None
    total = 0
    for position, part in enumerate(parts):
        if position % 2:
            if part not in {"|", "+"}:
                return None
            continue
        value = _value(part)
        if value is None:
            return None
        total |= value
    return total


def _value(part: str) -> int | None:
    name = re.split(r"[.:]+", part)[-1]
    if name in STAT_CONSTANTS:
        return STAT_CONSTANTS[name]
    if not _NUMBER.fullmatch(part):
        return None
    text = part.replace("_", "").lower()
    if re.fullmatch(r"0[0-7]+", text):
        return int(text, 8)  # Perl, Ruby, PHP and C spell octal with a leading zero
    return int(text, 0)
