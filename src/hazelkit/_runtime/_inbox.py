"""Partition inboxes: a ringbuffer per partition, and the cursor its owner committed.

A message is ``msgpack [1, entity id, key, kind, payload]``, or with a sixth element,
``trace``, when it was sent inside a span: ``kind`` is ``"msg"`` (a user message),
``"start"`` or a control (``"terminate"``, ``"resume"``, ``"skip"``); ``payload`` is the
codec's bytes of the value, so an owner can always route a message even when it cannot
decode its value (that pauses only the entity it is for). ``trace`` maps the trace
propagator's field names to values (W3C ``traceparent`` and ``tracestate`` by default):
the sender's span context, which the handling span continues. Records without it, as
older versions wrote them, decode as before.

The cursor (``hazelkit.rt.cursors``, by space and partition) is ``[generation, next]``:
every message below ``next`` is applied (or held) by its entity. Only the owner writes it,
by compare-and-set. ``generation`` names one life of the ringbuffer: if every member that
held it is lost, the ringbuffer starts again at sequence 0 and the owner starts a new
generation, so entities do not skip the new messages as already applied.

A sender never overwrites an unapplied message: before adding, it checks the room above
the cursor (a cached view refreshed every second and whenever the inbox looks short of
room), waits while the inbox is full, and raises CapacityError after its timeout.
Senders on many nodes racing through the last quarter of the room within one refresh
could still overwrite; an owner that finds its next message overwritten reports it.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgpack

from hazelkit._backends.protocol import RingbufferStore
from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._cas import write_if_same
from hazelkit._core._exceptions import (
    CapacityError,
    IndeterminateOperationError,
    SerializationError,
)

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = ["CURSORS_MAP", "Cursor", "Inbox", "InboxMessage", "pack", "unpack"]

CURSORS_MAP = "hazelkit.rt.cursors"
_VERSION = 1
_REFRESH = 1.0


@dataclass(frozen=True, slots=True)
class InboxMessage:
    entity: str
    key: str
    kind: str
    payload: bytes
    trace: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Cursor:
    gen: str
    next: int


def pack(message: InboxMessage) -> bytes:
    fields: list[Any] = [_VERSION, message.entity, message.key, message.kind, message.payload]
    if message.trace:
        fields.append(message.trace)
    data: bytes = msgpack.packb(fields)
    return data


def unpack(data: bytes) -> InboxMessage | None:
    """The message in ``data``, or None if it is not a runtime message. A trace context
    that is not a map of strings is ignored (the message is applied without it)."""
    try:
        version, entity, key, kind, payload, *rest = msgpack.unpackb(data, raw=False)
    except Exception:
        return None
    if version != _VERSION or not all(isinstance(x, str) for x in (entity, key, kind)):
        return None
    if not isinstance(payload, bytes) or len(rest) > 1:
        return None
    return InboxMessage(entity, key, kind, payload, _trace(rest[0]) if rest else None)


def _trace(value: object) -> dict[str, str] | None:
    if not isinstance(value, dict):
        return None
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return None
    return value


def inbox_name(space: str, partition: int) -> str:
    return f"hazelkit.rt.inbox/{space}/{partition}"


class Inbox:
    """One partition's inbox, for senders and for its owner."""

    def __init__(self, cluster: Cluster, space: str, partition: int, capacity: int) -> None:
        self._cluster = cluster
        self.space = space
        self.partition = partition
        self.capacity = capacity
        self._slack = max(1, capacity // 4)
        self._cursor_key = cluster.codec.encode_key((space, partition))
        self._tail = -1
        self._next = 0
        self._refreshed = -_REFRESH
        self._refresh_lock = asyncio.Lock()
        self._ring: RingbufferStore | None = None
        self._cursor_store: Any = None

    @property
    def ring(self) -> RingbufferStore:
        # One store per inbox: a store sends the ringbuffer's configuration (its capacity)
        # before its first use, and that is a round trip to spend once, not per message.
        if self._ring is None:
            self._ring = lowlevel.backend(self._cluster).ringbuffer(
                inbox_name(self.space, self.partition), capacity=self.capacity
            )
        return self._ring

    @property
    def _cursors(self) -> Any:
        lowlevel.check_open(self._cluster)
        if self._cursor_store is None:  # one store, as for the ring
            self._cursor_store = lowlevel.backend(self._cluster).map(CURSORS_MAP)
        return self._cursor_store

    # -- senders --------------------------------------------------------------------------

    async def send(self, message: InboxMessage, timeout: float) -> int:
        """Store ``message``; its sequence. Waits up to ``timeout`` seconds for room
        (CapacityError after). A lost reply is retried: the message key makes the
        repeat harmless."""
        data = pack(message)
        deadline = time.monotonic() + timeout
        delay = 0.01
        while not await self._has_room():
            if time.monotonic() + delay > deadline:
                raise CapacityError(
                    f"the inbox of partition {self.partition} of {self.space!r} stayed full"
                    f" for {timeout:g} s (its owner is behind, or no node hosts it)"
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)
        while True:
            try:
                sequence = await self.ring.add(data)
                break
            except IndeterminateOperationError:
                continue  # stored or not: the same key is applied once either way
        self._tail = max(self._tail, sequence)
        return sequence

    async def _has_room(self) -> bool:
        now = time.monotonic()
        stale = now - self._refreshed > _REFRESH
        if stale or self._tail + 1 - self._next >= self.capacity - self._slack:
            await self._refresh(now)
        return self._tail + 1 - self._next < self.capacity - self._slack

    async def _refresh(self, wanted: float) -> None:
        """Read the tail and the cursor, unless a refresh that began after ``wanted``
        (when the caller found the view stale) is done meanwhile: concurrent senders
        share one refresh instead of each making two round trips."""
        async with self._refresh_lock:
            if self._refreshed >= wanted:
                return
            started = time.monotonic()
            tail = await self.ring.tail()
            cursor = self._decode(await self._cursors.get(self._cursor_key))
            self._tail = tail
            self._next = 0 if cursor is None else cursor.next
            self._refreshed = started

    # -- the owner ------------------------------------------------------------------------

    def _decode(self, raw: bytes | None) -> Cursor | None:
        if raw is None:
            return None
        try:
            gen, next_ = self._cluster.codec.decode(raw)
            return Cursor(str(gen), int(next_))
        except (SerializationError, TypeError, ValueError):
            return None

    async def load_cursor(self) -> tuple[bytes, Cursor]:
        """The committed cursor (created at the ringbuffer's head the first time)."""
        while True:
            raw = await self._cursors.get(self._cursor_key)
            cursor = self._decode(raw)
            if raw is not None and cursor is not None:
                return raw, cursor
            fresh = Cursor(secrets.token_hex(4), await self.ring.head())
            new = self._cluster.codec.encode([fresh.gen, fresh.next])
            if await self._write(raw, new):
                return new, fresh

    async def commit_cursor(self, old: bytes, cursor: Cursor) -> bytes | None:
        """Move the cursor from ``old`` to ``cursor``; the new bytes, or None if another
        owner wrote it meanwhile (this owner is stale)."""
        new = self._cluster.codec.encode([cursor.gen, cursor.next])
        return new if await self._write(old, new) else None

    async def _write(self, old: bytes | None, new: bytes) -> bool:
        try:
            return await write_if_same(self._cursors, self._cursor_key, old, new)
        except IndeterminateOperationError:
            return bool(await self._cursors.get(self._cursor_key) == new)
