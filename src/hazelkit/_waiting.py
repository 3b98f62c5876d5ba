"""What every waiting coordination primitive shares: owners, wake-ups and safe cleanup.

Locks, semaphores and latches wait by re-checking the grid. A :class:`KeyWatch` wakes a
waiter early when an entry listener reports a change of the watched key, but a waiter
never depends on that event: it re-checks at least every poll interval, so a lost event
costs latency, never correctness. :class:`WaiterRegistry` lets statistics count the
waiters of every node. :func:`run_cleanup` finishes an undo step even while the caller is
being cancelled, so a cancelled wait leaves nothing taken.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from hazelkit._backends.protocol import MapStore, RawEntryEvent, Registration
from hazelkit._exceptions import (
    BackendError,
    ClusterClosedError,
    ClusterUnavailableError,
    ConfigurationError,
    HazelkitError,
    OperationTimeoutError,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Collection, Coroutine

    from hazelkit._cluster import Cluster

__all__ = [
    "CLEANUP_TIMEOUT",
    "KeyWatch",
    "WaiterRegistry",
    "check_timeout",
    "current_owner",
    "describe_owner",
    "finish",
    "owner_alive",
    "run_cleanup",
    "wait_for_grant",
]

logger = logging.getLogger("hazelkit")
T = TypeVar("T")

#: How long an undo step may take before a cancelled caller stops waiting for it (the
#: step still runs to its end in the background, owned by the Cluster).
CLEANUP_TIMEOUT = 5.0
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


async def finish(cluster: Cluster, step: Coroutine[Any, Any, T], *, name: str) -> T:
    """Run ``step`` to its end even if the caller is cancelled meanwhile; return its result.

    The step runs as a task owned by ``cluster``; the caller waits for it at most
    :data:`CLEANUP_TIMEOUT` seconds, shielded from cancellation. A cancellation that
    arrives meanwhile is re-raised once the step is done (its result is then dropped).
    Raises the step's error, OperationTimeoutError if the step takes longer (it goes on
    in the background), or ClusterClosedError if the Cluster closes first.
    """
    task = cluster.spawn(_outcome(step), name=name)
    cancelled = False
    deadline = time.monotonic() + CLEANUP_TIMEOUT
    with anyio.CancelScope(shield=True):
        while not task.done() and (remaining := deadline - time.monotonic()) > 0:
            try:
                await asyncio.wait({task}, timeout=remaining)
            except asyncio.CancelledError:
                cancelled = True
    if not task.done():
        if cancelled:
            raise asyncio.CancelledError
        raise OperationTimeoutError(f"{name} did not finish within {CLEANUP_TIMEOUT:g} s")
    if task.cancelled():
        raise ClusterClosedError(f"{name} was stopped: the Cluster closed")
    ok, value = task.result()
    if cancelled:
        if not ok:
            logger.warning("%s failed", name, exc_info=value)
        raise asyncio.CancelledError
    if not ok:
        raise value
    result: T = value
    return result


async def _outcome(step: Coroutine[Any, Any, T]) -> tuple[bool, Any]:
    # Errors travel as values, so that the Cluster does not log an expected failure
    # (a lapsed lease, say) as a crashed background task.
    try:
        return True, await step
    except Exception as error:
        return False, error


async def run_cleanup(cluster: Cluster, step: Coroutine[Any, Any, object], *, name: str) -> None:
    """Like :func:`finish` for an undo step whose failure only needs logging: the lease
    or entry it undoes lapses on its own. Does nothing once the Cluster is closed."""
    try:
        await finish(cluster, step, name=name)
    except ClusterClosedError:
        return
    except (HazelkitError, OSError):
        logger.warning("%s failed", name, exc_info=True)


class KeyWatch:
    """Wakes a waiter when an entry under one of ``keys`` changes (a hint, never a guarantee).

    Use as ``async with KeyWatch(...) as watch:`` and call :meth:`wait` between attempts;
    it returns at the latest after its timeout. Call :meth:`clear` before each attempt so
    a change during the attempt is not missed. One key is watched with a key listener,
    several with a map listener filtered here.
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

    async def __aenter__(self) -> KeyWatch:
        key = next(iter(self._keys)) if len(self._keys) == 1 else None
        try:
            self._registration = await self._store.listen(
                self._on_event, key=key, include_values=False
            )
        except HazelkitError:
            # Without events the waiter still re-checks every poll interval.
            logger.debug("no entry listener for a waiter; polling only", exc_info=True)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        registration, self._registration = self._registration, None
        if registration is not None:
            await run_cleanup(self._cluster, registration.close(), name="remove waiter listener")


async def wait_for_grant(
    cluster: Cluster,
    attempt: Callable[[], Awaitable[T | None]],
    *,
    watch: KeyWatch,
    waiters: WaiterRegistry,
    owner: object,
    timeout: float | None,
    poll: float,
    what: str,
) -> T:
    """Call ``attempt`` until it returns something, re-checking at least every ``poll``
    seconds and whenever ``watch`` sees a change.

    Raises OperationTimeoutError after ``timeout`` seconds (None: wait for ever; 0: one
    attempt). ``attempt`` must leave nothing behind when it returns None or is cancelled.
    """
    result = await attempt()
    if result is not None:
        return result
    deadline = None if timeout is None else time.monotonic() + timeout
    async with watch:
        waiter = await waiters.announce(owner)
        try:
            refreshed = time.monotonic()
            while True:
                watch.clear()
                result = await attempt()
                if result is not None:
                    return result
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    raise OperationTimeoutError(f"{what} was not acquired within {timeout:g} s")
                await watch.wait(poll if deadline is None else min(poll, deadline - now))
                if waiter is not None and time.monotonic() - refreshed > WAITER_TTL / 3:
                    refreshed = time.monotonic()
                    await waiters.refresh(waiter)
        finally:
            if waiter is not None:
                await run_cleanup(cluster, waiters.withdraw(waiter), name="withdraw waiter")


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

    async def announce(self, owner: object) -> str | None:
        """Register one waiter; returns its id for :meth:`refresh` and :meth:`withdraw`
        (None if the grid could not be told: the count is informational)."""
        waiter = uuid.uuid4().hex
        value = self._cluster.codec.encode(describe_owner(owner))
        try:
            await self._store.set(self._key(waiter), value, ttl=WAITER_TTL)
        except (ClusterUnavailableError, OperationTimeoutError, BackendError):
            logger.debug("could not announce a waiter", exc_info=True)
            return None
        return waiter

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
