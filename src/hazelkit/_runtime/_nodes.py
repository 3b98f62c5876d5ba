"""Nodes: hosting Clusters announce themselves, and learn of each other, through one map.

Each node keeps an entry in ``hazelkit.rt.nodes`` with a time to live, rewritten as a
heartbeat: its id, where it runs, since when, and the spaces it hosts with the version
of each definition. A node that dies stops beating and its entry lapses; one that leaves
gracefully removes it. The entries are only hints for assignment: ownership itself is
decided by partition leases (:mod:`._leases`), so a late or missing heartbeat can move
work around but never lets two nodes apply one partition.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._exceptions import ClusterClosedError, HazelkitError, SerializationError

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = ["NODES_MAP", "NodeInfo", "NodeRegistry"]

logger = logging.getLogger("hazelkit")

NODES_MAP = "hazelkit.rt.nodes"


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """A node as it announced itself."""

    id: str
    host: str
    pid: int
    started: float  #: wall-clock time it started hosting
    heartbeat: float  #: wall-clock time of its last heartbeat
    spaces: dict[str, int] = field(default_factory=dict)  #: space -> definition version

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "host": self.host,
            "pid": self.pid,
            "started": self.started,
            "heartbeat": self.heartbeat,
            "spaces": self.spaces,
        }

    @classmethod
    def from_wire(cls, value: Any) -> NodeInfo:
        return cls(
            str(value["id"]),
            str(value["host"]),
            int(value["pid"]),
            float(value["started"]),
            float(value["heartbeat"]),
            {str(k): int(v) for k, v in dict(value["spaces"]).items()},
        )


class NodeRegistry:
    """This node's entry, kept alive by a heartbeat, and the view of every live node."""

    def __init__(self, cluster: Cluster, ttl: float) -> None:
        self._cluster = cluster
        self.id = uuid.uuid4().hex[:16]
        self._ttl = ttl
        self._spaces: dict[str, int] = {}
        self._started = cluster.clock.time()
        self._key = cluster.codec.encode_key(self.id)

    @property
    def _store(self) -> Any:
        return lowlevel.backend(self._cluster).map(NODES_MAP)

    def host(self, space: str, version: int) -> None:
        """Announce ``space`` (from the next heartbeat on)."""
        self._spaces[space] = version

    def info(self) -> NodeInfo:
        return NodeInfo(
            self.id,
            socket.gethostname(),
            os.getpid(),
            self._started,
            self._cluster.clock.time(),
            dict(self._spaces),
        )

    async def beat(self) -> None:
        """Write this node's entry (with its time to live) now."""
        value = self._cluster.codec.encode(self.info().to_wire())
        await self._store.set(self._key, value, ttl=self._ttl)

    async def beat_forever(self) -> None:
        """Heartbeat every third of the TTL until cancelled; failures are retried."""
        while True:
            await asyncio.sleep(self._ttl / 3)
            try:
                await self.beat()
            except ClusterClosedError:
                return
            except HazelkitError:
                logger.warning("node %s: heartbeat failed; retrying", self.id, exc_info=True)

    async def leave(self) -> None:
        """Remove this node's entry (graceful leave)."""
        await self._store.delete(self._key)

    async def live(self) -> list[NodeInfo]:
        """Every node whose entry has not lapsed (entries that cannot be read are
        skipped: another hazelkit version, or not a node)."""
        decode = self._cluster.codec.decode
        nodes = []
        for raw in await self._store.values():
            try:
                nodes.append(NodeInfo.from_wire(decode(raw)))
            except (SerializationError, KeyError, TypeError, ValueError):
                continue
        return nodes
