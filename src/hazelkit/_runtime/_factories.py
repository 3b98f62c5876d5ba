"""The runtime's factories on :class:`~hazelkit.Cluster`: ``cluster.workflows``."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from hazelkit._core._local import ClusterLocal

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster
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
