"""The coordination and stream factories of :class:`~hazelkit.Cluster`."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from hazelkit._cluster import Cluster
    from hazelkit._lock import Lock

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
