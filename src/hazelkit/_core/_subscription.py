"""Subscriptions: async iterators over a bounded buffer, closed by their owner or reader."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine, Generator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._buffer import BufferClosed, BufferStatistics, MessageBuffer, Overflow
from hazelkit._core._exceptions import HazelkitError, OperationTimeoutError

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

T = TypeVar("T")
S = TypeVar("S", bound="Subscription[Any]")


class _Raise:
    """An error delivered in the place of one item."""

    __slots__ = ("error",)

    def __init__(self, error: HazelkitError) -> None:
        self.error = error


class Subscription(Generic[T]):
    """An async iterator of events or messages, fed through a bounded local buffer.

    Iteration ends when the subscription is closed: by :meth:`aclose` (or leaving its
    ``async with`` block), or when the Cluster that owns it closes. Use it as::

        async with cluster.membership_events() as events:
            async for event in events:
                ...

    A subscription whose source starts in the background (a topic registering its
    listener, a reliable topic finding where to start) can be iterated at once;
    ``await subscription`` or ``async with subscription`` first waits until the source
    has started, so that everything published afterwards is seen. If the source cannot
    start, they raise its error (and iteration raises it too).
    """

    def __init__(
        self,
        *,
        capacity: int = 1024,
        overflow: Overflow = Overflow.SLIDE,
        on_close: Callable[[], Awaitable[None]] | None = None,
        started: bool = True,
    ) -> None:
        self._buffer: MessageBuffer[T | _Raise] = MessageBuffer(capacity, overflow)
        self._on_close = on_close
        self._started = asyncio.Event()
        self._start_error: BaseException | None = None
        if started:
            self._started.set()

    # -- producer side ------------------------------------------------------------------

    def push(self, item: T) -> bool:
        """Offer one item without waiting; the overflow policy decides what a full buffer
        keeps. Returns False if something was discarded."""
        return self._buffer.put_nowait(item)

    async def push_wait(self, item: T) -> bool:
        """Offer one item, waiting for room when the policy is BLOCK."""
        return await self._buffer.put(item)

    def push_error(self, error: HazelkitError) -> bool:
        """Deliver ``error`` in place of one item: the reader's next ``get`` (or ``async
        for``) raises it, and reading may go on after it (the subscription stays open).
        For an item that cannot be decoded, so its neighbours are not lost with it."""
        return self._buffer.put_nowait(_Raise(error))

    async def push_error_wait(self, error: HazelkitError) -> bool:
        """:meth:`push_error`, waiting for room when the policy is BLOCK."""
        return await self._buffer.put(_Raise(error))

    def end(self, error: BaseException | None = None) -> None:
        """End iteration after what is buffered; with ``error``, the reader gets it.

        Ending a subscription whose source had not started yet makes waiting for the
        start raise ``error`` (or return, without one)."""
        if not self._started.is_set():
            self._start_error = error
            self._started.set()
        self._buffer.close(error)

    def mark_started(self) -> None:
        """Tell waiters of :meth:`wait_started` that the source now delivers."""
        self._started.set()

    # -- start-up -----------------------------------------------------------------------

    async def wait_started(self, timeout: float | None = None) -> None:
        """Wait until the source delivers; raise its error if it could not start.

        Raises OperationTimeoutError if ``timeout`` seconds pass first.
        """
        if not self._started.is_set():
            try:
                async with asyncio.timeout(timeout):
                    await self._started.wait()
            except TimeoutError:
                raise OperationTimeoutError(
                    f"subscription did not start within {timeout:g} s"
                ) from None
        if self._start_error is not None:
            raise self._start_error

    def __await__(self) -> Generator[Any, None, Self]:
        return self._started_self().__await__()

    async def _started_self(self) -> Self:
        await self.wait_started()
        return self

    # -- consumer side ------------------------------------------------------------------

    async def get(self, timeout: float | None = None) -> T:
        """The next item, waiting up to ``timeout`` seconds.

        Raises StopAsyncIteration once the subscription has ended and is drained, and
        OperationTimeoutError if the timeout runs out first. An item the source could not
        deliver (one that cannot be decoded) raises its error (UndecodableError) here, in
        its place; the next call goes on with the items after it.
        """
        try:
            item = await self._buffer.get(timeout)
        except BufferClosed:
            raise StopAsyncIteration from None
        if isinstance(item, _Raise):
            raise item.error
        return item

    def __aiter__(self) -> Subscription[T]:
        return self

    async def __anext__(self) -> T:
        return await self.get()

    async def aclose(self) -> None:
        """Stop receiving; items still buffered are discarded. Idempotent."""
        self.end()
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            await on_close()

    async def __aenter__(self) -> Self:
        try:
            await self.wait_started()
        except BaseException:
            await self.aclose()
            raise
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
        """True once the subscription has ended (by its reader or its source)."""
        return self._buffer.closed

    def statistics(self) -> BufferStatistics:
        """How full the local buffer is, and how many items were delivered or dropped."""
        return self._buffer.statistics()


def background_subscription(
    cluster: Cluster,
    feed: Callable[[S], Coroutine[Any, Any, None]],
    subscription: S,
    *,
    name: str,
) -> S:
    """Start ``feed(subscription)`` as a task of ``cluster`` and return ``subscription``.

    Create the subscription with ``started=False``; ``feed`` calls
    :meth:`Subscription.mark_started` once it delivers, and pushes items. Closing the
    subscription cancels the task; the subscription ends when the task ends for any
    reason (the Cluster closing included), even if it never ran. If the task fails,
    iteration (and waiting for the start) raises its error, wrapped in a HazelkitError
    unless it is one: a subscription never ends silently because its source crashed.
    """
    task: asyncio.Task[None] | None = None

    async def stop() -> None:
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    subscription._on_close = stop
    task = lowlevel.spawn(cluster, feed(subscription), name=name)
    task.add_done_callback(lambda done: subscription.end(_failure(done, name)))
    return subscription


def _failure(task: asyncio.Task[None], name: str) -> HazelkitError | None:
    """What ended a feed task, as the subscription's error: None if it simply ended or
    was cancelled, its error if a hazelkit one, otherwise that error wrapped in one."""
    if task.cancelled() or task.exception() is None:
        return None
    error = task.exception()
    if isinstance(error, HazelkitError):
        return error
    wrapped = HazelkitError(f"the source of this subscription ({name}) failed: {error!r}")
    wrapped.__cause__ = error
    return wrapped


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
