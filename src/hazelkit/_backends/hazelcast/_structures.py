"""Hazelcast-backed stores: each one a thin adapter over one client proxy.

Everything crossing the client is a :class:`Blob`; every method translates client errors.
Proxies are looked up on first use and cached (the client caches them too).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from hazelcast.errors import HazelcastClientNotActiveError, HazelcastError
from hazelcast.proxy.base import EntryEventType as HzEntryEventType
from hazelcast.proxy.base import ItemEventType as HzItemEventType
from hazelcast.proxy.ringbuffer import OVERFLOW_POLICY_FAIL, OVERFLOW_POLICY_OVERWRITE

from hazelkit._backends.hazelcast._dynamic_config import (
    add_queue_config,
    add_ringbuffer_config,
)
from hazelkit._backends.hazelcast._errors import translate, translated
from hazelkit._backends.hazelcast._serialization import Blob, BlobData
from hazelkit._backends.protocol import (
    EntryCallback,
    EntryEventType,
    ItemCallback,
    ItemEventType,
    MessageCallback,
    OverflowPolicy,
    RawEntryEvent,
    RawItemEvent,
    RawMessage,
    ReadBatch,
    check_read,
)
from hazelkit._core._exceptions import ConfigurationError

_ENTRY_TYPES = {
    HzEntryEventType.ADDED: EntryEventType.ADDED,
    HzEntryEventType.UPDATED: EntryEventType.UPDATED,
    HzEntryEventType.REMOVED: EntryEventType.REMOVED,
    HzEntryEventType.EXPIRED: EntryEventType.EXPIRED,
    HzEntryEventType.EVICTED: EntryEventType.EVICTED,
}
_OVERFLOW = {
    OverflowPolicy.OVERWRITE: OVERFLOW_POLICY_OVERWRITE,
    OverflowPolicy.FAIL: OVERFLOW_POLICY_FAIL,
}


def _seconds(duration: float | None) -> float | None:
    """A TTL or max-idle the member keeps: it counts whole seconds, so 0 < d < 1 → 1."""
    if duration is not None and 0 < duration < 1:
        return 1.0
    return duration


def _outcome_read(task: asyncio.Future[Any]) -> None:
    """Read a task's outcome that nobody awaits any more (so it is not logged)."""
    if not task.cancelled():
        task.exception()


def _data(blob: Blob | None) -> bytes | None:
    return None if blob is None else blob.data


class HzRegistration:
    """A client listener registration; ``close()`` removes it once."""

    def __init__(self, remove: Callable[[str], Any], registration_id: str) -> None:
        self._remove: Callable[[str], Any] | None = remove
        self._id = registration_id

    async def close(self) -> None:
        remove, self._remove = self._remove, None
        if remove is None:
            return
        try:
            await remove(self._id)
        except HazelcastClientNotActiveError:
            pass  # the client is shut down: its registrations are gone with it
        except (HazelcastError, OSError) as error:
            raise translate(error, f"removing listener {self._id}") from error


class Link(Protocol):
    """What a store needs of its backend: the client, and whether it is connected."""

    @property
    def client(self) -> Any: ...

    def check_connected(self, operation: str, name: str) -> None:
        """Raise ClusterUnavailableError (nothing sent) while the client is disconnected."""


class _Structure:
    """Resolves and caches one client proxy."""

    getter = ""

    def __init__(self, link: Link, name: str) -> None:
        self._link = link
        self.name = name
        #: The client proxy once resolved. Hot methods read it first (``self._cached or
        #: await self._proxy()``; a proxy is always true): awaiting ``_proxy()`` on every
        #: call made a coroutine each time (see ``translated`` for what both saved).
        self._cached: Any = None

    @property
    def _client(self) -> Any:
        return self._link.client

    async def _proxy(self) -> Any:
        if self._cached is None:
            # Dynamic configuration only applies to a structure nobody has used yet, so it
            # goes first.
            await self._configure()
            # Shielded: the client fails the placeholder other callers wait on with the
            # cancellation of the first caller, and nobody reads it ("Future exception was
            # never retrieved" on every graceful handoff that cancels a first read).
            creating = asyncio.ensure_future(getattr(self._client, self.getter)(self.name))
            try:
                self._cached = await asyncio.shield(creating)
            except asyncio.CancelledError:
                creating.add_done_callback(_outcome_read)
                raise
        return self._cached

    async def _configure(self) -> None:
        """Send this structure's dynamic configuration, if it has one."""

    @translated
    async def destroy(self) -> None:
        await (await self._proxy()).destroy()
        self._cached = None


