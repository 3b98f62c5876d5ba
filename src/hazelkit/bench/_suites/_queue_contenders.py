"""The contenders of the Queue benchmark and the producer/consumer round they run.

hazelkit's Queue (Hazelcast and embedded) encodes every item it puts and decodes every
item it takes; the raw client puts the same ~1 KB item pre-encoded by hazelkit's codec,
wrapped in the same ``Blob`` marker type with the same client configuration, and never
decodes what it takes (see ``_map_workload`` for why this is the strictest baseline).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import hazelkit
from hazelkit._codec import Codec
from hazelkit.bench._payloads import map_value
from hazelkit.bench._runner import Load
from hazelkit.bench._suites._points import enter_contenders
from hazelkit.bench._suites._raw_client import blob, raw_client

__all__ = ["EMBEDDED", "HAZELKIT", "RAW", "QueueContender", "TransferLoad", "open_contenders"]

HAZELKIT = "hazelkit"
RAW = "raw client"
EMBEDDED = "hazelkit embedded"
#: How long a consumer waits for an item before it checks whether the round is over.
POLL_WAIT = 0.05
_NOTHING: Any = object()


class QueueContender(Protocol):
    """One way of putting and taking ~1 KB items."""

    name: str

    async def put(self) -> None: ...
    async def poll(self, timeout: float) -> bool: ...


class HazelkitQueue:
    def __init__(self, name: str, queue: hazelkit.Queue[Any], item: Any) -> None:
        self.name = name
        self.queue = queue
        self._item = item

    async def put(self) -> None:
        await self.queue.put(self._item)

    async def poll(self, timeout: float) -> bool:
        return await self.queue.poll(timeout=timeout, default=_NOTHING) is not _NOTHING


class RawQueue:
    def __init__(self, proxy: Any, item: bytes) -> None:
        self.name = RAW
        self.proxy = proxy
        self._item = blob(item)

    async def put(self) -> None:
        await self.proxy.put(self._item)

    async def poll(self, timeout: float) -> bool:
        return await self.proxy.poll(timeout) is not None


@dataclass
class TransferLoad(Load):
    """A round of transfers: ``ops`` items taken, ``latencies`` of the puts, and the
    latencies of the takes (which include waiting for an item to arrive)."""

    get_latencies: list[float] = field(default_factory=list, repr=False)


async def transfer(
    queue: QueueContender, *, producers: int, consumers: int, duration: float
) -> TransferLoad:
    """Producers put items for ``duration`` seconds while consumers take them; the round
    ends when the last item put has been taken, and lasts until that moment."""
    clock = time.perf_counter
    puts: list[float] = []
    gets: list[float] = []
    state = {"produced": 0, "taken": 0, "done": False}
    began = clock()
    deadline, last = began + duration, began

    async def produce() -> None:
        while True:  # at least one put, however late the task starts
            start = clock()
            await queue.put()
            puts.append(clock() - start)
            state["produced"] += 1
            if clock() >= deadline:
                return

    async def consume() -> None:
        nonlocal last
        while not (state["done"] and state["taken"] >= state["produced"]):
            start = clock()
            if await queue.poll(POLL_WAIT):
                last = clock()
                gets.append(last - start)
                state["taken"] += 1

    async with asyncio.TaskGroup() as group:
        for _ in range(consumers):
            group.create_task(consume())
        await asyncio.gather(*(produce() for _ in range(producers)))
        state["done"] = True
    return TransferLoad(len(gets), last - began, puts, gets)


@contextlib.asynccontextmanager
async def _hazelkit(label: str, url: str, name: str, item: Any) -> AsyncIterator[HazelkitQueue]:
    async with hazelkit.connect(url) as cluster:
        contender = HazelkitQueue(label, cluster.queue(name), item)
        try:
            yield contender
        finally:
            await contender.queue.destroy()


@contextlib.asynccontextmanager
async def _raw(url: str, name: str, item: bytes) -> AsyncIterator[RawQueue]:
    async with raw_client(url) as client:
        proxy = await client.get_queue(name)
        try:
            yield RawQueue(proxy, item)
        finally:
            await proxy.destroy()


@contextlib.asynccontextmanager
async def open_contenders(
    hazelcast_url: str | None, names: dict[str, str]
) -> AsyncIterator[tuple[list[QueueContender], int]]:
    """Every contender available, each on its own queue named in ``names``, and the
    encoded size of the item; closed and destroyed on exit."""
    item = map_value()
    encoded = Codec().encode(item)
    async with contextlib.AsyncExitStack() as stack:
        contenders: list[QueueContender] = await enter_contenders(
            stack,
            names,
            hazelcast_url=hazelcast_url,
            labels=(HAZELKIT, RAW, EMBEDDED),
            open_hazelkit=lambda label, url, name: _hazelkit(label, url, name, item),
            open_raw=lambda url, name: _raw(url, name, encoded),
        )
        yield contenders, len(encoded)
