"""The contenders of the Lock benchmark: hazelkit's Lock on Hazelcast and embedded, and
the raw client's IMap key lock.

An operation is one acquire/release pair around a critical section that yields to the
event loop once, so that a task that entered while another holds the lock would be
seen (``violations`` counts such overlaps; it must stay 0).

The raw client's ``IMap.lock`` is what Hazelcast Community offers without the CP
subsystem (whose FencedLock Community members refuse): the member queues waiters and
grants the lock in one round trip, but gives no fencing token, and a holder that dies
keeps it until its lease time (forever by default) or until its client's session is
noticed as gone. hazelkit's Lock is built on map compare-and-set with leases and
fencing tokens (see ``hazelkit._coordination._lease``), so it costs more round trips per pair.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any, Protocol

import hazelkit
from hazelkit.bench._suites._points import enter_contenders
from hazelkit.bench._suites._raw_client import raw_client

__all__ = ["EMBEDDED", "HAZELKIT", "RAW", "LockContender", "open_contenders"]

HAZELKIT = "hazelkit"
RAW = "raw client IMap.lock"
EMBEDDED = "hazelkit embedded"


class LockContender(Protocol):
    """One way of taking and giving back a cluster-wide lock."""

    name: str
    #: Times a task entered the critical section while another was in it.
    violations: int

    async def pair(self, index: int) -> object: ...


class _Exclusive:
    """The critical section: yields once, and counts overlapping entries."""

    def __init__(self) -> None:
        self.violations = 0
        self._inside = False

    async def critical_section(self) -> None:
        if self._inside:
            self.violations += 1
        self._inside = True
        await asyncio.sleep(0)
        self._inside = False


class HazelkitLock(_Exclusive):
    def __init__(self, name: str, lock: hazelkit.Lock) -> None:
        super().__init__()
        self.name = name
        self.lock = lock

    async def pair(self, index: int) -> object:
        token = await self.lock.acquire()
        try:
            await self.critical_section()
        finally:
            await self.lock.release()
        return token


class RawMapLock(_Exclusive):
    def __init__(self, proxy: Any) -> None:
        super().__init__()
        self.name = RAW
        self.proxy = proxy

    async def pair(self, index: int) -> object:
        await self.proxy.lock("lock")
        try:
            await self.critical_section()
        finally:
            await self.proxy.unlock("lock")
        return None


@contextlib.asynccontextmanager
async def _hazelkit(label: str, url: str, name: str) -> AsyncIterator[HazelkitLock]:
    async with hazelkit.connect(url) as cluster:
        yield HazelkitLock(label, cluster.lock(name))


@contextlib.asynccontextmanager
async def _raw(url: str, name: str) -> AsyncIterator[RawMapLock]:
    async with raw_client(url) as client:
        proxy = await client.get_map(name)
        try:
            yield RawMapLock(proxy)
        finally:
            await proxy.destroy()


@contextlib.asynccontextmanager
async def open_contenders(
    hazelcast_url: str | None, names: dict[str, str]
) -> AsyncIterator[list[LockContender]]:
    """Every contender available, each on its own lock named in ``names``; closed on
    exit (hazelkit's lease records lapse on their own, the raw client's map is
    destroyed)."""
    async with contextlib.AsyncExitStack() as stack:
        contenders: list[LockContender] = await enter_contenders(
            stack,
            names,
            hazelcast_url=hazelcast_url,
            labels=(HAZELKIT, RAW, EMBEDDED),
            open_hazelkit=_hazelkit,
            open_raw=_raw,
        )
        yield contenders
