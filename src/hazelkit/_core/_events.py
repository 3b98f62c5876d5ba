"""Entry and item events of the data structures, as Subscriptions owned by a Cluster.

A structure's ``events()`` registers one backend listener and feeds a
:class:`~hazelkit._core._subscription.Subscription`. Events are notifications: they arrive
after the change, may be late, and around a member failure (while the Hazelcast client
re-registers its listeners) some may be lost. Nothing in hazelkit relies on them for
correctness; use them to react early, and read the structure for the truth.

Every listener registered here is closed when its Cluster closes (its subscription ends,
so ``async for`` loops finish), or earlier by ``aclose()``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from hazelkit._backends.protocol import (
    EntryEventType,
    ItemEventType,
    RawEntryEvent,
    RawItemEvent,
    Registration,
)
from hazelkit._core._buffer import Overflow
from hazelkit._core._exceptions import (
    ConfigurationError,
    HazelkitError,
    SerializationError,
    UndecodableError,
)
from hazelkit._core._handle import check_count
from hazelkit._core._local import ClusterLocal
from hazelkit._core._subscription import Subscription
from hazelkit._core._undecodable import left_in_place, try_decode

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = [
    "EntryEvent",
    "EntryEventType",
    "EventStream",
    "ItemEvent",
    "ItemEventType",
    "listen",
    "own",
]

logger = logging.getLogger("hazelkit")
K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")
R = TypeVar("R")

Closer = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class EntryEvent(Generic[K, V]):
    """A change of one map, multimap or cache entry.

    ``value`` is the new value (None for removals and expiries), ``old_value`` the one
    before (None if there was none). Both are None when the stream was opened with
    ``include_values=False``.
    """

    type: EntryEventType
    key: K
    value: V | None
    old_value: V | None


@dataclass(frozen=True, slots=True)
class ItemEvent(Generic[T]):
    """An item added to or removed from a queue, set or list (None without values)."""

    type: ItemEventType
    item: T | None


class _Owned:
    """The closers of one Cluster's listeners; all run when the Cluster closes."""

    def __init__(self) -> None:
        self.closers: dict[int, Closer] = {}

    async def close_all(self) -> None:
        closers, self.closers = list(self.closers.values()), {}
        for closer in closers:
            try:
                await closer()
            except Exception:
                logger.debug("error closing a listener", exc_info=True)


_owned: ClusterLocal[_Owned] = ClusterLocal(_Owned, close=_Owned.close_all)


def own(cluster: Cluster, closer: Closer) -> Callable[[], None]:
    """Run ``closer`` when ``cluster`` closes; returns a function that cancels that."""
    owned = _owned.get(cluster)
    token = id(closer)
    owned.closers[token] = closer

    def disown() -> None:
        owned.closers.pop(token, None)

    return disown


def _nothing() -> None:
    pass


def check_buffer(capacity: int, overflow: Overflow) -> Overflow:
    """Validate an event buffer: a positive capacity, and a policy that never blocks
    (listener callbacks cannot wait, so their buffers drop or slide)."""
    check_count(capacity, "event buffer capacity")
    try:
        overflow = Overflow(overflow)
    except ValueError:
        raise ConfigurationError(f"unknown overflow policy {overflow!r}") from None
    if overflow is Overflow.BLOCK:
        raise ConfigurationError("event streams cannot use Overflow.BLOCK: use DROP or SLIDE")
    return overflow


