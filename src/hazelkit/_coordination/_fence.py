"""The fencing counters a Cluster advanced, remembered so that a take can skip reading them.

A take needs the counter's current bytes only as the expected value of its
compare-and-set (see :mod:`hazelkit._coordination._lease`): a wrong guess makes the swap
fail, and the take starts over from a read. So the bytes this Cluster last wrote are a
good guess while no other node takes the same lease, and a wasted guess costs three calls.

A :class:`CounterMemory` therefore *trusts* a counter only while nothing else moves it:
a guess that failed, a read that found other bytes than the last ones seen, or an
unknown outcome stops the guessing; a read that finds the counter where this Cluster left
it starts it again. Nodes that take turns on one lock then read first (four calls a
pair), a node that has it to itself guesses (three).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["REMEMBERED_COUNTERS", "CounterMemory"]

#: How many counters a Cluster remembers (the oldest is forgotten first): a program that
#: locks ever new names must not grow without bound.
REMEMBERED_COUNTERS = 1024


@dataclass(slots=True)
class _Seen:
    data: bytes | None  #: the counter's bytes as last read or written (None: absent)
    trusted: bool  #: whether the next take may use ``data`` without reading


class CounterMemory:
    """The last known bytes of fencing counters, by counter key (one per Cluster)."""

    def __init__(self) -> None:
        self._seen: dict[bytes, _Seen] = {}

    def guess(self, key: bytes) -> bytes | None:
        """The counter's bytes if they can be used without a read, else None."""
        seen = self._seen.get(key)
        return seen.data if seen is not None and seen.trusted else None

    def read(self, key: bytes, data: bytes | None) -> None:
        """A read found ``data``: trust it if it is what this Cluster saw last (or if
        this Cluster never saw the counter)."""
        seen = self._seen.get(key)
        trusted = seen is None or seen.data == data
        self._remember(key, _Seen(data, trusted))

    def advanced(self, key: bytes, data: bytes) -> None:
        """This Cluster's swap set the counter to ``data`` (trust unchanged)."""
        seen = self._seen.get(key)
        self._remember(key, _Seen(data, seen is not None and seen.trusted))

    def distrust(self, key: bytes) -> None:
        """The counter moved under a take, or a write's outcome is unknown: read next."""
        if (seen := self._seen.get(key)) is not None:
            seen.trusted = False

    def _remember(self, key: bytes, seen: _Seen) -> None:
        self._seen.pop(key, None)
        self._seen[key] = seen
        if len(self._seen) > REMEMBERED_COUNTERS:
            del self._seen[next(iter(self._seen))]
