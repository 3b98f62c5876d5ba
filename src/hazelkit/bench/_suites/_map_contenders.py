"""The Map benchmark's contenders: hazelkit's Map on Hazelcast, the raw asyncio client on
the same cluster, and hazelkit's Map on the embedded grid.

Fairness: both Hazelcast contenders store *identical bytes* under *identical keys*. The
raw client is given hazelkit's encoding of the key and of the value, pre-encoded once,
wrapped in the same ``Blob`` marker type with the same ``StreamSerializer`` and the
same client configuration as hazelkit's own client. It therefore does the least work a
client can do per operation (no encoding, no decoding, no type checks); hazelkit does
all of that plus its own layers (key canonicalisation, codec, Map, backend adapter,
error translation). The gap between them is exactly what hazelkit costs, and this
baseline is the strictest one available.

For perspective, a fourth contender is what a user of the raw client would write: str
keys, and values pickled (protocol 5) into a ``bytearray`` on every operation. Its bytes
differ, and it is measured for information only (pickle must never read data others
can write).
"""

from __future__ import annotations

import contextlib
import pickle
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import hazelkit
from hazelkit._backends.protocol import BackendListener
from hazelkit._codec import Codec
from hazelkit.bench._payloads import map_value

__all__ = ["OPERATIONS", "MapContender", "Workload", "open_contenders"]

OPERATIONS = ("get", "put", "set", "get_all", "put_all")
HAZELKIT, RAW, EMBEDDED = "hazelkit", "raw client", "hazelkit embedded"
PICKLED = "raw client + pickle"


@dataclass
class Workload:
    """The keys and the ~1 KB value every contender works on, in both forms."""

    key_count: int
    batch: int
    codec: Codec = field(default_factory=Codec)

    def __post_init__(self) -> None:
        self.keys = [f"user:{index:06d}" for index in range(self.key_count)]
        self.value = map_value()
        self.key_bytes = [self.codec.encode_key(key) for key in self.keys]
        self.value_bytes = self.codec.encode(self.value)
        starts = range(0, self.key_count - self.batch + 1, self.batch)
        self.batches = [self.keys[start : start + self.batch] for start in starts]

    def key(self, index: int) -> str:
        """The key operation ``index`` uses."""
        return self.keys[index % self.key_count]


class MapContender(Protocol):
    """One way of running the Map operations; ``index`` picks the key or batch."""

    name: str

    async def get(self, index: int) -> object: ...
    async def put(self, index: int) -> object: ...
    async def set(self, index: int) -> object: ...
    async def get_all(self, index: int) -> object: ...
    async def put_all(self, index: int) -> object: ...


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
async def _raw_map(
    url: str, map_name: str, workload: Workload, *, pickled: bool
) -> AsyncIterator[RawMap | PickledMap]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The asyncore module", DeprecationWarning)
        from hazelcast.asyncio import HazelcastClient
    from hazelkit._backends.hazelcast import HazelcastBackend
    from hazelkit._url import parse_url

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
                raw = _raw_map(hazelcast_url, map_names[label], workload, pickled=pickled)
                contenders.append(await stack.enter_async_context(raw))
        grid = f"memory://{map_names[EMBEDDED]}"
        contenders.append(
            await stack.enter_async_context(
                _hazelkit_map(EMBEDDED, grid, map_names[EMBEDDED], workload)
            )
        )
        yield contenders
