"""State that hazelkit keeps per Cluster, made once and gone with the Cluster.

anyio's ``RunVar`` is the model: a module declares ``_publishers = ClusterLocal(dict)``
and calls ``_publishers.get(cluster)``; the first call makes the value, later calls return
it, and the value is forgotten when the Cluster object is. A ``close`` step, when given,
runs once as the Cluster closes (in reverse order of first use, like every closer).
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = ["ClusterLocal"]

T = TypeVar("T")


class ClusterLocal(Generic[T]):
    """One value of type ``T`` per Cluster, made by ``factory()`` on first use
    (``factory(cluster)`` with ``with_cluster=True``).

    ``close``, if given, is awaited with the value when the Cluster closes. Not
    thread-safe: call it from the Cluster's event loop, as everything else.
    """

    def __init__(
        self,
        factory: Callable[..., T],
        *,
        close: Callable[[T], Awaitable[None]] | None = None,
        with_cluster: bool = False,
    ) -> None:
        self._factory = factory
        self._with_cluster = with_cluster
        self._close = close
        self._values: weakref.WeakKeyDictionary[Cluster, T] = weakref.WeakKeyDictionary()

    def get(self, cluster: Cluster) -> T:
        """The value for ``cluster``, made now if this is the first use."""
        try:
            return self._values[cluster]
        except KeyError:
            made = self._factory(cluster) if self._with_cluster else self._factory()
            value = self._values[cluster] = made
            if self._close is not None:
                close = self._close
                cluster._on_close(lambda: close(value))
            return value

    def peek(self, cluster: Cluster) -> T | None:
        """The value for ``cluster`` if one was made, without making it."""
        return self._values.get(cluster)
