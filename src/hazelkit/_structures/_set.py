"""Set: a distributed set of values."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from hazelkit._backends.protocol import SetStore
from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._exceptions import KeyNotFoundError, SerializationError
from hazelkit._core._undecodable import left_in_place
from hazelkit._structures._collection import ItemCollection

__all__ = ["Set"]

T = TypeVar("T")


class Set(ItemCollection[SetStore, T]):
    """A distributed set (a Hazelcast ``ISet``), named and shared by every node.

    Members are encoded canonically, as map keys are, so equal values are one member on
    every node; ``1``, ``1.0`` and ``True`` are three members, unlike in a Python set,
    and unhashable values (lists, dicts) may be members. Canonical encodings are never
    compressed or encrypted: keep secrets in a Map value.

    ``add``, ``remove`` and ``pop`` are atomic; ``add_all`` is atomic on Hazelcast and
    member by member on the embedded grid. ``items`` and ``size`` are snapshots.
    """

    kind = "set"

    def _open(self) -> SetStore:
        return lowlevel.backend(self._cluster).set(self.name)

    def _decode_item(self, data: bytes) -> Any:
        return self._decode_key(data)

    async def add(self, item: T) -> bool:
        """Add ``item``; False if it was already a member (nothing changed)."""
        return await self._store.add(self._key(item))

    async def add_all(self, items: Iterable[T]) -> bool:
        """Add every item; True if the set changed. Encodes all first: an item that
        cannot be encoded raises EncodeError and adds nothing."""
        encoded = [self._key(item) for item in items]
        return await self._store.add_all(encoded) if encoded else False

    async def remove(self, item: T) -> bool:
        """Remove ``item``; False if it was not a member."""
        return await self._store.remove(self._key(item))

    async def discard(self, item: T) -> None:
        """Remove ``item`` if it is a member (like ``set.discard``)."""
        await self._store.remove(self._key(item))

    async def pop(self) -> T:
        """Remove and return some member; KeyError if the set is empty.

        Atomic: when several nodes pop at once, each member goes to exactly one.
        Members this node cannot decode are left in place (another member is taken);
        if there are only such members, their SerializationError is raised and
        nothing changes.
        """
        store = self._store
        while items := await store.items():
            failure: tuple[bytes, SerializationError] | None = None
            decodable = False
            for data in items:
                try:
                    member: T = self._decode_key(data)
                except SerializationError as error:
                    failure = failure or (data, error)
                    continue
                decodable = True
                if await store.remove(data):
                    return member
            if failure is not None and not decodable:  # only such members: none taken
                raise left_in_place("a member", *failure, self.name) from failure[1]
        raise KeyNotFoundError(f"pop from an empty set {self.name!r}")

    async def contains(self, item: T) -> bool:
        """Whether ``item`` is a member."""
        return await self._store.contains(self._key(item))