class _Collection(_Structure):
    """What every map and collection proxy shares."""

    @translated
    async def size(self) -> int:
        return int(await (await self._proxy()).size())

    @translated
    async def clear(self) -> None:
        await (await self._proxy()).clear()


class _EntryStructure(_Collection):
    """What maps and multimaps share."""

    @translated
    async def keys(self) -> list[bytes]:
        return [blob.data for blob in await (await self._proxy()).key_set()]

    @translated
    async def values(self) -> list[bytes]:
        return [blob.data for blob in await (await self._proxy()).values()]

    @translated
    async def items(self) -> list[tuple[bytes, bytes]]:
        return [(k.data, v.data) for k, v in await (await self._proxy()).entry_set()]


def _entry_listener(callback: EntryCallback) -> dict[str, Callable[[Any], None]]:
    def handle(event: Any) -> None:
        kind = _ENTRY_TYPES.get(event.event_type)
        if kind is not None:
            callback(
                RawEntryEvent(kind, event.key.data, _data(event.value), _data(event.old_value))
            )

    return {
        f"{name}_func": handle for name in ("added", "updated", "removed", "expired", "evicted")
    }


class HzMap(_EntryStructure):
    getter = "get_map"

    # get, put and set: the hottest calls; see _Structure._cached.

    @translated
    async def get(self, key: bytes) -> bytes | None:
        proxy = self._cached or await self._proxy()
        blob = await proxy.get(BlobData(key))
        return None if blob is None else blob.data

    @translated
    async def put(
        self, key: bytes, value: bytes, *, ttl: float | None = None, max_idle: float | None = None
    ) -> bytes | None:
        proxy = self._cached or await self._proxy()
        if ttl is not None or max_idle is not None:
            ttl, max_idle = _seconds(ttl), _seconds(max_idle)
        blob = await proxy.put(BlobData(key), BlobData(value), ttl, max_idle)
        return None if blob is None else blob.data

    @translated
    async def set(
        self, key: bytes, value: bytes, *, ttl: float | None = None, max_idle: float | None = None
    ) -> None:
        proxy = self._cached or await self._proxy()
        if ttl is not None or max_idle is not None:
            ttl, max_idle = _seconds(ttl), _seconds(max_idle)
        await proxy.set(BlobData(key), BlobData(value), ttl, max_idle)

    @translated
    async def put_if_absent(
        self, key: bytes, value: bytes, *, ttl: float | None = None, max_idle: float | None = None
    ) -> bytes | None:
        proxy = await self._proxy()
        previous = await proxy.put_if_absent(
            BlobData(key), BlobData(value), _seconds(ttl), _seconds(max_idle)
        )
        return _data(previous)

    @translated
    async def replace(self, key: bytes, value: bytes) -> bytes | None:
        return _data(await (await self._proxy()).replace(BlobData(key), BlobData(value)))

    @translated
    async def replace_if_same(self, key: bytes, old: bytes, new: bytes) -> bool:
        return bool(
            await (await self._proxy()).replace_if_same(BlobData(key), BlobData(old), BlobData(new))
        )

    @translated
    async def remove(self, key: bytes) -> bytes | None:
        return _data(await (await self._proxy()).remove(BlobData(key)))

    @translated
    async def remove_if_same(self, key: bytes, value: bytes) -> bool:
        return bool(await (await self._proxy()).remove_if_same(BlobData(key), BlobData(value)))

    @translated
    async def delete(self, key: bytes) -> None:
        await (await self._proxy()).delete(BlobData(key))

    @translated
    async def contains(self, key: bytes) -> bool:
        return bool(await (await self._proxy()).contains_key(BlobData(key)))

    @translated
    async def set_ttl(self, key: bytes, ttl: float) -> None:
        await (await self._proxy()).set_ttl(BlobData(key), _seconds(ttl))

    @translated
    async def get_all(self, keys: Iterable[bytes]) -> dict[bytes, bytes]:
        blobs = [BlobData(key) for key in keys]
        if not blobs:
            return {}
        found = await (await self._proxy()).get_all(blobs)
        return {k.data: v.data for k, v in found.items()}

    @translated
    async def put_all(self, items: Mapping[bytes, bytes]) -> None:
        if items:
            await (await self._proxy()).put_all(
                {BlobData(k): BlobData(v) for k, v in items.items()}
            )

    @translated
    async def listen(
        self, callback: EntryCallback, *, key: bytes | None = None, include_values: bool = True
    ) -> HzRegistration:
        proxy = await self._proxy()
        registration = await proxy.add_entry_listener(
            include_value=include_values,
            key=None if key is None else BlobData(key),
            **_entry_listener(callback),
        )
        return HzRegistration(proxy.remove_entry_listener, registration)


