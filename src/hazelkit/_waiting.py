"""What every waiting coordination primitive shares: owners, wake-ups and safe cleanup.

Locks, semaphores and latches wait by re-checking the grid. A :class:`KeyWatch` wakes a
waiter early when an entry listener reports a change of the watched key, but a waiter
never depends on that event: it re-checks at least every poll interval, so a lost event
costs latency, never correctness. :class:`WaiterRegistry` lets statistics count the
waiters of every node. Waiting itself is :func:`hazelkit._grant.wait_for_grant`.
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
from hazelkit._cleanup import run_cleanup
from hazelkit._exceptions import (
    BackendError,
    ClusterUnavailableError,
    ConfigurationError,
    HazelkitError,
    LockError,
    OperationTimeoutError,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

    from hazelkit._cluster import Cluster

__all__ = [
    "KeyWatch",
    "WaiterRegistry",
    "acquires_for_caller",
    "acquiring_owner",
    "check_timeout",
    "current_owner",
    "describe_owner",
    "owner_alive",
]

logger = logging.getLogger("hazelkit")
T = TypeVar("T")
F = TypeVar("F", bound="Callable[..., Any]")

#: The map where waiters announce themselves (for statistics only).
WAITER_MAP = "hazelkit.waiters"
#: A waiter's announcement lapses this long after its last refresh (a dead waiter's too).
WAITER_TTL = 10.0
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


class KeyWatch:
    """Wakes a waiter when an entry under one of ``keys`` changes (a hint, never a guarantee).

    :meth:`start` registers the listener (``async with`` does it too), :meth:`wait`
    returns at the latest after its timeout, :meth:`clear` before each attempt makes
    sure a change during the attempt is not missed. One key is watched with a key
    listener, several with a map listener filtered here.
    """

    def __init__(self, cluster: Cluster, store: MapStore, keys: Collection[bytes]) -> None:
        self._cluster = cluster
        self._store = store
        self._keys = frozenset(keys)
        self._changed = asyncio.Event()
        self._registration: Registration | None = None

    def _on_event(self, event: RawEntryEvent) -> None:
        if event.key in self._keys:
            self._changed.set()

    def clear(self) -> None:
        self._changed.clear()

    async def wait(self, timeout: float) -> None:
        """Return when a watched key changed, or after ``timeout`` seconds."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(timeout, 0.0)):
                await self._changed.wait()

    async def start(self) -> None:
        """Register the listener; without one (an error) the waiter only polls."""
        key = next(iter(self._keys)) if len(self._keys) == 1 else None
        try:
            self._registration = await self._store.listen(
                self._on_event, key=key, include_values=False
            )
        except HazelkitError:
            logger.debug("no entry listener for a waiter; polling only", exc_info=True)

    async def close(self) -> None:
        """Remove the listener (a plain step: callers run it through hazelkit._cleanup)."""
        registration, self._registration = self._registration, None
        if registration is not None:
            await registration.close()

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
            self._store_cache = self._cluster.backend.map(WAITER_MAP)
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
        except (ClusterUnavailableError, OperationTimeoutError, BackendError):
            logger.debug("could not announce a waiter", exc_info=True)

    async def refresh(self, waiter: str) -> None:
        with contextlib.suppress(ClusterUnavailableError, OperationTimeoutError, BackendError):
            await self._store.set_ttl(self._key(waiter), WAITER_TTL)

    async def withdraw(self, waiter: str) -> None:
        await self._store.delete(self._key(waiter))

    async def count(self) -> int:
        """How many waiters are announced for this primitive (a snapshot)."""
        decode = self._cluster.codec.decode
        wanted = (self._kind, self._name)
        return sum(1 for key in await self._store.keys() if tuple(decode(key)[:2]) == wanted)
