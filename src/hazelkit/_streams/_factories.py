"""The stream factories of :class:`~hazelkit.Cluster`: topics and reliable topics."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster
    from hazelkit._streams._reliable_topic import FullPolicy, ReliableTopic
    from hazelkit._streams._topic import Topic

__all__ = ["StreamFactories"]


class StreamFactories:
    """Mixed into :class:`~hazelkit.Cluster`: best-effort and reliable topics.

    Every factory returns a cheap handle: nothing is created in the grid until it is
    used, and two handles of the same name are the same structure.
    """

    @property
    def _cluster(self) -> Cluster:
        return cast("Cluster", self)

    def topic(self, name: str) -> Topic[Any]:
        """The best-effort topic called ``name`` (see :class:`~hazelkit.Topic`)."""
        from hazelkit._streams._topic import Topic

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
        from hazelkit._streams._reliable_topic import ReliableTopic

        return ReliableTopic(
            self._cluster,
            name,
            capacity=capacity,
            ttl=ttl,
            on_full=on_full,
            publish_timeout=publish_timeout,
        )
