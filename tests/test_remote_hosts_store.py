"""The remote-host registry on both backends: tokens kept only as hashes, revocation that
cancels the host's pending requests, and an edge's audit upload stored once per event id."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.approvals import ApprovalState
from engine.state import open_store
from engine.state.hosts import HostError, HostRegistry, IngestedEvent, token_hash
from engine.store import Store
from tests.test_store_backends import SNAPSHOT


@pytest.fixture
def store(db_location: str) -> Iterator[Store]:
    opened = open_store(db_location)
    yield opened
    opened.close()


def test_a_token_authenticates_its_host_until_revoked(store: Store) -> None:
    registry = HostRegistry(store)
    token = registry.add("ci-runner-1")
    (host,) = registry.hosts()
    assert host.name == "ci-runner-1" and host.token_sha256 == token_hash(token)
    assert token not in str(list(store.db.query("SELECT * FROM remote_hosts")))
    assert registry.authenticate(token) == host
    assert registry.authenticate(token + "x") is None
    with pytest.raises(HostError, match="already exists"):
        registry.add("ci-runner-1")
    with pytest.raises(HostError, match="use letters"):
        registry.add("bad name; rm")
    assert registry.revoke("ci-runner-1") == []
    assert registry.revoke("ci-runner-1") is None
    with pytest.raises(HostError, match="no host"):
        registry.revoke("nobody")
    assert registry.authenticate(token) is None
    assert registry.revoked_names() == {"ci-runner-1"}
    kinds = [row["kind"] for row in store.audit_rows()]
    assert kinds == ["host_added", "host_revoked"]
    assert store.verify().ok


def test_revoking_a_host_cancels_only_its_pending_requests(store: Store) -> None:
    registry = HostRegistry(store)
    registry.add("laptop-1")
    for approval_id, host in (("APR-A", "laptop-1"), ("APR-B", "laptop-2")):
        store.create_approval(
            {
                "id": approval_id,
                "created_at": 1000.0,
                "expires_at": 1900.0,
                "requester": "alice",
                "requester_host": host,
                "tool_name": "Bash",
                "tool_input": {"command": "rm notes.txt"},
                "action_key": f"{host}:key",
                "snapshot": SNAPSHOT,
            }
        )
        store.add_deadlines(approval_id, [("expire", 0, 1900.0)])
    assert registry.revoke("laptop-1") == ["APR-A"]
    assert store.approval("APR-A").state is ApprovalState.CANCELLED  # type: ignore[union-attr]
    assert store.approval("APR-B").state is ApprovalState.PENDING  # type: ignore[union-attr]
    assert [d.approval_id for d in store.pending_deadlines()] == ["APR-B"]


def test_an_upload_is_stored_once_per_host_and_event_id(store: Store) -> None:
    registry = HostRegistry(store)
    first = [
        IngestedEvent("1", "decision", {"host": "laptop-1", "decision": "allow"}),
        IngestedEvent("2", "tool_outcome", {"host": "laptop-1"}),
    ]
    assert [seq is not None for _, seq in registry.ingest("laptop-1", first)] == [True, True]
    again = registry.ingest("laptop-1", [*first, IngestedEvent("3", "prompt", {})])
    assert [(event_id, seq is not None) for event_id, seq in again] == [
        ("1", False),
        ("2", False),
        ("3", True),
    ]
    # The same id from another host is another event.
    assert registry.ingest("laptop-2", [first[0]])[0][1] is not None
    assert store.audit_count() == 4
    assert store.verify().ok
