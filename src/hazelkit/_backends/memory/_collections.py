"""Embedded queues, sets and lists."""

from __future__ import annotations

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
from hazelkit._backends.protocol import ItemCallback, ItemEventType, RawItemEvent
from hazelkit._core._exceptions import ConfigurationError, IndexOutOfRangeError


class ItemState:
    """Items, listeners and a change signal shared by the three collection kinds."""

    def __init__(self, grid: Grid, capacity: int | None = None) -> None:
        self.queue: deque[bytes] = deque()
        self.items: list[bytes] = []
        self.members: dict[bytes, None] = {}
        self.capacity = capacity
        self.changed = Signal()
        self.listeners: Listeners[RawItemEvent] = Listeners(grid.lock)

    def fire(self, kind: ItemEventType, item: bytes | None) -> None:
        self.changed.notify_all()
        self.listeners.fire(lambda include: RawItemEvent(kind, item if include else None))


class _Collection:
    kind = ""

    def __init__(self, grid: Grid, name: str, capacity: int | None = None) -> None:
        self._grid = grid
        self.name = name
        self._capacity = capacity

    def _state(self) -> ItemState:
        return self._grid.structure(
            self.kind, self.name, lambda: ItemState(self._grid, self._capacity)
        )

    async def destroy(self) -> None:
        self._grid.destroy(self.kind, self.name)

    async def listen(
        self, callback: ItemCallback, *, include_values: bool = True
    ) -> Registration[RawItemEvent]:
        return self._state().listeners.add(callback, include_values=include_values)


@cooperative
class MemoryQueue(_Collection):
    """A FIFO queue of the embedded grid; see :class:`~hazelkit._backends.protocol.QueueStore`."""

    kind = "queue"

    def _state(self) -> ItemState:
        state = super()._state()
        if self._capacity is not None and state.capacity != self._capacity:
            raise ConfigurationError(
                f"queue {self.name!r} already exists with capacity {state.capacity}, "
                f"not {self._capacity}"
            )
        return state

    async def offer(self, item: bytes, timeout: float = 0) -> bool:
        def attempt() -> bool | _NotYet:
            state = self._state()
            if state.capacity is not None and len(state.queue) >= state.capacity:
                return NOT_YET
            state.queue.append(item)
            state.fire(ItemEventType.ADDED, item)
            return True

        result = await wait_until(self._grid.lock, self._state().changed, attempt, timeout)
        return result is True

    async def poll(self, timeout: float = 0) -> bytes | None:
        def attempt() -> bytes | _NotYet:
            state = self._state()
            if not state.queue:
                return NOT_YET
            item = state.queue.popleft()
            state.fire(ItemEventType.REMOVED, item)
            return item

        result = await wait_until(self._grid.lock, self._state().changed, attempt, timeout)
        return None if isinstance(result, _NotYet) else result

    async def peek(self) -> bytes | None:
        with self._grid.lock:
            queue = self._state().queue
            return queue[0] if queue else None

    async def drain(self, max_items: int = -1) -> list[bytes]:
        with self._grid.lock:
            state = self._state()
            count = len(state.queue) if max_items < 0 else min(max_items, len(state.queue))
            drained = [state.queue.popleft() for _ in range(count)]
            for item in drained:
                state.fire(ItemEventType.REMOVED, item)
            return drained

    async def remove(self, item: bytes) -> bool:
        with self._grid.lock:
            state = self._state()
            try:
                state.queue.remove(item)
            except ValueError:
                return False
            state.fire(ItemEventType.REMOVED, item)
            return True

    async def contains(self, item: bytes) -> bool:
        with self._grid.lock:
            return item in self._state().queue

    async def size(self) -> int:
        with self._grid.lock:
            return len(self._state().queue)

    async def remaining_capacity(self) -> int:
        with self._grid.lock:
            state = self._state()
            if state.capacity is None:
                return 2**31 - 1  # what Hazelcast reports for an unbounded queue
            return state.capacity - len(state.queue)

    async def items(self) -> list[bytes]:
        with self._grid.lock:
            return list(self._state().queue)

    async def clear(self) -> None:
        with self._grid.lock:
            state = self._state()
            drained, state.queue = list(state.queue), deque()
            for item in drained:
                state.fire(ItemEventType.REMOVED, item)