async def listen(
    cluster: Cluster,
    register: Callable[[Callable[[R], None]], Awaitable[Registration]],
    convert: Callable[[R], T],
    *,
    capacity: int,
    overflow: Overflow,
) -> Subscription[T]:
    """Register a backend listener whose events, converted, feed a new Subscription.

    The listener is registered before this returns, so every change made after it
    returns is reported (unless an event is lost around a failure). An event that
    cannot be decoded is delivered as its error (reading goes on after it).
    """
    overflow = check_buffer(capacity, overflow)
    registration: Registration | None = None
    disown: Callable[[], None] = _nothing

    async def close() -> None:
        nonlocal registration
        disown()
        subscription.end()
        current, registration = registration, None
        if current is not None:
            with contextlib.suppress(HazelkitError):
                await current.close()

    subscription: Subscription[T] = Subscription(
        capacity=capacity, overflow=overflow, on_close=close
    )

    def on_event(raw: R) -> None:
        if subscription.closed:
            return
        try:
            event = convert(raw)
        except SerializationError as error:
            if not isinstance(error, UndecodableError):
                error = UndecodableError(str(error), data=b"", stored_in=None)
            subscription.push_error(error)
            return
        subscription.push(event)

    registration = await register(on_event)
    disown = own(cluster, close)
    return subscription


def entry_converter(
    decode_key: Callable[[bytes], Any], decode_value: Callable[[bytes, bytes], Any], where: str
) -> Callable[[RawEntryEvent], EntryEvent[Any, Any]]:
    """Decodes raw entry events: keys with ``decode_key``, values with
    ``decode_value(value, key)`` (both as bytes: a value may be bound to its key).

    An event whose key or value cannot be decoded becomes an UndecodableError with those
    bytes, delivered in its place (the entry itself is left in ``where``). An old value
    that cannot be decoded (one another client wrote, replaced since) is given as None:
    it is gone from the map, and the change to the new value is still worth reporting.
    """

    def convert(raw: RawEntryEvent) -> EntryEvent[Any, Any]:
        part = raw.key
        try:
            key = decode_key(part)
            part = raw.value or b""
            value = None if raw.value is None else decode_value(raw.value, raw.key)
        except SerializationError as error:
            what = f"an entry event ({raw.type.value})"
            raise left_in_place(what, part, error, where) from error
        old = None
        if raw.old_value is not None:
            old = try_decode(lambda data: decode_value(data, raw.key), raw.old_value)[1]
        return EntryEvent(raw.type, key, value, old)

    return convert


def item_converter(
    decode: Callable[[bytes], Any], where: str
) -> Callable[[RawItemEvent], ItemEvent[Any]]:
    """Decodes raw item events with ``decode``; one that cannot be decoded becomes an
    UndecodableError delivered in its place."""

    def convert(raw: RawItemEvent) -> ItemEvent[Any]:
        if raw.item is None:
            return ItemEvent(raw.type, None)
        try:
            return ItemEvent(raw.type, decode(raw.item))
        except SerializationError as error:
            what = f"an item event ({raw.type.value})"
            raise left_in_place(what, raw.item, error, where) from error

    return convert


def event_stream(
    cluster: Cluster,
    register: Callable[[Callable[[R], None]], Awaitable[Registration]],
    convert: Callable[[R], T],
    *,
    capacity: int,
    overflow: Overflow,
) -> EventStream[T]:
    """An :class:`EventStream` that opens with :func:`listen`; options are checked now."""
    check_buffer(capacity, overflow)

    async def open_stream() -> Subscription[T]:
        return await listen(cluster, register, convert, capacity=capacity, overflow=overflow)

    return EventStream(open_stream)


class EventStream(Generic[T]):
    """What a structure's ``events()`` returns: a Subscription waiting to be opened.

    ``await`` it for the :class:`~hazelkit.Subscription` (close it yourself), or use
    ``async with structure.events() as events:`` to have it closed at the end of the
    block. Either way the listener is registered before you get the subscription.
    """

    def __init__(self, opener: Callable[[], Awaitable[Subscription[T]]]) -> None:
        self._opener = opener
        self._subscription: Subscription[T] | None = None

    def __await__(self) -> Generator[Any, None, Subscription[T]]:
        return self._open().__await__()

    async def _open(self) -> Subscription[T]:
        if self._subscription is not None:
            raise HazelkitError("this event stream was already opened")
        self._subscription = await self._opener()
        return self._subscription

    async def __aenter__(self) -> Subscription[T]:
        return await self._open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._subscription is not None:
            await self._subscription.aclose()
