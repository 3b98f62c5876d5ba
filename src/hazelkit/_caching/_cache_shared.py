"""What every Cache handle of one name on one Cluster shares.

Cache handles are cheap: code may call ``cluster.cache("c")`` for every request. The
state that must not be repeated per handle lives here, once per (Cluster, name): one
entry listener on the values map (invalidating the near caches), one on the claims
map (waking single-flight waiters), the near caches themselves (one per size and TTL
asked for, so a fresh handle finds what earlier ones read) and this node's counters.
Both listeners are registered on first need and closed when the Cluster closes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from hazelkit._backends.protocol import EntryEventType, MapStore, RawEntryEvent, Registration
from hazelkit._caching._near_cache import NearCache
from hazelkit._caching._single_flight import Wakeups
from hazelkit._core._events import own
from hazelkit._core._exceptions import HazelkitError
from hazelkit._core._local import ClusterLocal

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = ["CacheShared", "SharedListener", "shared"]

_GONE = (EntryEventType.REMOVED, EntryEventType.EXPIRED, EntryEventType.EVICTED)


class SharedListener:
    """One entry listener (without values) on a map, registered once when first needed."""

    def __init__(self, callback: Callable[[RawEntryEvent], None]) -> None:
        self._callback = callback
        self._registration: Registration | None = None
        self._disown: Callable[[], None] | None = None
        self._lock = asyncio.Lock()

    @property
    def registered(self) -> bool:
        """Whether the listener is registered now."""
        return self._registration is not None

    async def ensure(self, cluster: Cluster, store: MapStore) -> None:
        """Register the listener on ``store`` unless it is registered already."""
        if self._registration is not None:
            return
        async with self._lock:
            if self._registration is None:
                registration = await store.listen(self._callback, include_values=False)
                self._registration = registration
                self._disown = own(cluster, self.close)

    async def close(self) -> None:
        """Remove the listener (the next :meth:`ensure` registers it again)."""
        registration, self._registration = self._registration, None
        disown, self._disown = self._disown, None
        if disown is not None:
            disown()
        if registration is not None:
            with contextlib.suppress(HazelkitError):
                await registration.close()


class CacheShared:
    """The listeners, near caches, waiters and counters of one cache name on one node."""

    def __init__(self) -> None:
        self._near_caches: dict[tuple[int, float], NearCache] = {}
        self.wakeups = Wakeups()
        self.values_listener = SharedListener(self._on_value)
        self.flights_listener = SharedListener(self._on_flight)
        #: Computations run and entries evicted on this node (for statistics).
        self.computations = 0
        self.evictions = 0

    def near_cache(self, size: int, ttl: float) -> NearCache:
        """The near cache of this size and TTL (created on first request)."""
        near = self._near_caches.get((size, ttl))
        if near is None:
            near = self._near_caches[(size, ttl)] = NearCache(size, ttl)
        return near

    def invalidate(self, key: bytes) -> None:
        """Drop ``key`` from every near cache of this name on this node."""
        for near in self._near_caches.values():
            near.invalidate(key)

    def clear(self) -> None:
        """Empty every near cache of this name on this node."""
        for near in self._near_caches.values():
            near.clear()

    async def forget_listeners(self) -> None:
        """Close both listeners (after the maps were destroyed); the next use re-registers."""
        await self.values_listener.close()
        await self.flights_listener.close()

    def _on_value(self, event: RawEntryEvent) -> None:
        self.invalidate(event.key)

    def _on_flight(self, event: RawEntryEvent) -> None:
        if event.type in _GONE:
            self.wakeups.notify(event.key)


async def _forget(states: dict[str, CacheShared]) -> None:
    states.clear()


#: Per Cluster: the shared state of each cache name, forgotten when the Cluster closes.
_shared: ClusterLocal[dict[str, CacheShared]] = ClusterLocal(dict, close=_forget)


def shared(cluster: Cluster, name: str) -> CacheShared:
    """The shared state of the cache ``name`` on ``cluster`` (created on first request,
    dropped when the Cluster closes)."""
    states = _shared.get(cluster)
    state = states.get(name)
    if state is None:
        state = states[name] = CacheShared()
    return state
