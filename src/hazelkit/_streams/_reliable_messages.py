"""What a reliable-topic subscription yields: messages with sequences, and loss markers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from hazelkit._core._buffer import Overflow
from hazelkit._core._exceptions import MessageLossError, UndecodableError
from hazelkit._core._subscription import Subscription

__all__ = ["MessageLoss", "ReliableMessage", "ReliableSubscription"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ReliableMessage(Generic[T]):
    """A message of a reliable topic, with its sequence in the topic's ringbuffer."""

    sequence: int
    value: T
    #: The publisher's wall-clock time when it published.
    publish_time: float
    #: The publisher id: one per topic name and publishing Cluster (node).
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
        #: Where to resume (``start=``) to get exactly what this subscription has not
        #: handed out yet: the sequence after the last message (or loss) you took, or
        #: where it started before you took any (-1 until then). Messages still in the
        #: local buffer are not skipped by a resume from here.
        self.next_sequence = -1
        #: Messages skipped because they were overwritten (known counts only).
        self.lost = 0
        #: Repeats of retried publishes that were dropped.
        self.duplicates = 0
        #: Messages this node could not decode that were skipped (``on_undecodable``).
        self.undecodable = 0
        self._handed_out = False

    def begin_at(self, sequence: int) -> None:
        """Where the reader starts; :attr:`next_sequence` until an item is taken."""
        if not self._handed_out:
            self.next_sequence = sequence

    async def get(self, timeout: float | None = None) -> ReliableMessage[T] | MessageLoss:
        """The next message or loss marker (see :meth:`Subscription.get`); moves
        :attr:`next_sequence` past it."""
        try:
            item = await super().get(timeout)
        except MessageLossError as error:
            self.next_sequence = error.next_sequence
            raise
        except UndecodableError as error:
            if error.sequence is not None:
                self.next_sequence = error.sequence + 1
            raise
        self._handed_out = True
        if isinstance(item, ReliableMessage):
            self.next_sequence = item.sequence + 1
        else:
            self.next_sequence = item.next_sequence
        return item
