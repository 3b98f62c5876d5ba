"""Blocking Set and List, with Python's ``MutableSet`` and ``MutableSequence``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableSequence, MutableSet
from typing import Any, TypeVar, overload

from hazelkit._blocking._handle import BlockingItems
from hazelkit._blocking._runner import Runner
from hazelkit._core._exceptions import ArgumentError, ItemNotFoundError, KeyNotFoundError
from hazelkit._structures._list import List
from hazelkit._structures._set import Set

__all__ = ["BlockingList", "BlockingSet"]

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")


class BlockingSet(BlockingItems[T], MutableSet[T]):
    """A :class:`~hazelkit.Set` that blocks, and is a ``MutableSet``.

    As with Python sets, :meth:`remove` raises KeyError for a missing member (the async
    ``Set.remove`` returns False). Iteration walks a snapshot. Operators (``|``, ``&``,
    ...) return plain Python sets, so the members must be hashable for them.
    """

    def __init__(self, run: Runner, aset: Set[T]) -> None:
        super().__init__(run, aset)
        self.async_set = aset

    def __contains__(self, item: object) -> bool:
        return self._run(self.async_set.contains, item)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[T]:
        return iter(self._run(self.async_set.items))

    def __len__(self) -> int:
        return self.size()

    @classmethod
    def _from_iterable(cls, items: Iterable[Any]) -> set[Any]:
        return set(items)

    def add(self, item: T) -> bool:  # type: ignore[override]
        """See :meth:`hazelkit.Set.add` (True if it was added)."""
        return self._run(self.async_set.add, item)

    def add_all(self, items: Iterable[T]) -> bool:
        """See :meth:`hazelkit.Set.add_all`."""
        return self._run(self.async_set.add_all, list(items))

    def discard(self, item: T) -> None:
        """See :meth:`hazelkit.Set.discard`."""
        self._run(self.async_set.discard, item)

    def remove(self, item: T) -> None:
        """Remove ``item``; KeyError if it is not a member (like ``set.remove``)."""
        if not self._run(self.async_set.remove, item):
            raise KeyNotFoundError(item)

    def pop(self) -> T:
        """See :meth:`hazelkit.Set.pop` (atomic; KeyError when empty)."""
        return self._run(self.async_set.pop)

    def contains(self, item: T) -> bool:
        """See :meth:`hazelkit.Set.contains`."""
        return self._run(self.async_set.contains, item)


class BlockingList(BlockingItems[T], MutableSequence[T]):
    """A :class:`~hazelkit.List` that blocks, and is a ``MutableSequence``.

    ``lst[i]``, ``lst[i] = v``, ``del lst[i]``, ``lst[a:b]`` (a read), ``append``,
    ``extend``, ``insert``, ``pop``, ``remove`` (ValueError if absent, as ``list.remove``),
    ``index``, ``count``, ``in`` and ``len`` each make one call; assigning or deleting a
    slice is not supported (TypeError). Iteration walks a snapshot. Searches
    (``in``, ``index``, ``count``, ``remove``) compare items as the List does, by
    value and type: ``1``, ``1.0`` and ``True`` are different items, unlike in a list.
    """

    def __init__(self, run: Runner, alist: List[T]) -> None:
        super().__init__(run, alist)
        self.async_list = alist

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> list[T]: ...
    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            if index.step not in (None, 1):
                return self._run(self.async_list.items)[index]
            return self._run(self.async_list.slice, index.start, index.stop)
        return self._run(self.async_list.get, index)

    @overload
    def __setitem__(self, index: int, value: T) -> None: ...
    @overload
    def __setitem__(self, index: slice, value: Iterable[T]) -> None: ...
    def __setitem__(self, index: int | slice, value: Any) -> None:
        if isinstance(index, slice):
            raise ArgumentError("a BlockingList does not support slice assignment")
        self._run(self.async_list.set, index, value)

    @overload
    def __delitem__(self, index: int) -> None: ...
    @overload
    def __delitem__(self, index: slice) -> None: ...
    def __delitem__(self, index: int | slice) -> None:
        if isinstance(index, slice):
            raise ArgumentError("a BlockingList does not support slice deletion")
        self._run(self.async_list.pop, index)

    def __len__(self) -> int:
        return self.size()

    def __iter__(self) -> Iterator[T]:
        return iter(self._run(self.async_list.items))

    def __contains__(self, item: object) -> bool:
        return self._run(self.async_list.contains, item)  # type: ignore[arg-type]

    def insert(self, index: int, value: T) -> None:
        """See :meth:`hazelkit.List.insert`."""
        self._run(self.async_list.insert, index, value)

    def append(self, value: T) -> None:
        """See :meth:`hazelkit.List.append`."""
        self._run(self.async_list.append, value)

    def extend(self, values: Iterable[T]) -> None:
        """See :meth:`hazelkit.List.extend` (one atomic call)."""
        self._run(self.async_list.extend, list(values))

    def pop(self, index: int = -1) -> T:
        """See :meth:`hazelkit.List.pop`."""
        return self._run(self.async_list.pop, index)

    def remove(self, value: T) -> None:
        """Remove the first item equal to ``value``; ValueError if none (as
        ``list.remove``; the async ``List.remove`` returns False)."""
        if not self._run(self.async_list.remove, value):
            raise ItemNotFoundError(f"{value!r} is not in list {self.name!r}")

    def index(self, value: Any, start: int = 0, stop: int | None = None) -> int:
        """See :meth:`hazelkit.List.index` (``list.index``'s bounds, the List's equality)."""
        return self._run(self.async_list.index, value, start, stop)

    def count(self, value: Any) -> int:
        """See :meth:`hazelkit.List.count`."""
        return self._run(self.async_list.count, value)

    def get(self, index: int) -> T:
        """See :meth:`hazelkit.List.get`."""
        return self._run(self.async_list.get, index)

    def set(self, index: int, value: T) -> T:
        """See :meth:`hazelkit.List.set`."""
        return self._run(self.async_list.set, index, value)

    def slice(self, start: int | None = None, stop: int | None = None) -> list[T]:
        """See :meth:`hazelkit.List.slice`."""
        return self._run(self.async_list.slice, start, stop)

    def contains(self, value: T) -> bool:
        """See :meth:`hazelkit.List.contains`."""
        return self._run(self.async_list.contains, value)
