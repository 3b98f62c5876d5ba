"""The hazelkit contenders of the Map benchmark, and opening every contender.

hazelkit's Map (on Hazelcast and on the embedded grid) encodes keys and values on every
operation; the adapter contender calls hazelkit's Hazelcast backend store directly with
pre-encoded bytes, so the difference between the two is the codec and the Map layer.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import hazelkit
from hazelkit._backends.protocol import MapStore
from hazelkit._core import _lowlevel as lowlevel
from hazelkit.bench._suites._map_raw import raw_map
from hazelkit.bench._suites._map_workload import (
    ADAPTER,
    EMBEDDED,
    HAZELKIT,
    PICKLED,
    RAW,
    MapContender,
    Workload,
)

__all__ = ["AdapterMap", "HazelkitMap", "open_contenders"]


class HazelkitMap:
    """hazelkit's Map with Python keys and values (encoded on every operation)."""

    def __init__(self, name: str, map_: hazelkit.Map[str, Any], workload: Workload) -> None:
        self.name = name
        self.map = map_
        self._keys = workload.keys
        self._count = workload.key_count
        self._value = workload.value
        self._batches = workload.batches
        self._items = [dict.fromkeys(batch, workload.value) for batch in workload.batches]

    async def get(self, index: int) -> object:
        return await self.map.get(self._keys[index % self._count])

    async def put(self, index: int) -> object:
        return await self.map.put(self._keys[index % self._count], self._value)

    async def set(self, index: int) -> object:
        await self.map.set(self._keys[index % self._count], self._value)
        return None

    async def get_all(self, index: int) -> object:
        return await self.map.get_all(self._batches[index % len(self._batches)])

    async def put_all(self, index: int) -> object:
        await self.map.put_all(self._items[index % len(self._items)])
        return None


class AdapterMap:
    """hazelkit's backend store (the Hazelcast adapter) with pre-encoded bytes."""

    def __init__(self, name: str, store: MapStore, workload: Workload) -> None:
        self.name = name
        self.store = store
        self._keys = workload.key_bytes
        self._count = workload.key_count
        self._value = workload.value_bytes
        self._batches = workload.byte_batches
        self._items = [dict.fromkeys(batch, workload.value_bytes) for batch in self._batches]

    async def get(self, index: int) -> object:
        return await self.store.get(self._keys[index % self._count])

    async def put(self, index: int) -> object:
        return await self.store.put(self._keys[index % self._count], self._value)

    async def set(self, index: int) -> object:
        await self.store.set(self._keys[index % self._count], self._value)
        return None

    async def get_all(self, index: int) -> object:
        return await self.store.get_all(self._batches[index % len(self._batches)])

    async def put_all(self, index: int) -> object:
        await self.store.put_all(self._items[index % len(self._items)])
        return None


@contextlib.asynccontextmanager
async def _hazelkit_map(
    label: str, url: str, map_name: str, workload: Workload
) -> AsyncIterator[HazelkitMap]:
    async with hazelkit.connect(url) as cluster:
        contender = HazelkitMap(label, cluster.map(map_name), workload)
        try:
            yield contender
        finally:
            await contender.map.destroy()


@contextlib.asynccontextmanager
async def _adapter_map(url: str, map_name: str, workload: Workload) -> AsyncIterator[AdapterMap]:
    async with hazelkit.connect(url) as cluster:
        store = lowlevel.backend(cluster).map(map_name)
        try:
            yield AdapterMap(ADAPTER, store, workload)
        finally:
            await store.destroy()


@contextlib.asynccontextmanager
async def open_contenders(
    hazelcast_url: str | None, map_names: dict[str, str], workload: Workload
) -> AsyncIterator[list[MapContender]]:
    """Connect every contender (the Hazelcast ones only with a ``hazelcast_url``), each
    to its own map from ``map_names``; close them and destroy their maps on exit."""
    async with contextlib.AsyncExitStack() as stack:
        contenders: list[MapContender] = []
        if hazelcast_url is not None:
            contenders.append(
                await stack.enter_async_context(
                    _hazelkit_map(HAZELKIT, hazelcast_url, map_names[HAZELKIT], workload)
                )
            )
            for label, pickled in ((RAW, False), (PICKLED, True)):
                raw = raw_map(hazelcast_url, map_names[label], workload, pickled=pickled)
                contenders.append(await stack.enter_async_context(raw))
            adapter = _adapter_map(hazelcast_url, map_names[ADAPTER], workload)
            contenders.append(await stack.enter_async_context(adapter))
        grid = f"memory://{map_names[EMBEDDED]}"
        contenders.append(
            await stack.enter_async_context(
                _hazelkit_map(EMBEDDED, grid, map_names[EMBEDDED], workload)
            )
        )
        yield contenders
