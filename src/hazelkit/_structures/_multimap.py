"""MultiMap: a distributed map from a key to a set of values."""

from __future__ import annotations

import functools
from typing import Any, Generic, TypeVar

from hazelkit._backends.protocol import MultiMapStore
from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._buffer import Overflow
from hazelkit._core._events import EntryEvent, EventStream, entry_converter, event_stream
from hazelkit._core._exceptions import SerializationError
from hazelkit._core._handle import Handle
from hazelkit._core._undecodable import decode_many, store_again

__all__ = ["MultiMap"]

K = TypeVar("K")
V = TypeVar("V")


class MultiMap(Handle[MultiMapStore], Generic[K, V]):
    """A distributed multimap (a Hazelcast ``MultiMap``): each key holds a set of values.

    Keys *and values* are encoded canonically, as map keys are, so that equal values
    are equal on every node: putting a value already held under that key changes
    nothing, and ``1``, ``1.0`` and ``True`` are three different values. Canonical
    encodings are never compressed or encrypted: keep secrets in a Map value. The order
    of the values under a key is unspecified.

    Each single-key operation is atomic; ``size``, ``keys``, ``values`` and ``items`` are
    snapshots of a structure that may change at once.
    """

    kind = "multimap"

    def _open(self) -> MultiMapStore:
        return lowlevel.backend(self._cluster).multimap(self.name)

    async def put(self, key: K, value: V) -> bool:
        """Add ``value`` under ``key``; False if it was already there (nothing changed)."""
        return await self._store.put(self._key(key), self._key(value))

    async def get(self, key: K) -> list[V]:
        """The values under ``key`` (an empty list if none), in no particular order."""
        raws = await self._store.get(self._key(key))
        return self._decode_all(raws, f"values of {key!r}")

    async def remove(self, key: K, value: V) -> bool:
        """Remove one value from under ``key``; False if it was not there. Atomic."""
        return await self._store.remove(self._key(key), self._key(value))

    async def remove_all(self, key: K) -> list[V]:
        """Remove ``key`` with all its values, and return them. Atomic.

        If a value cannot be decoded on this node, every removed value is put back
        under ``key`` (events show them removed and added again) and a
        SerializationError carrying the undecodable bytes (``.data``) is raised.
        """
        raw_key, store = self._key(key), self._store
        removed = await store.remove_all(raw_key)
        values: list[V] = []
        for data in removed:
            try:
                values.append(self._decode_key(data))
            except SerializationError as error:
                raise await store_again(
                    functools.partial(self._put_back, raw_key, removed),
                    data,
                    error,
                    self.name,
                    f"a value of multimap {self.name!r} could not be decoded",
                ) from error
        return values

    async def _put_back(self, raw_key: bytes, values: list[bytes]) -> None:
        for data in values:
            await self._store.put(raw_key, data)

    async def contains_key(self, key: K) -> bool:
        """Whether ``key`` holds at least one value."""
        return await self._store.contains_key(self._key(key))

    async def contains_value(self, value: V) -> bool:
        """Whether any key holds ``value`` (scans the whole multimap on the grid)."""
        return await self._store.contains_value(self._key(value))

    async def contains_entry(self, key: K, value: V) -> bool:
        """Whether ``key`` holds ``value``."""
        return await self._store.contains_entry(self._key(key), self._key(value))

    async def value_count(self, key: K) -> int:
        """How many values ``key`` holds (0 for an absent key)."""
        return await self._store.value_count(self._key(key))

    async def size(self) -> int:
        """The number of (key, value) pairs: every value of every key counts."""
        return await self._store.size()

    async def keys(self) -> list[K]:
        """The distinct keys, in no particular order (a snapshot)."""
        return self._decode_all(await self._store.keys(), "keys")

    async def values(self) -> list[V]:
        """The values of all keys, in no particular order (a snapshot)."""
        return self._decode_all(await self._store.values(), "values")

    async def items(self) -> list[tuple[K, V]]:
        """Every (key, value) pair, in no particular order (a snapshot)."""
        decode = self._decode_key
        return decode_many(
            lambda pair: (decode(pair[0]), decode(pair[1])),
            await self._store.items(),
            raw_bytes=lambda pair: pair[0] + pair[1],
            what="entries",
            where=self.name,
        )

    def _decode_all(self, raws: list[bytes], what: str) -> list[Any]:
        """Decode ``raws``; what cannot be decoded raises UndecodableError with the rest
        as ``partial`` (nothing is changed)."""
        return decode_many(self._decode_key, raws, raw_bytes=bytes, what=what, where=self.name)

    async def clear(self) -> None:
        """Remove every key and value (fires no per-entry events)."""
        await self._store.clear()

    async def destroy(self) -> None:
        """Remove the multimap from the grid; it is recreated empty on next use."""
        await self._store.destroy()

    def events(
        self,
        key: K | None = None,
        *,
        include_values: bool = True,
        capacity: int = 1024,
        overflow: Overflow = Overflow.SLIDE,
    ) -> EventStream[EntryEvent[K, V]]:
        """A stream of values added (``ADDED``, with ``value``) and removed (``REMOVED``,
        with the removed value as ``old_value`` when the backend reports it).

        Same rules as :meth:`hazelkit.Map.events`: ``key`` filters (None: all keys);
        notifications, in order per key, possibly lost around a member failure.
        """
        store, cluster = self._store, self._cluster
        raw_key = None if key is None else self._key(key)
        return event_stream(
            cluster,
            lambda callback: store.listen(callback, key=raw_key, include_values=include_values),
            entry_converter(self._decode_key, lambda data, _key: self._decode_key(data), self.name),
            capacity=capacity,
            overflow=overflow,
        )
