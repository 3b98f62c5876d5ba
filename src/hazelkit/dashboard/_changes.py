"""Ownership changes seen between snapshots: which partition moved, from whom, and why.

The dashboard reads the partition leases every poll. A lease record is ``owner, epoch,
version``: its owner renews it (version + 1) every quarter lease, releases it on a
graceful leave (owner None), and another node takes it (a new epoch) at once after a
release, or after it stood unchanged for a whole lease because its owner stopped renewing.

From that alone a watcher tells the kinds of move apart:

- **failover**: the old owner had stopped renewing: the record stood still for longer
  than two renewal periods plus one poll interval (the period is measured from the
  versions seen; three poll intervals before any renewal was seen). A lease is four
  periods, so this holds after a crash whenever the lease exceeds four poll intervals;
- **handoff**: the old owner released it (a release was seen, or it was still renewing
  when the record changed hands, as on a graceful join or leave);
- **taken**: a lease first seen free got an owner (nobody held it before).

It is a reading of snapshots, not a fact the cluster records. Times are the watcher's own
monotonic clock, never compared across machines.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from hazelkit._runtime._inspect import PartitionView

__all__ = ["OwnerChange", "OwnerChanges"]


@dataclass(frozen=True, slots=True)
class OwnerChange:
    """A partition that got a new owner between two snapshots."""

    at: float  #: wall-clock time of the snapshot that first showed the new owner
    space: str
    partition: int
    previous: str | None  #: the owner before (None: nobody held it)
    owner: str
    epoch: int  #: the new owner's lease epoch
    kind: str  #: "failover", "handoff" or "taken" (see the module docs)


@dataclass(slots=True)
class _Seen:
    """One partition's lease as this watcher followed it under its current owner."""

    owner: str | None
    first_version: int
    first_seen: float  #: monotonic time this owner was first seen
    version: int
    changed: float  #: monotonic time the current version was first seen
    released_by: str | None = None  #: the owner that released it, if a release was seen

    def renewal_period(self) -> float | None:
        """Seconds per renewal, from the versions seen (None before the first)."""
        if self.version <= self.first_version:
            return None
        return (self.changed - self.first_seen) / (self.version - self.first_version)


@dataclass(slots=True)
class OwnerChanges:
    """Follows partition leases across snapshots taken every ``interval`` seconds, and
    keeps the last ``keep`` changes in ``recent``. One watcher owns it (not thread-safe)."""

    interval: float
    keep: int = 100
    recent: deque[OwnerChange] = field(init=False)
    _seen: dict[tuple[str, int], _Seen] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.recent = deque(maxlen=self.keep)

    def update(self, views: list[PartitionView], *, now: float, at: float) -> list[OwnerChange]:
        """Compare ``views`` (one snapshot, read at monotonic ``now`` and wall-clock
        ``at``) with the last one; return the changes found (also kept in ``recent``)."""
        found = []
        for view in views:
            change = self._follow(view, now, at)
            if change is not None:
                found.append(change)
                self.recent.append(change)
        return found

    def _follow(self, view: PartitionView, now: float, at: float) -> OwnerChange | None:
        key = (view.space, view.partition)
        seen = self._seen.get(key)
        if seen is None:
            self._seen[key] = _Seen(view.owner, view.version, now, view.version, now)
            return None
        if view.owner == seen.owner:
            if view.version != seen.version:
                seen.version, seen.changed = view.version, now
            return None
        released_by = seen.owner if view.owner is None else seen.released_by
        self._seen[key] = _Seen(view.owner, view.version, now, view.version, now, released_by)
        if view.owner is None:
            return None
        return OwnerChange(
            at, view.space, view.partition, seen.owner or released_by, view.owner, view.epoch,
            self._kind(seen, now),
        )  # fmt: skip

    def _kind(self, seen: _Seen, now: float) -> str:
        if seen.owner is None:
            return "taken" if seen.released_by is None else "handoff"
        period = seen.renewal_period()
        threshold = 3 * self.interval if period is None else 2 * period + self.interval
        return "failover" if now - seen.changed > threshold else "handoff"
