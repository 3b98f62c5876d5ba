"""Memoized: an async function whose results live in a Cache, computed once cluster-wide."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar

if TYPE_CHECKING:
    from hazelkit._cache import Cache

__all__ = ["Memoized"]

P = ParamSpec("P")
R = TypeVar("R")


class Memoized(Generic[P, R]):
    """An async function memoized in a :class:`Cache` (made by :meth:`Cache.memoize`)."""

    def __init__(
        self,
        cache: Cache[Any, Any],
        fn: Callable[P, Coroutine[Any, Any, R]],
        prefix: str,
        **options: Any,
    ) -> None:
        self.cache = cache
        self._fn = fn
        self._prefix = prefix
        self._options = options
        functools.update_wrapper(self, fn)

    def key(self, *args: P.args, **kwargs: P.kwargs) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """The cache key of a call with these arguments."""
        return (self._prefix, args, kwargs)

    async def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """The cached result of ``fn(*args, **kwargs)``, computed once cluster-wide."""
        key = self.key(*args, **kwargs)
        result: R = await self.cache.get_or_compute(
            key, lambda: self._fn(*args, **kwargs), **self._options
        )
        return result

    async def invalidate(self, *args: P.args, **kwargs: P.kwargs) -> None:
        """Forget the cached result of this call (the next call computes it again)."""
        await self.cache.delete(self.key(*args, **kwargs))
