"""The watches of an Atom handle: one entry listener and one task calling them in order."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

from hazelkit._backends.protocol import EntryEventType, RawEntryEvent
from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._buffer import Overflow
from hazelkit._core._events import listen
from hazelkit._core._exceptions import SerializationError
from hazelkit._core._subscription import Subscription

if TYPE_CHECKING:
    from hazelkit._structures._atom import Atom

__all__ = ["Watch", "Watches"]

Watch = Callable[[Any, Any], object]

logger = logging.getLogger("hazelkit")

#: Changes buffered for the watch task; if the watches fall further behind, the oldest
#: changes are not reported.
WATCH_BUFFER = 10_000


class Watches:
    """Registers the atom's entry listener while at least one watch exists.

    A single task (owned by the Cluster) reads the changes and calls each watch with
    ``(old, new)``, one call at a time, so watches see changes in order.
    """

    def __init__(self, atom: Atom[Any]) -> None:
        self._atom = atom
        self._callbacks: dict[Hashable, Watch] = {}
        self._subscription: Subscription[RawEntryEvent] | None = None
        self._lock = asyncio.Lock()

    async def add(self, key: Hashable, fn: Watch) -> None:
        """Add (or replace) a watch, registering the listener first if needed."""
        async with self._lock:
            if self._subscription is None or self._subscription.closed:
                await self._start()
            self._callbacks[key] = fn

    async def remove(self, key: Hashable) -> None:
        """Remove a watch; the last one removed closes the listener."""
        async with self._lock:
            self._callbacks.pop(key, None)
            if not self._callbacks and self._subscription is not None:
                subscription, self._subscription = self._subscription, None
                await subscription.aclose()

    async def _start(self) -> None:
        atom = self._atom
        store, raw_key = atom._store, atom._raw_key
        subscription: Subscription[RawEntryEvent] = await listen(
            atom._cluster,
            lambda callback: store.listen(callback, key=raw_key),
            _same,
            capacity=WATCH_BUFFER,
            overflow=Overflow.SLIDE,
        )
        self._subscription = subscription
        lowlevel.spawn(
            atom._cluster, self._run(subscription), name=f"watches of atom {atom.name!r}"
        )

    async def _run(self, subscription: Subscription[RawEntryEvent]) -> None:
        async for event in subscription:
            try:
                old, new = self._values(event)
            except SerializationError:
                logger.warning("atom %r: a change could not be decoded", self._atom.name)
                continue
            for key, fn in list(self._callbacks.items()):
                await self._call(key, fn, old, new)

    def _values(self, event: RawEntryEvent) -> tuple[Any, Any]:
        atom = self._atom
        old = atom._current(event.old_value)
        if event.type in (EntryEventType.ADDED, EntryEventType.UPDATED):
            return old, atom._current(event.value)
        return old, atom.initial

    async def _call(
        self, key: Hashable, fn: Callable[[Any, Any], object], old: Any, new: Any
    ) -> None:
        try:
            result = fn(old, new)
            if inspect.isawaitable(result):
                await result
        except Exception:
            logger.exception("watch %r of atom %r failed", key, self._atom.name)


def _same(event: RawEntryEvent) -> RawEntryEvent:
    return event
