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
coroutine each, concurrently. On the embedded grid, a Map's data calls (``get``, ``set``,
``compute``, ...) run in the calling thread instead, as the grid is safe to use from
several threads; that saves the hop to the loop thread (about 80 µs a call), and
``HAZELKIT_BLOCKING_DIRECT=0`` turns it off (see :mod:`hazelkit._blocking._direct`).
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any, ParamSpec, TypeVar

from anyio.from_thread import BlockingPortal, start_blocking_portal

from hazelkit._backends.memory import MemoryBackend
from hazelkit._blocking._agents import BlockingAgent, BlockingAgentHosting, BlockingSingleton
from hazelkit._blocking._coordination import (
    BlockingCoordination,
    BlockingLatch,
    BlockingLock,
    BlockingPermit,
    BlockingSemaphore,
)
from hazelkit._blocking._runner import BlockingIterator, Runner
from hazelkit._blocking._streams import (
    BlockingReliableSubscription,
    BlockingReliableTopic,
    BlockingTopic,
)
from hazelkit._blocking._structures import (
    BlockingAtom,
    BlockingCache,
    BlockingCounter,
    BlockingIdGenerator,
    BlockingList,
    BlockingMap,
    BlockingMemoized,
    BlockingMultiMap,
    BlockingQueue,
    BlockingSet,
    BlockingStructures,
)
from hazelkit._blocking._workflows import BlockingHosting, BlockingWorkflows
from hazelkit._codec import Codec
from hazelkit._core._cluster import (
    Cluster,
    ClusterState,
    LifecycleEvent,
    Member,
    MembershipEvent,
    connect,
)
from hazelkit._core._subscription import Subscription

__all__ = [
    "BlockingAgent",
    "BlockingAgentHosting",
    "BlockingAtom",
    "BlockingCache",
    "BlockingCluster",
    "BlockingCounter",
    "BlockingHosting",
    "BlockingIdGenerator",
    "BlockingIterator",
    "BlockingLatch",
    "BlockingList",
    "BlockingLock",
    "BlockingMap",
    "BlockingMemoized",
    "BlockingMultiMap",
    "BlockingPermit",
    "BlockingQueue",
    "BlockingReliableSubscription",
    "BlockingReliableTopic",
    "BlockingSemaphore",
    "BlockingSet",
    "BlockingSingleton",
    "BlockingTopic",
    "BlockingWorkflows",
    "connect_blocking",
]

P = ParamSpec("P")
T = TypeVar("T")


class BlockingCluster(BlockingStructures, BlockingCoordination):
    """A :class:`~hazelkit.Cluster` driven from blocking code. Create with
    :func:`connect_blocking`; close it (or use ``with``) to stop its thread."""

    def __init__(
        self,
        portal_manager: AbstractContextManager[BlockingPortal],
        portal: BlockingPortal,
        cluster: Cluster,
    ) -> None:
        self._portal_manager = portal_manager
        self._run = Runner(portal, embedded=functools.partial(_embedded, cluster))
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

    def agent(self, name: str, **options: Any) -> BlockingAgent[Any]:
        """The agent ``name``, without ``await`` (see :meth:`Cluster.agent`)."""
        return BlockingAgent(self._run, self.async_cluster.agent(name, **options))

    def host_agents(self, **options: Any) -> BlockingAgentHosting:
        """Run agents on this cluster (see :meth:`Agents.host`); ``with`` it."""
        return BlockingAgentHosting(self._run, self.async_cluster.agents.host(**options))

    def singleton(
        self, name: str, fn: Callable[[int], Awaitable[Any]], *, lease: float = 5.0
    ) -> BlockingSingleton:
        """A singleton candidacy (see :meth:`Cluster.singleton`); ``fn`` is a coroutine
        function run on the cluster's event loop thread."""
        return BlockingSingleton(self._run, self.async_cluster.singleton(name, fn, lease=lease))

    @property
    def workflows(self) -> BlockingWorkflows:
        """The cluster's workflows, without ``await`` (see :mod:`hazelkit.workflows`)."""
        return BlockingWorkflows(self._run, self.async_cluster.workflows)

    @property
    def codec(self) -> Codec:
        """The codec of the async Cluster (shared by every structure)."""
        return self.async_cluster.codec

    @property
    def url(self) -> str:
        """The URL this cluster is connected to (without credentials)."""
        return self.async_cluster.url

    @property
    def state(self) -> ClusterState:
        """The current :class:`~hazelkit.ClusterState`."""
        return self.async_cluster.state

    def members(self) -> list[Member]:
        """See :meth:`hazelkit.Cluster.members`."""
        self._run.check()
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

    def close(self) -> None:
        """Close the cluster, then stop the helper thread. Idempotent. In a child process
        after ``fork()`` it only marks this copy closed (connection and thread are the
        parent's)."""
        if self._closed:
            return
        self._closed = True
        _open_clusters.discard(self)
        if self._run.forked:  # the loop's thread is the parent's: nothing here to stop
            self._run.stopped = True
            return
        try:
            self._run(self.async_cluster.close)
        finally:
            self._run.stopped = True
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


def _embedded(cluster: Cluster) -> bool:
    """Whether ``cluster`` runs on the plain embedded grid (not Hazelcast, no fault plan
    in front): then the Map's data calls may run in the calling thread."""
    return type(cluster._backend) is MemoryBackend


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
    blocking = BlockingCluster(manager, portal, cluster)
    _open_clusters.add(blocking)
    return blocking


#: Every BlockingCluster not yet closed. Held strongly, like an open file: a cluster
#: whose handle was dropped (``connect_blocking(url).map("m")``) keeps working for the
#: structures taken from it, and is closed at interpreter exit at the latest.
_open_clusters: set[BlockingCluster] = set()


def _close_open_clusters() -> None:
    """Close every BlockingCluster still open when the interpreter exits.

    Their event loops run in non-daemon helper threads, which the interpreter would wait
    for forever. This runs before those threads are joined (``atexit`` would be too
    late: it runs after).
    """
    for blocking in list(_open_clusters):
        try:
            blocking.close()
        except Exception:  # the interpreter is exiting; report and go on
            logging.getLogger("hazelkit").warning(
                "error closing %r at exit", blocking, exc_info=True
            )


threading._register_atexit(_close_open_clusters)  # type: ignore[attr-defined]


from hazelkit._core._public import publish as _publish  # noqa: E402

_publish(__name__, globals(), __all__)
