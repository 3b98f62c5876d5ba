"""The clock hazelkit reads for timestamps and for the embedded grid's expiry.

A Cluster reads time through its ``clock`` (``connect(url, clock=...)``): the embedded
grid measures TTLs, idle times and ringbuffer ages with it, and hazelkit stamps records
with it (a web session's last write, say). Tests give a
:class:`hazelkit.testing.ManualClock` and move it forward instead of sleeping through a
TTL. Waits and timeouts (``asyncio.sleep``, deadlines) always run on real time, and
Hazelcast members expire entries by their own clocks, whatever this clock says.
"""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

__all__ = ["SYSTEM_CLOCK", "Clock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """Where hazelkit reads the time."""

    def time(self) -> float:
        """Wall-clock seconds since the epoch (for timestamps stored in the grid)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for ages, TTLs and idle times)."""
        ...


class SystemClock:
    """The real clocks: :func:`time.time` and :func:`time.monotonic`."""

    def time(self) -> float:
        """``time.time()``."""
        return time.time()

    def monotonic(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()

    def __repr__(self) -> str:
        return "SYSTEM_CLOCK"


#: The clock of every Cluster that was given none.
SYSTEM_CLOCK = SystemClock()
