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
  below it, the reader looks back over the last :data:`HISTORY` messages it read for
  the newest one still in place and resumes after it. Publishes that were not
  confirmed are retried by their publishers and dropped as repeats (see
  :mod:`hazelkit._streams._envelope`), so every message is delivered once.
- If no message read before is in place any more, the ringbuffer was reset (every
  member holding it was lost): a loss of unknown size (``lost == -1``) is reported and
  reading resumes at its head. One exception: a subscriber that began on an empty
  ringbuffer (nothing stored from its start on, no message before it), read fewer
  than :data:`HISTORY` messages, and finds its start still covered, cannot tell a
  failover that lost everything it read before it was backed up from a reset; it
  takes it for the failover (far more likely: a reset needs every copy lost at once)
  and re-reads from its start, dropping repeats.

A subscription that starts at a sequence also reads up to :data:`PRIMING` messages
before it (without delivering them), so a repeat of one of those, stored again by a
publisher retrying after a lost reply, is dropped too; repeats of older messages are
not recognised. ``"oldest"`` starts wherever the head is at the first read (the head
may move on between the start and that read on a busy, full ringbuffer).
"""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from hazelkit._backends.protocol import MAX_READ_BATCH, ReadBatch, RingbufferStore
from hazelkit._codec import Codec
from hazelkit._core._exceptions import (
    BackendError,
    ClusterUnavailableError,
    CorruptDataError,
    HazelkitError,
    MessageLossError,
    OperationTimeoutError,
    SerializationError,
    UndecodableError,
)
from hazelkit._streams._envelope import Deduplicator, unpack
from hazelkit._streams._publishing import node_publisher
from hazelkit._streams._reliable_messages import MessageLoss, ReliableMessage, ReliableSubscription

__all__ = ["MessageLoss", "Reader", "ReliableMessage", "ReliableSubscription"]

logger = logging.getLogger("hazelkit")
T = TypeVar("T")

#: How long one blocking read waits before the reader asks again (and checks whether the
#: ringbuffer shrank below what it read).
READ_TIMEOUT = 15.0
#: How many messages read last are remembered to resume after a divergence.
HISTORY = 512
#: How many messages before an explicit start sequence are read (not delivered) so that
#: repeats of them, stored again by a retried publish, are dropped after a resume.
PRIMING = HISTORY
#: Errors after which the reader tries again (a member failing, a destroyed ringbuffer).
_TRANSIENT = (ClusterUnavailableError, OperationTimeoutError, BackendError)
#: How long the reader retries an operation that keeps failing before the subscription
#: ends with the error (resume later at its ``next_sequence``).
GIVE_UP_AFTER = 60.0


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
        skip_undecodable: Callable[[int, bytes, SerializationError], Awaitable[None]] | None = None,
        place: bytes | None = None,
    ) -> None:
        self._skip_undecodable = skip_undecodable
        self._place = place
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
        #: Where reading began if the ringbuffer held nothing from there on and nothing
        #: before it anchored the history, as long as the history holds everything read
        #: since (None otherwise): see _resync.
        self._origin: int | None = None
        #: Started at "oldest": the first batch may begin above the head read at start.
        self._floating = False

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
        """``await operation()``, retried after transient errors for up to
        :data:`GIVE_UP_AFTER` seconds, then the last error ends the subscription."""
        delay, failing_since = 0.1, time.monotonic()
        while True:
            try:
                return await operation()
            except _TRANSIENT:
                if time.monotonic() - failing_since > GIVE_UP_AFTER:
                    raise
                logger.warning("reliable topic %r: retrying a read", self._topic, exc_info=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def _begin(self, start: int | str) -> None:
        head, tail = await self._retrying(self._ring.head), await self._retrying(self._ring.tail)
        if start == "oldest":
            first, self._floating = head, True
        elif start == "latest":
            first = tail + 1
        elif isinstance(start, int) and start > tail + 1:
            # Resuming beyond the tail: the ringbuffer was reset since (or the number is
            # wrong); what was published in between is gone.
            self._set_next(tail + 1)
            self._sub.begin_at(tail + 1)
            self._origin = tail + 1  # nothing stored from there on, and no anchor
            await self._report_loss(-1, tail + 1, f"asked for sequence {start} beyond the tail")
            return
        else:
            first = int(start)
        self._set_next(first)
        self._sub.begin_at(first)
        if head < first <= tail + 1:
            # Resuming from a sequence: the messages before it were delivered already,
            # so their repeats must be dropped too. Otherwise one message anchors.
            await self._look_back(first, head, PRIMING if isinstance(start, int) else 1)
        if not self._history and first == tail + 1:
            self._origin = first  # began on an empty ringbuffer, with no anchor

    async def _look_back(self, first: int, head: int, count: int) -> None:
        """Take up to ``count`` messages before ``first`` as read, without delivering
        them: the last anchors the first read, all prime the deduplicator."""
        low = max(head, first - min(count, self._batch))
        batch = await self._retrying(lambda: self._ring.read_many(low, 0, first - low, 0))
        for sequence, item in zip(batch.sequences, batch.items, strict=True):
            identity = _identity(item)
            if sequence >= first or not identity[0]:
                continue
            self._dedup.is_repeat(unpack(item))  # a hazelkit message: identity[0] is set
            self._remember(sequence, identity)

    def _set_next(self, sequence: int) -> None:
        self._next = sequence

    def _remember(self, sequence: int, identity: tuple[str, int]) -> None:
        if len(self._history) == self._history.maxlen:
            self._origin = None  # the oldest read is forgotten: the history is partial
        self._history.append(_Read(sequence, identity))

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
        elif first > self._next and self._floating:
            # "oldest" on a busy ringbuffer: the head moved on since it was read; the
            # oldest message now is where this subscriber begins.
            self._set_next(first)
            self._sub.begin_at(first)
            self._origin = None if self._origin is None else first
        elif first > self._next:
            await self._report_loss(first - self._next, first, "fell behind the head")
        self._floating = False
        for sequence, item in pairs:
            if self._sub.closed:
                return
            await self._deliver(sequence, item)

    async def _deliver(self, sequence: int, item: bytes) -> None:
        self._remember(sequence, _identity(item))
        self._set_next(sequence + 1)
        try:
            envelope = unpack(item)
        except CorruptDataError as error:  # not a hazelkit message: another client's
            await self._undecodable(sequence, item, error)
            return
        if self._dedup.is_repeat(envelope):
            self._sub.duplicates += 1
            return
        try:
            value = self._codec.decode(envelope.payload, self._place)
        except SerializationError as error:
            await self._undecodable(sequence, envelope.payload, error)
            return
        await self._sub.push_wait(
            ReliableMessage(sequence, value, envelope.publish_time, node_publisher(envelope))
        )

    async def _undecodable(self, sequence: int, data: bytes, error: SerializationError) -> None:
        """Report (or, with ``on_undecodable="skip"``, park and count) a message this
        node cannot decode; the messages after it go on either way."""
        what = f"message {sequence} of reliable topic {self._topic!r}"
        if self._skip_undecodable is None:
            report = UndecodableError(
                f"{what} could not be decoded here ({error}); it stays in the ringbuffer"
                f" {self._ring.name!r} at sequence {sequence} (and its bytes are in .data)",
                data=data,
                stored_in=self._ring.name,
                sequence=sequence,
            )
            report.__cause__ = error
            await self._sub.push_error_wait(report)
            return
        self._sub.undecodable += 1
        await self._skip_undecodable(sequence, data, error)

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
        found = await self._newest_in_place(head, tail)
        if found is not None:
            logger.warning(
                "reliable topic %r diverged after sequence %d (member failure);"
                " re-reading from there and dropping repeats",
                self._topic,
                found,
            )
            while self._history and self._history[-1].sequence > found:
                self._history.pop()
            self._set_next(found + 1)
        elif self._origin is not None and head <= self._origin <= tail + 1:
            # Nothing read is in place, but everything read came after a point the
            # ringbuffer still covers: a failover lost it all before it was backed up
            # (a subscriber that began on an empty ringbuffer). Its publishers store
            # it again; re-read from that point and drop the repeats.
            logger.warning(
                "reliable topic %r diverged from sequence %d on (member failure);"
                " re-reading from there and dropping repeats",
                self._topic,
                self._origin,
            )
            self._history.clear()
            self._set_next(self._origin)
        else:
            self._history.clear()
            self._set_next(head)
            self._origin = head if tail < head else None
            await self._report_loss(-1, head, "found its ringbuffer reset")

    async def _newest_in_place(self, head: int, tail: int) -> int | None:
        """The sequence of the newest message read before that is still stored there."""
        history = list(self._history)
        if not history:
            return None
        low, high = max(head, history[0].sequence), min(tail, history[-1].sequence)
        if low > high:
            return None
        count = min(high - low + 1, self._batch)
        batch = await self._retrying(lambda: self._ring.read_many(low, 0, count, 0))
        in_place = dict(zip(batch.sequences, map(_identity, batch.items), strict=True))
        for read in reversed(history):
            if in_place.get(read.sequence) == read.identity:
                return read.sequence
        return None


def _identity(item: bytes) -> tuple[str, int]:
    """Who published ``item`` and its number; for an item that is not a hazelkit message,
    an identity made of its bytes (so it anchors and compares like any other)."""
    try:
        return unpack(item).identity
    except CorruptDataError:
        return ("", zlib.crc32(item))
