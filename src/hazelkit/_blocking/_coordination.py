"""Blocking wrappers of locks, latches, semaphores and topics."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hazelkit._blocking._runner import Runner

if TYPE_CHECKING:
    from hazelkit._cluster import Cluster

__all__ = ["BlockingCoordination"]


class BlockingCoordination:
    """The coordination and stream factories of :class:`~hazelkit.blocking.BlockingCluster`."""

    _run: Runner
    async_cluster: Cluster
