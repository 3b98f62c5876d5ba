"""The blocking facade: the same API without ``await``, for WSGI apps, scripts and the REPL.

:func:`connect_blocking` starts one event loop in a helper thread (an anyio blocking
portal) and runs the async :class:`~hazelkit.Cluster` there; every blocking call hands its
coroutine to that loop and waits for the result. No logic lives here: each method calls
the async method of the same name. Python's own protocols (``MutableMapping`` and
friends) are offered here only, so existing code can take a hazelkit structure where it
took a ``dict``::

    with hazelkit.connect_blocking("memory://app") as cluster:
        users = cluster.map("users")
        users["ada"] = {"name": "Ada"}
        assert "ada" in users and len(users) == 1

A BlockingCluster may be used from several threads at once; calls run on its loop, one
coroutine each, concurrently.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Iterable, Iterator, Mapping, MutableMapping
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any, Generic, ParamSpec, TypeVar, overload

from anyio.from_thread import BlockingPortal, start_blocking_portal

from hazelkit._cluster import (
    Cluster,
    ClusterState,
    LifecycleEvent,
    Member,
    MembershipEvent,
    connect,
)
from hazelkit._codec import Codec
from hazelkit._map import Map
from hazelkit._subscription import Subscription

__all__ = ["BlockingCluster", "BlockingIterator", "BlockingMap", "connect_blocking"]

P = ParamSpec("P")
T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")
D = TypeVar("D")
_MISSING: Any = object()


class _Runner:
    """Runs coroutines of one Cluster on its portal's event loop, from any thread."""

    def __init__(self, portal: BlockingPortal) -> None:
        self.portal = portal

    def __call__(
        self, func: Callable[P, Coroutine[Any, Any, T]], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        result: T
        if kwargs:
            result = self.portal.call(functools.partial(func, *args, **kwargs))
        else:
            result = self.portal.call(func, *args)
        return result


class BlockingIterator(Generic[T]):
    """A blocking iterator over a :class:`~hazelkit._subscription.Subscription`."""

    def __init__(self, run: _Runner, subscription: Subscription[T]) -> None:
        self._run = run
        self._subscription = subscription

    def __iter__(self) -> BlockingIterator[T]:
        return self

    def __next__(self) -> T:
        try:
            return self._run(self._subscription.get)
        except StopAsyncIteration:
            raise StopIteration from None

    def get(self, timeout: float | None = None) -> T:
        """The next item, waiting up to ``timeout`` seconds (OperationTimeoutError after)."""
        return self._run(self._subscription.get, timeout)

    def close(self) -> None:
        """Stop receiving. Idempotent."""
        self._run(self._subscription.aclose)

    def __enter__(self) -> BlockingIterator[T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class BlockingMap(MutableMapping[K, V]):
    """A :class:`~hazelkit.Map` that blocks, and is a ``MutableMapping``.

    Same guarantees as the async Map. ``m[k]`` raises KeyError for a missing key;
    iteration walks a snapshot of the keys taken when it starts.
    """

    def __init__(self, run: _Runner, amap: Map[K, V]) -> None:
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


class BlockingCluster:
    """A :class:`~hazelkit.Cluster` driven from blocking code. Create with
    :func:`connect_blocking`; close it (or use ``with``) to stop its thread."""

    def __init__(
        self,
        portal_manager: AbstractContextManager[BlockingPortal],
        portal: BlockingPortal,
        cluster: Cluster,
    ) -> None:
        self._portal_manager = portal_manager
        self._run = _Runner(portal)
        #: The async Cluster underneath (use it only from coroutines run on :attr:`portal`).
        self.async_cluster = cluster
        self._closed = False

    @property
    def portal(self) -> BlockingPortal:
        """The anyio portal running this cluster's event loop."""
        return self._run.portal

    def run(
        self, func: Callable[P, Coroutine[Any, Any, T]], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``await func(*args, **kwargs)`` on the cluster's event loop and return it."""
        return self._run(func, *args, **kwargs)

    @property
    def codec(self) -> Codec:
        return self.async_cluster.codec

    @property
    def url(self) -> str:
        return self.async_cluster.url

    @property
    def state(self) -> ClusterState:
        return self.async_cluster.state

    def members(self) -> list[Member]:
        """See :meth:`hazelkit.Cluster.members`."""
        return self._run.portal.call(self._members)

    async def _members(self) -> list[Member]:
        return self.async_cluster.members()

    def lifecycle_events(self, capacity: int = 256) -> BlockingIterator[LifecycleEvent]:
        """See :meth:`hazelkit.Cluster.lifecycle_events`."""
        return BlockingIterator(
            self._run, self._subscribe(self.async_cluster.lifecycle_events, capacity)
        )

    def membership_events(self, capacity: int = 256) -> BlockingIterator[MembershipEvent]:
        """See :meth:`hazelkit.Cluster.membership_events`."""
        return BlockingIterator(
            self._run, self._subscribe(self.async_cluster.membership_events, capacity)
        )

    def _subscribe(
        self, factory: Callable[[int], Subscription[T]], capacity: int
    ) -> Subscription[T]:
        async def subscribe() -> Subscription[T]:
            return factory(capacity)

        return self._run(subscribe)

    def map(self, name: str) -> BlockingMap[Any, Any]:
        """See :meth:`hazelkit.Cluster.map`."""
        return BlockingMap(self._run, self.async_cluster.map(name))

    def close(self) -> None:
        """Close the cluster, then stop the helper thread. Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            self._run(self.async_cluster.close)
        finally:
            self._portal_manager.__exit__(None, None, None)

    def __enter__(self) -> BlockingCluster:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<BlockingCluster {self.url} {self.state.value}>"


def connect_blocking(
    url: str | None = None, *, codec: Codec | None = None, **options: Any
) -> BlockingCluster:
    """Connect to ``url`` from blocking code; see :func:`hazelkit.connect` for arguments.

    Returns once connected (or raises ClusterUnavailableError within the connect
    timeout). The returned cluster owns a helper thread until :meth:`BlockingCluster.close`.
    """
    cluster = connect(url, codec=codec, **options)
    manager = start_blocking_portal("asyncio")
    portal = manager.__enter__()
    try:
        portal.call(cluster.start)
    except BaseException:
        manager.__exit__(None, None, None)
        raise
    return BlockingCluster(manager, portal, cluster)
