"""Reads the file list out of a git index (versions 2 to 4) without running git.
Pure: bytes in, paths out; finding and caching the index file is engine/fs/git_repo.py's job."""

from __future__ import annotations

import struct


def parse_git_index(data: bytes) -> list[str] | None:
    """Paths recorded in a git index file (versions 2 to 4), None if it is not one."""
    if len(data) < 12 or data[:4] != b"DIRC":
        return None
    version, count = struct.unpack(">II", data[4:12])
    if version not in (2, 3, 4):
        return None
    names: list[str] = []
    offset, previous = 12, b""
    try:
        for _ in range(count):
            flags = struct.unpack(">H", data[offset + 60 : offset + 62])[0]
            header = 62 + (2 if version >= 3 and flags & 0x4000 else 0)
            start = offset + header
            if version == 4:
                strip, start = _varint(data, start)
                end = data.index(b"\x00", start)
                name = previous[: len(previous) - strip] + data[start:end]
                offset = end + 1
            else:
                end = data.index(b"\x00", start)
                name = data[start:end]
                offset += (header + len(name) + 8) & ~7
            previous = name
            names.append(name.decode("utf-8", "surrogateescape"))
    except (ValueError, struct.error, IndexError):
        return None
    return names


def _varint(data: bytes, offset: int) -> tuple[int, int]:
    byte = data[offset]
    value = byte & 0x7F
    offset += 1
    while byte & 0x80:
        byte = data[offset]
        value = ((value + 1) << 7) | (byte & 0x7F)
        offset += 1
    return value, offset
