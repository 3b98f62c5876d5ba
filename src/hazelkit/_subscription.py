"""Subscriptions: async iterators over a bounded buffer, closed by their owner or reader."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Generic, TypeVar

from hazelkit._buffer import BufferClosed, BufferStatistics, MessageBuffer, Overflow

T = TypeVar("T")


class Subscription(Generic[T]):
    """An async iterator of events or messages, fed through a bounded local buffer.

    Iteration ends when the subscription is closed: by :meth:`aclose` (or leaving its
    ``async with`` block), or when the Cluster that owns it closes. Use it as::

        async with cluster.membership_events() as events:
            async for event in events:
                ...
    """

    def __init__(
        self,
        *,
        capacity: int = 1024,
        overflow: Overflow = Overflow.SLIDE,
        on_close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._buffer: MessageBuffer[T] = MessageBuffer(capacity, overflow)
        self._on_close = on_close

    # -- producer side ------------------------------------------------------------------

    def push(self, item: T) -> bool:
        """Offer one item without waiting; the overflow policy decides what a full buffer
        keeps. Returns False if something was discarded."""
        return self._buffer.put_nowait(item)

    async def push_wait(self, item: T) -> bool:
        """Offer one item, waiting for room when the policy is BLOCK."""
        return await self._buffer.put(item)

    def end(self, error: BaseException | None = None) -> None:
        """End iteration after what is buffered; with ``error``, the reader gets it."""
        self._buffer.close(error)

    # -- consumer side ------------------------------------------------------------------

    async def get(self, timeout: float | None = None) -> T:
        """The next item, waiting up to ``timeout`` seconds.

        Raises StopAsyncIteration once the subscription has ended and is drained, and
        OperationTimeoutError if the timeout runs out first.
        """
        try:
            return await self._buffer.get(timeout)
        except BufferClosed:
            raise StopAsyncIteration from None

    def __aiter__(self) -> Subscription[T]:
        return self

    async def __anext__(self) -> T:
        return await self.get()

    async def aclose(self) -> None:
        """Stop receiving; items still buffered are discarded. Idempotent."""
        self._buffer.close()
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            await on_close()

    async def __aenter__(self) -> Subscription[T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def closed(self) -> bool:
        return self._buffer.closed

    def statistics(self) -> BufferStatistics:
        """How full the local buffer is, and how many items were delivered or dropped."""
        return self._buffer.statistics()


class EventHub(Generic[T]):
    """Fans events out to every open subscription (each with its own buffer)."""

    def __init__(self) -> None:
        self._subscriptions: list[Subscription[T]] = []
        self._closed = False

    def subscribe(
        self, capacity: int = 256, overflow: Overflow = Overflow.SLIDE
    ) -> Subscription[T]:
        subscription: Subscription[T] = Subscription(
            capacity=capacity, overflow=overflow, on_close=None
        )

        async def remove() -> None:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)

        subscription._on_close = remove
        if self._closed:
            subscription.end()
        else:
            self._subscriptions.append(subscription)
        return subscription

    def publish(self, event: T) -> None:
        for subscription in list(self._subscriptions):
            subscription.push(event)

    def close(self) -> None:
        """End every subscription (they drain what they hold, then stop)."""
        self._closed = True
        for subscription in self._subscriptions:
            subscription.end()
        self._subscriptions.clear()
