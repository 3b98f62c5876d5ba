"""crash(): end a Cluster in this process as SIGKILL would end its process."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = ["crash"]


async def crash(cluster: Cluster) -> None:
    """Stop ``cluster`` without any of a graceful close: leases it holds (locks, workflow
    partitions) are not given back and nothing is handed off, so other nodes take over
    only when those leases lapse, exactly as after a crash. Its background tasks end and
    its connection is dropped; the Cluster is closed afterwards.

    For tests of failover without killing processes (several Clusters in one process on
    one embedded grid are several nodes).
    """
    await cluster._abort()
