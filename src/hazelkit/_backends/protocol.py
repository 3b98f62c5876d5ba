"""The primitives a backend implements, and nothing more.

Every feature of hazelkit (structures, atoms, locks, streams, the entity runtime,
sessions) is written once against these protocols. A backend stores and moves *bytes*:
keys and values arrive already encoded by the codec, so equal values are equal bytes and
compare-and-set compares exactly the bytes that were read.

Rules every backend follows (the conformance suite checks them):

- ``ttl`` and ``max_idle`` are seconds; ``None`` means the structure's default, which is
  "never" unless the Hazelcast member configuration says otherwise. Hazelcast members
  keep expiry times in whole seconds: an entry may expire up to a second early there,
  and the Hazelcast adapter raises a TTL below one second to one second.
- Waiting calls take a ``timeout`` in seconds and return (``None``/``False``/an empty
  result) when it runs out; they never wait longer than the timeout plus a small margin.
- Listener callbacks are plain functions called on the event loop of the caller that
  registered them. They must not block. Events are notifications only: they may be late,
  and around a member failure they may be lost.
- Backend exceptions are translated into hazelkit errors inside the backend.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from hazelkit._core._exceptions import InvalidArgumentError


class EntryEventType(enum.Enum):
    """What happened to a map entry."""

    ADDED = "added"
    UPDATED = "updated"
    REMOVED = "removed"
    EXPIRED = "expired"
    EVICTED = "evicted"


@dataclass(frozen=True, slots=True)
class RawEntryEvent:
    """A map or multimap entry event, in encoded form.

    ``value`` is the new value (``None`` for removals), ``old_value`` the previous one
    when the backend knows it.
    """

    type: EntryEventType
    key: bytes
    value: bytes | None
    old_value: bytes | None


class ItemEventType(enum.Enum):
    """What happened to an item of a queue, set or list."""

    ADDED = "added"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class RawItemEvent:
    """A queue, set or list item event, in encoded form."""

    type: ItemEventType
    item: bytes | None


@dataclass(frozen=True, slots=True)
class RawMessage:
    """A topic message, in encoded form, with the publish time in seconds since the epoch."""

    payload: bytes
    publish_time: float


@dataclass(frozen=True, slots=True)
class ReadBatch:
    """The result of :meth:`RingbufferStore.read_many`.

    ``sequences[i]`` is the sequence of ``items[i]``. ``next_sequence`` is where the next
    read should start. If ``sequences[0]`` is greater than the requested start, the
    items in between were overwritten (the reader fell behind the head); if it is
    smaller, the ringbuffer was reset (every member holding it was lost).
    """

    items: list[bytes]
    sequences: list[int]
    next_sequence: int


class OverflowPolicy(enum.Enum):
    """What :meth:`RingbufferStore.add` does when the ringbuffer is full."""

    OVERWRITE = "overwrite"
    FAIL = "fail"


class Registration(Protocol):
    """A listener registration; ``close()`` removes it (idempotent)."""

    async def close(self) -> None: ...


EntryCallback = Callable[[RawEntryEvent], None]
ItemCallback = Callable[[RawItemEvent], None]
MessageCallback = Callable[[RawMessage], None]


class MapStore(Protocol):
    """A distributed map of bytes to bytes (a Hazelcast ``IMap``).

    A REMOVED event carries the old value when it comes from ``remove`` or
    ``remove_if_same``, and none when it comes from ``delete`` (as on Hazelcast).
    """

    name: str

    async def get(self, key: bytes) -> bytes | None: ...
    async def put(
        self, key: bytes, value: bytes, *, ttl: float | None = None, max_idle: float | None = None
    ) -> bytes | None: ...
    async def set(
        self, key: bytes, value: bytes, *, ttl: float | None = None, max_idle: float | None = None
    ) -> None: ...
    async def put_if_absent(
        self, key: bytes, value: bytes, *, ttl: float | None = None, max_idle: float | None = None
    ) -> bytes | None: ...
    async def replace(self, key: bytes, value: bytes) -> bytes | None: ...
    async def replace_if_same(self, key: bytes, old: bytes, new: bytes) -> bool: ...
    async def remove(self, key: bytes) -> bytes | None: ...
    async def remove_if_same(self, key: bytes, value: bytes) -> bool: ...
    async def delete(self, key: bytes) -> None: ...
    async def contains(self, key: bytes) -> bool: ...
    async def set_ttl(self, key: bytes, ttl: float) -> None: ...
    async def size(self) -> int: ...
    async def keys(self) -> list[bytes]: ...
    async def values(self) -> list[bytes]: ...
    async def items(self) -> list[tuple[bytes, bytes]]: ...
    async def get_all(self, keys: Iterable[bytes]) -> dict[bytes, bytes]: ...
    async def put_all(self, items: Mapping[bytes, bytes]) -> None: ...
    async def clear(self) -> None: ...
    async def destroy(self) -> None: ...
    async def listen(
        self, callback: EntryCallback, *, key: bytes | None = None, include_values: bool = True
    ) -> Registration: ...


class MultiMapStore(Protocol):
    """A distributed map of a key to a list of values (a Hazelcast ``MultiMap``).

    Values under one key form a set (Hazelcast's default value collection): putting a
    value already present under that key changes nothing and returns False. The order of
    values is unspecified.
    """

    name: str

    async def put(self, key: bytes, value: bytes) -> bool: ...
    async def get(self, key: bytes) -> list[bytes]: ...
    async def remove(self, key: bytes, value: bytes) -> bool: ...
    async def remove_all(self, key: bytes) -> list[bytes]: ...
    async def contains_key(self, key: bytes) -> bool: ...
    async def contains_value(self, value: bytes) -> bool: ...
    async def contains_entry(self, key: bytes, value: bytes) -> bool: ...
    async def value_count(self, key: bytes) -> int: ...
    async def size(self) -> int: ...
    async def keys(self) -> list[bytes]: ...
    async def values(self) -> list[bytes]: ...
    async def items(self) -> list[tuple[bytes, bytes]]: ...
    async def clear(self) -> None: ...
    async def destroy(self) -> None: ...
    async def listen(
        self, callback: EntryCallback, *, key: bytes | None = None, include_values: bool = True
    ) -> Registration: ...


class QueueStore(Protocol):
    """A distributed FIFO queue (a Hazelcast ``IQueue``).

    The capacity is fixed when the queue is first used (``capacity=None`` means unbounded
    on the embedded backend and the member's configuration on Hazelcast).
    """

    name: str

    async def offer(self, item: bytes, timeout: float = 0) -> bool: ...
    async def poll(self, timeout: float = 0) -> bytes | None: ...
    async def peek(self) -> bytes | None: ...
    async def drain(self, max_items: int = -1) -> list[bytes]: ...
    async def remove(self, item: bytes) -> bool: ...
    async def contains(self, item: bytes) -> bool: ...
    async def size(self) -> int: ...
    async def remaining_capacity(self) -> int: ...
    async def items(self) -> list[bytes]: ...
    async def clear(self) -> None: ...
    async def destroy(self) -> None: ...
    async def listen(
        self, callback: ItemCallback, *, include_values: bool = True
    ) -> Registration: ...


class SetStore(Protocol):
    """A distributed set of byte strings (a Hazelcast ``ISet``)."""

    name: str

    async def add(self, item: bytes) -> bool: ...
    async def add_all(self, items: Sequence[bytes]) -> bool: ...
    async def remove(self, item: bytes) -> bool: ...
    async def contains(self, item: bytes) -> bool: ...
    async def size(self) -> int: ...
    async def items(self) -> list[bytes]: ...
    async def clear(self) -> None: ...
    async def destroy(self) -> None: ...
    async def listen(
        self, callback: ItemCallback, *, include_values: bool = True
    ) -> Registration: ...


class ListStore(Protocol):
    """A distributed list of byte strings (a Hazelcast ``IList``).

    A removal by index (``pop``) is reported as a REMOVED event without the item.
    """

    name: str

    async def append(self, item: bytes) -> None: ...
    async def extend(self, items: Sequence[bytes]) -> None: ...
    async def insert(self, index: int, item: bytes) -> None: ...
    async def get(self, index: int) -> bytes: ...
    async def set(self, index: int, item: bytes) -> bytes: ...
    async def pop(self, index: int) -> bytes: ...
    async def remove(self, item: bytes) -> bool: ...
    async def index(self, item: bytes) -> int: ...
    async def contains(self, item: bytes) -> bool: ...
    async def slice(self, start: int, stop: int) -> list[bytes]: ...
    async def size(self) -> int: ...
    async def items(self) -> list[bytes]: ...
    async def clear(self) -> None: ...
    async def destroy(self) -> None: ...
    async def listen(
        self, callback: ItemCallback, *, include_values: bool = True
    ) -> Registration: ...


#: The most items one ringbuffer read may return (Hazelcast's limit is "below 1000").
MAX_READ_BATCH = 999


def check_read(start: int, min_count: int, max_count: int, capacity: int) -> int:
    """Validate a ringbuffer read; returns ``max_count`` clamped to the capacity.

    Raises InvalidArgumentError for a negative start, ``min_count`` above ``max_count`` or the
    capacity, or ``max_count`` above :data:`MAX_READ_BATCH`.
    """
    if start < 0:
        raise InvalidArgumentError(f"ringbuffer read start must be >= 0, not {start}")
    if not 0 <= min_count <= max_count:
        raise InvalidArgumentError(
            f"need 0 <= min_count <= max_count, got {min_count} and {max_count}"
        )
    if max_count > MAX_READ_BATCH:
        raise InvalidArgumentError(f"max_count {max_count} is above the limit of {MAX_READ_BATCH}")
    if min_count > capacity:
        raise InvalidArgumentError(
            f"min_count {min_count} is above the ringbuffer capacity {capacity}"
        )
    return min(max_count, capacity)


class RingbufferStore(Protocol):
    """A bounded, append-only log with sequence numbers (a Hazelcast ``Ringbuffer``).

    Sequences start at 0 and increase by one per item. ``head`` is the oldest readable
    sequence and ``tail`` the newest (``tail == head - 1`` when empty).

    Capacity and TTL are fixed when the ringbuffer is first used; asking for different
    ones later raises ConfigurationError. The FAIL overflow policy follows Hazelcast:
    without a TTL an old item may always be overwritten, so FAIL never fails; with a TTL,
    ``add`` returns -1 while the ringbuffer holds ``capacity`` items younger than it.
    """

    name: str

    async def capacity(self) -> int: ...
    async def size(self) -> int: ...
    async def head(self) -> int: ...
    async def tail(self) -> int: ...
    async def add(self, item: bytes, policy: OverflowPolicy = OverflowPolicy.OVERWRITE) -> int: ...
    async def add_all(
        self, items: Sequence[bytes], policy: OverflowPolicy = OverflowPolicy.OVERWRITE
    ) -> int: ...
    async def read_many(
        self, start: int, min_count: int, max_count: int, timeout: float
    ) -> ReadBatch:
        """Read up to ``max_count`` items from ``start`` once ``min_count`` are there.

        Waits at most ``timeout`` seconds, then returns an empty batch (even if fewer
        than ``min_count`` items had arrived). Arguments are checked by
        :func:`check_read`; ``max_count`` above the capacity is lowered to it.
        """

    async def destroy(self) -> None: ...


class TopicStore(Protocol):
    """Best-effort publish/subscribe (a Hazelcast ``ITopic``)."""

    name: str

    async def publish(self, payload: bytes) -> None: ...
    async def publish_all(self, payloads: Sequence[bytes]) -> None: ...
    async def listen(self, callback: MessageCallback) -> Registration: ...
    async def destroy(self) -> None: ...


class IdGeneratorStore(Protocol):
    """Cluster-unique, roughly time-ordered 63-bit ids (a Hazelcast ``FlakeIdGenerator``)."""

    name: str

    async def new_id(self) -> int: ...


@dataclass(frozen=True, slots=True)
class MemberInfo:
    """A cluster member as the backend reports it."""

    uuid: str
    address: str
    local: bool = False


class MembershipEventType(enum.Enum):
    """A member joined or left."""

    JOINED = "joined"
    LEFT = "left"


@dataclass(frozen=True, slots=True)
class RawMembershipEvent:
    type: MembershipEventType
    member: MemberInfo


class BackendState(enum.Enum):
    """Connection states a backend reports to its Cluster."""

    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    #: The backend gave up reconnecting for good (the ``reconnect`` bound ran out).
    LOST = "lost"


@dataclass(frozen=True, slots=True)
class BackendListener:
    """Where a backend reports connection changes and membership events."""

    on_state: Callable[[BackendState], None]
    on_membership: Callable[[RawMembershipEvent], None]


class Backend(Protocol):
    """One connection to one grid. Created by :func:`open_backend`, owned by a Cluster."""

    #: The URL scheme, e.g. ``"memory"`` or ``"hazelcast"``.
    scheme: str
    #: A short, credential-free description of where this backend is connected.
    target: str

    async def start(self, listener: BackendListener) -> None:
        """Connect, or raise ClusterUnavailableError within the connect timeout."""

    async def close(self) -> None:
        """Disconnect and end every task and listener this backend started."""

    def members(self) -> list[MemberInfo]: ...

    async def objects(self) -> list[tuple[str, str]]:
        """``(kind, name)`` of every structure that exists in the grid now, sorted; kinds
        are ``map``, ``multimap``, ``queue``, ``set``, ``list``, ``ringbuffer``, ``topic``
        and ``ids`` (others a grid may hold are left out). Read-only: creates nothing."""

    def map(self, name: str) -> MapStore: ...
    def multimap(self, name: str) -> MultiMapStore: ...
    def queue(self, name: str, capacity: int | None = None) -> QueueStore: ...
    def set(self, name: str) -> SetStore: ...
    def list(self, name: str) -> ListStore: ...
    def ringbuffer(
        self, name: str, capacity: int | None = None, ttl: float | None = None
    ) -> RingbufferStore: ...
    def topic(self, name: str) -> TopicStore: ...
    def id_generator(self, name: str) -> IdGeneratorStore: ...
