"""What every waiting coordination primitive shares: owners, wake-ups and safe cleanup.

Locks, semaphores and latches wait by re-checking the grid. A :class:`KeyWatch` wakes a
waiter early when an entry listener reports a change of the watched key, but a waiter
never depends on that event: it re-checks at least every poll interval, so a lost event
costs latency, never correctness. :class:`WaiterRegistry` lets statistics count the
waiters of every node. Waiting itself is :func:`hazelkit._coordination._grant.wait_for_grant`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
import uuid
from types import CodeType, TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from hazelkit._backends.protocol import MapStore, RawEntryEvent, Registration
from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._cleanup import finish, run_cleanup
from hazelkit._core._exceptions import (
    BackendError,
    ClusterUnavailableError,
    ConfigurationError,
    HazelkitError,
    IndeterminateOperationError,
    LockError,
    OperationTimeoutError,
)
from hazelkit._core._local import ClusterLocal

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

    from hazelkit._core._cluster import Cluster

__all__ = [
    "ANNOUNCE_AFTER",
    "Announcement",
    "KeyWatch",
    "WaiterRegistry",
    "acquires_for_caller",
    "acquiring_owner",
    "check_timeout",
    "current_owner",
    "describe_owner",
    "local_waiters",
    "owner_alive",
]

logger = logging.getLogger("hazelkit")
T = TypeVar("T")
F = TypeVar("F", bound="Callable[..., Any]")

#: The map where waiters announce themselves (for statistics only).
WAITER_MAP = "hazelkit.waiters"
#: A waiter's announcement lapses this long after its last refresh (a dead waiter's too).
WAITER_TTL = 10.0
#: How long a waiter waits before it announces itself. Most waits behind a holder of the
#: same Cluster end sooner (the lock is handed on locally), and then cost no grid call
#: for the count; the count may lag by this much.
ANNOUNCE_AFTER = 0.2
_HOST = socket.gethostname()


def current_owner() -> object:
    """The owner of whatever the caller takes now: its asyncio task."""
    task = asyncio.current_task()
    if task is None:  # pragma: no cover - always called from a coroutine
        raise HazelkitError("hazelkit coordination must be used from an asyncio task")
    return task


#: The code of every public coroutine that acquires something for its calling task.
_ACQUIRING: set[CodeType] = set()


def acquires_for_caller(function: F) -> F:
    """Mark a public ``acquire`` (or ``__aenter__``) so that :func:`acquiring_owner`
    refuses to run it as a task of its own."""
    _ACQUIRING.add(function.__code__)
    return function


def acquiring_owner(what: str) -> object:
    """The task that takes ``what`` now; LockError if that task exists only to acquire.

    Leases belong to the task that acquired them and lapse when it ends. A coroutine
    such as ``lock.acquire()`` handed to ``asyncio.wait_for`` (on Python 3.11),
    ``create_task``, ``ensure_future`` or ``gather`` runs as a task of its own, which
    ends right after acquiring: the lease would lapse while the caller still uses it.
    Refusing at once (nothing taken) beats a lock that silently stops excluding.
    """
    task = current_owner()
    coroutine = task.get_coro() if isinstance(task, asyncio.Task) else None
    if getattr(coroutine, "cr_code", None) in _ACQUIRING:
        raise LockError(
            f"{what}: acquire() is running as a task of its own (asyncio.wait_for on"
            " Python 3.11, create_task, ensure_future or gather); that task would own it"
            " and end at once, letting its lease lapse while you use it. Await acquire()"
            " in the task that uses it, bounded by acquire(timeout=...) or"
            " `async with asyncio.timeout(...)`"
        )
    return task


def owner_alive(owner: object) -> bool:
    """Whether ``owner`` (a task, or a thread for the blocking facade) still runs."""
    if isinstance(owner, asyncio.Task):
        return not owner.done()
    if isinstance(owner, threading.Thread):
        return owner.is_alive()
    return True


def describe_owner(owner: object) -> str:
    """``host:pid:name`` of ``owner``: how other nodes see who holds something."""
    if isinstance(owner, asyncio.Task):
        label = owner.get_name()
    elif isinstance(owner, threading.Thread):
        label = f"thread {owner.name}"
    else:
        label = repr(owner)
    return f"{_HOST}:{os.getpid()}:{label}"


class _SharedListener:
    """One entry listener for the waiters of one primitive on one Cluster.

    Every waiter attaches an event; the first registers the listener, the last to
    detach removes it. The registration runs as a Cluster task through
    :func:`~hazelkit._core._cleanup.finish`, so a waiter cancelled meanwhile never leaks it.
    """

    def __init__(self, cluster: Cluster, store: MapStore, keys: frozenset[bytes]) -> None:
        self._cluster = cluster
        self._store = store
        self._keys = keys
        self._events: set[asyncio.Event] = set()
        #: Attached waiters not yet granted nor given up (attachments outlive that a bit).
        self.waiting = 0
        self._registration: Registration | None = None
        self._lock = asyncio.Lock()
        #: The waiters' turn: one waiting task of this Cluster polls the grid at a time,
        #: the others queue here in arrival order.
        self.turn = asyncio.Lock()

    def wake(self) -> None:
        """Wake every attached waiter now (a local release: no need to wait for the event)."""
        for waiting in self._events:
            waiting.set()

    def _on_event(self, event: RawEntryEvent) -> None:
        if event.key in self._keys:
            self.wake()

    async def attach(self, event: asyncio.Event) -> None:
        self._events.add(event)
        async with self._lock:
            if self._registration is not None:
                return
            try:
                await finish(self._cluster, self._register(), name="register waiter listener")
            except HazelkitError:  # without events the waiters still poll
                logger.debug("no entry listener for waiters; polling only", exc_info=True)

    async def _register(self) -> None:
        key = next(iter(self._keys)) if len(self._keys) == 1 else None
        registration = await self._store.listen(self._on_event, key=key, include_values=False)
        if self._events and self._registration is None:
            self._registration = registration
        else:  # every waiter left meanwhile, or another registration won
            await registration.close()

    async def detach(self, event: asyncio.Event) -> None:
        self._events.discard(event)
        async with self._lock:
            if self._events:
                return
            registration, self._registration = self._registration, None
            listeners = _listeners(self._cluster)
            if listeners.get(key := (self._store.name, self._keys)) is self:
                del listeners[key]
        if registration is not None:
            await registration.close()


_shared: ClusterLocal[dict[tuple[str, frozenset[bytes]], _SharedListener]] = ClusterLocal(dict)


def _listeners(cluster: Cluster) -> dict[tuple[str, frozenset[bytes]], _SharedListener]:
    return _shared.get(cluster)


def wake_local_waiters(cluster: Cluster, store: MapStore, key: bytes) -> None:
    """Wake this Cluster's waiters for ``key`` at once (after a local release), without
    waiting for the entry event to come back from the grid."""
    for (name, keys), listener in list(_listeners(cluster).items()):
        if name == store.name and key in keys:
            listener.wake()


def local_waiters(cluster: Cluster, store: MapStore, key: bytes) -> int:
    """How many tasks of this Cluster wait for a change of ``key`` (as listening waiters)."""
    return sum(
        listener.waiting
        for (name, keys), listener in list(_listeners(cluster).items())
        if name == store.name and key in keys
    )


class KeyWatch:
    """Wakes a waiter when an entry under one of ``keys`` changes (a hint, never a guarantee).

    :meth:`start` attaches it to the Cluster's one listener for these keys (``async
    with`` does it too), :meth:`wait` returns at the latest after its timeout,
    :meth:`clear` before each attempt makes sure a change during the attempt is not
    missed. However many tasks of a Cluster wait for one primitive, they share one
    listener: a key listener for one key, a map listener filtered here for several.

    They also share a *turn* (:meth:`take_turn`, :meth:`end_turn`): only the task whose
    turn it is polls the grid, the others queue locally in arrival order, so contention
    costs grid calls per Cluster rather than per waiting task.
    """

    def __init__(self, cluster: Cluster, store: MapStore, keys: Collection[bytes]) -> None:
        self._cluster = cluster
        self._store = store
        self._keys = frozenset(keys)
        self._changed = asyncio.Event()
        self._listener: _SharedListener | None = None
        self._has_turn = False
        self._waiting = False

    def clear(self) -> None:
        self._changed.clear()

    async def wait(self, timeout: float) -> None:
        """Return when a watched key changed, or after ``timeout`` seconds."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(timeout, 0.0)):
                await self._changed.wait()

    async def start(self) -> None:
        """Attach to the shared listener (registering it if this is the first waiter)."""
        listeners = _listeners(self._cluster)
        key = (self._store.name, self._keys)
        listener = listeners.get(key)
        if listener is None:
            listener = listeners[key] = _SharedListener(self._cluster, self._store, self._keys)
        self._listener = listener
        self._waiting = True
        listener.waiting += 1
        await listener.attach(self._changed)

    def stop_waiting(self) -> None:
        """No longer count as a local waiter (granted, or giving up). Idempotent;
        synchronous, so a grant is never counted as still waiting."""
        if self._waiting and self._listener is not None:
            self._waiting = False
            self._listener.waiting -= 1

    def queued(self) -> bool:
        """Whether a task of this Cluster is waiting for these keys already (so a newcomer
        should queue behind it rather than try first). Needs no :meth:`start`."""
        listener = _listeners(self._cluster).get((self._store.name, self._keys))
        return listener is not None and listener.turn.locked()

    async def take_turn(self) -> None:
        """Wait for this waiter's turn (after :meth:`start`; the caller bounds the wait).
        A cancelled wait takes no turn and passes it on. End it with :meth:`end_turn`."""
        if self._listener is None:
            raise RuntimeError("KeyWatch.take_turn() before start()")
        await self._listener.turn.acquire()
        self._has_turn = True

    def end_turn(self) -> None:
        """Hand the turn to the next local waiter (synchronous: safe right after a grant)."""
        if self._has_turn and self._listener is not None:
            self._has_turn = False
            self._listener.turn.release()

    async def close(self) -> None:
        """Detach (a plain step: callers run it through hazelkit._core._cleanup)."""
        self.stop_waiting()
        listener, self._listener = self._listener, None
        if listener is not None:
            await listener.detach(self._changed)

    async def __aenter__(self) -> KeyWatch:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await run_cleanup(self._cluster, self.close(), name="remove waiter listener")