class HzMultiMap(_EntryStructure):
    getter = "get_multi_map"

    @translated
    async def put(self, key: bytes, value: bytes) -> bool:
        return bool(await (await self._proxy()).put(BlobData(key), BlobData(value)))

    @translated
    async def get(self, key: bytes) -> list[bytes]:
        return [blob.data for blob in await (await self._proxy()).get(BlobData(key)) or ()]

    @translated
    async def remove(self, key: bytes, value: bytes) -> bool:
        return bool(await (await self._proxy()).remove(BlobData(key), BlobData(value)))

    @translated
    async def remove_all(self, key: bytes) -> list[bytes]:
        return [blob.data for blob in await (await self._proxy()).remove_all(BlobData(key)) or ()]

    @translated
    async def contains_key(self, key: bytes) -> bool:
        return bool(await (await self._proxy()).contains_key(BlobData(key)))

    @translated
    async def contains_value(self, value: bytes) -> bool:
        return bool(await (await self._proxy()).contains_value(BlobData(value)))

    @translated
    async def contains_entry(self, key: bytes, value: bytes) -> bool:
        return bool(await (await self._proxy()).contains_entry(BlobData(key), BlobData(value)))

    @translated
    async def value_count(self, key: bytes) -> int:
        return int(await (await self._proxy()).value_count(BlobData(key)))

    @translated
    async def listen(
        self, callback: EntryCallback, *, key: bytes | None = None, include_values: bool = True
    ) -> HzRegistration:
        proxy = await self._proxy()
        handlers = _entry_listener(callback)
        registration = await proxy.add_entry_listener(
            include_value=include_values,
            key=None if key is None else BlobData(key),
            added_func=handlers["added_func"],
            removed_func=handlers["removed_func"],
        )
        return HzRegistration(proxy.remove_entry_listener, registration)


def _item_listener(callback: ItemCallback, include_values: bool) -> dict[str, Any]:
    def handle(event: Any) -> None:
        kind = (
            ItemEventType.ADDED
            if event.event_type == HzItemEventType.ADDED
            else ItemEventType.REMOVED
        )
        callback(RawItemEvent(kind, _data(event.item)))

    return {"include_value": include_values, "item_added_func": handle, "item_removed_func": handle}


class _ItemStructure(_Collection):
    @translated
    async def contains(self, item: bytes) -> bool:
        return bool(await (await self._proxy()).contains(BlobData(item)))

    @translated
    async def remove(self, item: bytes) -> bool:
        return bool(await (await self._proxy()).remove(BlobData(item)))

    @translated
    async def listen(
        self, callback: ItemCallback, *, include_values: bool = True
    ) -> HzRegistration:
        proxy = await self._proxy()
        registration = await proxy.add_listener(**_item_listener(callback, include_values))
        return HzRegistration(proxy.remove_listener, registration)


