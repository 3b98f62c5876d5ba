"""BlockingQueue: a Queue that blocks, shaped like ``queue.Queue``."""

from __future__ import annotations

from typing import Any, TypeVar, overload

from hazelkit._blocking._handle import BlockingItems
from hazelkit._blocking._runner import Runner
from hazelkit._core._exceptions import CapacityError, OperationTimeoutError, QueueEmpty, QueueFull
from hazelkit._structures._queue import Queue

__all__ = ["BlockingQueue"]

T = TypeVar("T")
D = TypeVar("D")
_MISSING: Any = object()


class BlockingQueue(BlockingItems[T]):
    """A :class:`~hazelkit.Queue` that blocks, usable where a ``queue.Queue`` was.

    ``put``/``get`` take ``block`` and ``timeout`` and raise ``queue.Full`` and
    ``queue.Empty`` exactly as ``queue.Queue`` does (chained from hazelkit's
    CapacityError or OperationTimeoutError); ``put_nowait``/``get_nowait``, ``qsize``,
    ``empty``, ``full`` and ``maxsize`` too. ``task_done`` and ``join`` are not offered:
    the cluster does not track unfinished work. The other methods are those of the
    async Queue, without ``await``. As with the async Queue, an item taken by a
    consumer that then dies is lost; so is one taken by a ``get`` that was interrupted
    (Ctrl-C) while waiting, since the wait goes on in the cluster's thread until it
    ends: prefer a ``timeout``.
    """

    def __init__(self, run: Runner, aqueue: Queue[T]) -> None:
        super().__init__(run, aqueue)
        self.async_queue = aqueue

    @property
    def maxsize(self) -> int:
        """The capacity this handle asked for (0: unbounded, as in ``queue.Queue``)."""
        return self.async_queue.capacity or 0

    # -- queue.Queue ------------------------------------------------------------------

    def put(self, item: T, block: bool = True, timeout: float | None = None) -> None:
        """Add ``item``, waiting for room up to ``timeout`` (None: as long as it takes);
        ``queue.Full`` if there is none (then nothing was added)."""
        if not block:
            self.put_nowait(item)
            return
        try:
            self._run(self.async_queue.put, item, timeout=timeout)
        except OperationTimeoutError as error:
            raise QueueFull(str(error)) from error

    def put_nowait(self, item: T) -> None:
        """Add ``item`` without waiting; ``queue.Full`` if the queue is full."""
        try:
            self._run(self.async_queue.put_nowait, item)
        except CapacityError as error:
            raise QueueFull(str(error)) from error

    def get(self, block: bool = True, timeout: float | None = None) -> T:
        """Take the head item, waiting up to ``timeout`` (None: as long as it takes);
        ``queue.Empty`` if none came."""
        if not block:
            return self.get_nowait()
        try:
            return self._run(self.async_queue.get, timeout=timeout)
        except OperationTimeoutError as error:
            raise QueueEmpty(str(error)) from error

    def get_nowait(self) -> T:
        """Take the head item without waiting; ``queue.Empty`` if there is none."""
        item = self._run(self.async_queue.poll, default=_MISSING)
        if item is _MISSING:
            raise QueueEmpty(f"queue {self.name!r} is empty")
        result: T = item
        return result

    def qsize(self) -> int:
        """The number of items (a snapshot)."""
        return self.size()

    def empty(self) -> bool:
        """Whether the queue is empty right now."""
        return self.qsize() == 0

    def full(self) -> bool:
        """Whether the queue is full right now."""
        return self._run(self.async_queue.remaining_capacity) == 0

    # -- the Queue API, blocking ------------------------------------------------------

    def offer(self, item: T, *, timeout: float = 0) -> bool:
        """See :meth:`hazelkit.Queue.offer`."""
        return self._run(self.async_queue.offer, item, timeout=timeout)

    @overload
    def poll(self, *, timeout: float = 0) -> T | None: ...
    @overload
    def poll(self, *, timeout: float = 0, default: D) -> T | D: ...
    def poll(self, *, timeout: float = 0, default: Any = None) -> Any:
        """See :meth:`hazelkit.Queue.poll`."""
        return self._run(self.async_queue.poll, timeout=timeout, default=default)

    def peek(self, default: Any = None) -> Any:
        """See :meth:`hazelkit.Queue.peek`."""
        return self._run(self.async_queue.peek, default)

    def drain(self, max_items: int | None = None) -> list[T]:
        """See :meth:`hazelkit.Queue.drain`."""
        return self._run(self.async_queue.drain, max_items)

    def remove(self, item: T) -> bool:
        """See :meth:`hazelkit.Queue.remove`."""
        return self._run(self.async_queue.remove, item)

    def contains(self, item: T) -> bool:
        """See :meth:`hazelkit.Queue.contains`."""
        return self._run(self.async_queue.contains, item)

    def remaining_capacity(self) -> int:
        """See :meth:`hazelkit.Queue.remaining_capacity`."""
        return self._run(self.async_queue.remaining_capacity)
