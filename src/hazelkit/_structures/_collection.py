"""What Queue, Set and List share: items, size, clearing, destroying, item events."""

from __future__ import annotations

from typing import Any, Generic, Protocol, TypeVar

from hazelkit._backends.protocol import ItemCallback, Registration
from hazelkit._core._buffer import Overflow
from hazelkit._core._events import EventStream, ItemEvent, event_stream, item_converter
from hazelkit._core._handle import Handle, find_equal
from hazelkit._core._undecodable import decode_many

__all__ = ["ItemCollection", "ValueCollection"]

T = TypeVar("T")


class ItemStore(Protocol):
    """The primitives every item store (queue, set, list) has."""

    name: str

    async def remove(self, item: bytes) -> bool: ...
    async def size(self) -> int: ...
    async def items(self) -> list[bytes]: ...
    async def clear(self) -> None: ...
    async def destroy(self) -> None: ...
    async def listen(
        self, callback: ItemCallback, *, include_values: bool = True
    ) -> Registration: ...


S = TypeVar("S", bound=ItemStore)


class ItemCollection(Handle[S], Generic[S, T]):
    """A handle over a store of items; subclasses say how an item is decoded."""

    def _decode_item(self, data: bytes) -> Any:
        return self._decode(data)

    async def size(self) -> int:
        """The number of items (a snapshot)."""
        return await self._store.size()

    async def items(self) -> list[T]:
        """Every item, without taking any (a snapshot): head first for a queue, in
        order for a list, in no particular order for a set (as a list: members need
        not be hashable)."""
        raws = await self._store.items()
        return decode_many(self._decode_item, raws, raw_bytes=bytes, what="items", where=self.name)

    async def clear(self) -> None:
        """Remove every item (a REMOVED event per item; from a queue, each counts as
        taken)."""
        await self._store.clear()

    async def destroy(self) -> None:
        """Remove the structure and its items from the grid; the next use creates it
        again, empty (a queue may then get another capacity)."""
        await self._store.destroy()

    def events(
        self,
        *,
        include_values: bool = True,
        capacity: int = 1024,
        overflow: Overflow = Overflow.SLIDE,
    ) -> EventStream[ItemEvent[T]]:
        """A stream of :class:`ItemEvent`: an ``ADDED`` per item added, a ``REMOVED``
        per item taken or removed, from every node.

        ``async with s.events() as events: async for event in events: ...``. Events
        are notifications, sent after the change, in order; around a member failure
        some may be lost. ``include_values=False`` leaves ``item`` None (less traffic).
        The local buffer keeps ``capacity`` events, discarding per ``overflow`` (DROP
        or SLIDE) when the reader falls behind. Ends when the Cluster closes.
        """
        store = self._store
        return event_stream(
            self._cluster,
            lambda callback: store.listen(callback, include_values=include_values),
            item_converter(self._decode_item, self.name),
            capacity=capacity,
            overflow=overflow,
        )


class ValueCollection(ItemCollection[S, T]):
    """A collection of values (Queue, List): items may be compressed or encrypted, so
    searches decode the items and compare them by value and type."""

    async def contains(self, item: T) -> bool:
        """Whether an item equal to ``item`` (value and type) is there."""
        return await self._find(item) is not None

    async def remove(self, item: T) -> bool:
        """Remove the first item equal to ``item`` (value and type); False if none."""
        store = self._store
        while (found := await self._find(item)) is not None:
            if await store.remove(found[1]):
                return True
        return False

    async def _find(self, item: T) -> tuple[int, bytes] | None:
        codec = self._cluster.codec
        return find_equal(await self._store.items(), item, codec.encode_key, self._decode)
