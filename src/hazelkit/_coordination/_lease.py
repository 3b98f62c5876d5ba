"""Leases with fencing tokens: the mechanism under locks and semaphores.

There is no CP subsystem on Community members, so a lease is a record in the internal
map ``hazelkit.leases``, taken with ``put_if_absent`` and an entry TTL. The member's
clock alone decides when it lapses: the holder renews it with ``set_ttl`` well before
that, and a holder that dies (or stops renewing) loses it within one lease period.

Taking a lease, in order:

1. know the fencing counter of the primitive (an entry without TTL, so a token is
   never reused even after every lease record expired and was removed): read it, or,
   for a lock, use the bytes this Cluster last saw (:mod:`~._fence`, see below);
2. ``put_if_absent`` the record ``{owner uuid, token = counter + 1, holder, ...}``;
3. advance the counter from exactly those bytes to ``token`` by compare-and-set;
4. make sure the record is still ours: it is, without a call, if the take ended
   before its TTL could run out (``ceil(lease) - 1`` s after step 2 began by the
   local clock, the same bound renewals count on), since only the TTL and our own
   ``remove_if_same`` of its unique bytes remove it; a slower take reads it back.

If step 3 fails, someone else advanced the counter meanwhile (a concurrent taker of
another semaphore slot, a stale holder, or another node when the counter was guessed):
the record is removed and the take retried from a read. Step 4 proves that the record
lived from step 2 to step 4, so no one else held the lease while the counter moved to
``token``. The counter only grows, so a swap from given bytes succeeds once: every token
is granted once, whether the bytes were read or guessed (a wrong guess only fails).
And a take that succeeds after a lease was granted (or released) put its record after
that lease's record was gone, so it swapped after that lease's swap, from a counter at
least that lease's token, and gets a higher one. For a lock (one slot) that orders
every holder. For a semaphore, takes of different slots that overlap may complete in
the opposite order of their tokens (one advances the counter first but confirms its
record later); per slot, tokens still grow holder after holder.

Round trips (issue 16), counted with ``hazelkit.testing.inject_faults`` and pinned by
``tests/coordination/test_lock_round_trips.py``: an uncontended acquire and release of a
lock used to cost five calls (read counter, put record, swap counter, read record back;
remove record), against two for IMap.lock/unlock. Step 4's read is now skipped unless
the take was slow (it proved nothing the lease's validity does not: a record lost to a
member failure after step 4 went unnoticed until the next renewal just the same), and
a lock's take starts from the counter bytes this Cluster last wrote while nothing else
moved them: three calls a pair (four for the first take of a name, or while nodes take
turns on it; a guess that went stale costs three wasted calls once). Sending step 3
with step 2 would save a round trip but not a call, and breaks the order argument
above (a swap could then land before its record, by a delayed request); swapping the
counter before the put burns a token per failed try and breaks it too. Two calls would
need the record and the counter in one entry, which the record's TTL rules out (an
expired record would take the counter with it). Measured with ``hazelkit bench lock
--quick`` (one task, before and after run alternately on a loaded 2-core machine, so
only ratios within a run count): hazelkit ÷ IMap.lock 0.18x to 0.27x before (five runs),
0.30x to 0.46x after (four runs); the median pair took 1.29 to 1.52 ms before, 0.81
to 1.04 ms after.

What fencing rests on: the counter is an entry of the map ``hazelkit.leases`` stored
without TTL, and the lease records rely on their own TTL. Both therefore rely on the
members' configuration of that map: an expiry (``time-to-live-seconds``,
``max-idle-seconds``) or eviction configured for the ``default`` map, or for a pattern
matching ``hazelkit.leases``, would remove the counter, and tokens would start again at
1; so does a restart of the whole cluster (the map lives in memory). Keep that map
without expiry and eviction (the members' default), and have resources that check
tokens forget the highest token they saw when the cluster restarts. hazelkit does not
configure maps on the members.

A take may reserve several tokens at once (advance the counter by more than one): the
lease is then handed, inside this process and without a grid call, from a releasing task
to the next local waiter, each holder getting the next reserved token
(:meth:`Lease.hand_on`). The record stays in place throughout, so no other node can take
the lease in between, and the counter already covers every reserved token, so a take by
anyone afterwards still gets a higher one: tokens still grow holder after holder and are
each granted once (a reserved token left unused is skipped, never granted later).

Holding a lease (renewing it, giving it back) is :mod:`hazelkit._coordination._lease_holding`.
Renewal is ``set_ttl`` followed by a read that must return our record: a record with
our unique bytes that exists after the ``set_ttl`` existed during it, so the TTL we set
was ours. (If our record had already lapsed, ``set_ttl`` may have extended the next
holder's record once; that delays a takeover by at most one lease, never breaks it.)

Hazelcast members keep TTLs in whole seconds: a TTL of ``ceil(lease)`` set at time t
lapses between t + ceil(lease) - 1 and t + ceil(lease). A holder therefore treats its
lease as valid until one second before the earliest moment it could lapse.
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hazelkit._backends.protocol import MapStore
from hazelkit._coordination._fence import CounterMemory
from hazelkit._coordination._lease_holding import TTL_MARGIN, Lease
from hazelkit._coordination._waiting import describe_owner
from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._cleanup import run_cleanup
from hazelkit._core._exceptions import ConfigurationError
from hazelkit._core._local import ClusterLocal

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = ["LEASE_MAP", "MIN_LEASE", "Lease", "LeaseInfo", "LeaseTable", "check_lease"]

LEASE_MAP = "hazelkit.leases"
#: The shortest lease. Members count TTLs in whole seconds, so a holder counts on
#: ``ceil(lease) - 1`` seconds only; at 3 s that still leaves renewals (every third of
#: that window) room for a stall of over a second on a loaded machine.
MIN_LEASE = 3.0
#: How often a take is retried at once when the fencing counter moved under it (a take
#: that starts from a guessed counter gets one try more).
_TAKE_ATTEMPTS = 3
#: Per Cluster: the fencing counters it last saw, for takes that guess them.
_counters: ClusterLocal[CounterMemory] = ClusterLocal(CounterMemory)


def check_lease(lease: float) -> float:
    """Return ``lease`` as a float, or raise ConfigurationError naming the problem."""
    if isinstance(lease, bool) or not isinstance(lease, int | float) or not math.isfinite(lease):
        raise ConfigurationError(f"lease must be a number of seconds, not {lease!r}")
    if lease < MIN_LEASE:
        raise ConfigurationError(
            f"lease must be at least {MIN_LEASE:g} s (members count TTLs in whole seconds),"
            f" not {lease:g}"
        )
    return float(lease)


def poll_interval(lease: float) -> float:
    """How often a waiter re-checks a lease, whatever events say (members announce an
    expired record late, so a dead holder's lease is found free by this polling)."""
    return min(lease / 6, 1.0)


@dataclass(frozen=True, slots=True)
class LeaseInfo:
    """A lease record as stored: who holds it, with which token, since when."""

    owner: str  #: a uuid unique to this acquisition
    token: int  #: the fencing token of this acquisition
    holder: str  #: ``host:pid:task`` of the holder, for humans
    acquired_at: float  #: wall-clock time of the acquisition (informational)
    lease: float  #: the lease period in seconds


class LeaseTable:
    """The lease records and fencing counter of one primitive (a lock, a semaphore)."""

    def __init__(
        self, cluster: Cluster, kind: str, name: str, *, guess_counter: bool = False
    ) -> None:
        self.cluster = cluster
        self.kind = kind
        self.name = name
        self._store_cache: MapStore | None = None
        self.fence_key = cluster.codec.encode_key(("fence", kind, name))
        self._lease_keys: dict[int, bytes] = {}
        #: With ``guess_counter``, takes start from the counter bytes this Cluster last
        #: saw instead of reading them (see the module).
        self._memory = _counters.get(cluster) if guess_counter else None

    @property
    def store(self) -> MapStore:
        """The lease map; raises ClusterClosedError once the Cluster is closing."""
        lowlevel.check_open(self.cluster)
        return self.raw_store

    @property
    def raw_store(self) -> MapStore:
        """The lease map without the open check: for giving leases back while closing."""
        if self._store_cache is None:
            self._store_cache = lowlevel.backend(self.cluster).map(LEASE_MAP)
        return self._store_cache

    def lease_key(self, slot: int = 0) -> bytes:
        """The key of ``slot``'s lease record (encoded once: every take and release
        needs it)."""
        key = self._lease_keys.get(slot)
        if key is None:
            key = self._lease_keys[slot] = self.cluster.codec.encode_key(
                ("lease", self.kind, self.name, slot)
            )
        return key

    def _decode(self, data: bytes) -> LeaseInfo:
        owner, token, holder, acquired_at, lease = self.cluster.codec.decode(data)
        return LeaseInfo(owner, token, holder, acquired_at, lease)

    async def read(self, slot: int = 0) -> LeaseInfo | None:
        """The live lease record of ``slot``, or None when it is free."""
        data = await self.store.get(self.lease_key(slot))
        return None if data is None else self._decode(data)

    async def read_slots(self, slots: int) -> dict[int, LeaseInfo]:
        """The live lease records of slots ``0..slots-1``, by slot."""
        keys = {self.lease_key(slot): slot for slot in range(slots)}
        found = await self.store.get_all(list(keys))
        return {keys[key]: self._decode(data) for key, data in found.items()}

    async def last_token(self) -> int:
        """The highest fencing token granted so far (0 before the first)."""
        data = await self.store.get(self.fence_key)
        return 0 if data is None else int(self.cluster.codec.decode(data))

    async def try_take(
        self, owner: object, lease: float, slot: int = 0, *, reserve: int = 1
    ) -> Lease | None:
        """Take ``slot``'s lease for ``owner`` if it is free; None if it is held.

        ``reserve`` tokens are taken from the counter at once: the lease gets the first,
        and may hand the others, in order, to later holders in this process without a
        grid call (:meth:`Lease.hand_on`). Not started: call :meth:`Lease.keep` once the
        caller keeps it. If the caller is cancelled mid-way, the half-taken record is
        removed before the cancellation goes on.
        """
        guess = self._memory.guess(self.fence_key) if self._memory is not None else None
        for _ in range(_TAKE_ATTEMPTS + (guess is not None)):
            counter = guess if guess is not None else await self._read()
            guess = None  # a guess is tried once; after a failed swap, read
            token = 1 if counter is None else int(self.cluster.codec.decode(counter)) + 1
            info = LeaseInfo(uuid.uuid4().hex, token, describe_owner(owner), time.time(), lease)
            record = self.cluster.codec.encode(
                (info.owner, info.token, info.holder, info.acquired_at, info.lease)
            )
            key = self.lease_key(slot)
            started = time.monotonic()
            try:
                if await self.store.put_if_absent(key, record, ttl=math.ceil(lease)) is not None:
                    self._distrust()  # held by another node, whose take moved the counter
                    return None
                last = token + reserve - 1
                valid_until = started + math.ceil(lease) - TTL_MARGIN
                if await self._advance(counter, last) and await self._still_ours(
                    key, record, valid_until
                ):
                    return Lease(self, slot, info, record, started, reserved_through=last)
                # The counter moved under us: give the record back and try again.
                await self.store.remove_if_same(key, record)
            except BaseException:
                # Cancelled or failed with the record possibly stored: remove it (only if
                # it is still this exact record) before going on.
                self._distrust()
                undo = self.raw_store.remove_if_same(key, record)
                await run_cleanup(self.cluster, undo, name="undo lease take")
                raise
        return None

    async def _read(self) -> bytes | None:
        """The fencing counter's bytes (None before the first take), remembered."""
        counter = await self.store.get(self.fence_key)
        if self._memory is not None:
            self._memory.read(self.fence_key, counter)
        return counter

    def _distrust(self) -> None:
        if self._memory is not None:
            self._memory.distrust(self.fence_key)

    async def _advance(self, counter: bytes | None, token: int) -> bool:
        """Swap the counter from ``counter`` (exact bytes) to ``token``; True if swapped."""
        new = self.cluster.codec.encode(token)
        if counter is None:
            swapped = await self.store.put_if_absent(self.fence_key, new) is None
        else:
            swapped = await self.store.replace_if_same(self.fence_key, counter, new)
        if not swapped:
            self._distrust()
        elif self._memory is not None:
            self._memory.advanced(self.fence_key, new)
        return swapped

    async def _still_ours(self, key: bytes, record: bytes, valid_until: float) -> bool:
        """Whether our record lived from its ``put_if_absent`` until now. Only its TTL
        or our own ``remove_if_same`` removes it, so it did if the TTL cannot have run
        out by ``valid_until``; only a take slower than that reads it back."""
        if time.monotonic() < valid_until:
            return True
        return await self.store.get(key) == record