def check_timeout(timeout: float | None) -> float | None:
    """Return ``timeout``, or raise ConfigurationError unless it is None or >= 0."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout >= 0:
        raise ConfigurationError(
            f"timeout must be None or a number of seconds >= 0, not {timeout!r}"
        )
    return float(timeout)


#: Failures of the waiter count's writes, which only the count suffers from.
_INFORMATIONAL = (
    ClusterUnavailableError,
    IndeterminateOperationError,
    OperationTimeoutError,
    BackendError,
)


class WaiterRegistry:
    """Announces waiters in a shared map so statistics can count them on every node.

    Each waiter is an entry with a TTL, refreshed while it waits and removed when it
    stops; a waiter that dies disappears within :data:`WAITER_TTL` seconds. The count is
    informational: nothing depends on it.
    """

    def __init__(self, cluster: Cluster, kind: str, name: str) -> None:
        self._cluster = cluster
        self._kind = kind
        self._name = name
        self._store_cache: MapStore | None = None

    @property
    def _store(self) -> MapStore:
        if self._store_cache is None:
            self._store_cache = lowlevel.backend(self._cluster).map(WAITER_MAP)
        return self._store_cache

    def _key(self, waiter: str) -> bytes:
        return self._cluster.codec.encode_key((self._kind, self._name, waiter))

    @staticmethod
    def new_waiter() -> str:
        """A fresh waiter id (withdraw it even if announcing it failed or was cancelled)."""
        return uuid.uuid4().hex

    async def announce(self, waiter: str, owner: object) -> None:
        """Register ``waiter`` (a failure is only logged: the count is informational)."""
        value = self._cluster.codec.encode(describe_owner(owner))
        try:
            await self._store.set(self._key(waiter), value, ttl=WAITER_TTL)
        except _INFORMATIONAL:
            logger.debug("could not announce a waiter", exc_info=True)

    async def refresh(self, waiter: str) -> None:
        with contextlib.suppress(*_INFORMATIONAL):
            await self._store.set_ttl(self._key(waiter), WAITER_TTL)

    async def withdraw(self, waiter: str) -> None:
        # A failed withdrawal only leaves an announcement that lapses by its TTL.
        with contextlib.suppress(*_INFORMATIONAL):
            await self._store.delete(self._key(waiter))

    def announce_later(self, waiter: str, owner: object) -> Announcement:
        """Announce ``waiter`` after :data:`ANNOUNCE_AFTER` s of waiting, in the background;
        withdraw it with :meth:`Announcement.withdraw` (needed only if it was made)."""
        return Announcement(self, waiter, owner)

    async def count(self) -> int:
        """How many waiters are announced for this primitive (a snapshot)."""
        decode = self._cluster.codec.decode
        wanted = (self._kind, self._name)
        return sum(1 for key in await self._store.keys() if tuple(decode(key)[:2]) == wanted)


class Announcement:
    """A waiter's announcement, made only once it has waited :data:`ANNOUNCE_AFTER` s."""

    def __init__(self, registry: WaiterRegistry, waiter: str, owner: object) -> None:
        self._registry = registry
        self.waiter = waiter
        self._owner = owner
        self._task: asyncio.Task[None] | None = None
        loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = loop.call_later(ANNOUNCE_AFTER, self._start)

    def _start(self) -> None:
        self._timer = None
        with contextlib.suppress(HazelkitError):  # closing: nothing to count any more
            self._task = lowlevel.spawn(
                self._registry._cluster,
                self._registry.announce(self.waiter, self._owner),
                name="announce a waiter",
            )

    def stop(self) -> None:
        """Make no announcement from now on (synchronous; one made stays until
        :meth:`withdraw`)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def withdraw(self) -> None:
        """Stop the announcement: never made, or removed after it was made."""
        self.stop()
        task, self._task = self._task, None
        if task is not None:
            await asyncio.wait({task})  # the write lands first, then its removal
            await self._registry.withdraw(self.waiter)
