"""Ownership changes read from successive lease snapshots (no cluster needed): a crash
shows as a failover, a release as a handoff, a first take of a free lease as taken."""

from __future__ import annotations

from hazelkit._runtime._inspect import PartitionView
from hazelkit.dashboard._changes import OwnerChanges

POLL = 0.5


def lease(owner: str | None, epoch: int, version: int, partition: int = 0) -> PartitionView:
    return PartitionView("workflow:t", partition, owner, epoch, version, 0.0, None)


def follow(changes: OwnerChanges, *snapshots: tuple[float, PartitionView]) -> list[str]:
    """Feed one partition's lease as seen at the given times; the kinds reported."""
    kinds = []
    for now, view in snapshots:
        kinds += [change.kind for change in changes.update([view], now=now, at=1000.0 + now)]
    return kinds


def test_the_first_snapshot_reports_nothing() -> None:
    changes = OwnerChanges(POLL)
    assert changes.update([lease("a", 1, 0), lease(None, 0, 0, partition=1)], now=0, at=0) == []
    assert list(changes.recent) == []


def test_an_owner_that_stopped_renewing_and_was_replaced_is_a_failover() -> None:
    changes = OwnerChanges(POLL)
    renewing = [(t * POLL, lease("a", 1, t)) for t in range(6)]  # a renews every poll
    stalled = [(3.0 + t * POLL, lease("a", 1, 5)) for t in range(1, 5)]  # a crashed
    assert follow(changes, *renewing, *stalled, (5.5, lease("b", 2, 0))) == ["failover"]
    (change,) = changes.recent
    assert (change.previous, change.owner, change.epoch, change.at) == ("a", "b", 2, 1005.5)


def test_a_move_from_an_owner_still_renewing_is_a_handoff() -> None:
    changes = OwnerChanges(POLL)
    renewing = [(t * POLL, lease("a", 1, t)) for t in range(6)]
    # released and taken between two polls: the new owner appears at once
    assert follow(changes, *renewing, (3.0, lease("b", 2, 0))) == ["handoff"]


def test_a_release_seen_makes_the_next_take_a_handoff_from_the_releaser() -> None:
    changes = OwnerChanges(POLL)
    kinds = follow(
        changes,
        (0.0, lease("a", 1, 0)),
        (0.5, lease(None, 1, 1)),  # released
        (9.0, lease("b", 2, 0)),  # taken much later: still a handoff
    )
    assert kinds == ["handoff"]
    assert changes.recent[0].previous == "a"


def test_a_lease_first_seen_free_is_taken() -> None:
    changes = OwnerChanges(POLL)
    assert follow(changes, (0.0, lease(None, 0, 0)), (0.5, lease("a", 1, 0))) == ["taken"]
    assert changes.recent[0].previous is None


def test_before_any_renewal_is_seen_three_polls_of_stillness_mean_a_failover() -> None:
    quick = follow(OwnerChanges(POLL), (0.0, lease("a", 1, 7)), (1.0, lease("b", 2, 0)))
    slow = follow(OwnerChanges(POLL), (0.0, lease("a", 1, 7)), (2.0, lease("b", 2, 0)))
    assert (quick, slow) == (["handoff"], ["failover"])


def test_only_the_last_changes_are_kept() -> None:
    changes = OwnerChanges(POLL, keep=3)
    owners = ["a", "b"] * 5
    for step, owner in enumerate(owners):
        changes.update([lease(owner, step + 1, 0)], now=float(step), at=float(step))
    assert [c.epoch for c in changes.recent] == [8, 9, 10]
