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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from hazelkit._backends.protocol import Registration
from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._exceptions import ClusterClosedError, ConfigurationError, HazelkitError
from hazelkit._core._local import ClusterLocal
from hazelkit._runtime._hashing import preferred_node
from hazelkit._runtime._leases import PartitionLeases
from hazelkit._runtime._nodes import NodeInfo, NodeRegistry

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = ["Host", "HostedSpace", "Worker", "host_of"]

logger = logging.getLogger("hazelkit")


class Worker(Protocol):
    """What applies a partition while its lease is held (a partition of entities, or a
    singleton's task)."""

    stopped: bool

    def lost(self, why: str) -> None:
        """The lease is gone: stop at once, without handing anything on."""

    async def stop(self, timeout: float) -> None:
        """Stop gracefully (finish what is in hand, within ``timeout`` seconds)."""


@dataclass(eq=False)
class HostedSpace:
    """One space hosted by this node: its leases and the workers of the partitions held."""

    cluster: Cluster
    node: str
    name: str
    version: int
    leases: PartitionLeases
    make_worker: Callable[[HostedSpace, int, int], Worker]
    workers: dict[int, Worker] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None
    leaving: bool = False
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    listener: Registration | None = None
    #: Keep what is held when a better-placed node joins (a singleton restarts when it
    #: moves); it still moves to a node with a newer definition, and on leave or death.
    sticky: bool = False

    @property
    def tick(self) -> float:
        """How often leases are renewed and watched: a quarter lease, at most half a
        second, so a dead node's partitions are taken within ``lease + 1`` s of its last
        renewal (two rounds of the observer: seeing it unchanged, then taking)."""
        return min(self.leases.lease / 4, 0.5)

    def held(self) -> list[int]:
        """The partitions this node applies now."""
        return sorted(p for p, worker in self.workers.items() if not worker.stopped)


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
        name: str,
        version: int,
        *,
        partitions: int,
        lease: float,
        make_worker: Callable[[HostedSpace, int, int], Worker],
        sticky: bool = False,
    ) -> HostedSpace:
        """Start hosting space ``name`` (at definition ``version``, with ``partitions``):
        ``make_worker(hosted, partition, epoch)`` starts the worker of a partition this
        node takes. ConfigurationError if the space is hosted here already."""
        if name in self.spaces:
            raise ConfigurationError(f"{name!r} is hosted by this Cluster already")
        if self.registry is None:
            self.registry = NodeRegistry(self.cluster, ttl=max(lease, 1.0))
        self.registry.host(name, version)
        await self.registry.beat()
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = lowlevel.spawn(
                self.cluster, self.registry.beat_forever(), name="runtime heartbeat"
            )
        leases = PartitionLeases(self.cluster, name, partitions, lease, self.node)
        hosted = HostedSpace(self.cluster, self.node, name, version, leases, make_worker)
        hosted.sticky = sticky
        self.spaces[name] = hosted
        try:  # a first round now: what is free is taken before this returns
            await self._assign(hosted)
        except HazelkitError:
            logger.warning("%s: first assignment round failed", name, exc_info=True)
        hosted.task = lowlevel.spawn(
            self.cluster, self._assign_forever(hosted), name=f"assign {name}"
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
        self.spaces.pop(hosted.name, None)
        if self.registry is not None:
            self.registry._spaces.pop(hosted.name, None)
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
            # A release sets ``wake``; clear it first, so one release means one early
            # round, not a round after round for as long as the node lives.
            hosted.wake.clear()
            try:
                await self._assign(hosted)
            except ClusterClosedError:
                return  # the Cluster is closing (or crashed): its tasks are being cancelled
            except HazelkitError:
                logger.warning("%s: assignment round failed", hosted.name, exc_info=True)
            # asyncio.timeout, not wait_for: wait_for on an event already set can swallow
            # the cancellation of this task (Python 3.11), which then never ends.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(hosted.tick):
                    await hosted.wake.wait()

    def _eligible(self, hosted: HostedSpace, nodes: list[NodeInfo]) -> list[str]:
        name = hosted.name
        versions = {n.id: n.spaces[name] for n in nodes if name in n.spaces}
        versions[self.node] = hosted.version  # this node, even if its entry lapsed
        newest = max(versions.values())
        return [node for node, version in versions.items() if version == newest]

    async def _assign(self, hosted: HostedSpace) -> None:
        assert self.registry is not None
        eligible = self._eligible(hosted, await self.registry.live())
        raws = await hosted.leases.read_all()
        name, leases = hosted.name, hosted.leases
        renewals = []
        for partition in range(leases.partitions):
            worker = hosted.workers.get(partition)
            if worker is not None and worker.stopped:
                del hosted.workers[partition]
                leases.held.pop(partition, None)
            preferred = preferred_node(name, partition, eligible)
            if partition in leases.held:
                moves = self.node not in eligible if hosted.sticky else preferred != self.node
                if moves:
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
            self.node, partition, hosted.name, held.record.epoch,
        )  # fmt: skip
        hosted.workers[partition] = hosted.make_worker(hosted, partition, held.record.epoch)

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
