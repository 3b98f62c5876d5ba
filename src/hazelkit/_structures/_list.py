"""List: a distributed list of values."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import TypeVar

from hazelkit._backends.protocol import ListStore
from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._exceptions import (
    ArgumentError,
    ConflictError,
    IndexOutOfRangeError,
    ItemNotFoundError,
    SerializationError,
)
from hazelkit._core._handle import equal_positions, find_equal
from hazelkit._core._undecodable import decode_many, store_again
from hazelkit._structures._collection import ValueCollection

__all__ = ["List"]

T = TypeVar("T")

#: How often an index resolved against a size read just before is retried when the
#: list changed in between.
_INDEX_RETRIES = 3


def _check_index(index: object) -> None:
    if isinstance(index, bool) or not isinstance(index, int):
        raise ArgumentError(f"list indices must be integers, not {type(index).__name__}")


class List(ValueCollection[ListStore, T]):
    """A distributed list (a Hazelcast ``IList``), named and shared by every node.

    Items are values: compressed and encrypted as the codec says. ``contains``,
    ``index`` and ``remove`` compare items by value and type (as map keys compare:
    ``1`` is not ``1.0``), reading the items and comparing them here, so they cost a
    transfer of the whole list.

    Each call is atomic on its own, but a negative index (``-1``: the last item) is
    resolved with a size read just before the call: when other nodes change the list at
    the same moment, it may address another item. A Hazelcast list lives on one
    partition, so it suits lists of moderate size.

    In :meth:`events`, ``set`` replaces an item without an event, and on Hazelcast
    the event of an item removed by position (``pop``) carries no item (None).
    """

    kind = "list"

    def _open(self) -> ListStore:
        return lowlevel.backend(self._cluster).list(self.name)

    async def _index(self, index: int) -> int:
        """``index`` as a position from the start (negative ones count from the end)."""
        _check_index(index)
        if index >= 0:
            return index
        size = await self._store.size()
        if index + size < 0:
            raise IndexOutOfRangeError(f"list index {index} out of range for list {self.name!r}")
        return index + size

    async def append(self, item: T) -> None:
        """Add ``item`` at the end."""
        await self._store.append(self._encode(item))

    async def extend(self, items: Iterable[T]) -> None:
        """Add every item at the end, in order, in one atomic call. Encodes all first:
        an item that cannot be encoded raises EncodeError and adds nothing."""
        encoded = [self._encode(item) for item in items]
        if encoded:
            await self._store.extend(encoded)

    async def insert(self, index: int, item: T) -> None:
        """Insert ``item`` before ``index``, as ``list.insert`` does: past the end means
        at the end, a negative index beyond the start means at the start."""
        _check_index(index)
        data, store = self._encode(item), self._store
        if index >= 0:
            try:
                await store.insert(index, data)
            except IndexError:  # past the end
                await store.append(data)
            return
        for _ in range(_INDEX_RETRIES):
            try:
                await store.insert(max(0, index + await store.size()), data)
                return
            except IndexError:  # the list shrank between the size and the insert
                continue
        raise ConflictError(f"list {self.name!r} changed too fast to insert at {index}")

    async def get(self, index: int) -> T:
        """The item at ``index`` (negative: from the end); IndexError if out of range."""
        position = await self._index(index)
        result: T = self._read_value(await self._store.get(position), f"the item at {position}")
        return result

    async def set(self, index: int, item: T) -> T:
        """Replace the item at ``index`` and return the previous one; IndexError if out
        of range (nothing changed)."""
        data = self._encode(item)
        result: T = self._decode(await self._store.set(await self._index(index), data))
        return result

    async def pop(self, index: int = -1) -> T:
        """Remove and return the item at ``index`` (default: the last); IndexError for an
        empty list or an index out of range. Atomic: each item goes to one caller.

        An item this node cannot decode is put back at its place (events show it
        removed and added again) and a SerializationError carrying its bytes
        (``.data``) is raised.
        """
        position, store = await self._index(index), self._store
        data = await store.pop(position)
        try:
            result: T = self._decode(data)
        except SerializationError as error:
            raise await store_again(
                functools.partial(self._put_back, position, data),
                data,
                error,
                self.name,
                f"the item at {position} of list {self.name!r} could not be decoded",
            ) from error
        return result

    async def _put_back(self, position: int, data: bytes) -> None:
        try:
            await self._store.insert(position, data)
        except IndexError:  # the list shrank meanwhile
            await self._store.append(data)

    async def index(self, item: T, start: int = 0, stop: int | None = None) -> int:
        """The position of the first item equal to ``item`` among ``list[start:stop]``
        (bounds as in ``list.index``; None: to the end); ValueError if none."""
        for bound in (start, stop):
            if bound is not None:
                _check_index(bound)
        items = await self._store.items()
        first, last, _step = slice(start, stop).indices(len(items))
        codec = self._cluster.codec
        found = find_equal(items[first:last], item, codec.encode_key, self._decode)
        if found is None:
            raise ItemNotFoundError(f"{item!r} is not in list {self.name!r}")
        return first + found[0]

    async def count(self, item: T) -> int:
        """How many items equal ``item`` (as :meth:`index` compares; one snapshot)."""
        codec = self._cluster.codec
        items = await self._store.items()
        return sum(1 for _ in equal_positions(items, item, codec.encode_key, self._decode))

    async def slice(self, start: int | None = None, stop: int | None = None) -> list[T]:
        """The items ``list[start:stop]``, with Python's slicing rules (negative indexes
        count from the end, out-of-range bounds are clipped). One consistent read of
        the range, resolved against the size read just before."""
        store = self._store
        for _ in range(_INDEX_RETRIES):
            first, last, _step = slice(start, stop).indices(await store.size())
            if first >= last:
                return []
            try:
                raws = await store.slice(first, last)
                return decode_many(
                    self._decode, raws, raw_bytes=bytes, what="items", where=self.name
                )
            except IndexError:  # the list shrank in between
                continue
        return (await self.items())[start:stop]
