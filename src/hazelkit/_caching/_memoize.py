"""Memoized: an async function whose results live in a Cache, computed once cluster-wide."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar

if TYPE_CHECKING:
    from hazelkit._caching._cache import Cache

__all__ = ["MemoKey", "Memoized", "default_memo_name", "memo_key"]

P = ParamSpec("P")
R = TypeVar("R")


MemoKey = tuple[str, tuple[Any, ...], dict[str, Any]]


def default_memo_name(fn: Callable[..., Any], name: str | None) -> str:
    """``name``, or the function's module and qualified name (the same in every
    process running the same code)."""
    return name or f"{fn.__module__}.{fn.__qualname__}"


def memo_key(prefix: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> MemoKey:
    """The cache key of one call: the name, the positional and the keyword arguments."""
    return (prefix, args, kwargs)


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

    def key(self, *args: P.args, **kwargs: P.kwargs) -> MemoKey:
        """The cache key of a call with these arguments."""
        return memo_key(self._prefix, args, kwargs)

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
