"""The coordination factories of :class:`~hazelkit.Cluster`: locks, latches, semaphores."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from hazelkit._coordination._latch import CountDownLatch
    from hazelkit._coordination._lock import Lock
    from hazelkit._coordination._semaphore import Semaphore
    from hazelkit._core._cluster import Cluster

__all__ = ["CoordinationFactories"]


class CoordinationFactories:
    """Mixed into :class:`~hazelkit.Cluster`: locks, latches and semaphores.

    Every factory returns a cheap handle: nothing is created in the grid until it is
    used, and two handles of the same name are the same structure.
    """

    @property
    def _cluster(self) -> Cluster:
        return cast("Cluster", self)

    def lock(self, name: str, *, lease: float = 30.0) -> Lock:
        """The distributed lock called ``name`` (see :class:`~hazelkit.Lock`).

        ``lease``: seconds a holder keeps the lock without renewing it (at least 3); a
        dead holder's lock becomes free within that time.
        """
        from hazelkit._coordination._lock import Lock

        return Lock(self._cluster, name, lease=lease)

    def latch(self, name: str) -> CountDownLatch:
        """The count-down latch called ``name`` (see :class:`~hazelkit.CountDownLatch`)."""
        from hazelkit._coordination._latch import CountDownLatch

        return CountDownLatch(self._cluster, name)

    def semaphore(self, name: str, permits: int, *, lease: float = 30.0) -> Semaphore:
        """The semaphore called ``name`` with ``permits`` permits (see
        :class:`~hazelkit.Semaphore`); a dead holder's permits come back within ``lease``
        seconds."""
        from hazelkit._coordination._semaphore import Semaphore

        return Semaphore(self._cluster, name, permits, lease=lease)
