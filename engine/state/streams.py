"""Gaps in the audit streams edges upload: each host numbers its events 1, 2, 3, … so the ids
the service holds must run from 1 to the highest, none missing. Pure: the registry reads ids."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

# An edge's event id is its local audit seq in decimal: no sign, no leading zero.
EVENT_ID = re.compile(r"[1-9][0-9]{0,17}")


@dataclass(frozen=True, slots=True)
class Gap:
    """Event ids first..last (inclusive) of one host that never arrived."""

    first: int
    last: int

    @property
    def size(self) -> int:
        return self.last - self.first + 1

    def describe(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}-{self.last}"


@dataclass(frozen=True, slots=True)
class HostStream:
    """What the service holds of one host's stream."""

    host: str
    received: int
    highest: int
    gaps: tuple[Gap, ...]
    unnumbered: tuple[str, ...]  # ids that are no sequence number, so no gap check covers them

    @property
    def missing(self) -> int:
        return sum(gap.size for gap in self.gaps)

    @property
    def ok(self) -> bool:
        return not self.gaps and not self.unnumbered


def gaps_in(numbers: Iterable[int]) -> tuple[Gap, ...]:
    """The runs missing from 1 to the highest of `numbers` (any order, repeats allowed)."""
    gaps = []
    expected = 1
    for number in sorted(set(numbers)):
        if number > expected:
            gaps.append(Gap(expected, number - 1))
        expected = number + 1
    return tuple(gaps)


def host_streams(received: Iterable[tuple[str, str]]) -> list[HostStream]:
    """Per host (by name), from its (host, event id) pairs in any order."""
    numbers: defaultdict[str, list[int]] = defaultdict(list)
    unnumbered: defaultdict[str, list[str]] = defaultdict(list)
    for host, event_id in received:
        if EVENT_ID.fullmatch(event_id):
            numbers[host].append(int(event_id))
        else:
            unnumbered[host].append(event_id)
    return [
        HostStream(
            host=host,
            received=len(numbers[host]) + len(unnumbered[host]),
            highest=max(numbers[host], default=0),
            gaps=gaps_in(numbers[host]),
            unnumbered=tuple(sorted(unnumbered[host])),
        )
        for host in sorted(numbers.keys() | unnumbered.keys())
    ]
