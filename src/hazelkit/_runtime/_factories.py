"""The runtime's factories on :class:`~hazelkit.Cluster`: workflows and singletons."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

from hazelkit._core._local import ClusterLocal

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster
    from hazelkit._runtime._singleton import Singleton, SingletonStatus
    from hazelkit.workflows import Workflows

__all__ = ["RuntimeFactories"]


def _workflows(cluster: Cluster) -> Workflows:
    from hazelkit.workflows import Workflows

    return Workflows(cluster)


_per_cluster: ClusterLocal[Workflows] = ClusterLocal(_workflows, with_cluster=True)


class RuntimeFactories:
    """Mixed into :class:`~hazelkit.Cluster`: the entity runtime's front doors."""

    @property
    def workflows(self) -> Workflows:
        """This Cluster's workflows: start, send to, query and host them (see
        :mod:`hazelkit.workflows`)."""
        return _per_cluster.get(cast("Cluster", self))

    def singleton(
        self, name: str, fn: Callable[[int], Awaitable[Any]], *, lease: float = 5.0
    ) -> Singleton:
        """``fn(token)`` running on exactly one of the Clusters that start a singleton of
        this ``name`` (``async with cluster.singleton("reports", run_reports): ...``).

        ``token`` grows with every start (a fencing token for what ``fn`` writes). When
        the node running it dies, another starts it within ``lease + 2`` s; when it
        leaves gracefully, it is cancelled there before it starts elsewhere.
        """
        from hazelkit._runtime._singleton import Singleton

        return Singleton(cast("Cluster", self), name, fn, lease=lease)

    async def singleton_status(self, name: str) -> SingletonStatus:
        """Where singleton ``name`` runs now (node, token, since when), from any Cluster."""
        from hazelkit._runtime._singleton import singleton_status

        return await singleton_status(cast("Cluster", self), name)
