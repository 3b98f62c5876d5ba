"""Blocking wrappers of the data structures, with Python's own protocols."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, TypeVar, overload

from hazelkit._blocking._runner import Runner
from hazelkit._map import Map

if TYPE_CHECKING:
    from hazelkit._cluster import Cluster

__all__ = ["BlockingMap", "BlockingStructures"]

K = TypeVar("K")
V = TypeVar("V")
D = TypeVar("D")
_MISSING: Any = object()


class BlockingMap(MutableMapping[K, V]):
    """A :class:`~hazelkit.Map` that blocks, and is a ``MutableMapping``.

    Same guarantees as the async Map. ``m[k]`` raises KeyError for a missing key;
    iteration walks a snapshot of the keys taken when it starts.
    """

    def __init__(self, run: Runner, amap: Map[K, V]) -> None:
        self._run = run
        self.async_map = amap
        self.name = amap.name

    # -- the MutableMapping protocol ---------------------------------------------------------

    def __getitem__(self, key: K) -> V:
        value = self._run(self.async_map.get, key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        result: V = value
        return result

    def __setitem__(self, key: K, value: V) -> None:
        self._run(self.async_map.set, key, value)

    def __delitem__(self, key: K) -> None:
        self._run(self.async_map.pop, key)

    def __contains__(self, key: object) -> bool:
        return self._run(self.async_map.contains, key)  # type: ignore[arg-type]

    def __len__(self) -> int:
        return self._run(self.async_map.size)

    def __iter__(self) -> Iterator[K]:
        return iter(self._run(self.async_map.keys))

    # -- the Map API, blocking -------------------------------------------------------------

    @overload
    def get(self, key: K) -> V | None: ...
    @overload
    def get(self, key: K, default: D) -> V | D: ...
    def get(self, key: K, default: Any = None) -> Any:
        """See :meth:`hazelkit.Map.get`."""
        return self._run(self.async_map.get, key, default)

    def put(
        self, key: K, value: V, *, ttl: float | None = None, max_idle: float | None = None
    ) -> V | None:
        """See :meth:`hazelkit.Map.put`."""
        return self._run(self.async_map.put, key, value, ttl=ttl, max_idle=max_idle)

    def set(
        self, key: K, value: V, *, ttl: float | None = None, max_idle: float | None = None
    ) -> None:
        """See :meth:`hazelkit.Map.set`."""
        self._run(self.async_map.set, key, value, ttl=ttl, max_idle=max_idle)

    def put_if_absent(
        self, key: K, value: V, *, ttl: float | None = None, max_idle: float | None = None
    ) -> V | None:
        """See :meth:`hazelkit.Map.put_if_absent`."""
        return self._run(self.async_map.put_if_absent, key, value, ttl=ttl, max_idle=max_idle)

    def replace(self, key: K, value: V) -> V | None:
        """See :meth:`hazelkit.Map.replace`."""
        return self._run(self.async_map.replace, key, value)

    def replace_if_same(self, key: K, old: V, new: V) -> bool:
        """See :meth:`hazelkit.Map.replace_if_same`."""
        return self._run(self.async_map.replace_if_same, key, old, new)

    def remove(self, key: K) -> V | None:
        """See :meth:`hazelkit.Map.remove`."""
        return self._run(self.async_map.remove, key)

    def remove_if_same(self, key: K, value: V) -> bool:
        """See :meth:`hazelkit.Map.remove_if_same`."""
        return self._run(self.async_map.remove_if_same, key, value)

    def contains(self, key: K) -> bool:
        """See :meth:`hazelkit.Map.contains`."""
        return self._run(self.async_map.contains, key)

    def set_ttl(self, key: K, ttl: float) -> None:
        """See :meth:`hazelkit.Map.set_ttl`."""
        self._run(self.async_map.set_ttl, key, ttl)

    def size(self) -> int:
        """See :meth:`hazelkit.Map.size`."""
        return self._run(self.async_map.size)

    def keys_list(self) -> list[K]:
        """All keys as a list (``keys()`` is the Mapping view)."""
        return self._run(self.async_map.keys)

    def items_list(self) -> list[tuple[K, V]]:
        """All entries as a list of pairs, fetched in one call."""
        return self._run(self.async_map.items)

    def get_all(self, keys: Iterable[K]) -> dict[K, V]:
        """See :meth:`hazelkit.Map.get_all`."""
        return self._run(self.async_map.get_all, list(keys))

    def put_all(self, items: Mapping[K, V]) -> None:
        """See :meth:`hazelkit.Map.put_all`."""
        self._run(self.async_map.put_all, items)

    def clear(self) -> None:
        """See :meth:`hazelkit.Map.clear` (one call, not one removal per key)."""
        self._run(self.async_map.clear)

    def destroy(self) -> None:
        """See :meth:`hazelkit.Map.destroy`."""
        self._run(self.async_map.destroy)

    def __repr__(self) -> str:
        return f"<BlockingMap {self.name!r}>"


class BlockingStructures:
    """The data-structure factories of :class:`~hazelkit.blocking.BlockingCluster`."""

    _run: Runner
    async_cluster: Cluster

    def map(self, name: str) -> BlockingMap[Any, Any]:
        """See :meth:`hazelkit.Cluster.map`."""
        return BlockingMap(self._run, self.async_cluster.map(name))
