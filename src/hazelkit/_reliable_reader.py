"""The reader behind a reliable-topic subscription: in order, no silent gaps, no repeats.

The reader reads the ringbuffer in blocking batches and checks every batch against
what it read before:

- *Overwritten* (the first sequence returned is above the one asked for): the reader
  fell behind the head and lost that many messages: MessageLossError, or a
  :class:`MessageLoss` marker when the subscriber tolerates loss.
- *Diverged or reset*: each read starts at the last sequence already read (the
  *anchor*) and expects to see the same message there again. After a member failure
  the ringbuffer's surviving copy may lack the newest, not yet backed-up messages, so
  later ones get their sequences; if the anchor differs, or the ringbuffer now ends
  below it, the reader looks back over the last messages it read for the newest one
  still in place and resumes after it. Publishes that were not confirmed are retried
  by their publishers and dropped as repeats (see :mod:`hazelkit._envelope`), so every
  message is delivered once. If no message read before is in place any more, the
  ringbuffer was reset (every member holding it was lost): a loss of unknown size
  (``lost == -1``) is reported and reading resumes at its head.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from hazelkit._backends.protocol import MAX_READ_BATCH, ReadBatch, RingbufferStore
from hazelkit._buffer import Overflow
from hazelkit._codec import Codec
from hazelkit._envelope import Deduplicator, unpack
from hazelkit._exceptions import (
    BackendError,
    ClusterUnavailableError,
    CorruptDataError,
    HazelkitError,
    MessageLossError,
    OperationTimeoutError,
)
from hazelkit._subscription import Subscription

__all__ = ["MessageLoss", "Reader", "ReliableMessage", "ReliableSubscription"]

logger = logging.getLogger("hazelkit")
T = TypeVar("T")

#: How long one blocking read waits before the reader asks again.
READ_TIMEOUT = 5.0
#: How many messages read last are remembered to resume after a divergence.
HISTORY = 512
#: Errors after which the reader tries again (a member failing, a destroyed ringbuffer).
_TRANSIENT = (ClusterUnavailableError, OperationTimeoutError, BackendError)


@dataclass(frozen=True, slots=True)
class ReliableMessage(Generic[T]):
    """A message of a reliable topic, with its sequence in the topic's ringbuffer."""

    sequence: int
    value: T
    #: The publisher's wall-clock time when it published.
    publish_time: float
    #: The id of the publishing handle (each ReliableTopic handle has its own).
    publisher: str


@dataclass(frozen=True, slots=True)
class MessageLoss:
    """Delivered instead of an error when a subscriber tolerates loss: ``lost`` messages
    (-1: an unknown number, the ringbuffer was reset) were skipped, and reading goes on
    at ``next_sequence``."""

    lost: int
    next_sequence: int


class ReliableSubscription(Subscription[ReliableMessage[T] | MessageLoss]):
    """A subscription to a reliable topic; see :meth:`hazelkit.ReliableTopic.subscribe`."""

    def __init__(self, *, capacity: int, overflow: Overflow) -> None:
        super().__init__(capacity=capacity, overflow=overflow, started=False)
        #: The sequence the reader will read next (resume here with ``start=``).
        self.next_sequence = -1
        #: Messages skipped because they were overwritten (known counts only).
        self.lost = 0
        #: Repeats of retried publishes that were dropped.
        self.duplicates = 0


@dataclass(frozen=True, slots=True)
class _Read:
    sequence: int
    identity: tuple[str, int]


