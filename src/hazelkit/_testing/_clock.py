"""ManualClock: time that tests move forward instead of sleeping."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from hazelkit._core._exceptions import ConfigurationError

__all__ = ["ManualClock"]


class ManualClock:
    """A clock for tests: real time plus the seconds :meth:`advance` added.

    Give it to :func:`hazelkit.connect` (``clock=``). On the embedded grid, entries whose
    TTL or idle time the jump passes expire at once (their EXPIRED events fire from
    within :meth:`advance`), ringbuffer items age, and hazelkit's own timestamps move.
    Every Cluster of one embedded grid must use the same clock. With ``frozen=True``
    it stands still between advances, for tests that must not race real time.

    Waits and timeouts stay on real time; Hazelcast members keep their own clocks, so on
    Hazelcast only hazelkit's timestamps move. Thread-safe.
    """

    def __init__(self, *, frozen: bool = False) -> None:
        self._frozen = frozen
        self._lock = threading.Lock()
        self._offset = 0.0
        self._start_wall = time.time()
        self._start_mono = time.monotonic()
        self._listeners: list[Callable[[], None]] = []

    def time(self) -> float:
        """Wall-clock seconds since the epoch, as this clock tells them."""
        return self._start_wall + self._elapsed()

    def monotonic(self) -> float:
        """Monotonic seconds, as this clock tells them (never goes back)."""
        return self._start_mono + self._elapsed()

    def _elapsed(self) -> float:
        real = 0.0 if self._frozen else time.monotonic() - self._start_mono
        return real + self._offset

    def advance(self, seconds: float) -> None:
        """Move the clock ``seconds`` forward (at once; nothing sleeps). The embedded
        grids on this clock expire what became due before this returns."""
        if not isinstance(seconds, int | float) or not math.isfinite(seconds) or seconds < 0:
            raise ConfigurationError(f"a clock only moves forward, not by {seconds!r}")
        with self._lock:
            self._offset += seconds
            listeners = list(self._listeners)
        for listener in listeners:
            listener()

    def on_advance(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener()`` after every :meth:`advance` (the embedded grid sweeps
        there); returns a function that removes it."""
        with self._lock:
            self._listeners.append(listener)

        def remove() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return remove

    def __repr__(self) -> str:
        state = "frozen" if self._frozen else "running"
        return f"<ManualClock {state}, advanced {self._offset:g} s>"
