"""Single flight: a missing cache entry is computed once in the whole cluster.

The protocol, per key (``flights`` is a second map next to the cache's values):

1. Read the value. If present, done.
2. Claim the computation: ``flights.put_if_absent(key, token, ttl=lease)``.
   - Won: read the value once more (a computation that ended between 1 and 2 has
     stored it: values are stored *before* their claim is released), else compute,
     renewing the claim's TTL every ``lease / 4`` seconds (a failed renewal is
     retried sooner, until the computation ends); store the value, then
     release the claim (``remove_if_same``), also when the computation fails.
   - Lost: wait until the claim goes away (woken by the flights map's entry events,
     and re-checking every :data:`RECHECK` seconds whatever happens), then go to 1.

A node that dies while computing stops renewing, its claim expires after at most
``lease`` seconds, and a waiter takes over: nobody waits for a dead node longer than
``lease + RECHECK``. A failed computation is not cached: its error goes to its caller,
and one of the waiters computes again. The guarantee "once per key" holds while the
computing node keeps renewing; if it stalls, or cannot reach the cluster, for longer
than ``lease`` (a long GC pause, a network partition), another node may compute the
same key concurrently.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._exceptions import ClusterClosedError, HazelkitError, OperationTimeoutError

if TYPE_CHECKING:
    from hazelkit._caching._cache import Cache

__all__ = ["RECHECK", "SingleFlight", "Wakeups"]

#: The longest a waiter sleeps between two looks at the value and the claim, in seconds.
RECHECK = 0.5
#: The longest pause before retrying a failed renewal of a claim, in seconds.
RENEW_RETRY = 0.5

logger = logging.getLogger("hazelkit")


@dataclass(eq=False)
class _Wakeup:
    event: asyncio.Event = field(default_factory=asyncio.Event)
    users: int = 0


class Wakeups:
    """Local waiters per key, woken when that key's claim goes away."""

    def __init__(self) -> None:
        self._by_key: dict[bytes, _Wakeup] = {}

    def arm(self, key: bytes) -> _Wakeup:
        """Take a wakeup *before* checking, so a change right after the check wakes it."""
        wakeup = self._by_key.setdefault(key, _Wakeup())
        wakeup.users += 1
        return wakeup

    def release(self, key: bytes, wakeup: _Wakeup) -> None:
        """Give back a wakeup taken by :meth:`arm`."""
        wakeup.users -= 1
        if wakeup.users == 0 and self._by_key.get(key) is wakeup:
            del self._by_key[key]

    def notify(self, key: bytes) -> None:
        """Wake every waiter of ``key``."""
        wakeup = self._by_key.pop(key, None)
        if wakeup is not None:
            wakeup.event.set()


class SingleFlight:
    """The single-flight computations of one Cache handle (its waiters and its claims
    listener are shared by every handle of the cache on this node)."""

    def __init__(self, cache: Cache[Any, Any]) -> None:
        self._cache = cache

    async def get_or_compute(
        self,
        key: bytes,
        compute: Callable[[], Awaitable[Any]],
        *,
        ttl: float | None,
        lease: float,
        timeout: float | None,
    ) -> Any:
        """The value under ``key``, computed by ``compute()`` on one node if missing."""
        cache = self._cache
        data = await cache._read(key, ttl)
        if data is not None:
            return cache._decode(data, key)
        shared = cache._shared
        await shared.flights_listener.ensure(cache._cluster, cache._flights)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wakeup = shared.wakeups.arm(key)
            try:
                data = await cache._read(key, ttl)
                if data is not None:
                    return cache._decode(data, key)
                token = cache._encode(uuid.uuid4().hex)
                if await cache._flights.put_if_absent(key, token, ttl=lease) is None:
                    return await self._run(key, token, compute, ttl, lease)
                await _sleep_until(wakeup.event, deadline, cache.name)
            finally:
                shared.wakeups.release(key, wakeup)

    async def _run(
        self,
        key: bytes,
        token: bytes,
        compute: Callable[[], Awaitable[Any]],
        ttl: float | None,
        lease: float,
    ) -> Any:
        cache = self._cache
        try:
            data = await cache._store.get(key)
            if data is not None:
                return cache._decode(data, key)
            renewer = lowlevel.spawn(
                cache._cluster,
                self._renew(key, token, lease),
                name=f"lease of a computation of {cache.name!r}",
            )
            try:
                cache._shared.computations += 1
                value = await compute()
            finally:
                renewer.cancel()
            await cache._store_value(key, cache._encode(value, key), ttl)
            return value
        finally:
            with contextlib.suppress(HazelkitError):
                await cache._flights.remove_if_same(key, token)

    async def _renew(self, key: bytes, token: bytes, lease: float) -> None:
        """Renew the claim every ``lease / 4`` s until cancelled; after a failed renewal
        (the cluster briefly unreachable, a timeout), retry sooner instead of giving up."""
        pause = lease / 4
        while True:
            await asyncio.sleep(pause)
            try:
                flights = self._cache._flights
                if await flights.get(key) != token:
                    return  # the claim lapsed (and may be someone else's now): stop
                await flights.set_ttl(key, lease)
            except ClusterClosedError:
                return
            except HazelkitError as error:
                logger.warning("cache %r: renewing a claim failed (%s)", self._cache.name, error)
                pause = min(lease / 8, RENEW_RETRY)
            else:
                pause = lease / 4


async def _sleep_until(event: asyncio.Event, deadline: float | None, name: str) -> None:
    """Wait for ``event`` at most :data:`RECHECK` seconds; raise past ``deadline``."""
    pause = RECHECK
    if deadline is not None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise OperationTimeoutError(
                f"cache {name!r}: another node's computation did not finish in time"
            )
        pause = min(pause, left)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), pause)
