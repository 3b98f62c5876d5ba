"""The embedded backend: ``memory://NAME``, a grid inside this process.

Every Cluster connected to the same name shares one grid (and is a member of it), so
multi-node behaviour can be exercised without Java. Nothing is served over a socket.
"""

from __future__ import annotations

import asyncio
import contextlib

from hazelkit._backends.memory._collections import MemoryList, MemoryQueue, MemorySet
from hazelkit._backends.memory._grid import Grid, attach, detach
from hazelkit._backends.memory._log import MemoryIdGenerator, MemoryRingbuffer, MemoryTopic
from hazelkit._backends.memory._map import MemoryMap, MemoryMultiMap
from hazelkit._backends.protocol import BackendListener, BackendState, MemberInfo
from hazelkit._core._exceptions import ClusterClosedError
from hazelkit._core._url import ClusterOptions

__all__ = ["MemoryBackend", "backend_class"]

#: How often expired map entries are swept (and their EXPIRED events fired) when nothing
#: reads them. Reads always see expiry at once.
SWEEP_INTERVAL = 0.5


class MemoryBackend:
    """One member's connection to an embedded grid."""

    scheme = "memory"

    def __init__(self, options: ClusterOptions) -> None:
        self.target = f"memory://{options.grid_name}"
        self._name = options.grid_name
        self._clock = options.clock
        self._grid: Grid | None = None
        self._member: MemberInfo | None = None
        self._listener: BackendListener | None = None
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self, listener: BackendListener) -> None:
        self._listener = listener
        self._grid, self._member = attach(self._name, listener, self._clock)
        self._sweeper = asyncio.get_running_loop().create_task(
            self._sweep_forever(self._grid, self._member), name=f"hazelkit sweeper {self.target}"
        )
        # Let other members on this loop see the join before our caller goes on, as they
        # would before a Hazelcast connect returned.
        await asyncio.sleep(0)

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        if self._grid is not None and self._member is not None:
            detach(self._grid, self._member)
            if self._listener is not None:
                self._listener.on_state(BackendState.DISCONNECTED)
            await asyncio.sleep(0)
        self._grid = None

    @staticmethod
    async def _sweep_forever(grid: Grid, member: MemberInfo) -> None:
        while True:
            await asyncio.sleep(SWEEP_INTERVAL)
            grid.sweep(member)

    @property
    def grid(self) -> Grid:
        if self._grid is None:
            raise ClusterClosedError(f"{self.target} is not connected")
        return self._grid

    async def objects(self) -> list[tuple[str, str]]:
        return self.grid.names()

    def members(self) -> list[MemberInfo]:
        if self._grid is None or self._member is None:
            return []
        return self._grid.members(self._member)

    def map(self, name: str) -> MemoryMap:
        return MemoryMap(self.grid, name)

    def multimap(self, name: str) -> MemoryMultiMap:
        return MemoryMultiMap(self.grid, name)

    def queue(self, name: str, capacity: int | None = None) -> MemoryQueue:
        return MemoryQueue(self.grid, name, capacity)

    def set(self, name: str) -> MemorySet:
        return MemorySet(self.grid, name)

    def list(self, name: str) -> MemoryList:
        return MemoryList(self.grid, name)

    def ringbuffer(
        self, name: str, capacity: int | None = None, ttl: float | None = None
    ) -> MemoryRingbuffer:
        return MemoryRingbuffer(self.grid, name, capacity, ttl)

    def topic(self, name: str) -> MemoryTopic:
        return MemoryTopic(self.grid, name)

    def id_generator(self, name: str) -> MemoryIdGenerator:
        return MemoryIdGenerator(self.grid, name)


backend_class = MemoryBackend
