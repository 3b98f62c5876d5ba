"""CountDownLatch: wait until a cluster-wide count reaches zero."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from hazelkit._backends.protocol import MapStore
from hazelkit._coordination._grant import ATTEMPT_GRACE
from hazelkit._coordination._waiting import KeyWatch, check_timeout
from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core import _witness as witness
from hazelkit._core._cas import UNCHANGED, Unchanged, update_entry
from hazelkit._core._exceptions import ConfigurationError, OperationTimeoutError
from hazelkit._core._handle import check_name

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = ["CountDownLatch"]

LATCH_MAP = "hazelkit.latches"
#: How often a waiter re-checks the count, whatever events say.
POLL_INTERVAL = 1.0


def _new_round(previous: int) -> int:
    """A round id unlike ``previous``: random, so that a latch destroyed and armed again
    does not reuse the round its waiters are waiting in."""
    while (round_ := random.getrandbits(62)) == previous:
        pass
    return round_


class CountDownLatch:
    """A distributed count-down latch (``cluster.latch(name)``), as Hazelcast's.

    :meth:`try_set_count` arms it with a count (only when the count is zero),
    :meth:`count_down` decrements it, and :meth:`wait` returns once it reached zero.

    The state is one map entry ``(round, count)`` updated by compare-and-set, so every
    decrement counts exactly once even when nodes race. Each :meth:`try_set_count`
    starts a new round (a random id): a waiter of an earlier round is released even if
    the latch was re-armed (or destroyed and armed again) before it saw the zero.
    The entry has a backup on another member, so a member failure loses no count; a
    node that dies simply stops counting down (use :meth:`wait` with a timeout).
    Waiters are woken by entry events and re-check every second, so a lost event costs
    latency only. A cancelled wait takes nothing.
    """

    def __init__(self, cluster: Cluster, name: str) -> None:
        check_name(name, "latch")
        self._cluster = cluster
        self.name = name
        self._key = cluster.codec.encode_key(("latch", name))
        self._store_cache: MapStore | None = None

    @property
    def _store(self) -> MapStore:
        lowlevel.check_open(self._cluster)
        if self._store_cache is None:
            self._store_cache = lowlevel.backend(self._cluster).map(LATCH_MAP)
        return self._store_cache

    async def _read(self) -> tuple[int, int]:
        return self._state(witness.read(await self._store.get(self._key)).value)

    def _state(self, data: bytes | None) -> tuple[int, int]:
        if data is None:
            return 0, 0
        round_, count = self._cluster.codec.decode(data)
        return int(round_), int(count)

    async def _update(self, change: Callable[[int, int], bytes | None]) -> bool:
        """Apply ``change(round, count) -> new state bytes or None (no change)`` to the
        state atomically; True if it wrote. A lost reply is resolved by reading back."""
        wrote = [False]

        def transform(data: bytes | None) -> bytes | Unchanged:
            new = change(*self._state(data))
            wrote[0] = new is not None
            return UNCHANGED if new is None else new

        await update_entry(self._cluster, self._store, self._key, transform, witnessed=True)
        return wrote[0]

    def _encode(self, round_: int, count: int) -> bytes:
        return self._cluster.codec.encode((round_, count))

    async def try_set_count(self, count: int) -> bool:
        """Set the count to ``count`` if it is zero now; False (and nothing changed) if not.

        Raises ConfigurationError unless ``count`` is a positive int.
        """
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ConfigurationError(f"a latch count must be a positive int, not {count!r}")
        return await self._update(
            lambda round_, current: None if current else self._encode(_new_round(round_), count)
        )

    async def count_down(self) -> None:
        """Decrement the count by one; nothing happens when it is zero already.

        Atomic: concurrent count-downs from any nodes each count once, also when a reply
        is lost (the latch reads back whether its write landed). IndeterminateOperationError
        only if that cannot be told; other errors mean nothing was counted.
        """
        await self._update(
            lambda round_, current: self._encode(round_, current - 1) if current else None
        )

    async def count(self) -> int:
        """The current count (0 for a latch never set)."""
        return (await self._read())[1]

    async def wait(self, timeout: float | None = None) -> None:
        """Return once the count is zero (at once if it is zero now).

        ``timeout``: seconds (None: as long as it takes). Raises OperationTimeoutError
        when it runs out.
        """
        timeout = check_timeout(timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        cutoff = None if deadline is None else deadline + ATTEMPT_GRACE
        seen: list[int] = []  # the last count read, for the error message
        try:
            # Every read, not only the pauses, ends by the timeout (a member failing
            # over can make one read hang for the client's whole operation timeout).
            async with asyncio.timeout_at(cutoff) as scope:
                if await self._wait(deadline, seen):
                    return
        except TimeoutError:
            if not scope.expired():
                raise
        counts = f"still counts {seen[-1]}" if seen else "did not reach zero"
        raise OperationTimeoutError(f"latch {self.name!r} {counts} after {timeout:g} s")

    async def _wait(self, deadline: float | None, seen: list[int]) -> bool:
        """Wait until the count is zero (True) or the deadline passed (False)."""
        round_, count = await self._read()
        seen.append(count)
        if count == 0:
            return True
        if deadline is not None and time.monotonic() >= deadline:
            return False  # timeout=0: one look, no listener
        async with KeyWatch(self._cluster, self._store, [self._key]) as watch:
            while True:
                watch.clear()
                now_round, count = await self._read()
                seen.append(count)
                if count == 0 or now_round != round_:
                    return True
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    return False
                remaining = POLL_INTERVAL if deadline is None else deadline - now
                await watch.wait(min(POLL_INTERVAL, remaining))

    async def destroy(self) -> None:
        """Remove the latch's state: it reads as zero (never set) afterwards."""
        await self._store.delete(self._key)

    def __repr__(self) -> str:
        return f"<CountDownLatch {self.name!r} of {self._cluster.url}>"
