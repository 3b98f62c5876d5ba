"""Blocking wrappers of locks, latches and semaphores, and the coordination factories.

A blocking lock or permit belongs to the *thread* that acquired it (the async ones
belong to a task): ``with cluster.lock("x"):`` works as ``threading.Lock`` does, and
the lease is renewed in the background while that thread is alive.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any

from hazelkit._blocking._interrupt import call_interruptibly
from hazelkit._blocking._runner import Runner
from hazelkit._blocking._streams import BlockingReliableTopic, BlockingTopic
from hazelkit._coordination._latch import CountDownLatch
from hazelkit._coordination._lock import Lock, LockStatistics
from hazelkit._coordination._semaphore import Permit, Semaphore, SemaphoreStatistics
from hazelkit._streams._reliable_topic import FullPolicy

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = [
    "BlockingCoordination",
    "BlockingLatch",
    "BlockingLock",
    "BlockingPermit",
    "BlockingSemaphore",
]


class BlockingLock:
    """A :class:`~hazelkit.Lock` held by a thread: ``with lock:`` or acquire/release.

    Same guarantees as the async Lock (lease, fencing tokens, not reentrant), with the
    calling thread as the owner.
    """

    def __init__(self, run: Runner, lock: Lock) -> None:
        self._run = run
        self.async_lock = lock
        self.name = lock.name

    def acquire(self, timeout: float | None = None) -> int:
        """See :meth:`hazelkit.Lock.acquire`; returns the fencing token.

        An interrupt (Ctrl-C) while waiting stops the wait and leaves the lock free:
        if it was granted at that moment, it is released before the interrupt goes on.
        """
        thread = threading.current_thread()

        async def give_back(_token: int) -> None:
            await self.async_lock._release(thread)

        return call_interruptibly(
            self._run, self.async_lock._acquire, thread, timeout, undo=give_back
        )

    def release(self) -> None:
        """See :meth:`hazelkit.Lock.release` (by the thread that acquired)."""
        self._run(self.async_lock._release, threading.current_thread())

    def locked(self) -> bool:
        """See :meth:`hazelkit.Lock.locked`."""
        return self._run(self.async_lock.locked)

    @property
    def held(self) -> bool:
        """Whether the calling thread holds the lock and its lease cannot have lapsed."""
        lease = self.async_lock._holding_of(threading.current_thread())
        return lease is not None and lease.held

    @property
    def token(self) -> int | None:
        """The calling thread's fencing token, or None."""
        lease = self.async_lock._holding_of(threading.current_thread())
        return None if lease is None else lease.token

    def statistics(self) -> LockStatistics:
        """See :meth:`hazelkit.Lock.statistics`."""
        return self._run(self.async_lock.statistics)

    def __enter__(self) -> int:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"<BlockingLock {self.name!r}>"


class BlockingLatch:
    """A :class:`~hazelkit.CountDownLatch` that blocks; same guarantees."""

    def __init__(self, run: Runner, latch: CountDownLatch) -> None:
        self._run = run
        self.async_latch = latch
        self.name = latch.name

    def try_set_count(self, count: int) -> bool:
        """See :meth:`hazelkit.CountDownLatch.try_set_count`."""
        return self._run(self.async_latch.try_set_count, count)

    def count_down(self) -> None:
        """See :meth:`hazelkit.CountDownLatch.count_down`."""
        self._run(self.async_latch.count_down)

    def count(self) -> int:
        """See :meth:`hazelkit.CountDownLatch.count`."""
        return self._run(self.async_latch.count)

    def wait(self, timeout: float | None = None) -> None:
        """See :meth:`hazelkit.CountDownLatch.wait`; an interrupt (Ctrl-C) stops it."""
        call_interruptibly(self._run, self.async_latch.wait, timeout)

    def destroy(self) -> None:
        """See :meth:`hazelkit.CountDownLatch.destroy`."""
        self._run(self.async_latch.destroy)

    def __repr__(self) -> str:
        return f"<BlockingLatch {self.name!r}>"


class BlockingPermit:
    """A permit of a :class:`BlockingSemaphore`; ``with`` it or call :meth:`release`."""

    def __init__(self, run: Runner, permit: Permit) -> None:
        self._run = run
        self.async_permit = permit

    @property
    def token(self) -> int:
        """See :attr:`hazelkit.Permit.token`."""
        return self.async_permit.token

    @property
    def held(self) -> bool:
        """See :attr:`hazelkit.Permit.held`."""
        return self.async_permit.held

    def release(self) -> None:
        """See :meth:`hazelkit.Permit.release`."""
        self._run(self.async_permit.release)

    def __enter__(self) -> BlockingPermit:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


class BlockingSemaphore:
    """A :class:`~hazelkit.Semaphore` whose permits belong to threads; same guarantees."""

    def __init__(self, run: Runner, semaphore: Semaphore) -> None:
        self._run = run
        self.async_semaphore = semaphore
        self.name = semaphore.name

    def acquire(self, timeout: float | None = None) -> BlockingPermit:
        """See :meth:`hazelkit.Semaphore.acquire`. An interrupt (Ctrl-C) while waiting
        stops the wait and takes no permit (one granted at that moment is released)."""
        permit = call_interruptibly(
            self._run,
            self.async_semaphore._acquire,
            threading.current_thread(),
            timeout,
            undo=Permit.release,
        )
        return BlockingPermit(self._run, permit)

    def release(self) -> None:
        """See :meth:`hazelkit.Semaphore.release` (the calling thread's latest permit)."""
        self._run(self.async_semaphore._release, threading.current_thread())

    def available(self) -> int:
        """See :meth:`hazelkit.Semaphore.available`."""
        return self._run(self.async_semaphore.available)

    def statistics(self) -> SemaphoreStatistics:
        """See :meth:`hazelkit.Semaphore.statistics`."""
        return self._run(self.async_semaphore.statistics)

    def __enter__(self) -> BlockingPermit:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"<BlockingSemaphore {self.name!r}>"


class BlockingCoordination:
    """The coordination and stream factories of :class:`~hazelkit.blocking.BlockingCluster`."""

    _run: Runner
    async_cluster: Cluster

    def lock(self, name: str, *, lease: float = 30.0) -> BlockingLock:
        """See :meth:`hazelkit.Cluster.lock`."""
        return BlockingLock(self._run, self.async_cluster.lock(name, lease=lease))

    def latch(self, name: str) -> BlockingLatch:
        """See :meth:`hazelkit.Cluster.latch`."""
        return BlockingLatch(self._run, self.async_cluster.latch(name))

    def semaphore(self, name: str, permits: int, *, lease: float = 30.0) -> BlockingSemaphore:
        """See :meth:`hazelkit.Cluster.semaphore`."""
        return BlockingSemaphore(
            self._run, self.async_cluster.semaphore(name, permits, lease=lease)
        )

    def topic(self, name: str) -> BlockingTopic[Any]:
        """See :meth:`hazelkit.Cluster.topic`."""
        return BlockingTopic(self._run, self.async_cluster.topic(name))

    def reliable_topic(
        self,
        name: str,
        *,
        capacity: int | None = None,
        ttl: int | None = None,
        on_full: FullPolicy | str = "overwrite",
        publish_timeout: float = 30.0,
    ) -> BlockingReliableTopic[Any]:
        """See :meth:`hazelkit.Cluster.reliable_topic`."""
        topic = self.async_cluster.reliable_topic(
            name, capacity=capacity, ttl=ttl, on_full=on_full, publish_timeout=publish_timeout
        )
        return BlockingReliableTopic(self._run, topic)
