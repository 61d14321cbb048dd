"""The pure logic of the team's view: gaps in each host's uploaded stream, and when a host's
contact (policy version, spool backlog, hook version) is worth a database write."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.state.hosts import Contact, HostReport, contact_due
from engine.state.streams import Gap, HostStream, gaps_in, host_streams


def test_a_complete_stream_has_no_gaps_in_any_order() -> None:
    assert gaps_in([3, 1, 2]) == ()
    assert gaps_in([]) == ()
    (stream,) = host_streams([("ci-1", "2"), ("ci-1", "1")])
    assert stream == HostStream("ci-1", 2, 2, (), ())
    assert stream.ok and stream.missing == 0


def test_gaps_are_named_as_ranges_from_one_to_the_highest() -> None:
    assert gaps_in([2, 5, 6, 9]) == (Gap(1, 1), Gap(3, 4), Gap(7, 8))
    assert [gap.describe() for gap in gaps_in([2, 5, 6, 9])] == ["1", "3-4", "7-8"]
    assert gaps_in([1, 1, 3]) == (Gap(2, 2),)  # a repeat is no gap and hides none


def test_each_host_is_checked_on_its_own() -> None:
    received = [("laptop-2", "1"), ("laptop-1", "1"), ("laptop-2", "4"), ("laptop-1", "2")]
    complete, gappy = host_streams(received)
    assert (complete.host, complete.ok, complete.highest) == ("laptop-1", True, 2)
    assert (gappy.host, gappy.gaps, gappy.missing, gappy.ok) == ("laptop-2", (Gap(2, 3),), 2, False)


def test_ids_that_are_not_sequence_numbers_are_named_not_checked() -> None:
    (stream,) = host_streams([("old", "1"), ("old", "e7"), ("old", "007"), ("old", "-3")])
    assert stream.unnumbered == ("-3", "007", "e7")
    assert stream.gaps == () and stream.received == 4 and not stream.ok


@settings(max_examples=60, deadline=None)
@given(st.sets(st.integers(min_value=1, max_value=300)))
def test_the_gaps_and_the_ids_received_cover_one_to_the_highest_exactly(ids: set[int]) -> None:
    gaps = gaps_in(ids)
    missing = {n for gap in gaps for n in range(gap.first, gap.last + 1)}
    assert not missing & ids
    assert missing | ids == set(range(1, max(ids, default=0) + 1))
    assert all(a.last + 1 < b.first for a, b in zip(gaps, gaps[1:], strict=False))


def test_a_contact_is_written_first_on_a_version_change_or_after_the_period() -> None:
    seen = HostReport("abc", 4, "0.3.0")
    assert contact_due(None, seen, now=100.0, every_s=30)
    last = Contact(100.0, seen)
    assert not contact_due(last, seen, now=110.0, every_s=30)
    # A backlog that moves alone waits: it changes with nearly every request of a busy edge.
    assert not contact_due(last, HostReport("abc", 9, "0.3.0"), now=110.0, every_s=30)
    assert contact_due(last, HostReport("def", 4, "0.3.0"), now=110.0, every_s=30)
    assert contact_due(last, HostReport("abc", 4, "0.4.0"), now=110.0, every_s=30)
    assert contact_due(last, seen, now=130.0, every_s=30)


def test_a_request_without_the_headers_keeps_what_the_host_said_before() -> None:
    said = HostReport("abc", 4, "0.3.0")
    assert said.updated_by(HostReport()) == said
    assert said.updated_by(HostReport(spool_backlog=0)) == HostReport("abc", 0, "0.3.0")
    # So a host whose long-polls carry no headers does not look like a new version each time.
    last = Contact(100.0, said)
    assert not contact_due(last, said.updated_by(HostReport()), now=101.0, every_s=30)
