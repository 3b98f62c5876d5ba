"""Blocking wrappers of topics and reliable topics; subscriptions are blocking iterators."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from hazelkit._blocking._interrupt import call_interruptibly
from hazelkit._blocking._runner import BlockingIterator, Runner
from hazelkit._core._buffer import Overflow
from hazelkit._core._subscription import Subscription
from hazelkit._streams._reliable_reader import MessageLoss, ReliableMessage, ReliableSubscription
from hazelkit._streams._reliable_topic import ReliableTopic, Start
from hazelkit._streams._topic import Message, Topic

__all__ = [
    "BlockingReliableSubscription",
    "BlockingReliableTopic",
    "BlockingSubscription",
    "BlockingTopic",
]

T = TypeVar("T")
S = TypeVar("S", bound=Subscription[Any])


class BlockingSubscription(BlockingIterator[T]):
    """A blocking iterator over a subscription whose waits an interrupt (Ctrl-C) stops.

    An interrupted ``next()`` or :meth:`get` takes no message: the next call gets it.
    """

    def __next__(self) -> T:
        try:
            return call_interruptibly(self._run, self._subscription.get)
        except StopAsyncIteration:
            raise StopIteration from None

    def get(self, timeout: float | None = None) -> T:
        """The next item, waiting up to ``timeout`` seconds (OperationTimeoutError after)."""
        return call_interruptibly(self._run, self._subscription.get, timeout)


def start_subscription(run: Runner, subscribe: Callable[[], S]) -> S:
    """Create a subscription on the loop and wait until its source has started.

    If that fails or is interrupted (Ctrl-C), the subscription is closed again.
    """

    async def started() -> S:
        subscription = subscribe()
        try:
            await subscription.wait_started()
        except BaseException:
            await subscription.aclose()
            raise
        return subscription

    return call_interruptibly(run, started, undo=lambda subscription: subscription.aclose())


class BlockingTopic(Generic[T]):
    """A :class:`~hazelkit.Topic` that blocks; same guarantees (best effort)."""

    def __init__(self, run: Runner, topic: Topic[T]) -> None:
        self._run = run
        self.async_topic = topic
        self.name = topic.name

    def publish(self, value: T) -> None:
        """See :meth:`hazelkit.Topic.publish`."""
        self._run(self.async_topic.publish, value)

    def publish_all(self, values: Iterable[T]) -> None:
        """See :meth:`hazelkit.Topic.publish_all`."""
        self._run(self.async_topic.publish_all, list(values))

    def send(self, value: T) -> None:
        """The sink interface: the same as :meth:`publish`."""
        self.publish(value)

    def subscribe(
        self, *, buffer: int = 1024, overflow: Overflow | str = Overflow.SLIDE
    ) -> BlockingSubscription[Message[T]]:
        """See :meth:`hazelkit.Topic.subscribe`; returns once the listener is registered.
        Close the iterator (or use ``with``) to stop receiving."""

        def subscribe() -> Subscription[Message[T]]:
            return self.async_topic.subscribe(buffer=buffer, overflow=overflow)

        return BlockingSubscription(self._run, start_subscription(self._run, subscribe))

    def destroy(self) -> None:
        """See :meth:`hazelkit.Topic.destroy`."""
        self._run(self.async_topic.destroy)

    def __repr__(self) -> str:
        return f"<BlockingTopic {self.name!r}>"


class BlockingReliableSubscription(BlockingSubscription[ReliableMessage[T] | MessageLoss]):
    """A blocking iterator over a reliable-topic subscription, with its position."""

    def __init__(self, run: Runner, subscription: ReliableSubscription[T]) -> None:
        super().__init__(run, subscription)
        self._reliable = subscription

    @property
    def next_sequence(self) -> int:
        """See :attr:`hazelkit.ReliableSubscription.next_sequence`: resume here to get
        exactly what this iterator has not handed out yet."""
        return self._reliable.next_sequence

    @property
    def lost(self) -> int:
        """See :attr:`hazelkit.ReliableSubscription.lost`."""
        return self._reliable.lost

    @property
    def duplicates(self) -> int:
        """See :attr:`hazelkit.ReliableSubscription.duplicates`."""
        return self._reliable.duplicates


class BlockingReliableTopic(Generic[T]):
    """A :class:`~hazelkit.ReliableTopic` that blocks; same guarantees."""

    def __init__(self, run: Runner, topic: ReliableTopic[T]) -> None:
        self._run = run
        self.async_topic = topic
        self.name = topic.name

    def publish(self, value: T, *, timeout: float | None = None) -> int:
        """See :meth:`hazelkit.ReliableTopic.publish`."""
        return self._run(self.async_topic.publish, value, timeout=timeout)

    def publish_all(self, values: Iterable[T], *, timeout: float | None = None) -> int:
        """See :meth:`hazelkit.ReliableTopic.publish_all`."""
        return self._run(self.async_topic.publish_all, list(values), timeout=timeout)

    def send(self, value: T) -> int:
        """The sink interface: the same as :meth:`publish`."""
        return self.publish(value)

    def subscribe(
        self,
        start: Start = "latest",
        *,
        tolerate_loss: bool = False,
        buffer: int = 1024,
        overflow: Overflow | str = Overflow.BLOCK,
    ) -> BlockingReliableSubscription[T]:
        """See :meth:`hazelkit.ReliableTopic.subscribe`; returns once its start is fixed."""

        def subscribe() -> ReliableSubscription[T]:
            return self.async_topic.subscribe(
                start, tolerate_loss=tolerate_loss, buffer=buffer, overflow=overflow
            )

        subscription = start_subscription(self._run, subscribe)
        return BlockingReliableSubscription(self._run, subscription)

    def head(self) -> int:
        """See :meth:`hazelkit.ReliableTopic.head`."""
        return self._run(self.async_topic.head)

    def tail(self) -> int:
        """See :meth:`hazelkit.ReliableTopic.tail`."""
        return self._run(self.async_topic.tail)

    def destroy(self) -> None:
        """See :meth:`hazelkit.ReliableTopic.destroy`."""
        self._run(self.async_topic.destroy)

    def __repr__(self) -> str:
        return f"<BlockingReliableTopic {self.name!r}>"
