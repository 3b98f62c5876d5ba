"""What a reliable-topic subscription yields: messages with sequences, and loss markers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from hazelkit._buffer import Overflow
from hazelkit._subscription import Subscription

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
        #: The sequence the reader will read next (resume here with ``start=``).
        self.next_sequence = -1
        #: Messages skipped because they were overwritten (known counts only).
        self.lost = 0
        #: Repeats of retried publishes that were dropped.
        self.duplicates = 0
