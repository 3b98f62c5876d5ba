"""BlockingCache: a Cache that blocks, with ``memoize`` for plain functions."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, Generic, ParamSpec, TypeVar

import anyio.to_thread

from hazelkit._blocking._handle import BlockingHandle
from hazelkit._blocking._runner import Runner
from hazelkit._caching._cache import CACHE_TTL, DEFAULT_LEASE, Cache, CacheStatistics
from hazelkit._caching._memoize import MemoKey, default_memo_name, memo_key
from hazelkit._core._exceptions import ArgumentError

__all__ = ["BlockingCache", "BlockingMemoized"]

K = TypeVar("K")
V = TypeVar("V")
P = ParamSpec("P")
R = TypeVar("R")


class BlockingCache(BlockingHandle[Cache[K, V]], Generic[K, V]):
    """A :class:`~hazelkit.Cache` that blocks. Computations of :meth:`get_or_compute`
    and :meth:`memoize` run in a worker thread, so the cluster's event loop keeps
    renewing their lease while they run."""

    def __init__(self, run: Runner, cache: Cache[K, V]) -> None:
        super().__init__(run, cache)
        self.async_cache = cache

    def get(self, key: K, default: Any = None) -> Any:
        """See :meth:`hazelkit.Cache.get`."""
        return self._run(self.async_cache.get, key, default)

    def set(self, key: K, value: V, *, ttl: float | None = CACHE_TTL) -> None:
        """See :meth:`hazelkit.Cache.set`."""
        self._run(self.async_cache.set, key, value, ttl=ttl)

    def delete(self, key: K) -> None:
        """See :meth:`hazelkit.Cache.delete`."""
        self._run(self.async_cache.delete, key)

    def contains(self, key: K) -> bool:
        """See :meth:`hazelkit.Cache.contains`."""
        return self._run(self.async_cache.contains, key)

    def statistics(self) -> CacheStatistics:
        """See :meth:`hazelkit.Cache.statistics`."""
        return self.async_cache.statistics()

    def get_or_compute(
        self,
        key: K,
        compute: Callable[[], V],
        *,
        ttl: float | None = CACHE_TTL,
        lease: float = DEFAULT_LEASE,
        timeout: float | None = None,
    ) -> V:
        """See :meth:`hazelkit.Cache.get_or_compute`; ``compute`` is a plain function,
        run in a worker thread on the node that computes."""

        async def in_thread() -> V:
            return await anyio.to_thread.run_sync(compute)

        return self._run(
            self.async_cache.get_or_compute, key, in_thread, ttl=ttl, lease=lease, timeout=timeout
        )

    def memoize(
        self,
        *,
        ttl: float | None = CACHE_TTL,
        lease: float = DEFAULT_LEASE,
        timeout: float | None = None,
        name: str | None = None,
    ) -> Callable[[Callable[P, R]], BlockingMemoized[P, R]]:
        """See :meth:`hazelkit.Cache.memoize`, for plain (not async) functions."""

        def decorate(fn: Callable[P, R]) -> BlockingMemoized[P, R]:
            if inspect.iscoroutinefunction(fn):
                raise ArgumentError("BlockingCache.memoize decorates plain functions: use Cache")
            prefix = default_memo_name(fn, name)
            return BlockingMemoized(self, fn, prefix, ttl=ttl, lease=lease, timeout=timeout)

        return decorate


class BlockingMemoized(Generic[P, R]):
    """A plain function memoized in a cache (made by :meth:`BlockingCache.memoize`)."""

    def __init__(
        self, cache: BlockingCache[Any, Any], fn: Callable[P, R], prefix: str, **options: Any
    ) -> None:
        self.cache = cache
        self._fn = fn
        self._prefix = prefix
        self._options = options
        functools.update_wrapper(self, fn)

    def key(self, *args: P.args, **kwargs: P.kwargs) -> MemoKey:
        """The cache key of a call with these arguments (as :class:`hazelkit.Memoized`)."""
        return memo_key(self._prefix, args, kwargs)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """The cached result of ``fn(*args, **kwargs)``, computed once cluster-wide."""
        key = self.key(*args, **kwargs)
        result: R = self.cache.get_or_compute(
            key, functools.partial(self._fn, *args, **kwargs), **self._options
        )
        return result

    def invalidate(self, *args: P.args, **kwargs: P.kwargs) -> None:
        """Forget the cached result of this call."""
        self.cache.delete(self.key(*args, **kwargs))
