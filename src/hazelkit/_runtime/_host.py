"""A hosting Cluster: which partitions it owns, and the workers that apply them.

Every quarter lease (at most half a second), for each hosted space, the host reads the
live nodes and every partition lease in two calls, then for each partition:

- held and still preferred: renew the lease (all renewals at once);
- held but another node is preferred now (it joined, or runs a newer definition): hand
  off gracefully: stop taking messages, finish those in hand, commit, release;
- not held, preferred here, and takeable (free, released, or unchanged for a whole
  lease): take it, with a new epoch, and start its worker. A node that is not preferred
  takes a lease unchanged for two leases: the preferred node may be alive (its
  heartbeat goes on) yet unable to hold it.

Graceful leave (leaving ``host()``, closing the Cluster) hands every partition off the
same way and removes the node's entry. Released leases are announced by entry events,
which wake the other nodes' rounds at once (events are only hints: a lost one costs
one round, a quarter lease).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hazelkit._backends.protocol import Registration
from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._exceptions import (
    HazelkitError,
    IndeterminateOperationError,
    NoSuchEntityError,
)
from hazelkit._core._local import ClusterLocal
from hazelkit._runtime._behavior import Behavior
from hazelkit._runtime._client import EntityClient
from hazelkit._runtime._hashing import preferred_node
from hazelkit._runtime._leases import PartitionLeases
from hazelkit._runtime._nodes import NodeInfo, NodeRegistry
from hazelkit._runtime._partition import PartitionWorker
from hazelkit._runtime._record import Outgoing
from hazelkit._runtime._space import Space, SpaceShape
from hazelkit._streams._envelope import pack as pack_envelope

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = ["Host", "HostedSpace", "host_of"]

logger = logging.getLogger("hazelkit")


@dataclass(eq=False)
class HostedSpace:
    """One space hosted by this node: its definition, leases and partition workers."""

    cluster: Cluster
    node: str
    behavior: Behavior
    client: EntityClient
    space: Space
    leases: PartitionLeases
    workers: dict[int, PartitionWorker] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None
    leaving: bool = False
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    listener: Registration | None = None

    @property
    def tick(self) -> float:
        """How often leases are renewed and watched: a quarter lease, at most half a
        second, so a dead node's partitions are taken within ``lease + 1`` s of its last
        renewal (two rounds of the observer: seeing it unchanged, then taking)."""
        return min(self.leases.lease / 4, 0.5)

    async def deliver(self, entity_id: str, outgoing: Outgoing) -> None:
        """Deliver one outbox entry of ``entity_id`` (repeats are harmless: see _entity)."""
        if outgoing.kind == "send":
            try:
                await self.client.deliver(
                    outgoing.target, outgoing.key, "msg", outgoing.payload, timeout=30.0
                )
            except NoSuchEntityError as error:
                logger.error("entity %r: a message it sent was dropped: %s", entity_id, error)
            return
        publisher = f"entity:{self.space.name}:{entity_id}"
        data = pack_envelope(
            publisher, outgoing.number, self.cluster.clock.time(), outgoing.payload
        )
        ring = lowlevel.backend(self.cluster).ringbuffer(outgoing.target)
        while True:
            try:
                await ring.add(data)
                return
            except IndeterminateOperationError:
                continue  # the same envelope again: subscribers drop the repeat


class Host:
    """This Cluster as a node of the runtime (one per Cluster)."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.registry: NodeRegistry | None = None
        self.spaces: dict[str, HostedSpace] = {}
        self._heartbeat: asyncio.Task[None] | None = None

    @property
    def node(self) -> str:
        assert self.registry is not None
        return self.registry.id

    async def add(
        self,
        behavior: Behavior,
        client: EntityClient,
        *,
        lease: float,
        shape: SpaceShape | None,
    ) -> HostedSpace:
        """Start hosting ``behavior``'s space (ConfigurationError if another node runs
        it with another shape, or it is hosted here already)."""
        space = await client.fix_shape(behavior.type_name, shape)
        if space.name in self.spaces:
            from hazelkit._core._exceptions import ConfigurationError

            raise ConfigurationError(f"{space.name!r} is hosted by this Cluster already")
        if self.registry is None:
            self.registry = NodeRegistry(self.cluster, ttl=max(2 * lease, 3.0))
        self.registry.host(space.name, behavior.version)
        await self.registry.beat()
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = lowlevel.spawn(
                self.cluster, self.registry.beat_forever(), name="runtime heartbeat"
            )
        assert space.shape is not None
        leases = PartitionLeases(self.cluster, space.name, space.shape.partitions, lease, self.node)
        hosted = HostedSpace(self.cluster, self.node, behavior, client, space, leases)
        self.spaces[space.name] = hosted
        hosted.task = lowlevel.spawn(
            self.cluster, self._assign_forever(hosted), name=f"assign {space.name}"
        )
        hosted.listener = await leases.on_release(hosted.wake.set)
        return hosted

    async def remove(self, hosted: HostedSpace) -> None:
        """Stop hosting: hand every partition off, and leave once nothing is hosted."""
        hosted.leaving = True
        hosted.wake.set()
        if hosted.listener is not None:
            with contextlib.suppress(HazelkitError):
                await hosted.listener.close()
        if hosted.task is not None:
            # Let a round under way finish (a take it made must be handed off too), but
            # not forever: the round's calls are bounded by the operation timeout.
            await asyncio.wait({hosted.task}, timeout=hosted.leases.lease)
            hosted.task.cancel()
        partitions = set(hosted.workers) | set(hosted.leases.held)
        await asyncio.gather(*(self._hand_off(hosted, p) for p in partitions))
        self.spaces.pop(hosted.space.name, None)
        if self.registry is not None:
            self.registry._spaces.pop(hosted.space.name, None)
            if not self.spaces:
                await self._leave()

    async def _leave(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        if self.registry is not None:
            try:
                await self.registry.leave()
            except HazelkitError:
                logger.debug("node entry not removed; it lapses", exc_info=True)

    # -- assignment -----------------------------------------------------------------------

    async def _assign_forever(self, hosted: HostedSpace) -> None:
        while not hosted.leaving:
            try:
                await self._assign(hosted)
            except HazelkitError:
                logger.warning("%s: assignment round failed", hosted.space.name, exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(hosted.wake.wait(), hosted.tick)

    def _eligible(self, hosted: HostedSpace, nodes: list[NodeInfo]) -> list[str]:
        name = hosted.space.name
        versions = {n.id: n.spaces[name] for n in nodes if name in n.spaces}
        versions[self.node] = hosted.behavior.version  # this node, even if its entry lapsed
        newest = max(versions.values())
        return [node for node, version in versions.items() if version == newest]

    async def _assign(self, hosted: HostedSpace) -> None:
        assert self.registry is not None
        eligible = self._eligible(hosted, await self.registry.live())
        raws = await hosted.leases.read_all()
        name, leases = hosted.space.name, hosted.leases
        renewals = []
        for partition in range(leases.partitions):
            worker = hosted.workers.get(partition)
            if worker is not None and worker.stopped:
                del hosted.workers[partition]
                leases.held.pop(partition, None)
            preferred = preferred_node(name, partition, eligible)
            if partition in leases.held:
                if preferred != self.node:
                    renewals.append(self._hand_off(hosted, partition))
                else:
                    renewals.append(self._renew(hosted, partition))
            elif leases.takeable(partition, raws[partition], preferred=preferred == self.node):
                renewals.append(self._take(hosted, partition, raws[partition]))
        await asyncio.gather(*renewals)

    async def _renew(self, hosted: HostedSpace, partition: int) -> None:
        if not await hosted.leases.renew(partition):
            worker = hosted.workers.pop(partition, None)
            if worker is not None:
                worker.lost("another node took its lease")

    async def _take(self, hosted: HostedSpace, partition: int, raw: bytes | None) -> None:
        if hosted.leaving:
            return
        held = await hosted.leases.take(partition, raw)
        if held is None:
            return
        logger.info(
            "node %s takes partition %d of %r (epoch %d)",
            self.node, partition, hosted.space.name, held.record.epoch,
        )  # fmt: skip
        worker = PartitionWorker(hosted, partition, held.record.epoch)
        hosted.workers[partition] = worker
        worker.task = lowlevel.spawn(
            self.cluster, worker.run(), name=f"partition {partition} of {hosted.space.name}"
        )

    async def _hand_off(self, hosted: HostedSpace, partition: int) -> None:
        worker = hosted.workers.pop(partition, None)
        if worker is not None:
            await worker.stop(timeout=hosted.leases.lease / 2)
        try:
            await hosted.leases.release(partition)
        except HazelkitError:
            logger.warning("partition %d not released; it lapses", partition, exc_info=True)


async def _stop_all(host: Host) -> None:
    for hosted in list(host.spaces.values()):
        await host.remove(hosted)


#: Per Cluster: its host, which hands everything off when the Cluster closes.
host_of: ClusterLocal[Host] = ClusterLocal(Host, close=_stop_all, with_cluster=True)
