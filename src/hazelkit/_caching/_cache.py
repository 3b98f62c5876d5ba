"""Cache: entries with a TTL and a size bound, an optional near cache, and memoize."""

from __future__ import annotations

import asyncio
import inspect
import random
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Generic, ParamSpec, TypeVar, overload

from hazelkit._backends.protocol import MapStore
from hazelkit._caching._cache_shared import CacheShared, shared
from hazelkit._caching._memoize import Memoized, default_memo_name
from hazelkit._caching._near_cache import MISS, NearCache
from hazelkit._caching._single_flight import SingleFlight
from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._exceptions import ArgumentError, ConfigurationError
from hazelkit._core._handle import MAX_EXPIRY, Handle, check_count, check_expiry, check_seconds

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = ["Cache", "CacheStatistics"]

K = TypeVar("K")
V = TypeVar("V")
D = TypeVar("D")
P = ParamSpec("P")
R = TypeVar("R")

#: The lease of a memoized computation, renewed while it runs (seconds).
DEFAULT_LEASE: Final = 30.0
#: Hazelcast counts TTLs in whole seconds from the second an entry was written, so an
#: entry may expire up to 1 s early: a shorter lease could lapse before its renewal.
MIN_LEASE: Final = 2.0
#: The default of the ``ttl`` arguments: the TTL the Cache was created with.
CACHE_TTL: Any = object()


@dataclass(frozen=True, slots=True)
class CacheStatistics:
    """What one node did for one cache name (counters since the Cluster first used it)."""

    near_cache_size: int
    near_cache_hits: int
    near_cache_misses: int
    computations: int
    evictions: int


