"""BlockingMultiMap: a MultiMap that blocks."""

from __future__ import annotations

from typing import Generic, TypeVar

from hazelkit._blocking._handle import BlockingHandle, open_events
from hazelkit._blocking._runner import BlockingIterator, Runner
from hazelkit._core._buffer import Overflow
from hazelkit._core._events import EntryEvent
from hazelkit._structures._multimap import MultiMap

__all__ = ["BlockingMultiMap"]

K = TypeVar("K")
V = TypeVar("V")


class BlockingMultiMap(BlockingHandle[MultiMap[K, V]], Generic[K, V]):
    """A :class:`~hazelkit.MultiMap` that blocks: the same methods, without ``await``."""

    def __init__(self, run: Runner, amultimap: MultiMap[K, V]) -> None:
        super().__init__(run, amultimap)
        self.async_multimap = amultimap

    def put(self, key: K, value: V) -> bool:
        """See :meth:`hazelkit.MultiMap.put`."""
        return self._run(self.async_multimap.put, key, value)

    def get(self, key: K) -> list[V]:
        """See :meth:`hazelkit.MultiMap.get`."""
        return self._run(self.async_multimap.get, key)

    def remove(self, key: K, value: V) -> bool:
        """See :meth:`hazelkit.MultiMap.remove`."""
        return self._run(self.async_multimap.remove, key, value)

    def remove_all(self, key: K) -> list[V]:
        """See :meth:`hazelkit.MultiMap.remove_all`."""
        return self._run(self.async_multimap.remove_all, key)

    def contains_key(self, key: K) -> bool:
        """See :meth:`hazelkit.MultiMap.contains_key`."""
        return self._run(self.async_multimap.contains_key, key)

    def contains_value(self, value: V) -> bool:
        """See :meth:`hazelkit.MultiMap.contains_value`."""
        return self._run(self.async_multimap.contains_value, value)

    def contains_entry(self, key: K, value: V) -> bool:
        """See :meth:`hazelkit.MultiMap.contains_entry`."""
        return self._run(self.async_multimap.contains_entry, key, value)

    def value_count(self, key: K) -> int:
        """See :meth:`hazelkit.MultiMap.value_count`."""
        return self._run(self.async_multimap.value_count, key)

    def __len__(self) -> int:
        return self.size()

    def keys(self) -> list[K]:
        """See :meth:`hazelkit.MultiMap.keys`."""
        return self._run(self.async_multimap.keys)

    def values(self) -> list[V]:
        """See :meth:`hazelkit.MultiMap.values`."""
        return self._run(self.async_multimap.values)

    def items(self) -> list[tuple[K, V]]:
        """See :meth:`hazelkit.MultiMap.items`."""
        return self._run(self.async_multimap.items)

    def events(
        self,
        key: K | None = None,
        *,
        include_values: bool = True,
        capacity: int = 1024,
        overflow: Overflow = Overflow.SLIDE,
    ) -> BlockingIterator[EntryEvent[K, V]]:
        """See :meth:`hazelkit.MultiMap.events` (a blocking iterator)."""
        return open_events(
            self._run,
            lambda: self.async_multimap.events(
                key, include_values=include_values, capacity=capacity, overflow=overflow
            ),
        )