class HzQueue(_ItemStructure):
    getter = "get_queue"

    def __init__(self, link: Link, name: str, capacity: int | None = None) -> None:
        super().__init__(link, name)
        self._capacity = capacity

    async def _configure(self) -> None:
        if self._capacity is not None:
            await add_queue_config(self._client, self.name, max_size=self._capacity)

    async def _proxy(self) -> Any:
        first_use = self._cached is None
        proxy = await super()._proxy()
        if first_use and self._capacity is not None:
            # A queue used before its config was sent keeps its old (often unbounded)
            # capacity, silently; catch the unbounded case here.
            remaining = await proxy.remaining_capacity()
            if remaining > self._capacity:
                self._cached = None
                raise ConfigurationError(
                    f"queue {self.name!r} already exists with a larger capacity than "
                    f"{self._capacity} (room for {remaining} more items)"
                )
        return proxy

    @translated
    async def offer(self, item: bytes, timeout: float = 0) -> bool:
        proxy = self._cached or await self._proxy()
        return bool(await proxy.offer(BlobData(item), timeout if timeout > 0 else 0))

    @translated
    async def poll(self, timeout: float = 0) -> bytes | None:
        proxy = self._cached or await self._proxy()
        blob = await proxy.poll(timeout if timeout > 0 else 0)
        return None if blob is None else blob.data

    @translated
    async def peek(self) -> bytes | None:
        return _data(await (await self._proxy()).peek())

    @translated
    async def drain(self, max_items: int = -1) -> list[bytes]:
        target: list[Blob] = []
        await (await self._proxy()).drain_to(target, max_items)
        return [blob.data for blob in target]

    @translated
    async def remaining_capacity(self) -> int:
        return int(await (await self._proxy()).remaining_capacity())

    @translated
    async def items(self) -> list[bytes]:
        return [blob.data for blob in await (await self._proxy()).iterator()]


class HzSet(_ItemStructure):
    getter = "get_set"

    @translated
    async def add(self, item: bytes) -> bool:
        return bool(await (await self._proxy()).add(BlobData(item)))

    @translated
    async def add_all(self, items: Sequence[bytes]) -> bool:
        if not items:
            return False
        return bool(await (await self._proxy()).add_all([BlobData(item) for item in items]))

    @translated
    async def items(self) -> list[bytes]:
        return [blob.data for blob in await (await self._proxy()).get_all()]


class HzList(_ItemStructure):
    getter = "get_list"

    @translated
    async def append(self, item: bytes) -> None:
        await (await self._proxy()).add(BlobData(item))

    @translated
    async def extend(self, items: Sequence[bytes]) -> None:
        if items:
            await (await self._proxy()).add_all([BlobData(item) for item in items])

    @translated
    async def insert(self, index: int, item: bytes) -> None:
        await (await self._proxy()).add_at(index, BlobData(item))

    @translated
    async def get(self, index: int) -> bytes:
        return (await (await self._proxy()).get(index)).data  # type: ignore[no-any-return]

    @translated
    async def set(self, index: int, item: bytes) -> bytes:
        return (await (await self._proxy()).set_at(index, BlobData(item))).data  # type: ignore[no-any-return]

    @translated
    async def pop(self, index: int) -> bytes:
        return (await (await self._proxy()).remove_at(index)).data  # type: ignore[no-any-return]

    @translated
    async def index(self, item: bytes) -> int:
        return int(await (await self._proxy()).index_of(BlobData(item)))

    @translated
    async def slice(self, start: int, stop: int) -> list[bytes]:
        return [blob.data for blob in await (await self._proxy()).sub_list(start, stop)]

    @translated
    async def items(self) -> list[bytes]:
        return [blob.data for blob in await (await self._proxy()).get_all()]


