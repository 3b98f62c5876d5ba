"""Entities subscribed to reliable topics: one feed per topic and partition on the owner.

An entity's position in a topic (the next sequence it applies) lives in its record and
moves in the same commit as the state the message produced, so a new owner after a
failover resumes exactly there: nothing lost, nothing applied twice (repeats of a retried
publish are dropped by their publisher and number, also kept in the record). The owner
reads each subscribed topic once per partition, from the lowest position among the
entities it feeds, and hands each message to the entities whose position it is; an
entity that finds messages overwritten before it read them gets its definition's loss
handler (by default: it pauses, naming the lost range). Which entities of a partition
subscribe to what is indexed in ``hazelkit.rt.subs`` (written before the commit that
subscribes), so a new owner knows whom to feed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from hazelkit._backends.protocol import MAX_READ_BATCH, RingbufferStore
from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._exceptions import ClusterClosedError, HazelkitError

if TYPE_CHECKING:
    from hazelkit._runtime._partition import PartitionWorker

__all__ = ["SUBS_MAP", "TopicFeed"]

logger = logging.getLogger("hazelkit")

SUBS_MAP = "hazelkit.rt.subs"
READ_WAIT = 0.5


class TopicFeed:
    """Reads one topic for the subscribed entities of one partition."""

    def __init__(self, part: PartitionWorker, topic: str) -> None:
        self.part = part
        self.topic = topic
        self.positions: dict[str, int] = {}  # entity -> next sequence it needs
        self._next: int | None = None
        self._changed = asyncio.Event()
        self.task = part.spawn(self._run(), name=f"topic {topic!r} of partition {part.partition}")

    @property
    def ring(self) -> RingbufferStore:
        return lowlevel.backend(self.part.cluster).ringbuffer(self.topic)

    def place(self, entity: str, position: int) -> None:
        """Feed ``entity`` from ``position`` on (rewinding the feed if needed)."""
        self.positions[entity] = position
        if self._next is None or position < self._next:
            self._next = position
        self._changed.set()

    def drop(self, entity: str) -> None:
        self.positions.pop(entity, None)

    async def _run(self) -> None:
        while not self.part.stopped:
            try:
                await self._step()
            except ClusterClosedError:
                return
            except HazelkitError:
                logger.warning("topic feed %r: retrying a read", self.topic, exc_info=True)
                await asyncio.sleep(0.2)

    async def _step(self) -> None:
        if not self.positions or self._next is None:
            self._changed.clear()
            await _wait(self._changed, READ_WAIT)
            return
        start = self._next
        batch = await self.ring.read_many(start, 1, MAX_READ_BATCH, READ_WAIT)
        if self._next != start:  # rewound meanwhile: read again from there
            return
        for sequence, item in zip(batch.sequences, batch.items, strict=True):
            for entity, position in list(self.positions.items()):
                if position <= sequence:
                    self.part.feed(entity, self.topic, sequence, item)
        if batch.items:
            self._next = max(self._next, batch.next_sequence)


async def _wait(event: asyncio.Event, timeout: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):  # wait_for could swallow a cancellation
            await event.wait()
