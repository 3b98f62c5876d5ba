"""The coordination and stream factories of :class:`~hazelkit.Cluster`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from hazelkit._cluster import Cluster
    from hazelkit._latch import CountDownLatch
    from hazelkit._lock import Lock
    from hazelkit._semaphore import Semaphore
    from hazelkit._topic import Topic

__all__ = ["CoordinationFactories"]


class CoordinationFactories:
    """Mixed into :class:`~hazelkit.Cluster`: locks, latches, semaphores and topics."""

    @property
    def _cluster(self) -> Cluster:
        return cast("Cluster", self)

    def lock(self, name: str, *, lease: float = 30.0) -> Lock:
        """The distributed lock called ``name`` (a cheap handle; see :class:`~hazelkit.Lock`).

        ``lease``: seconds a holder keeps the lock without renewing it (at least 2); a
        dead holder's lock becomes free within that time.
        """
        from hazelkit._lock import Lock

        return Lock(self._cluster, name, lease=lease)

    def latch(self, name: str) -> CountDownLatch:
        """The count-down latch called ``name`` (see :class:`~hazelkit.CountDownLatch`)."""
        from hazelkit._latch import CountDownLatch

        return CountDownLatch(self._cluster, name)

    def semaphore(self, name: str, permits: int, *, lease: float = 30.0) -> Semaphore:
        """The semaphore called ``name`` with ``permits`` permits (see
        :class:`~hazelkit.Semaphore`); a dead holder's permits come back within ``lease``
        seconds."""
        from hazelkit._semaphore import Semaphore

        return Semaphore(self._cluster, name, permits, lease=lease)

    def topic(self, name: str) -> Topic[Any]:
        """The best-effort topic called ``name`` (see :class:`~hazelkit.Topic`)."""
        from hazelkit._topic import Topic

        return Topic(self._cluster, name)
