"""BlockingMap: a Map that blocks, and is a ``MutableMapping``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from typing import Any, TypeVar, overload

from hazelkit._blocking._handle import BlockingHandle, open_events
from hazelkit._blocking._runner import BlockingIterator, Runner
from hazelkit._core._buffer import Overflow
from hazelkit._core._events import EntryEvent
from hazelkit._core._exceptions import KeyNotFoundError
from hazelkit._structures._map import Map, _Delete

__all__ = ["BlockingMap"]

K = TypeVar("K")
V = TypeVar("V")
D = TypeVar("D")
T = TypeVar("T")
_MISSING: Any = object()


class BlockingMap(BlockingHandle[Map[K, V]], MutableMapping[K, V]):
    """A :class:`~hazelkit.Map` that blocks, and is a ``MutableMapping``.

    Same guarantees as the async Map. ``m[k]`` raises KeyError for a missing key;
    iteration walks a snapshot of the keys taken when it starts. ``pop`` and
    ``setdefault`` are single atomic operations (``MutableMapping``'s defaults are not).

    Unlike a ``dict``, keys are compared by their encoded bytes, so by type and value:
    ``m[1]``, ``m[1.0]`` and ``m[True]`` are three different entries (a ``dict`` holds
    one). Use one key type per map.

    On the embedded grid the data calls (all but ``compute`` and ``events``) run in the
    calling thread, without the hop to the cluster's loop thread (see
    :mod:`hazelkit._blocking._direct`); results and errors are the same.
    """

    def __init__(self, run: Runner, amap: Map[K, V]) -> None:
        super().__init__(run, amap)
        self.async_map = amap

    # -- the MutableMapping protocol ---------------------------------------------------------

    def __getitem__(self, key: K) -> V:
        value = self._run.direct(self.async_map.get, key, _MISSING)
        if value is _MISSING:
            raise KeyNotFoundError(key)
        result: V = value
        return result

    def __setitem__(self, key: K, value: V) -> None:
        self._run.direct(self.async_map.set, key, value)

    def __delitem__(self, key: K) -> None:
        self._run.direct(self.async_map.pop, key)

    def __contains__(self, key: object) -> bool:
        return self._run.direct(self.async_map.contains, key)  # type: ignore[arg-type]

    def __len__(self) -> int:
        return self.size()

    def size(self) -> int:
        """The number of entries (a snapshot), as :meth:`hazelkit.Map.size`."""
        return self._run.direct(self.async_map.size)

    def __iter__(self) -> Iterator[K]:
        return iter(self._run.direct(self.async_map.keys))

    @overload
    def pop(self, key: K) -> V: ...
    @overload
    def pop(self, key: K, default: D) -> V | D: ...
    def pop(self, key: K, default: Any = _MISSING) -> Any:
        """See :meth:`hazelkit.Map.pop` (one atomic removal)."""
        if default is _MISSING:
            return self._run.direct(self.async_map.pop, key)
        return self._run.direct(self.async_map.pop, key, default)

    def setdefault(self, key: K, default: V = None) -> V:  # type: ignore[assignment]
        """The value of ``key``, storing ``default`` first if it has none (atomic)."""
        existing = self._run.direct(self.async_map.put_if_absent, key, default)
        return default if existing is None else existing

    # -- the Map API, blocking -------------------------------------------------------------

    @overload
    def get(self, key: K) -> V | None: ...
    @overload
    def get(self, key: K, default: D) -> V | D: ...
    def get(self, key: K, default: Any = None) -> Any:
        """See :meth:`hazelkit.Map.get`."""
        return self._run.direct(self.async_map.get, key, default)

    def put(
        self, key: K, value: V, *, ttl: float | None = None, max_idle: float | None = None
    ) -> V | None:
        """See :meth:`hazelkit.Map.put`."""
        return self._run.direct(self.async_map.put, key, value, ttl=ttl, max_idle=max_idle)

    def set(
        self, key: K, value: V, *, ttl: float | None = None, max_idle: float | None = None
    ) -> None:
        """See :meth:`hazelkit.Map.set`."""
        self._run.direct(self.async_map.set, key, value, ttl=ttl, max_idle=max_idle)

    def put_if_absent(
        self, key: K, value: V, *, ttl: float | None = None, max_idle: float | None = None
    ) -> V | None:
        """See :meth:`hazelkit.Map.put_if_absent`."""
        return self._run.direct(
            self.async_map.put_if_absent, key, value, ttl=ttl, max_idle=max_idle
        )

    def replace(self, key: K, value: V) -> V | None:
        """See :meth:`hazelkit.Map.replace`."""
        return self._run.direct(self.async_map.replace, key, value)

    def replace_if_same(self, key: K, old: V, new: V) -> bool:
        """See :meth:`hazelkit.Map.replace_if_same`."""
        return self._run.direct(self.async_map.replace_if_same, key, old, new)

    def remove(self, key: K) -> V | None:
        """See :meth:`hazelkit.Map.remove`."""
        return self._run.direct(self.async_map.remove, key)

    def remove_if_same(self, key: K, value: V) -> bool:
        """See :meth:`hazelkit.Map.remove_if_same`."""
        return self._run.direct(self.async_map.remove_if_same, key, value)

    def delete(self, key: K) -> None:
        """See :meth:`hazelkit.Map.delete`."""
        self._run.direct(self.async_map.delete, key)

    def compute(
        self,
        key: K,
        fn: Callable[[V | None], V | _Delete],
        *,
        default: V | None = None,
        max_attempts: int | None = None,
    ) -> V | None:
        """See :meth:`hazelkit.Map.compute` (``fn`` runs on the cluster's event loop
        thread, and may run more than once). It always hops to that thread, even on the
        embedded grid: updates of one entry through one Cluster queue there in order."""
        return self._run(
            self.async_map.compute, key, fn, default=default, max_attempts=max_attempts
        )

    def contains(self, key: K) -> bool:
        """See :meth:`hazelkit.Map.contains`."""
        return self._run.direct(self.async_map.contains, key)

    def set_ttl(self, key: K, ttl: float) -> None:
        """See :meth:`hazelkit.Map.set_ttl`."""
        self._run.direct(self.async_map.set_ttl, key, ttl)

    def keys_list(self) -> list[K]:
        """All keys as a list (``keys()`` is the Mapping view)."""
        return self._run.direct(self.async_map.keys)

    def items_list(self) -> list[tuple[K, V]]:
        """All entries as a list of pairs, fetched in one call."""
        return self._run.direct(self.async_map.items)

    def get_all(self, keys: Iterable[K]) -> dict[K, V]:
        """See :meth:`hazelkit.Map.get_all`."""
        return self._run.direct(self.async_map.get_all, list(keys))

    def put_all(self, items: Mapping[K, V]) -> None:
        """See :meth:`hazelkit.Map.put_all`."""
        self._run.direct(self.async_map.put_all, items)

    def events(
        self,
        key: K | None = None,
        *,
        include_values: bool = True,
        capacity: int = 1024,
        overflow: Overflow = Overflow.SLIDE,
    ) -> BlockingIterator[EntryEvent[K, V]]:
        """See :meth:`hazelkit.Map.events`: a blocking iterator (``with m.events() as
        events: for event in events: ...``; ``events.get(timeout=...)`` waits for one)."""
        return open_events(
            self._run,
            lambda: self.async_map.events(
                key, include_values=include_values, capacity=capacity, overflow=overflow
            ),
        )