class Cache(Handle[MapStore], Generic[K, V]):
    """A cluster-wide cache: a map with a default TTL, a size bound, an optional near
    cache, and :meth:`memoize`, which computes a missing key once in the whole cluster.

    - ``ttl``: seconds an entry lives after it is written (None: until evicted). On
      Hazelcast, TTLs count in whole seconds from the second of the write, so an
      entry may expire up to 1 s early.
    - ``max_size``: a soft bound on the number of entries. After each write the
      writer checks the size and, above ``max_size``, deletes randomly chosen other
      entries down to 90 % of it. So the cache holds at most ``max_size`` entries
      whenever no write is in flight; while N nodes write at once it may hold up to
      N more, and concurrent evictions may remove a few more than needed. Eviction
      is random, not LRU (Hazelcast's own eviction needs member configuration), and
      skips keys whose memoized computation is still in flight. Each write of a
      bounded cache costs one extra ``size`` call. An evicted memoized result is
      computed again by the next call; so "computed once" holds while the result is
      cached.
    - ``near_cache``: keep up to ``near_cache_size`` recently read entries (absent
      ones too) on this node, each for at most ``near_cache_ttl`` seconds, and at
      most the cache's ``ttl`` (for memoized results: the ``ttl`` of the call). Writes
      anywhere invalidate them through entry events; since events can be lost, a
      stale value is served for at most that long (``clear()`` by another node
      sends no events: it shows within that bound too). An entry written with a
      ``ttl`` shorter than the cache's may be served by other nodes' near caches
      until the cache's ``ttl`` (or ``near_cache_ttl``) runs out.

    Handles are cheap: every handle of one name on one node shares one near cache
    (per size and TTL asked for), one listener per map and the statistics, so a
    handle made per call costs no more than one kept for the program's lifetime.
    Values are read fresh from the cluster on every :meth:`get` without a near cache.
    Entries live in the map ``hazelkit.cache/NAME``; memoize claims in
    ``hazelkit.cache-flights/NAME``.
    """

    kind = "cache"

    def __init__(
        self,
        cluster: Cluster,
        name: str,
        *,
        ttl: float | None = None,
        max_size: int | None = None,
        near_cache: bool = False,
        near_cache_size: int = 1024,
        near_cache_ttl: float = 5.0,
    ) -> None:
        super().__init__(cluster, name)
        self.ttl = check_expiry(ttl, "ttl")
        self.max_size = check_count(max_size, "max_size", optional=True)
        self._near_options: tuple[int, float] | None = None
        if near_cache:
            size = check_count(near_cache_size, "near_cache_size")
            near_ttl = check_seconds(near_cache_ttl, "near_cache_ttl") or 0.0
            self._near_options = (size, near_ttl)
        self._flights_store: MapStore | None = None
        self._flight = SingleFlight(self)

    def _open(self) -> MapStore:
        return lowlevel.backend(self._cluster).map(f"hazelkit.cache/{self.name}")

    @property
    def _flights(self) -> MapStore:
        lowlevel.check_open(self._cluster)
        if self._flights_store is None:
            self._flights_store = lowlevel.backend(self._cluster).map(
                f"hazelkit.cache-flights/{self.name}"
            )
        return self._flights_store

    @property
    def _shared(self) -> CacheShared:
        return shared(self._cluster, self.name)

    @property
    def _near(self) -> NearCache | None:
        options = self._near_options
        return None if options is None else self._shared.near_cache(*options)

    def _ttl(self, ttl: float | None) -> float | None:
        return self.ttl if ttl is CACHE_TTL else check_expiry(ttl, "ttl")

    # -- reads and writes -------------------------------------------------------------

    @overload
    async def get(self, key: K) -> V | None: ...
    @overload
    async def get(self, key: K, default: D) -> V | D: ...
    async def get(self, key: K, default: Any = None) -> Any:
        """The cached value of ``key``, or ``default`` (see the near cache's bound)."""
        raw_key = self._key(key)
        data = await self._read(raw_key, self.ttl)
        return default if data is None else self._decode(data, raw_key)

    async def set(self, key: K, value: V, *, ttl: float | None = CACHE_TTL) -> None:
        """Cache ``value`` under ``key`` for ``ttl`` seconds (default: the cache's TTL;
        None or 0: no expiry), then enforce the size bound.

        The same call as :meth:`Map.set <hazelkit.Map.set>`. A Cache has no ``put``: a
        Map's ``put`` returns the value it replaced, which a cache cannot promise (that
        entry may have expired or been evicted a moment before)."""
        raw_ttl = self._ttl(ttl)
        raw_key = self._key(key)
        await self._store_value(raw_key, self._encode(value, raw_key), raw_ttl)

    async def delete(self, key: K) -> None:
        """Remove ``key`` from the cache (every node's near cache drops it too)."""
        raw = self._key(key)
        await self._store.delete(raw)
        self._shared.invalidate(raw)

    async def contains(self, key: K) -> bool:
        """Whether ``key`` is cached (asks the cluster, not the near cache)."""
        return await self._store.contains(self._key(key))

    async def size(self) -> int:
        """The number of cached entries in the cluster."""
        return await self._store.size()

    async def clear(self) -> None:
        """Remove every entry. Other nodes' near caches may serve old values for up to
        ``near_cache_ttl`` seconds (a clear sends no per-entry events)."""
        await self._store.clear()
        self._shared.clear()

    async def destroy(self) -> None:
        """Remove the cache's maps from the grid."""
        await self._store.destroy()
        await self._flights.destroy()
        state = self._shared
        state.clear()
        await state.forget_listeners()  # a destroyed map's listeners may be gone

    async def _read(self, raw: bytes, ttl: float | None) -> bytes | None:
        """The bytes under ``raw``, from the near cache if it has them; a near copy is
        kept at most ``ttl`` (the entry's TTL, if known) as well."""
        near = self._near
        if near is None:
            return await self._store.get(raw)
        found = near.lookup(raw, ttl)
        if found is not MISS:
            return found  # type: ignore[return-value]
        state, store = self._shared, self._store
        await state.values_listener.ensure(self._cluster, store)
        generation, read_at = near.generation, time.monotonic()
        data = await store.get(raw)
        near.store(raw, data, generation, read_at, max_age=ttl)
        return data

    async def _store_value(self, raw: bytes, data: bytes, ttl: float | None) -> None:
        await self._store.set(raw, data, ttl=ttl)
        self._shared.invalidate(raw)
        if self.max_size is not None:
            await self._evict(self.max_size, keep=raw)

    async def _evict(self, max_size: int, keep: bytes) -> None:
        values = self._store
        if await values.size() <= max_size:
            return
        keys = [key for key in await values.keys() if key != keep]
        target = max_size - max(1, max_size // 10)
        excess = len(keys) + 1 - target
        if excess <= 0:
            return
        random.shuffle(keys)
        victims = await self._unclaimed(keys, excess)
        await asyncio.gather(*(values.delete(key) for key in victims))
        self._shared.evictions += len(victims)

    async def _unclaimed(self, candidates: list[bytes], wanted: int) -> list[bytes]:
        """Up to ``wanted`` of ``candidates``, in order, skipping keys being computed:
        a result just stored by a computation still holding its claim is not evicted
        before its waiters read it."""
        victims: list[bytes] = []
        for start in range(0, len(candidates), wanted):
            batch = candidates[start : start + wanted]
            claimed = await self._flights.get_all(batch)
            victims.extend(key for key in batch if key not in claimed)
            if len(victims) >= wanted:
                return victims[:wanted]
        return victims

    # -- single flight ---------------------------------------------------------------

    async def get_or_compute(
        self,
        key: K,
        compute: Callable[[], Awaitable[V]],
        *,
        ttl: float | None = CACHE_TTL,
        lease: float = DEFAULT_LEASE,
        timeout: float | None = None,
    ) -> V:
        """The value of ``key``; if missing, ``await compute()`` runs on exactly one node
        of the cluster while concurrent callers everywhere wait for its result.

        The computing node holds a claim with a ``lease`` (seconds), renewed while it
        computes; if it dies, its claim lapses and a waiter takes over, so nobody waits
        for a dead node longer than about ``lease`` + 0.5 s. ``timeout`` bounds how long
        this call waits for another node's computation (None: as long as that node is
        alive), then raises OperationTimeoutError; it does not bound this node's own
        computation. An exception from ``compute`` reaches its caller and is not cached
        (a waiter computes again). The result is cached for ``ttl`` as :meth:`set` does.
        """
        raw_ttl, raw = self._ttl(ttl), self._key(key)
        lease = check_seconds(lease, "lease", maximum=MAX_EXPIRY) or 0.0
        if lease < MIN_LEASE:
            raise ConfigurationError(f"lease must be at least {MIN_LEASE:g} s, not {lease!r}")
        limit = check_seconds(timeout, "timeout", optional=True)
        return await self._flight.get_or_compute(  # type: ignore[no-any-return]
            raw, compute, ttl=raw_ttl, lease=lease, timeout=limit
        )

    def memoize(
        self,
        *,
        ttl: float | None = CACHE_TTL,
        lease: float = DEFAULT_LEASE,
        timeout: float | None = None,
        name: str | None = None,
    ) -> Callable[[Callable[P, Coroutine[Any, Any, R]]], Memoized[P, R]]:
        """Decorate an async function so that its results are cached cluster-wide and a
        missing result is computed once in the cluster (see :meth:`get_or_compute`)::

            @cache.memoize(ttl=60)
            async def profile(user_id: int) -> dict: ...

        The key is the encoded call: ``name`` (default: the function's module and
        qualified name, the same in every process running the same code), the
        positional arguments and the keyword arguments, so ``f(1, b=2)`` and
        ``f(1, 2)`` are two keys. Arguments must be encodable (EncodeError, before
        anything runs); the result must be encodable to be cached.
        """

        def decorate(fn: Callable[P, Coroutine[Any, Any, R]]) -> Memoized[P, R]:
            if not inspect.iscoroutinefunction(fn):
                raise ArgumentError(
                    "Cache.memoize decorates async functions (BlockingCache.memoize "
                    "decorates plain ones)"
                )
            prefix = default_memo_name(fn, name)
            return Memoized(self, fn, prefix, ttl=ttl, lease=lease, timeout=timeout)

        return decorate

    def statistics(self) -> CacheStatistics:
        """What this node did for the cache of this name, through any of its handles:
        near cache size, hits and misses (of the near cache this handle's options
        select), computations run by :meth:`get_or_compute` here, entries evicted here."""
        near, state = self._near, self._shared
        return CacheStatistics(
            near_cache_size=0 if near is None else len(near),
            near_cache_hits=0 if near is None else near.hits,
            near_cache_misses=0 if near is None else near.misses,
            computations=state.computations,
            evictions=state.evictions,
        )
