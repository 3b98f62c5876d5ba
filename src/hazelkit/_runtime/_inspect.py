"""Read-only views of the runtime, for tools (``hazelkit inspect``, the dashboard).

Nothing here writes, takes a lease, or creates a structure: each function reads the
runtime's maps (nodes, spaces, partition leases, cursors, records) and the inboxes that
exist already, once. The views are snapshots: a lease may move between two reads.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._exceptions import SerializationError
from hazelkit._runtime._inbox import CURSORS_MAP, inbox_name
from hazelkit._runtime._leases import PARTITIONS_MAP
from hazelkit._runtime._nodes import NODES_MAP, NodeInfo
from hazelkit._runtime._record import EntityRecord
from hazelkit._runtime._space import SPACES_MAP, SpaceShape

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = [
    "PartitionView",
    "entity_counts",
    "live_nodes",
    "partitions",
    "space_shapes",
]


@dataclass(frozen=True, slots=True)
class PartitionView:
    """One partition of a space: its lease (owner None: released or never taken) and how
    many messages wait in its inbox above the committed cursor (None: no inbox yet)."""

    space: str
    partition: int
    owner: str | None
    epoch: int
    version: int
    since: float  #: wall-clock time of the take (0.0: never taken)
    inbox_depth: int | None


async def _items(cluster: Cluster, name: str) -> list[tuple[Any, Any]]:
    """The decoded entries of internal map ``name`` (undecodable ones skipped)."""
    codec = cluster.codec
    decoded = []
    for raw_key, raw_value in await lowlevel.backend(cluster).map(name).items():
        try:
            decoded.append((codec.decode_key(raw_key), codec.decode(raw_value)))
        except SerializationError:
            continue
    return decoded


async def live_nodes(cluster: Cluster) -> list[NodeInfo]:
    """Every node whose heartbeat entry has not lapsed, by id."""
    nodes = []
    for _, value in await _items(cluster, NODES_MAP):
        try:
            nodes.append(NodeInfo.from_wire(value))
        except (KeyError, TypeError, ValueError):
            continue
    return sorted(nodes, key=lambda node: node.id)


async def space_shapes(cluster: Cluster) -> dict[str, SpaceShape]:
    """Every space used so far, with its fixed shape, by name."""
    shapes = {}
    for name, value in await _items(cluster, SPACES_MAP):
        try:
            partitions, capacity = value
            shapes[str(name)] = SpaceShape(int(partitions), int(capacity))
        except (TypeError, ValueError):
            continue
    return dict(sorted(shapes.items()))


async def partitions(cluster: Cluster) -> list[PartitionView]:
    """Every partition with a lease or an inbox, sorted by space and partition."""
    leases = await _pairs(cluster, PARTITIONS_MAP)
    cursors = await _pairs(cluster, CURSORS_MAP)
    rings = {
        name for kind, name in await lowlevel.backend(cluster).objects() if kind == "ringbuffer"
    }
    places = sorted(set(leases) | {p for p in cursors if inbox_name(*p) in rings})
    depths = await asyncio.gather(
        *(_depth(cluster, place, cursors.get(place), rings) for place in places)
    )
    return [
        _view(place, leases.get(place), depth) for place, depth in zip(places, depths, strict=True)
    ]


async def _pairs(cluster: Cluster, name: str) -> dict[tuple[str, int], Any]:
    """Entries of a map keyed by ``(space, partition)``."""
    found = {}
    for key, value in await _items(cluster, name):
        if isinstance(key, tuple | list) and len(key) == 2:
            found[(str(key[0]), int(key[1]))] = value
    return found


async def _depth(
    cluster: Cluster, place: tuple[str, int], cursor: Any, rings: set[str]
) -> int | None:
    name = inbox_name(*place)
    if name not in rings:
        return None
    ring = lowlevel.backend(cluster).ringbuffer(name)
    tail, head = await ring.tail(), await ring.head()
    start = head if cursor is None else int(cursor[1])
    return max(0, tail + 1 - start)


def _view(place: tuple[str, int], lease: Any, depth: int | None) -> PartitionView:
    try:
        owner, epoch, version, since = lease
        return PartitionView(*place, owner, int(epoch), int(version), float(since), depth)
    except (TypeError, ValueError):
        return PartitionView(*place, None, 0, 0, 0.0, depth)


async def entity_counts(cluster: Cluster, records_map: str) -> dict[tuple[str, str], int]:
    """How many entities of a family (``hazelkit.workflows``, ``hazelkit.agents``) there
    are, by ``(type, status)``. Reads every record: meant for tools."""
    counts: Counter[tuple[str, str]] = Counter()
    for _, value in await _items(cluster, records_map):
        try:
            record = EntityRecord.from_wire(value)
        except (KeyError, TypeError, ValueError):
            continue
        counts[(record.type, record.status.value)] += 1
    return dict(sorted(counts.items()))
