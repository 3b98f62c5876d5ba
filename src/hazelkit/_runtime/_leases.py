"""Partition leases: who may apply a partition's messages, with an epoch for fencing.

A lease is an entry of ``hazelkit.rt.partitions`` keyed by (space, partition), holding
``[owner, epoch, version, since]`` (``since``: the wall-clock time of the take, for
humans); it has no time to live. Rules (see the package docstring):

- the owner renews by compare-and-set to ``version + 1`` every quarter lease, and
  counts its lease valid until ``start of its last successful renewal + lease -
  margin`` on its own monotonic clock;
- another node may take it (compare-and-set to ``[itself, epoch + 1, 0]``) only after
  seeing the *same* bytes for a whole lease on its own monotonic clock, or at once if
  the owner released it (owner None). The renewal it did not see began before it first
  looked, so the old owner stopped counting on the lease before the new one takes it;
- a release is a compare-and-set to ``[None, epoch, version + 1]``.

A lost reply is resolved by reading back: the bytes of each write are unique (they name
the writer and a new version), so finding them means the write landed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hazelkit._backends.protocol import RawEntryEvent, Registration
from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._cas import write_if_same
from hazelkit._core._exceptions import IndeterminateOperationError, SerializationError
from hazelkit._observe import _metrics as metrics

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = ["PARTITIONS_MAP", "Held", "LeaseRecord", "PartitionLeases"]

PARTITIONS_MAP = "hazelkit.rt.partitions"


@dataclass(frozen=True, slots=True)
class LeaseRecord:
    """A partition lease as stored: who holds it (None: released), the epoch of the take
    (a fencing token), the version of the last renewal, and when it was taken."""

    owner: str | None
    epoch: int
    version: int
    since: float = 0.0


@dataclass(slots=True)
class Held:
    """A lease this node holds: the bytes it last wrote and until when it is valid."""

    raw: bytes
    record: LeaseRecord
    valid_until: float


class PartitionLeases:
    """The leases of one space's partitions, as seen and held by one node."""

    def __init__(
        self, cluster: Cluster, space: str, partitions: int, lease: float, node: str
    ) -> None:
        self._cluster = cluster
        self.space = space
        self.partitions = partitions
        self.lease = lease
        self.node = node
        self.margin = min(1.0, lease / 5)
        self.held: dict[int, Held] = {}
        self._seen: dict[int, tuple[bytes | None, float]] = {}
        #: Partitions taken from a previous owner: how (``failover``: it stopped renewing;
        #: ``handoff``: it released), and since when (monotonic) they had no owner, as
        #: this node saw it. The new partition worker takes its entry.
        self.taken: dict[int, tuple[str, float]] = {}
        self._keys = [cluster.codec.encode_key((space, p)) for p in range(partitions)]

    @property
    def _store(self) -> Any:
        return lowlevel.backend(self._cluster).map(PARTITIONS_MAP)

    def _encode(self, record: LeaseRecord) -> bytes:
        return self._cluster.codec.encode(
            [record.owner, record.epoch, record.version, record.since]
        )

    def _decode(self, raw: bytes | None) -> LeaseRecord | None:
        if raw is None:
            return None
        try:
            owner, epoch, version, since = self._cluster.codec.decode(raw)
            return LeaseRecord(owner, int(epoch), int(version), float(since))
        except (SerializationError, TypeError, ValueError):
            return None

    async def read_all(self) -> dict[int, bytes | None]:
        """Every partition's lease bytes (None: never taken), and note when each was
        first seen unchanged."""
        found = await self._store.get_all(self._keys)
        now = time.monotonic()
        result: dict[int, bytes | None] = {}
        for partition, key in enumerate(self._keys):
            raw = found.get(key)
            result[partition] = raw
            seen = self._seen.get(partition)
            if seen is None or seen[0] != raw:
                self._seen[partition] = (raw, now)
        return result

    async def on_release(self, wake: Callable[[], None]) -> Registration:
        """Call ``wake()`` whenever a lease of this space is released (a hint that a
        partition can be taken at once)."""
        keys = set(self._keys)

        def on_event(event: RawEntryEvent) -> None:
            if event.key in keys and event.value is not None:
                record = self._decode(event.value)
                if record is not None and record.owner is None:
                    wake()

        registration: Registration = await self._store.listen(on_event)
        return registration

    def owner_of(self, raw: bytes | None) -> str | None:
        record = self._decode(raw)
        return None if record is None else record.owner

    def takeable(self, partition: int, raw: bytes | None, *, preferred: bool) -> bool:
        """Whether this node may take the lease now. The preferred node may take one
        that was never taken or was released at once, and one unchanged for a whole
        lease on this node's clock (its holder stopped renewing). Any other node may
        take one unchanged for two leases: the preferred node may be alive but unable
        to take it (stalled, cut off from the members), and the work must go on."""
        _, since = self._seen.get(partition, (raw, time.monotonic()))
        unchanged = time.monotonic() - since
        if not preferred:
            return unchanged >= 2 * self.lease
        record = self._decode(raw)
        if raw is None or (record is not None and record.owner is None):
            return True
        return unchanged >= self.lease

    async def take(self, partition: int, raw: bytes | None) -> Held | None:
        """Take the lease from ``raw`` (what was read); the new holding, or None if
        another node got there first."""
        record = self._decode(raw)
        epoch = 0 if record is None else record.epoch
        new = LeaseRecord(self.node, epoch + 1, 0, self._cluster.clock.time())
        held = await self._write(partition, raw, new)
        if held is not None and record is not None:
            self._note_takeover(partition, raw, record)
        return held

    def _note_takeover(self, partition: int, raw: bytes | None, record: LeaseRecord) -> None:
        # The previous owner stopped (crashed, or released) about when it last wrote these
        # bytes, which is before this node first saw them: that first sight, on this
        # node's own clock, is where the ownerless time starts (a slight underestimate).
        seen, since = self._seen.get(partition, (raw, time.monotonic()))
        since = since if seen == raw else time.monotonic()
        how = "handoff" if record.owner is None else "failover"
        self.taken[partition] = (how, since)
        if how == "failover":
            metrics.failed_over(self.space)

    async def renew(self, partition: int) -> bool:
        """Renew a held lease; False (and forgotten) if another node took it."""
        held = self.held.get(partition)
        if held is None:
            return False
        old = held.record
        new = LeaseRecord(self.node, old.epoch, old.version + 1, old.since)
        return await self._write(partition, held.raw, new) is not None

    async def release(self, partition: int) -> None:
        """Give a held lease back (the successor may take it at once)."""
        held = self.held.pop(partition, None)
        if held is None:
            return
        old = held.record
        new = LeaseRecord(None, old.epoch, old.version + 1, old.since)
        await self._write(partition, held.raw, new, keep=False)

    def valid(self, partition: int) -> Held | None:
        """The holding of ``partition`` if its lease cannot have lapsed by this node's
        clock (forgotten once it may have)."""
        held = self.held.get(partition)
        if held is None:
            return None
        if time.monotonic() >= held.valid_until:
            del self.held[partition]
            return None
        return held

    async def _write(
        self, partition: int, old: bytes | None, new: LeaseRecord, *, keep: bool = True
    ) -> Held | None:
        started = time.monotonic()
        raw = self._encode(new)
        key = self._keys[partition]
        try:
            won = await write_if_same(self._store, key, old, raw)
        except IndeterminateOperationError:
            won = await self._store.get(key) == raw
        if not won:
            self.held.pop(partition, None)
            return None
        if not keep:
            return None
        held = Held(raw, new, started + self.lease - self.margin)
        self.held[partition] = held
        return held
