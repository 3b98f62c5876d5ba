"""What the Map benchmark's contenders share: the keys, the ~1 KB value, the operations.

Fairness: the Hazelcast contenders store *identical bytes* under *identical keys*. The
raw client is given hazelkit's encoding of the key and of the value, pre-encoded once,
wrapped in the same ``Blob`` marker type with the same ``StreamSerializer`` and the
same client configuration as hazelkit's own client. It therefore does the least work a
client can do per operation (no encoding, no decoding, no type checks); hazelkit does
all of that plus its own layers (key canonicalisation, codec, Map, backend adapter,
error translation). The gap between them is exactly what hazelkit costs, and this
baseline is the strictest one available.

Two more Hazelcast contenders explain the gap: hazelkit's backend adapter fed the same
pre-encoded bytes (hazelkit without its codec and Map), and what a user of the raw
client would write (str keys, values pickled into a ``bytearray`` on every operation;
for information only: pickle must never read data others can write).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from hazelkit._codec import Codec
from hazelkit.bench._payloads import map_value

__all__ = [
    "ADAPTER",
    "EMBEDDED",
    "HAZELKIT",
    "OPERATIONS",
    "PICKLED",
    "RAW",
    "MapContender",
    "Workload",
]

OPERATIONS = ("get", "put", "set", "get_all", "put_all")
HAZELKIT = "hazelkit"
RAW = "raw client"
ADAPTER = "hazelkit adapter, bytes"
PICKLED = "raw client + pickle"
EMBEDDED = "hazelkit embedded"


@dataclass
class Workload:
    """The keys and the ~1 KB value every contender works on, as Python values
    (``keys``, ``value``, ``batches``) and as hazelkit's bytes (``key_bytes``,
    ``value_bytes``, ``byte_batches``)."""

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
        self.byte_batches = [self.key_bytes[start : start + self.batch] for start in starts]


class MapContender(Protocol):
    """One way of running the Map operations; ``index`` picks the key or the batch."""

    name: str

    async def get(self, index: int) -> object: ...
    async def put(self, index: int) -> object: ...
    async def set(self, index: int) -> object: ...
    async def get_all(self, index: int) -> object: ...
    async def put_all(self, index: int) -> object: ...
