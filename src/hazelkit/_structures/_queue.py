"""Queue: a distributed FIFO queue, bounded or not, with waiting put and get."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, TypeVar, overload

from hazelkit._backends.protocol import QueueStore
from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._exceptions import (
    OperationTimeoutError,
    QueueFull,
    SerializationError,
    UndecodableError,
)
from hazelkit._core._handle import check_count, check_seconds
from hazelkit._core._undecodable import dead_letters_name, park
from hazelkit._structures._collection import ValueCollection
from hazelkit._structures._list import List

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = ["Queue"]

T = TypeVar("T")
D = TypeVar("D")
_MISSING: Any = object()

#: The longest single wait sent to the grid; longer waits are made of several, so a
#: closed Cluster is noticed and no client-side invocation timeout is reached.
_WAIT_SLICE = 5.0


class Queue(ValueCollection[QueueStore, T]):
    """A distributed FIFO queue (a Hazelcast ``IQueue``), named and shared by every node.

    Every item goes to exactly one taker (``get``, ``poll``, ``drain``), in the order the
    items were added (FIFO across all nodes). With a ``capacity``, adding waits (or
    fails, for ``put_nowait``/``offer``) while the queue is full. The capacity is fixed
    when the queue is first used, by whichever node uses it first; a handle asking for a
    different capacity later raises ConfigurationError (on Hazelcast: once the
    queue's configuration exists; a queue first used without one keeps the members'
    default, unbounded unless configured).

    **Taking is at most once.** An item is gone from the queue once taken. If the
    consumer dies (or its task is cancelled) after taking an item and before finishing
    with it, that item is lost: hazelkit does not redeliver. If you need redelivery, put
    work in a Map and delete it when done, or use a workflow. On Hazelcast, cancelling a
    waiting ``get`` can also lose the item the member hands out at that moment: prefer
    the ``timeout`` argument to cancelling. Each item has one backup on Hazelcast (by
    default), so a member failure loses nothing that is *in* the queue.

    **Unknown outcomes are named.** If the connection or member is lost while a ``get``
    or ``poll`` is under way, it raises IndeterminateOperationError: the member may
    have handed out an item that never arrived, and that item is then lost (at most
    once). If that happens during a ``put`` or ``offer``, the item may or may not have
    been added; hazelkit does not retry it, and a retry of yours may add it twice.
    Where duplicates matter, give items an id of your own and make consumers skip ids
    they have seen. ClusterUnavailableError means nothing was sent: safe to retry.

    Items are values: compressed and encrypted as the codec says; ``contains`` and
    ``remove`` compare by value and type, reading the whole queue. A Hazelcast queue
    lives on one partition.

    **An item this node cannot decode is not lost.** (A type registered only on other
    nodes, a missing encryption key, corrupt bytes.) Taking it (``get``, ``poll``)
    moves its bytes to the List :attr:`dead_letters` (``hazelkit.undecodable/NAME``)
    and raises a SerializationError carrying them (``.data``) and that list's name
    (``.stored_in``); ``drain`` parks such items the same way and returns the others.
    A node that can decode them may take them from there (or destroy that list).
    """

    kind = "queue"

    def __init__(self, cluster: Cluster, name: str, capacity: int | None = None) -> None:
        super().__init__(cluster, name)
        #: The capacity this handle asked for (None: unbounded, or the members' config).
        self.capacity = check_count(capacity, "queue capacity", optional=True)

    def _open(self) -> QueueStore:
        return lowlevel.backend(self._cluster).queue(self.name, self.capacity)

    @property
    def dead_letters(self) -> List[Any]:
        """The List where items taken from this queue that could not be decoded went."""
        return List(self._cluster, dead_letters_name(self.name))

    async def offer(self, item: T, *, timeout: float = 0) -> bool:
        """Add ``item`` at the tail, waiting up to ``timeout`` seconds for room; True if
        added, False if the queue stayed full (then nothing was added)."""
        data = self._encode(item)
        return await self._wait(self._store.offer, data, timeout) is True

    async def put(self, item: T, *, timeout: float | None = None) -> None:
        """Add ``item`` at the tail, waiting for room (None: as long as it takes).

        Raises OperationTimeoutError if the queue stays full for ``timeout`` seconds;
        then nothing was added.
        """
        data = self._encode(item)
        if timeout is None and await self._store.offer(data, _WAIT_SLICE):
            return  # room at once (always, unbounded): one call, no clock, no _wait
        if await self._wait(self._store.offer, data, timeout) is not True:
            raise OperationTimeoutError(f"queue {self.name!r} stayed full for {timeout:g} s")

    async def put_nowait(self, item: T) -> None:
        """Add ``item`` at the tail without waiting; CapacityError if the queue is full
        (then nothing was added)."""
        if not await self._store.offer(self._encode(item)):
            raise QueueFull(f"queue {self.name!r} is full")

    @overload
    async def poll(self, *, timeout: float = 0) -> T | None: ...
    @overload
    async def poll(self, *, timeout: float = 0, default: D) -> T | D: ...
    async def poll(self, *, timeout: float = 0, default: Any = None) -> Any:
        """Take the head item, waiting up to ``timeout`` seconds for one; ``default`` if
        the queue stayed empty. (An item may itself be None: pass a ``default`` to tell.)
        """
        data = await self._wait(self._store.poll, None, timeout)
        if data is None:
            return default
        try:  # _taken, inlined: one coroutine less per item
            return self._decode(data)
        except SerializationError as error:
            raise await park(self._cluster, self.name, data, error) from error

    async def get(self, *, timeout: float | None = None) -> T:
        """Take the head item, waiting for one (None: as long as it takes).

        Raises OperationTimeoutError if the queue stays empty for ``timeout`` seconds.
        """
        data = await self._wait(self._store.poll, None, timeout)
        if data is None:
            raise OperationTimeoutError(f"queue {self.name!r} stayed empty for {timeout:g} s")
        try:  # _taken, inlined: one coroutine less per item
            result: T = self._decode(data)
        except SerializationError as error:
            raise await park(self._cluster, self.name, data, error) from error
        return result

    async def _taken(self, data: bytes) -> Any:
        """Decode a taken item; one that cannot be decoded goes to the dead letters."""
        try:
            return self._decode(data)
        except SerializationError as error:
            raise await park(self._cluster, self.name, data, error) from error

    async def _wait(self, operation: Any, data: bytes | None, timeout: float | None) -> Any:
        """Call ``operation`` (offer or poll) until it succeeds or ``timeout`` runs out,
        each call waiting on the grid for at most :data:`_WAIT_SLICE` seconds.

        The first call is made before the clock is read again (the usual case is one
        call: an item was there, or there was room).
        """
        limit = check_seconds(timeout, "timeout", optional=True)
        args = () if data is None else (data,)
        if limit is None:
            deadline = None
            result = await operation(*args, _WAIT_SLICE)
        else:
            deadline = time.monotonic() + limit
            result = await operation(*args, limit if limit < _WAIT_SLICE else _WAIT_SLICE)
        while result is None or result is False:
            if deadline is not None and time.monotonic() >= deadline:
                return result
            lowlevel.check_open(self._cluster)
            left = _WAIT_SLICE if deadline is None else deadline - time.monotonic()
            result = await operation(*args, max(0.0, min(left, _WAIT_SLICE)))
        return result

    @overload
    async def peek(self) -> T | None: ...
    @overload
    async def peek(self, default: D) -> T | D: ...
    async def peek(self, default: Any = None) -> Any:
        """The head item without taking it; ``default`` if the queue is empty."""
        data = await self._store.peek()
        return default if data is None else self._read_value(data, "the head item")

    async def drain(self, max_items: int | None = None) -> list[T]:
        """Take up to ``max_items`` items (None: all) at once, in order, without waiting.

        Items this node cannot decode are parked in :attr:`dead_letters` (and logged)
        and left out of the result; the others are returned.
        """
        max_items = check_count(max_items, "max_items", minimum=0, optional=True)
        if max_items == 0:
            return []
        drained = await self._store.drain(-1 if max_items is None else max_items)
        items: list[T] = []
        for data in drained:
            try:
                items.append(await self._taken(data))
            except UndecodableError:
                continue  # parked and logged; the good items are still returned
        return items

    async def remaining_capacity(self) -> int:
        """How many more items fit now (2**31 - 1 for an unbounded queue)."""
        return await self._store.remaining_capacity()
