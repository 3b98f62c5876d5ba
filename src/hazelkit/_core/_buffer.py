"""Bounded local buffers between a source of events and the task that reads them.

Clojurecast fed subscribers through core.async channels with fixed, dropping and sliding
buffers; hazelkit's :class:`MessageBuffer` has the same three policies:

- ``BLOCK``: a full buffer makes the producer wait (only producers that can wait, such as
  the reader of a reliable topic, may use it; a push from a callback that cannot wait
  raises).
- ``DROP``: a full buffer discards the *newest* item.
- ``SLIDE``: a full buffer discards the *oldest* item.

Every discarded item is counted in :meth:`MessageBuffer.statistics`.
"""

from __future__ import annotations

import asyncio
import enum
from collections import deque
from dataclasses import dataclass
from typing import Generic, TypeVar

from hazelkit._core._exceptions import ConfigurationError, OperationTimeoutError

T = TypeVar("T")


class Overflow(enum.Enum):
    """What a full subscription buffer does with one more message: ``BLOCK`` makes the
    producer wait, ``DROP`` drops the newest, ``SLIDE`` drops the oldest."""

    BLOCK = "block"
    DROP = "drop"
    SLIDE = "slide"


@dataclass(frozen=True, slots=True)
class BufferStatistics:
    """A snapshot of a buffer: how full it is and what it has delivered or discarded."""

    capacity: int
    buffered: int
    delivered: int
    dropped: int
    overflow: Overflow


class BufferClosed(Exception):
    """Raised by :meth:`MessageBuffer.get` once the buffer is closed and drained."""


class MessageBuffer(Generic[T]):
    """A bounded FIFO between one producer side and one consumer task, on one event loop."""

    def __init__(self, capacity: int = 1024, overflow: Overflow = Overflow.BLOCK) -> None:
        if capacity < 1:
            raise ConfigurationError(f"buffer capacity must be at least 1, not {capacity}")
        self.capacity = capacity
        self.overflow = Overflow(overflow)
        self._items: deque[T] = deque()
        self._readable = asyncio.Event()
        self._writable = asyncio.Event()
        self._writable.set()
        self._closed = False
        self._error: BaseException | None = None
        self._delivered = 0
        self._dropped = 0

    def put_nowait(self, item: T) -> bool:
        """Add ``item`` without waiting; False if it (or an older item) was discarded.

        With ``BLOCK`` and a full buffer this raises OverflowError: use :meth:`put`.
        """
        if self._closed:
            return False
        kept = True
        if len(self._items) >= self.capacity:
            if self.overflow is Overflow.BLOCK:
                raise OverflowError("buffer is full; a BLOCK buffer needs put(), which waits")
            self._dropped += 1
            kept = False
            if self.overflow is Overflow.DROP:
                return False
            self._items.popleft()
        self._items.append(item)
        self._readable.set()
        if len(self._items) >= self.capacity:
            self._writable.clear()
        return kept

    async def put(self, item: T) -> bool:
        """Add ``item``, waiting for room if the policy is ``BLOCK``."""
        while self.overflow is Overflow.BLOCK and len(self._items) >= self.capacity:
            if self._closed:
                return False
            await self._writable.wait()
        return self.put_nowait(item)

    async def get(self, timeout: float | None = None) -> T:
        """The oldest item, waiting up to ``timeout`` seconds (None: until one arrives).

        Raises BufferClosed once closed and empty (or the error given to :meth:`close`),
        and OperationTimeoutError when the timeout runs out.
        """
        while not self._items:
            if self._closed:
                if self._error is not None:
                    raise self._error
                raise BufferClosed
            self._readable.clear()
            try:
                async with asyncio.timeout(timeout):
                    await self._readable.wait()
            except TimeoutError:
                raise OperationTimeoutError(f"no message within {timeout:g} s") from None
        item = self._items.popleft()
        self._delivered += 1
        self._writable.set()
        return item

    def close(self, error: BaseException | None = None) -> None:
        """End the buffer: readers get what is buffered, then ``error`` or BufferClosed."""
        if not self._closed:
            self._closed = True
            self._error = error
            self._readable.set()
            self._writable.set()

    @property
    def closed(self) -> bool:
        return self._closed

    def statistics(self) -> BufferStatistics:
        return BufferStatistics(
            self.capacity, len(self._items), self._delivered, self._dropped, self.overflow
        )
