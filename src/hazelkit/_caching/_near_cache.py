"""A node-local copy of recently read cache entries, invalidated by the cluster.

Staleness rules (what :class:`~hazelkit.Cache` promises):

- A write through *this* handle drops the local copy at once.
- A write on any other node drops it when its entry event arrives (normally within
  milliseconds).
- An entry is never served longer than ``ttl`` seconds after it was read from the
  cluster, so a lost invalidation (events can be lost around a member failure, and
  ``clear()`` sends none) leaves a stale value for at most ``ttl`` seconds.
- Nor longer than the entry's own TTL when the reader knows it (``max_age``): an
  expiry is announced late on Hazelcast (when the member next looks at the entry),
  so without this an expired value could be served for the whole ``ttl``.
- A read that raced with an invalidation is not kept: every invalidation bumps a
  generation, and a value read before it is discarded instead of stored.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Final

__all__ = ["MISS", "NearCache"]


class _Miss:
    __slots__ = ()


#: What :meth:`NearCache.lookup` returns when it holds nothing usable for a key.
MISS: Final = _Miss()


@dataclass(slots=True)
class _Entry:
    data: bytes | None  # None: the cluster had no entry (absence is cached too)
    read_at: float  # on this node's monotonic clock
    max_age: float  # seconds after read_at


def _bound(age: float, max_age: float | None) -> float:
    """``age``, lowered to ``max_age`` if that is given (None or 0: no bound)."""
    return age if not max_age else min(age, max_age)


class NearCache:
    """Up to ``size`` entries (least recently used dropped first), each kept ``ttl`` s."""

    def __init__(self, size: int, ttl: float) -> None:
        self.size = size
        self.ttl = ttl
        self._entries: OrderedDict[bytes, _Entry] = OrderedDict()
        #: Bumped by every invalidation; a read started in an older generation is stale.
        self.generation = 0
        self.hits = 0
        self.misses = 0

    def lookup(self, key: bytes, max_age: float | None = None) -> bytes | _Miss | None:
        """The local copy of ``key`` (None: known absent), or MISS; a copy older than
        ``max_age`` (the TTL the reader knows the entry has) is not served either."""
        entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry.read_at > _bound(entry.max_age, max_age):
            if entry is not None:
                del self._entries[key]
            self.misses += 1
            return MISS
        self._entries.move_to_end(key)
        self.hits += 1
        return entry.data

    def store(
        self,
        key: bytes,
        data: bytes | None,
        generation: int,
        read_at: float,
        max_age: float | None = None,
    ) -> None:
        """Keep what was read at ``read_at`` for ``ttl`` seconds, or ``max_age`` if that
        is shorter (None or 0: no other bound), unless an invalidation came since the
        read began (``generation`` is the value of :attr:`generation` then)."""
        if generation != self.generation:
            return
        self._entries[key] = _Entry(data, read_at, _bound(self.ttl, max_age))
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def invalidate(self, key: bytes) -> None:
        """Drop ``key`` (and make reads in flight discard what they get)."""
        self.generation += 1
        self._entries.pop(key, None)

    def clear(self) -> None:
        """Drop everything."""
        self.generation += 1
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
