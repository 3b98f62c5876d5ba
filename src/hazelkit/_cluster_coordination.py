"""The coordination and stream factories of :class:`~hazelkit.Cluster`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from hazelkit._cluster import Cluster
    from hazelkit._latch import CountDownLatch
    from hazelkit._lock import Lock
    from hazelkit._reliable_topic import FullPolicy, ReliableTopic
    from hazelkit._semaphore import Semaphore
    from hazelkit._topic import Topic

__all__ = ["CoordinationFactories"]


class CoordinationFactories:
    """Mixed into :class:`~hazelkit.Cluster`: locks, latches, semaphores and topics.

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

    def reliable_topic(
        self,
        name: str,
        *,
        capacity: int | None = None,
        ttl: int | None = None,
        on_full: FullPolicy | str = "overwrite",
        publish_timeout: float = 30.0,
    ) -> ReliableTopic[Any]:
        """The ringbuffer-backed topic called ``name`` (see :class:`~hazelkit.ReliableTopic`).

        ``capacity`` (messages) and ``ttl`` (whole seconds) configure its ringbuffer on
        first use (None: the members' configuration); ``on_full`` is ``"overwrite"``,
        ``"fail"`` or ``"wait"`` (the last two need a ``ttl``); ``publish_timeout``
        bounds a publish's retries and waits.
        """
        from hazelkit._reliable_topic import ReliableTopic

        return ReliableTopic(
            self._cluster,
            name,
            capacity=capacity,
            ttl=ttl,
            on_full=on_full,
            publish_timeout=publish_timeout,
        )
