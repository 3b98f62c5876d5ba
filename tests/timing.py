"""Time in tests without races: wait for a condition (never a fixed time), and pass a TTL
by moving a ManualClock on the embedded grid instead of sleeping through it.

``eventually`` polls a condition until it holds, failing the test after a deadline: a
loaded machine makes it slower, never wrong. ``GridTime`` (the ``grid_time`` fixture)
passes grid time: on the embedded grid its frozen ManualClock jumps (TTLs, idle times and
ringbuffer ages run out at once, EXPIRED events fire from within the jump); Hazelcast
members expire by their own clocks, so there it waits in real time, bounded.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from hazelkit.testing import ManualClock

Condition = Callable[[], "bool | Awaitable[bool]"]


async def holds(condition: Condition) -> bool:
    """Whether ``condition()`` (a plain function or a coroutine function) holds now."""
    result = condition()
    if inspect.isawaitable(result):
        result = await result
    return bool(result)


async def eventually(
    condition: Condition, *, timeout: float = 10.0, interval: float = 0.02, what: str = ""
) -> None:
    """Wait until ``condition()`` holds; AssertionError after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await holds(condition):
        if loop.time() >= deadline:
            raise AssertionError(f"not so within {timeout:g} s: {what or condition}")
        await asyncio.sleep(interval)


class GridTime:
    """Grid time for one test: a frozen ManualClock on the embedded grid, real time on
    Hazelcast. The ``cluster`` and ``cluster2`` fixtures of a test that asks for
    ``grid_time`` run on its clock; a test connecting by itself passes ``**options``."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.clock = ManualClock(frozen=True) if backend == "memory" else None

    @property
    def options(self) -> dict[str, Any]:
        """What ``hazelkit.connect`` needs to join this test's grid."""
        return {} if self.clock is None else {"clock": self.clock}

    async def expire(
        self, seconds: float, *, until: Condition | None = None, slack: float = 5.0
    ) -> None:
        """Let ``seconds`` of grid time pass, for TTLs, idle times and leases.

        Embedded grid: the clock jumps and what ran out is gone at once (its EXPIRED
        events are on their way to the listeners' loops); ``until``, if given, must then
        hold within ``slack``. Hazelcast: wait until ``until`` holds (at most ``seconds +
        slack``; members count in whole seconds, so it may come up to a second early),
        or without ``until`` sleep ``seconds`` (for checks that something did *not*
        expire, or where polling would refresh an idle time).
        """
        if self.clock is not None:
            self.clock.advance(seconds)
            if until is not None:
                await eventually(until, timeout=slack, what=f"{until} once {seconds:g} s passed")
        elif until is not None:
            await eventually(until, timeout=seconds + slack, interval=0.05, what=str(until))
        else:
            await asyncio.sleep(seconds)


async def wait_for_waiters(primitive: Any, waiters: int = 1, *, timeout: float = 10.0) -> None:
    """Wait until ``primitive`` (a lock, a semaphore: anything whose ``statistics()``
    counts ``waiters``) has at least ``waiters`` announced waiters. A waiter announces
    itself once its listener is registered, just before it takes its turn and polls."""

    async def announced() -> bool:
        return bool((await primitive.statistics()).waiters >= waiters)

    await eventually(announced, timeout=timeout, what=f"{waiters} waiter(s) of {primitive!r}")
