"""Embedded ringbuffers, topics and id generators."""

from __future__ import annotations

import functools
import time
from collections import deque
from collections.abc import Sequence

from hazelkit._backends.memory._grid import (
    NOT_YET,
    Grid,
    Listeners,
    Registration,
    Signal,
    _NotYet,
    cooperative,
    wait_until,
)
from hazelkit._backends.protocol import (
    MessageCallback,
    OverflowPolicy,
    RawMessage,
    ReadBatch,
    check_read,
)
from hazelkit._core._clock import Clock
from hazelkit._core._exceptions import ConfigurationError

DEFAULT_RINGBUFFER_CAPACITY = 10_000


class RingbufferState:
    def __init__(self, capacity: int, ttl: float | None, clock: Clock) -> None:
        self.clock = clock
        self.capacity = capacity
        self.ttl = ttl or None
        self.items: deque[bytes] = deque()
        self.added: deque[float] = deque()  # monotonic time each item was added
        self.head = 0  # sequence of items[0]
        self.changed = Signal()

    @property
    def tail(self) -> int:
        return self.head + len(self.items) - 1

    def drop_expired(self) -> None:
        """With a TTL, items older than it leave the head (the gap is visible to readers)."""
        if self.ttl is None:
            return
        cutoff = self.clock.monotonic() - self.ttl
        while self.added and self.added[0] <= cutoff:
            self.items.popleft()
            self.added.popleft()
            self.head += 1

    def has_room(self, count: int) -> bool:
        """Hazelcast's FAIL rule: without a TTL an old item can always be overwritten;
        with one, only items older than the TTL can."""
        self.drop_expired()
        return self.ttl is None or len(self.items) + count <= self.capacity

    def append(self, item: bytes) -> None:
        if len(self.items) == self.capacity:
            self.items.popleft()
            self.added.popleft()
            self.head += 1
        self.items.append(item)
        self.added.append(self.clock.monotonic())


@cooperative
class MemoryRingbuffer:
    """A ringbuffer of the embedded grid; see :class:`~hazelkit._backends.protocol.RingbufferStore`.

    Reads follow Hazelcast: a start below the head is moved up to the head (the gap shows
    in the returned sequences), a start beyond the tail waits at ``tail + 1``.
    """

    def __init__(
        self, grid: Grid, name: str, capacity: int | None = None, ttl: float | None = None
    ) -> None:
        self._grid = grid
        self.name = name
        self._capacity = capacity
        self._ttl = ttl

    def _state(self) -> RingbufferState:
        capacity = self._capacity or DEFAULT_RINGBUFFER_CAPACITY
        state = self._grid.structure(
            "ringbuffer", self.name, lambda: RingbufferState(capacity, self._ttl, self._grid.clock)
        )
        if self._capacity is not None and state.capacity != self._capacity:
            raise ConfigurationError(
                f"ringbuffer {self.name!r} already exists with capacity {state.capacity}, "
                f"not {self._capacity}"
            )
        return state

    async def capacity(self) -> int:
        return self._state().capacity

    def _current(self) -> RingbufferState:
        state = self._state()
        state.drop_expired()
        return state

    async def size(self) -> int:
        with self._grid.lock:
            return len(self._current().items)

    async def head(self) -> int:
        with self._grid.lock:
            return self._current().head

    async def tail(self) -> int:
        with self._grid.lock:
            return self._current().tail

    async def add(self, item: bytes, policy: OverflowPolicy = OverflowPolicy.OVERWRITE) -> int:
        return await self.add_all([item], policy)

    async def add_all(
        self, items: Sequence[bytes], policy: OverflowPolicy = OverflowPolicy.OVERWRITE
    ) -> int:
        """Append ``items``; the sequence of the last one, or -1 if FAIL found no room."""
        with self._grid.lock:
            state = self._state()
            if policy is OverflowPolicy.FAIL and not state.has_room(len(items)):
                return -1
            for item in items:
                state.append(item)
            state.changed.notify_all()
            return state.tail

    async def read_many(
        self, start: int, min_count: int, max_count: int, timeout: float
    ) -> ReadBatch:
        max_count = check_read(start, min_count, max_count, self._state().capacity)

        # A start beyond the tail is moved back to where the tail is now, once (as the
        # member does when it parks the read); a start below the head follows the head.
        with self._grid.lock:
            beyond = min(start, self._current().tail + 1)

        def attempt() -> ReadBatch | _NotYet:
            state = self._state()
            state.drop_expired()
            first = max(beyond, state.head)
            available = state.tail + 1 - first
            if available < min_count:
                return NOT_YET
            count = min(available, max_count)
            offset = first - state.head
            items = [state.items[offset + i] for i in range(count)]
            return ReadBatch(items, list(range(first, first + count)), first + count)

        result = await wait_until(self._grid.lock, self._state().changed, attempt, timeout)
        if isinstance(result, _NotYet):
            return ReadBatch([], [], start)
        return result

    async def destroy(self) -> None:
        self._grid.destroy("ringbuffer", self.name)


def _same(message: RawMessage, _include_values: bool) -> RawMessage:
    return message


class TopicState:
    def __init__(self, grid: Grid) -> None:
        self.listeners: Listeners[RawMessage] = Listeners(grid.lock)


@cooperative
class MemoryTopic:
    """A topic of the embedded grid; see :class:`~hazelkit._backends.protocol.TopicStore`."""

    def __init__(self, grid: Grid, name: str) -> None:
        self._grid = grid
        self.name = name

    def _state(self) -> TopicState:
        return self._grid.structure("topic", self.name, lambda: TopicState(self._grid))

    async def publish(self, payload: bytes) -> None:
        await self.publish_all([payload])

    async def publish_all(self, payloads: Sequence[bytes]) -> None:
        with self._grid.lock:
            listeners = self._state().listeners
            for payload in payloads:
                message = RawMessage(payload, self._grid.clock.time())
                listeners.fire(functools.partial(_same, message))

    async def listen(self, callback: MessageCallback) -> Registration[RawMessage]:
        return self._state().listeners.add(callback)

    async def destroy(self) -> None:
        self._grid.destroy("topic", self.name)


class IdState:
    """Flake-style ids: milliseconds since 2026-01-01 in the high bits, a counter below."""

    EPOCH_MS = 1_767_225_600_000
    SEQUENCE_BITS = 22

    def __init__(self) -> None:
        self.last = 0

    def next(self) -> int:
        now = (int(time.time() * 1000) - self.EPOCH_MS) << self.SEQUENCE_BITS
        self.last = max(now, self.last + 1)
        return self.last


@cooperative
class MemoryIdGenerator:
    """Unique, increasing ids within the embedded grid."""

    def __init__(self, grid: Grid, name: str) -> None:
        self._grid = grid
        self.name = name

    async def new_id(self) -> int:
        with self._grid.lock:
            return self._grid.structure("ids", self.name, IdState).next()
