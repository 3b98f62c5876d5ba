"""Spaces: one entity type's partitions, inboxes and records, as every node must see them.

A space's shape (how many partitions, how large each inbox) is fixed the first time any
node or client uses it, in ``hazelkit.rt.spaces``: an entity's partition depends on it,
so a node configured otherwise would read the wrong inboxes. It refuses to start instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._exceptions import ConfigurationError
from hazelkit._runtime._hashing import partition_of
from hazelkit._runtime._inbox import Inbox

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = ["SPACES_MAP", "Space", "SpaceShape"]

SPACES_MAP = "hazelkit.rt.spaces"
DEFAULT_PARTITIONS = 16
DEFAULT_INBOX_CAPACITY = 10_000


@dataclass(frozen=True, slots=True)
class SpaceShape:
    partitions: int = DEFAULT_PARTITIONS
    inbox_capacity: int = DEFAULT_INBOX_CAPACITY


class Space:
    """A space of one Cluster: its shape (once known), inboxes and record map."""

    def __init__(self, cluster: Cluster, name: str, records_map: str) -> None:
        self._cluster = cluster
        self.name = name
        self.records_map = records_map
        self.shape: SpaceShape | None = None
        self._inboxes: dict[int, Inbox] = {}
        self._records: Any = None

    async def fix_shape(self, wanted: SpaceShape | None = None) -> SpaceShape:
        """The space's shape: the one recorded, or ``wanted`` (default: the defaults)
        recorded now. ConfigurationError if ``wanted`` differs from the recorded one."""
        if self.shape is not None and wanted is None:
            return self.shape
        codec = self._cluster.codec
        store = lowlevel.backend(self._cluster).map(SPACES_MAP)
        proposal = wanted or SpaceShape()
        encoded = codec.encode([proposal.partitions, proposal.inbox_capacity])
        existing = await store.put_if_absent(codec.encode_key(self.name), encoded)
        if existing is None:
            shape = proposal
        else:
            partitions, capacity = codec.decode(existing)
            shape = SpaceShape(int(partitions), int(capacity))
        if wanted is not None and wanted != shape:
            raise ConfigurationError(
                f"{self.name!r} already runs with {shape.partitions} partitions and inboxes of"
                f" {shape.inbox_capacity} messages; this node asks for {wanted.partitions}"
                f" and {wanted.inbox_capacity}: every node must use the same"
            )
        self.shape = shape
        return shape

    async def partition_of(self, entity_id: str) -> int:
        shape = await self.fix_shape()
        return partition_of(entity_id, shape.partitions)

    async def inbox_for(self, entity_id: str) -> Inbox:
        return self.inbox(await self.partition_of(entity_id))

    def inbox(self, partition: int) -> Inbox:
        inbox = self._inboxes.get(partition)
        if inbox is None:
            assert self.shape is not None
            capacity = self.shape.inbox_capacity
            inbox = self._inboxes[partition] = Inbox(self._cluster, self.name, partition, capacity)
        return inbox

    @property
    def records(self) -> Any:
        """The record map's store (one per space: every commit uses it). Raises
        ClusterClosedError once the Cluster is closed."""
        lowlevel.check_open(self._cluster)
        if self._records is None:
            self._records = lowlevel.backend(self._cluster).map(self.records_map)
        return self._records
