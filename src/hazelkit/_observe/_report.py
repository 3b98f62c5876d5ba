"""What ``hazelkit inspect`` reports: one snapshot of a cluster, as data.

:func:`gather` reads the members, the runtime's nodes, partitions, inboxes and entity
records, every structure with its size, and the leases held (locks, semaphores,
singletons), without writing anything. :meth:`ClusterReport.to_json` is the ``--json``
form: plain JSON types, times as Unix seconds, stable keys.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from hazelkit._agents._agent import RECORDS_MAP as AGENTS_MAP
from hazelkit._coordination._lease import LEASE_MAP
from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._exceptions import SerializationError
from hazelkit._runtime._inspect import (
    PartitionView,
    entity_counts,
    live_nodes,
    partitions,
    space_shapes,
)
from hazelkit._runtime._nodes import NodeInfo
from hazelkit._runtime._space import SpaceShape
from hazelkit.workflows._client import RECORDS_MAP as WORKFLOWS_MAP

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster, Member

__all__ = ["ClusterReport", "HeldLease", "StructureView", "gather"]

#: Structure kinds whose size the backend can tell.
_SIZED = ("map", "multimap", "queue", "set", "list", "ringbuffer")


@dataclass(frozen=True, slots=True)
class StructureView:
    """A structure of the grid and how many entries or items it holds (None: a kind
    without a size, such as a topic)."""

    kind: str
    name: str
    size: int | None


@dataclass(frozen=True, slots=True)
class HeldLease:
    """A lease held now: a lock or semaphore slot, or a singleton (its partition lease).

    ``token`` is the fencing token (a singleton's lease epoch). ``lease`` is the period
    after which it lapses unless its holder renews it: a lock's or semaphore's record
    lapses at most ``lease`` seconds after the holder's last renewal; a singleton moves
    within about ``lease + 2`` s after its node stops renewing (None: not recorded).
    """

    kind: str
    name: str
    slot: int
    holder: str
    token: int
    since: float
    lease: float | None


@dataclass(frozen=True, slots=True)
class ClusterReport:
    """One snapshot of a cluster (see the module docs)."""

    url: str
    taken_at: float
    members: list[Member]
    nodes: list[NodeInfo]
    spaces: dict[str, SpaceShape]
    partitions: list[PartitionView]
    workflows: dict[tuple[str, str], int]
    agents: dict[tuple[str, str], int]
    structures: list[StructureView]
    leases: list[HeldLease] = field(default_factory=list)

    def partitions_of(self, node: str) -> dict[str, list[int]]:
        """The partitions ``node`` holds the lease of, by space."""
        held: dict[str, list[int]] = {}
        for view in self.partitions:
            if view.owner == node:
                held.setdefault(view.space, []).append(view.partition)
        return held

    def to_json(self) -> dict[str, Any]:
        """The report as plain JSON values (``json.dumps`` takes it as is)."""
        return {
            "url": self.url,
            "taken_at": self.taken_at,
            "members": [{"uuid": m.uuid, "address": m.address} for m in self.members],
            "nodes": [
                {**node.to_wire(), "partitions": self.partitions_of(node.id)} for node in self.nodes
            ],
            "spaces": {name: asdict(shape) for name, shape in self.spaces.items()},
            "partitions": [asdict(view) for view in self.partitions],
            "workflows": _counts(self.workflows),
            "agents": _counts(self.agents),
            "structures": [asdict(view) for view in self.structures],
            "leases": [asdict(lease) for lease in self.leases],
        }


def _counts(counts: dict[tuple[str, str], int]) -> list[dict[str, Any]]:
    return [{"type": t, "status": s, "count": n} for (t, s), n in counts.items()]


async def gather(cluster: Cluster) -> ClusterReport:
    """Read one snapshot of ``cluster`` (read-only; each part is read once, so parts
    may disagree by what changed between the reads). Raises HazelkitError subclasses
    of the backend (ClusterClosedError, OperationTimeoutError, ...)."""
    nodes, shapes, views = await asyncio.gather(
        live_nodes(cluster), space_shapes(cluster), partitions(cluster)
    )
    workflows, agents, structures, leases = await asyncio.gather(
        entity_counts(cluster, WORKFLOWS_MAP),
        entity_counts(cluster, AGENTS_MAP),
        structures_of(cluster),
        coordination_leases(cluster),
    )
    singletons = [_singleton(view) for view in views if view.space.startswith("singleton:")]
    return ClusterReport(
        url=cluster.url,
        taken_at=time.time(),
        members=cluster.members(),
        nodes=nodes,
        spaces=shapes,
        partitions=views,
        workflows=workflows,
        agents=agents,
        structures=structures,
        leases=leases + [lease for lease in singletons if lease is not None],
    )


async def structures_of(cluster: Cluster) -> list[StructureView]:
    """Every structure of the grid with its size."""
    backend = lowlevel.backend(cluster)
    names = await backend.objects()

    async def size(kind: str, name: str) -> int | None:
        if kind not in _SIZED:
            return None
        store: Any = getattr(backend, kind)(name)
        return int(await store.size())

    sizes = await asyncio.gather(*(size(kind, name) for kind, name in names))
    return [StructureView(k, n, s) for (k, n), s in zip(names, sizes, strict=True)]


async def coordination_leases(cluster: Cluster) -> list[HeldLease]:
    """The lock and semaphore leases held now (records that lapsed are gone)."""
    codec = cluster.codec
    held = []
    for raw_key, raw in await lowlevel.backend(cluster).map(LEASE_MAP).items():
        try:
            key = codec.decode_key(raw_key)
            if not (isinstance(key, tuple | list) and len(key) == 4 and key[0] == "lease"):
                continue
            _, token, holder, since, lease = codec.decode(raw)
            _, kind, name, slot = key
            held.append(HeldLease(kind, name, int(slot), holder, int(token), since, lease))
        except (SerializationError, TypeError, ValueError):
            continue
    return sorted(held, key=lambda lease: (lease.kind, lease.name, lease.slot))


def _singleton(view: PartitionView) -> HeldLease | None:
    if view.owner is None:
        return None
    name = view.space.partition(":")[2]
    return HeldLease("singleton", name, 0, view.owner, view.epoch, view.since, None)