@cooperative
class MemorySet(_Collection):
    """A set of the embedded grid; see :class:`~hazelkit._backends.protocol.SetStore`."""

    kind = "set"

    async def add(self, item: bytes) -> bool:
        with self._grid.lock:
            state = self._state()
            if item in state.members:
                return False
            state.members[item] = None
            state.fire(ItemEventType.ADDED, item)
            return True

    async def add_all(self, items: Sequence[bytes]) -> bool:
        with self._grid.lock:
            state = self._state()
            added = [item for item in dict.fromkeys(items) if item not in state.members]
            for item in added:
                state.members[item] = None
                state.fire(ItemEventType.ADDED, item)
            return bool(added)

    async def remove(self, item: bytes) -> bool:
        with self._grid.lock:
            state = self._state()
            if state.members.pop(item, NOT_YET) is NOT_YET:
                return False
            state.fire(ItemEventType.REMOVED, item)
            return True

    async def contains(self, item: bytes) -> bool:
        with self._grid.lock:
            return item in self._state().members

    async def size(self) -> int:
        with self._grid.lock:
            return len(self._state().members)

    async def items(self) -> list[bytes]:
        with self._grid.lock:
            return list(self._state().members)

    async def clear(self) -> None:
        with self._grid.lock:
            state = self._state()
            drained, state.members = list(state.members), {}
            for item in drained:
                state.fire(ItemEventType.REMOVED, item)


@cooperative
class MemoryList(_Collection):
    """A list of the embedded grid; see :class:`~hazelkit._backends.protocol.ListStore`.

    Indexes follow Hazelcast's ``IList``: no negative indexes, and an index out of range
    raises ``IndexError``.
    """

    kind = "list"

    def _checked(self, items: list[bytes], index: int, *, allow_end: bool = False) -> int:
        limit = len(items) + (1 if allow_end else 0)
        if not 0 <= index < limit:
            raise IndexOutOfRangeError(f"list index {index} out of range for list {self.name!r}")
        return index

    async def append(self, item: bytes) -> None:
        with self._grid.lock:
            state = self._state()
            state.items.append(item)
            state.fire(ItemEventType.ADDED, item)

    async def extend(self, items: Sequence[bytes]) -> None:
        with self._grid.lock:
            state = self._state()
            state.items.extend(items)
            for item in items:
                state.fire(ItemEventType.ADDED, item)

    async def insert(self, index: int, item: bytes) -> None:
        with self._grid.lock:
            state = self._state()
            state.items.insert(self._checked(state.items, index, allow_end=True), item)
            state.fire(ItemEventType.ADDED, item)

    async def get(self, index: int) -> bytes:
        with self._grid.lock:
            items = self._state().items
            return items[self._checked(items, index)]

    async def set(self, index: int, item: bytes) -> bytes:
        with self._grid.lock:
            items = self._state().items
            old, items[self._checked(items, index)] = items[index], item
            return old

    async def pop(self, index: int) -> bytes:
        with self._grid.lock:
            state = self._state()
            item = state.items.pop(self._checked(state.items, index))
            # Hazelcast reports a removal by index without the item; so do we.
            state.fire(ItemEventType.REMOVED, None)
            return item

    async def remove(self, item: bytes) -> bool:
        with self._grid.lock:
            state = self._state()
            try:
                state.items.remove(item)
            except ValueError:
                return False
            state.fire(ItemEventType.REMOVED, item)
            return True

    async def index(self, item: bytes) -> int:
        with self._grid.lock:
            items = self._state().items
            return items.index(item) if item in items else -1

    async def contains(self, item: bytes) -> bool:
        with self._grid.lock:
            return item in self._state().items

    async def slice(self, start: int, stop: int) -> list[bytes]:
        with self._grid.lock:
            items = self._state().items
            if not 0 <= start <= stop <= len(items):
                raise IndexOutOfRangeError(
                    f"slice {start}:{stop} out of range for list {self.name!r}"
                )
            return items[start:stop]

    async def size(self) -> int:
        with self._grid.lock:
            return len(self._state().items)

    async def items(self) -> list[bytes]:
        with self._grid.lock:
            return list(self._state().items)

    async def clear(self) -> None:
        with self._grid.lock:
            state = self._state()
            drained, state.items = state.items, []
            for item in drained:
                state.fire(ItemEventType.REMOVED, item)
