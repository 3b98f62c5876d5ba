"""Hosting entities: a behavior's space on this node, and delivering what it sends.

:func:`host_entities` is how workflows (and agents) become hosted: it fixes the space's
shape, and gives the host a worker factory that applies a partition's inbox
(:class:`~._partition.PartitionWorker`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._exceptions import IndeterminateOperationError, NoSuchEntityError
from hazelkit._runtime._behavior import Behavior
from hazelkit._runtime._client import EntityClient
from hazelkit._runtime._host import HostedSpace, host_of
from hazelkit._runtime._partition import PartitionWorker
from hazelkit._runtime._record import Outgoing
from hazelkit._runtime._space import Space, SpaceShape
from hazelkit._streams._envelope import pack as pack_envelope

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = ["EntitySpace", "host_entities"]

logger = logging.getLogger("hazelkit")


@dataclass(eq=False)
class EntitySpace:
    """A behavior's space as its partition workers see it."""

    cluster: Cluster
    behavior: Behavior
    client: EntityClient
    space: Space

    def make_worker(self, hosted: HostedSpace, partition: int, epoch: int) -> PartitionWorker:
        worker = PartitionWorker(self, hosted, partition, epoch)
        name = f"partition {partition} of {self.space.name}"
        worker.task = lowlevel.spawn(self.cluster, worker.run(), name=name)
        return worker

    async def deliver(self, entity_id: str, outgoing: Outgoing) -> None:
        """Deliver one outbox entry of ``entity_id`` (repeats are harmless: see _entity)."""
        if outgoing.kind == "send":
            try:
                await self._send(outgoing)
            except NoSuchEntityError as error:
                logger.error("entity %r: a message it sent was dropped: %s", entity_id, error)
            return
        publisher = f"entity:{self.space.name}:{entity_id}"
        now = self.cluster.clock.time()
        data = pack_envelope(publisher, outgoing.number, now, outgoing.payload)
        ring = lowlevel.backend(self.cluster).ringbuffer(outgoing.target)
        while True:
            try:
                await ring.add(data)
                return
            except IndeterminateOperationError:
                continue  # the same envelope again: subscribers drop the repeat

    async def _send(self, outgoing: Outgoing) -> None:
        target, key, payload = outgoing.target, outgoing.key, outgoing.payload
        try:
            await self.client.deliver(target, key, "msg", payload, timeout=30.0)
        except NoSuchEntityError:
            # A message may say how to create its target (an agent's first action sent
            # from inside another agent's action carries its initial value and options).
            message = self.cluster.codec.decode(payload, self.client.place)
            create = message.get("create") if isinstance(message, dict) else None
            if create is None:
                raise
            await self.client.create(self.behavior.type_name, target, create)
            await self.client.deliver(target, key, "msg", payload, timeout=30.0)


async def host_entities(
    cluster: Cluster,
    behavior: Behavior,
    client: EntityClient,
    *,
    lease: float,
    shape: SpaceShape | None,
) -> HostedSpace:
    """Host ``behavior``'s space on ``cluster`` (ConfigurationError if another node runs
    it with another shape, or it is hosted here already)."""
    space = await client.fix_shape(behavior.type_name, shape)
    assert space.shape is not None
    entities = EntitySpace(cluster, behavior, client, space)
    return await host_of.get(cluster).add(
        space.name,
        behavior.version,
        partitions=space.shape.partitions,
        lease=lease,
        make_worker=entities.make_worker,
    )