class Reader(Generic[T]):
    """Feeds one :class:`ReliableSubscription` from a ringbuffer (run as a Cluster task)."""

    def __init__(
        self,
        ring: RingbufferStore,
        codec: Codec,
        subscription: ReliableSubscription[T],
        *,
        topic: str,
        tolerate_loss: bool,
    ) -> None:
        self._ring = ring
        self._codec = codec
        self._sub = subscription
        self._topic = topic
        self._tolerate = tolerate_loss
        self._history: deque[_Read] = deque(maxlen=HISTORY)
        self._dedup = Deduplicator()
        self._next = 0
        self._batch = MAX_READ_BATCH
        self._anchored = True

    async def run(self, start: int | str) -> None:
        """Resolve ``start``, then deliver until the subscription closes or fails."""
        try:
            capacity = await self._retrying(self._ring.capacity)
            self._batch = min(MAX_READ_BATCH, capacity)
            self._anchored = capacity >= 2
            await self._begin(start)
            self._sub.mark_started()
            while not self._sub.closed:
                batch = await self._retrying(self._read)
                if batch.items:
                    await self._consume(batch)
                elif await self._retrying(self._ring.tail) < self._next - 1:
                    await self._resync()  # it shrank below what was read: reset or diverged
        except HazelkitError as error:
            self._sub.end(error)

    async def _retrying(self, operation: Any) -> Any:
        delay = 0.1
        while True:
            try:
                return await operation()
            except _TRANSIENT:
                logger.warning("reliable topic %r: retrying a read", self._topic, exc_info=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def _begin(self, start: int | str) -> None:
        head, tail = await self._retrying(self._ring.head), await self._retrying(self._ring.tail)
        if start == "oldest":
            first = head
        elif start == "latest":
            first = tail + 1
        elif isinstance(start, int) and start > tail + 1:
            # Resuming beyond the tail: the ringbuffer was reset since (or the number is
            # wrong); what was published in between is gone.
            self._set_next(tail + 1)
            await self._report_loss(-1, tail + 1, f"asked for sequence {start} beyond the tail")
            return
        else:
            first = int(start)
        self._set_next(first)
        if self._anchored and head < first <= tail + 1:
            # The message before the start anchors the first read (see _read).
            batch = await self._retrying(lambda: self._ring.read_many(first - 1, 1, 1, 0))
            if batch.sequences[:1] == [first - 1]:
                self._history.append(_Read(first - 1, unpack(batch.items[0]).identity))

    def _set_next(self, sequence: int) -> None:
        self._next = sequence
        self._sub.next_sequence = sequence

    async def _read(self) -> ReadBatch:
        anchor = self._history[-1] if self._history and self._anchored else None
        if anchor is not None and anchor.sequence == self._next - 1:
            return await self._ring.read_many(anchor.sequence, 2, self._batch, READ_TIMEOUT)
        return await self._ring.read_many(self._next, 1, self._batch, READ_TIMEOUT)

    async def _consume(self, batch: ReadBatch) -> None:
        first = batch.sequences[0]
        pairs = list(zip(batch.sequences, batch.items, strict=True))
        anchor = self._history[-1] if self._history else None
        if anchor is not None and first == anchor.sequence:
            if _identity(batch.items[0]) != anchor.identity:
                await self._resync()
                return
            pairs = pairs[1:]
        elif first < self._next:
            await self._resync()
            return
        elif first > self._next:
            await self._report_loss(first - self._next, first, "fell behind the head")
        for sequence, item in pairs:
            if self._sub.closed:
                return
            await self._deliver(sequence, item)

    async def _deliver(self, sequence: int, item: bytes) -> None:
        envelope = unpack(item)
        self._history.append(_Read(sequence, envelope.identity))
        self._set_next(sequence + 1)
        if self._dedup.is_repeat(envelope):
            self._sub.duplicates += 1
            return
        value = self._codec.decode(envelope.payload)
        await self._sub.push_wait(
            ReliableMessage(sequence, value, envelope.publish_time, envelope.publisher)
        )

    async def _report_loss(self, lost: int, next_sequence: int, why: str) -> None:
        if lost > 0:
            self._sub.lost += lost
        if not self._tolerate:
            what = (
                f"{lost} messages were lost"
                if lost >= 0
                else "an unknown number of messages may be lost"
            )
            raise MessageLossError(
                f"subscriber of reliable topic {self._topic!r} {why}: {what}; reading can"
                f" resume at sequence {next_sequence}",
                lost=lost,
                next_sequence=next_sequence,
            )
        await self._sub.push_wait(MessageLoss(lost, next_sequence))

    async def _resync(self) -> None:
        """Resume after the newest message read before that is still in place."""
        head = await self._retrying(self._ring.head)
        tail = await self._retrying(self._ring.tail)
        history = list(self._history)
        low = max(head, history[0].sequence) if history else head
        high = min(tail, history[-1].sequence) if history else tail
        if history and low <= high:
            count = min(high - low + 1, MAX_READ_BATCH)
            batch = await self._retrying(lambda: self._ring.read_many(low, 0, count, 0))
            in_place = dict(zip(batch.sequences, map(_identity, batch.items), strict=True))
            for read in reversed(history):
                if in_place.get(read.sequence) == read.identity:
                    logger.warning(
                        "reliable topic %r diverged after sequence %d (member failure);"
                        " re-reading from there and dropping repeats",
                        self._topic,
                        read.sequence,
                    )
                    while self._history and self._history[-1].sequence > read.sequence:
                        self._history.pop()
                    self._set_next(read.sequence + 1)
                    return
        self._history.clear()
        self._set_next(head)
        await self._report_loss(-1, head, "found its ringbuffer reset")


def _identity(item: bytes) -> tuple[str, int] | None:
    try:
        return unpack(item).identity
    except CorruptDataError:
        return None
