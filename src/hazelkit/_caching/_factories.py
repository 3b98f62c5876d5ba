"""The caching factory of :class:`~hazelkit.Cluster`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from hazelkit._caching._cache import Cache
    from hazelkit._core._cluster import Cluster

__all__ = ["CachingFactories"]


class CachingFactories:
    """Mixed into :class:`~hazelkit.Cluster`: caches (memoizing is a method of a Cache)."""

    @property
    def _cluster(self) -> Cluster:
        return cast("Cluster", self)

    def cache(
        self,
        name: str,
        *,
        ttl: float | None = None,
        max_size: int | None = None,
        near_cache: bool = False,
        near_cache_size: int = 1024,
        near_cache_ttl: float = 5.0,
    ) -> Cache[Any, Any]:
        """The cache called ``name``: entries expire ``ttl`` seconds after they are written
        (None: never), at most about ``max_size`` are kept (random eviction), and with
        ``near_cache`` this node keeps up to ``near_cache_size`` recent reads for at most
        ``near_cache_ttl`` seconds. Options are per handle: give every node the same."""
        from hazelkit._caching._cache import Cache

        return Cache(
            self._cluster,
            name,
            ttl=ttl,
            max_size=max_size,
            near_cache=near_cache,
            near_cache_size=near_cache_size,
            near_cache_ttl=near_cache_ttl,
        )
