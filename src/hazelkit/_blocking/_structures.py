"""Blocking wrappers of the data structures, with Python's own protocols.

One class per structure, each in its own module (``_map``, ``_collections``,
``_multimap``, ``_queue``, ``_values``, ``_cache``); this module holds the factories of
:class:`~hazelkit.blocking.BlockingCluster`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, overload

from hazelkit._blocking._cache import BlockingCache, BlockingMemoized
from hazelkit._blocking._collections import BlockingList, BlockingSet
from hazelkit._blocking._map import BlockingMap
from hazelkit._blocking._multimap import BlockingMultiMap
from hazelkit._blocking._queue import BlockingQueue
from hazelkit._blocking._runner import Runner
from hazelkit._blocking._values import BlockingAtom, BlockingCounter, BlockingIdGenerator

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

K = TypeVar("K")
V = TypeVar("V")

__all__ = [
    "BlockingAtom",
    "BlockingCache",
    "BlockingCounter",
    "BlockingIdGenerator",
    "BlockingList",
    "BlockingMap",
    "BlockingMemoized",
    "BlockingMultiMap",
    "BlockingQueue",
    "BlockingSet",
    "BlockingStructures",
]


class BlockingStructures:
    """The data-structure factories of :class:`~hazelkit.blocking.BlockingCluster`.

    Each returns the blocking wrapper of the handle :class:`~hazelkit.Cluster`'s method
    of the same name returns; arguments and errors are the same.
    """

    _run: Runner
    async_cluster: Cluster

    @overload
    def map(self, name: str) -> BlockingMap[Any, Any]: ...
    @overload
    def map(self, name: str, key_type: type[K], value_type: type[V]) -> BlockingMap[K, V]: ...
    def map(self, name: str, key_type: Any = None, value_type: Any = None) -> BlockingMap[Any, Any]:
        """See :meth:`hazelkit.Cluster.map` (typed handles too)."""
        return BlockingMap(self._run, self.async_cluster.map(name, key_type, value_type))

    def multimap(self, name: str) -> BlockingMultiMap[Any, Any]:
        """See :meth:`hazelkit.Cluster.multimap`."""
        return BlockingMultiMap(self._run, self.async_cluster.multimap(name))

    def queue(self, name: str, capacity: int | None = None) -> BlockingQueue[Any]:
        """See :meth:`hazelkit.Cluster.queue`; the result behaves like ``queue.Queue``."""
        return BlockingQueue(self._run, self.async_cluster.queue(name, capacity))

    def set(self, name: str) -> BlockingSet[Any]:
        """See :meth:`hazelkit.Cluster.set`; the result is a ``MutableSet``."""
        return BlockingSet(self._run, self.async_cluster.set(name))

    def list(self, name: str) -> BlockingList[Any]:
        """See :meth:`hazelkit.Cluster.list`; the result is a ``MutableSequence``."""
        return BlockingList(self._run, self.async_cluster.list(name))

    def cache(
        self,
        name: str,
        *,
        ttl: float | None = None,
        max_size: int | None = None,
        near_cache: bool = False,
        near_cache_size: int = 1024,
        near_cache_ttl: float = 5.0,
    ) -> BlockingCache[Any, Any]:
        """See :meth:`hazelkit.Cluster.cache`."""
        cache = self.async_cluster.cache(
            name,
            ttl=ttl,
            max_size=max_size,
            near_cache=near_cache,
            near_cache_size=near_cache_size,
            near_cache_ttl=near_cache_ttl,
        )
        return BlockingCache(self._run, cache)

    def atom(
        self, name: str, *, initial: Any = None, validator: Callable[[Any], object] | None = None
    ) -> BlockingAtom[Any]:
        """See :meth:`hazelkit.Cluster.atom`."""
        return BlockingAtom(
            self._run, self.async_cluster.atom(name, initial=initial, validator=validator)
        )

    def counter(self, name: str) -> BlockingCounter:
        """See :meth:`hazelkit.Cluster.counter`."""
        return BlockingCounter(self._run, self.async_cluster.counter(name))

    def ids(self, name: str) -> BlockingIdGenerator:
        """See :meth:`hazelkit.Cluster.ids`."""
        return BlockingIdGenerator(self._run, self.async_cluster.ids(name))
