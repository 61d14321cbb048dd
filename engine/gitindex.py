"""Reads the file list, and each file's object id, out of a git index (versions 2 to 4)
without running git. Pure: bytes in, paths out; finding and caching the index is the caller's."""

from __future__ import annotations

import struct


def index_entries(data: bytes) -> dict[str, bytes] | None:
    """Each path in a git index with the SHA-1 object id of its staged blob, None if the data
    is not an index (SHA-256 repositories are not read)."""
    if len(data) < 12 or data[:4] != b"DIRC":
        return None
    version, count = struct.unpack(">II", data[4:12])
    if version not in (2, 3, 4):
        return None
    entries: dict[str, bytes] = {}
    offset, previous = 12, b""
    try:
        for _ in range(count):
            object_id = data[offset + 40 : offset + 60]
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
            entries[name.decode("utf-8", "surrogateescape")] = object_id
    except (ValueError, struct.error, IndexError):
        return None
    return entries


def _varint(data: bytes, offset: int) -> tuple[int, int]:
    byte = data[offset]
    value = byte & 0x7F
    offset += 1
    while byte & 0x80:
        byte = data[offset]
        value = ((value + 1) << 7) | (byte & 0x7F)
        offset += 1
    return value, offset
