"""The raw hazelcast-python-client contenders of the Map benchmark: with hazelkit's
pre-encoded bytes (the baseline), and with pickled values (what a user would write).
See ``_map_workload`` for why this is fair."""

from __future__ import annotations

import contextlib
import pickle
import warnings
from collections.abc import AsyncIterator
from typing import Any

from hazelkit._backends.protocol import BackendListener
from hazelkit.bench._suites._map_workload import PICKLED, RAW, Workload

__all__ = ["PickledMap", "RawMap", "raw_map"]


class RawMap:
    """The raw client's Map proxy with pre-encoded Blob keys and value."""

    def __init__(self, name: str, proxy: Any, workload: Workload) -> None:
        from hazelkit._backends.hazelcast._serialization import Blob

        self.name = name
        self.proxy = proxy
        self._keys = [Blob(key) for key in workload.key_bytes]
        self._count = workload.key_count
        self._value = Blob(workload.value_bytes)
        positions = range(0, workload.key_count - workload.batch + 1, workload.batch)
        self._batches = [self._keys[p : p + workload.batch] for p in positions]
        self._items = [dict.fromkeys(batch, self._value) for batch in self._batches]

    async def get(self, index: int) -> object:
        return await self.proxy.get(self._keys[index % self._count])

    async def put(self, index: int) -> object:
        return await self.proxy.put(self._keys[index % self._count], self._value)

    async def set(self, index: int) -> object:
        return await self.proxy.set(self._keys[index % self._count], self._value)

    async def get_all(self, index: int) -> object:
        return await self.proxy.get_all(self._batches[index % len(self._batches)])

    async def put_all(self, index: int) -> object:
        return await self.proxy.put_all(self._items[index % len(self._items)])


def _dumps(value: object) -> bytearray:
    return bytearray(pickle.dumps(value, protocol=5))


def _loads(data: bytearray | None) -> Any:
    return None if data is None else pickle.loads(data)  # noqa: S301 - our own values


class PickledMap:
    """What a user of the raw client writes: str keys (the client's string serializer),
    values pickled into a ``bytearray`` (the client's byte-array serializer; its own
    pickle fallback writes protocol 0 as UTF-8 and fails on a datetime)."""

    def __init__(self, name: str, proxy: Any, workload: Workload) -> None:
        self.name = name
        self.proxy = proxy
        self._keys = workload.keys
        self._count = workload.key_count
        self._value = workload.value
        self._batches = workload.batches

    async def get(self, index: int) -> object:
        return _loads(await self.proxy.get(self._keys[index % self._count]))

    async def put(self, index: int) -> object:
        key = self._keys[index % self._count]
        return _loads(await self.proxy.put(key, _dumps(self._value)))

    async def set(self, index: int) -> object:
        return await self.proxy.set(self._keys[index % self._count], _dumps(self._value))

    async def get_all(self, index: int) -> object:
        found = await self.proxy.get_all(self._batches[index % len(self._batches)])
        return {key: _loads(data) for key, data in found.items()}

    async def put_all(self, index: int) -> object:
        batch = self._batches[index % len(self._batches)]
        return await self.proxy.put_all({key: _dumps(self._value) for key in batch})


@contextlib.asynccontextmanager
async def raw_map(
    url: str, map_name: str, workload: Workload, *, pickled: bool
) -> AsyncIterator[RawMap | PickledMap]:
    """A raw client connected to ``url`` with hazelkit's client configuration (its
    default serializers when ``pickled``); shut down, and its map destroyed, on exit."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The asyncore module", DeprecationWarning)
        from hazelcast.asyncio import HazelcastClient
    from hazelkit._backends.hazelcast import HazelcastBackend
    from hazelkit._core._url import parse_url

    # hazelkit's own client configuration, so both clients are set up identically.
    ignore = BackendListener(lambda state: None, lambda event: None)
    config = HazelcastBackend(parse_url(url))._client_config(ignore)
    if pickled:  # the client's default serializers
        del config["custom_serializers"], config["global_serializer"]
    client = await HazelcastClient.create_and_start(**config)
    try:
        proxy: Any = await client.get_map(map_name)
        try:
            yield PickledMap(PICKLED, proxy, workload) if pickled else RawMap(RAW, proxy, workload)
        finally:
            await proxy.destroy()
    finally:
        await client.shutdown()