class HzRingbuffer(_Structure):
    getter = "get_ringbuffer"

    def __init__(
        self, link: Link, name: str, capacity: int | None = None, ttl: float | None = None
    ) -> None:
        super().__init__(link, name)
        self._capacity = capacity
        self._ttl = ttl
        self._pending: tuple[tuple[int, int, int], asyncio.Future[Any]] | None = None

    async def _configure(self) -> None:
        if self._capacity is not None or self._ttl is not None:
            await add_ringbuffer_config(
                self._client,
                self.name,
                capacity=self._capacity or 10_000,
                time_to_live_seconds=int(self._ttl or 0),
            )

    @translated
    async def capacity(self) -> int:
        return int(await (await self._proxy()).capacity())

    @translated
    async def size(self) -> int:
        return int(await (await self._proxy()).size())

    @translated
    async def head(self) -> int:
        return int(await (await self._proxy()).head_sequence())

    @translated
    async def tail(self) -> int:
        return int(await (await self._proxy()).tail_sequence())

    @translated
    async def add(self, item: bytes, policy: OverflowPolicy = OverflowPolicy.OVERWRITE) -> int:
        return int(await (await self._proxy()).add(BlobData(item), _OVERFLOW[policy]))

    @translated
    async def add_all(
        self, items: Sequence[bytes], policy: OverflowPolicy = OverflowPolicy.OVERWRITE
    ) -> int:
        blobs = [BlobData(item) for item in items]
        return int(await (await self._proxy()).add_all(blobs, _OVERFLOW[policy]))

    @translated
    async def read_many(
        self, start: int, min_count: int, max_count: int, timeout: float
    ) -> ReadBatch:
        proxy = await self._proxy()
        max_count = check_read(start, min_count, max_count, await proxy.capacity())
        if min_count == 0 or timeout <= 0:
            result = await proxy.read_many(start, 0, max_count)
            if result.read_count < min_count:
                return ReadBatch([], [], start)
        else:
            result = await self._parked_read(proxy, (start, min_count, max_count), timeout)
            if result is None:
                return ReadBatch([], [], start)
        count = result.read_count
        if count == 0:
            return ReadBatch([], [], start)
        sequences = [result.get_sequence(i) for i in range(count)]
        return ReadBatch(
            [blob.data for blob in result], sequences, result.next_sequence_to_read_from
        )

    async def _parked_read(
        self, proxy: Any, args: tuple[int, int, int], timeout: float
    ) -> Any | None:
        """A blocking member read, waited for at most ``timeout`` seconds (None after).

        The member parks a read until ``min_count`` items exist, and the client cannot
        cancel it there; so a read that timed out stays in flight and the next call with
        the same arguments waits on it again instead of parking another one. A reader
        polling an idle ringbuffer thus keeps one read parked, never a growing pile.
        """
        pending = self._pending
        if pending is None or pending[0] != args:
            future: asyncio.Future[Any] = asyncio.ensure_future(proxy.read_many(*args))
            future.add_done_callback(_retrieve_exception)
            self._pending = pending = (args, future)
        done, _ = await asyncio.wait({pending[1]}, timeout=timeout)
        if not done:
            return None
        self._pending = None
        return pending[1].result()


def _retrieve_exception(future: asyncio.Future[Any]) -> None:
    """Mark an abandoned read's failure as seen (it is reported to a later waiter, or to
    nobody if the reader moved on or the client shut down)."""
    if not future.cancelled():
        future.exception()


class HzTopic(_Structure):
    getter = "get_topic"

    @translated
    async def publish(self, payload: bytes) -> None:
        await (await self._proxy()).publish(BlobData(payload))

    @translated
    async def publish_all(self, payloads: Sequence[bytes]) -> None:
        if payloads:
            await (await self._proxy()).publish_all([BlobData(p) for p in payloads])

    @translated
    async def listen(self, callback: MessageCallback) -> HzRegistration:
        proxy = await self._proxy()

        def handle(message: Any) -> None:
            callback(RawMessage(message.message.data, float(message.publish_time)))

        registration = await proxy.add_listener(handle)
        return HzRegistration(proxy.remove_listener, registration)


class HzIdGenerator(_Structure):
    getter = "get_flake_id_generator"

    @translated
    async def new_id(self) -> int:
        return int(await (await self._proxy()).new_id())
