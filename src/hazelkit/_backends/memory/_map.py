"""Embedded maps and multimaps, with Hazelcast's TTL and max-idle rules.

The rules follow what Hazelcast members do (checked by the conformance suite): every write
without a ``ttl``/``max_idle`` resets the entry to "never expires", ``replace`` included;
``get``, ``contains`` and ``get_all`` count as accesses for max-idle; ``put_if_absent`` on a
present key changes nothing.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hazelkit._backends.memory._grid import Grid, Listeners, Registration, cooperative
from hazelkit._backends.protocol import EntryCallback, EntryEventType, RawEntryEvent


@dataclass(slots=True)
class _Entry:
    value: bytes
    expires_at: float | None
    max_idle: float | None
    last_access: float

    def deadline(self) -> float | None:
        """When the entry expires if nobody touches it again (None: never)."""
        idle = None if self.max_idle is None else self.last_access + self.max_idle
        if self.expires_at is None:
            return idle
        return self.expires_at if idle is None else min(self.expires_at, idle)

    def expired(self, now: float) -> bool:
        deadline = self.deadline()
        return deadline is not None and now >= deadline


def _entry(value: bytes, ttl: float | None, max_idle: float | None, now: float) -> _Entry:
    expires_at = now + ttl if ttl else None
    return _Entry(value, expires_at, max_idle or None, now)


class _EntryEvents:
    """Entry listeners of one map or multimap, filtered by key."""

    def __init__(self, grid: Grid) -> None:
        self.listeners: Listeners[RawEntryEvent] = Listeners(grid.lock)

    def fire(
        self, kind: EntryEventType, key: bytes, value: bytes | None, old: bytes | None
    ) -> None:
        def make(include_values: bool) -> RawEntryEvent:
            if include_values:
                return RawEntryEvent(kind, key, value, old)
            return RawEntryEvent(kind, key, None, None)

        self.listeners.fire(make, key)


class MapState(_EntryEvents):
    """The entries and listeners of one embedded map."""

    def __init__(self, grid: Grid) -> None:
        super().__init__(grid)
        self.clock = grid.clock
        self.entries: dict[bytes, _Entry] = {}
        # (time, key) of every entry that may expire, earliest first. An item may be
        # early (the entry was touched, or replaced) but never late, so expiring
        # pops only due items and re-files the ones that are not due after all.
        self._due: list[tuple[float, bytes]] = []

    def _schedule(self, key: bytes, entry: _Entry) -> None:
        deadline = entry.deadline()
        if deadline is not None:
            heapq.heappush(self._due, (deadline, key))

    def live(self, key: bytes, *, touch: bool = False) -> _Entry | None:
        """The entry under ``key`` unless it has expired (expiring it now if due)."""
        entry = self.entries.get(key)
        if entry is None:
            return None
        now = self.clock.monotonic()
        if entry.expired(now):
            del self.entries[key]
            self.fire(EntryEventType.EXPIRED, key, None, entry.value)
            return None
        if touch:
            entry.last_access = now
        return entry

    def store(
        self, key: bytes, value: bytes, ttl: float | None, max_idle: float | None
    ) -> bytes | None:
        old = self.live(key)
        entry = self.entries[key] = _entry(value, ttl, max_idle, self.clock.monotonic())
        self._schedule(key, entry)
        if old is None:
            self.fire(EntryEventType.ADDED, key, value, None)
            return None
        self.fire(EntryEventType.UPDATED, key, value, old.value)
        return old.value

    def discard(self, key: bytes, *, report_old: bool = True) -> bytes | None:
        """Remove ``key``; its REMOVED event carries the old value only if
        ``report_old`` (Hazelcast's ``delete`` reports none)."""
        old = self.live(key)
        if old is None:
            return None
        del self.entries[key]
        self.fire(EntryEventType.REMOVED, key, None, old.value if report_old else None)
        return old.value

    def clear(self) -> None:
        self.entries.clear()
        self._due.clear()

    def set_deadline(self, key: bytes, entry: _Entry, ttl: float) -> None:
        entry.expires_at = self.clock.monotonic() + ttl if ttl else None
        self._schedule(key, entry)

    def expire_due(self, now: float) -> None:
        """Expire every entry whose time has come, firing EXPIRED events."""
        while self._due and self._due[0][0] <= now:
            _, key = heapq.heappop(self._due)
            entry = self.entries.get(key)
            if entry is None:
                continue
            if entry.expired(now):
                del self.entries[key]
                self.fire(EntryEventType.EXPIRED, key, None, entry.value)
            else:
                self._schedule(key, entry)

    def live_items(self) -> list[tuple[bytes, bytes]]:
        self.expire_due(self.clock.monotonic())
        return [(k, e.value) for k, e in self.entries.items()]


@cooperative
class MemoryMap:
    """A map of the embedded grid; see :class:`~hazelkit._backends.protocol.MapStore`."""

    def __init__(self, grid: Grid, name: str) -> None:
        self._grid = grid
        self.name = name

    def _state(self) -> MapState:
        return self._grid.structure("map", self.name, lambda: MapState(self._grid))

    async def get(self, key: bytes) -> bytes | None:
        with self._grid.lock:
            entry = self._state().live(key, touch=True)
            return None if entry is None else entry.value

    async def put(
        self, key: bytes, value: bytes, *, ttl: float | None = None, max_idle: float | None = None
    ) -> bytes | None:
        with self._grid.lock:
            return self._state().store(key, value, ttl, max_idle)

    async def set(
        self, key: bytes, value: bytes, *, ttl: float | None = None, max_idle: float | None = None
    ) -> None:
        with self._grid.lock:
            self._state().store(key, value, ttl, max_idle)

    async def put_if_absent(
        self, key: bytes, value: bytes, *, ttl: float | None = None, max_idle: float | None = None
    ) -> bytes | None:
        with self._grid.lock:
            state = self._state()
            entry = state.live(key)
            if entry is not None:
                return entry.value
            state.store(key, value, ttl, max_idle)
            return None

    async def replace(self, key: bytes, value: bytes) -> bytes | None:
        with self._grid.lock:
            state = self._state()
            if state.live(key) is None:
                return None
            return state.store(key, value, None, None)

    async def replace_if_same(self, key: bytes, old: bytes, new: bytes) -> bool:
        with self._grid.lock:
            state = self._state()
            entry = state.live(key)
            if entry is None or entry.value != old:
                return False
            state.store(key, new, None, None)
            return True

    async def remove(self, key: bytes) -> bytes | None:
        with self._grid.lock:
            return self._state().discard(key)

    async def remove_if_same(self, key: bytes, value: bytes) -> bool:
        with self._grid.lock:
            state = self._state()
            entry = state.live(key)
            if entry is None or entry.value != value:
                return False
            state.discard(key)
            return True

    async def delete(self, key: bytes) -> None:
        with self._grid.lock:
            self._state().discard(key, report_old=False)

    async def contains(self, key: bytes) -> bool:
        with self._grid.lock:
            return self._state().live(key, touch=True) is not None

    async def set_ttl(self, key: bytes, ttl: float) -> None:
        with self._grid.lock:
            state = self._state()
            entry = state.live(key)
            if entry is not None:
                state.set_deadline(key, entry, ttl)

    async def size(self) -> int:
        with self._grid.lock:
            return len(self._state().live_items())

    async def keys(self) -> list[bytes]:
        with self._grid.lock:
            return [k for k, _ in self._state().live_items()]

    async def values(self) -> list[bytes]:
        with self._grid.lock:
            return [v for _, v in self._state().live_items()]

    async def items(self) -> list[tuple[bytes, bytes]]:
        with self._grid.lock:
            return self._state().live_items()

    async def get_all(self, keys: Iterable[bytes]) -> dict[bytes, bytes]:
        with self._grid.lock:
            state = self._state()
            found = {}
            for key in keys:
                entry = state.live(key, touch=True)
                if entry is not None:
                    found[key] = entry.value
            return found

    async def put_all(self, items: Mapping[bytes, bytes]) -> None:
        with self._grid.lock:
            state = self._state()
            for key, value in items.items():
                state.store(key, value, None, None)

    async def clear(self) -> None:
        # Hazelcast reports a clear as one CLEAR_ALL event, which hazelkit does not expose
        # per key; embedded maps stay silent too, so both backends behave the same.
        with self._grid.lock:
            self._state().clear()

    async def destroy(self) -> None:
        self._grid.destroy("map", self.name)

    async def listen(
        self, callback: EntryCallback, *, key: bytes | None = None, include_values: bool = True
    ) -> Registration[RawEntryEvent]:
        return self._state().listeners.add(callback, key=key, include_values=include_values)


class MultiMapState(_EntryEvents):
    """The value lists and listeners of one embedded multimap."""

    def __init__(self, grid: Grid) -> None:
        super().__init__(grid)
        self.entries: dict[bytes, list[bytes]] = {}


@cooperative
class MemoryMultiMap:
    """A multimap of the embedded grid; see :class:`~hazelkit._backends.protocol.MultiMapStore`."""

    def __init__(self, grid: Grid, name: str) -> None:
        self._grid = grid
        self.name = name

    def _state(self) -> MultiMapState:
        return self._grid.structure("multimap", self.name, lambda: MultiMapState(self._grid))

    async def put(self, key: bytes, value: bytes) -> bool:
        with self._grid.lock:
            state = self._state()
            values = state.entries.setdefault(key, [])
            if value in values:
                return False
            values.append(value)
            state.fire(EntryEventType.ADDED, key, value, None)
            return True

    async def get(self, key: bytes) -> list[bytes]:
        with self._grid.lock:
            return list(self._state().entries.get(key, ()))

    async def remove(self, key: bytes, value: bytes) -> bool:
        with self._grid.lock:
            state = self._state()
            values = state.entries.get(key)
            if not values or value not in values:
                return False
            values.remove(value)
            if not values:
                del state.entries[key]
            state.fire(EntryEventType.REMOVED, key, None, value)
            return True

    async def remove_all(self, key: bytes) -> list[bytes]:
        with self._grid.lock:
            state = self._state()
            values = state.entries.pop(key, [])
            if values:
                state.fire(EntryEventType.REMOVED, key, None, None)
            return values

    async def contains_key(self, key: bytes) -> bool:
        with self._grid.lock:
            return key in self._state().entries

    async def contains_value(self, value: bytes) -> bool:
        with self._grid.lock:
            return any(value in values for values in self._state().entries.values())

    async def contains_entry(self, key: bytes, value: bytes) -> bool:
        with self._grid.lock:
            return value in self._state().entries.get(key, ())

    async def value_count(self, key: bytes) -> int:
        with self._grid.lock:
            return len(self._state().entries.get(key, ()))

    async def size(self) -> int:
        with self._grid.lock:
            return sum(len(values) for values in self._state().entries.values())

    async def keys(self) -> list[bytes]:
        with self._grid.lock:
            return list(self._state().entries)

    async def values(self) -> list[bytes]:
        with self._grid.lock:
            return [v for values in self._state().entries.values() for v in values]

    async def items(self) -> list[tuple[bytes, bytes]]:
        with self._grid.lock:
            return [(k, v) for k, values in self._state().entries.items() for v in values]

    async def clear(self) -> None:
        with self._grid.lock:
            self._state().entries.clear()

    async def destroy(self) -> None:
        self._grid.destroy("multimap", self.name)

    async def listen(
        self, callback: EntryCallback, *, key: bytes | None = None, include_values: bool = True
    ) -> Registration[RawEntryEvent]:
        return self._state().listeners.add(callback, key=key, include_values=include_values)
