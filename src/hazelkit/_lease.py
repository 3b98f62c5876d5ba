"""Leases with fencing tokens: the mechanism under locks and semaphores.

There is no CP subsystem on Community members, so a lease is a record in the internal
map ``hazelkit.leases``, taken with ``put_if_absent`` and an entry TTL. The member's
clock alone decides when it lapses: the holder renews it with ``set_ttl`` well before
that, and a holder that dies (or stops renewing) loses it within one lease period.

Taking a lease, in order:

1. read the fencing counter of the primitive (an entry without TTL, so a token is
   never reused even after every lease record expired and was removed);
2. ``put_if_absent`` the record ``{owner uuid, token = counter + 1, holder, ...}``;
3. advance the counter from the value read to ``token`` by compare-and-set;
4. read the record back: it must still be ours.

If step 3 fails, someone else advanced the counter meanwhile (a concurrent taker of
another semaphore slot, or a stale holder): the record is removed and the take retried.
Step 4 proves that the record lived from step 2 to step 4 (its bytes are unique), so no
one else held the lease while the counter moved to ``token``. Hence every token is
granted once, and a take that starts after a lease was granted (or released) reads a
counter at least that lease's token, so it gets a higher one. For a lock (one slot)
that orders every holder. For a semaphore, takes of different slots that overlap may
complete in the opposite order of their tokens (one advances the counter first but
confirms its record later); per slot, tokens still grow holder after holder.

What fencing rests on: the counter is an entry of the map ``hazelkit.leases`` stored
without TTL, and the lease records rely on their own TTL. Both therefore rely on the
members' configuration of that map: an expiry (``time-to-live-seconds``,
``max-idle-seconds``) or eviction configured for the ``default`` map, or for a pattern
matching ``hazelkit.leases``, would remove the counter, and tokens would start again at
1; so does a restart of the whole cluster (the map lives in memory). Keep that map
without expiry and eviction (the members' default), and have resources that check
tokens forget the highest token they saw when the cluster restarts. hazelkit does not
configure maps on the members.

Renewal is ``set_ttl`` followed by a read that must return our record: a record with
our unique bytes that exists after the ``set_ttl`` existed during it, so the TTL we set
was ours. (If our record had already lapsed, ``set_ttl`` may have extended the next
holder's record once; that delays a takeover by at most one lease, never breaks it.)

Hazelcast members keep TTLs in whole seconds: a TTL of ``ceil(lease)`` set at time t
lapses between t + ceil(lease) - 1 and t + ceil(lease). A holder therefore treats its
lease as valid until one second before the earliest moment it could lapse.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import uuid
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hazelkit._backends.protocol import MapStore
from hazelkit._cleanup import finish, run_cleanup
from hazelkit._exceptions import (
    ClusterClosedError,
    ConfigurationError,
    HazelkitError,
    LeaseExpiredError,
)
from hazelkit._waiting import describe_owner, owner_alive

if TYPE_CHECKING:
    from hazelkit._cluster import Cluster

__all__ = ["LEASE_MAP", "MIN_LEASE", "Lease", "LeaseInfo", "LeaseTable", "check_lease"]

logger = logging.getLogger("hazelkit")

LEASE_MAP = "hazelkit.leases"
#: The shortest lease. Members count TTLs in whole seconds, so a holder counts on
#: ``ceil(lease) - 1`` seconds only; at 3 s that still leaves renewals (every third of
#: that window) room for a stall of over a second on a loaded machine.
MIN_LEASE = 3.0
#: How early a lease may lapse on a member compared with the holder's clock.
TTL_MARGIN = 1.0
#: How often a take is retried at once when the fencing counter moved under it.
_TAKE_ATTEMPTS = 3


#: How long closing a Cluster waits for its held leases to be given back (all at once;
#: those not given back by then lapse within their lease).
CLOSE_RELEASE_TIMEOUT = 2.0
_leases: weakref.WeakKeyDictionary[Cluster, set[Lease]] = weakref.WeakKeyDictionary()


def _held_by(cluster: Cluster) -> set[Lease]:
    """The leases held through ``cluster``; the first call arranges their release on close."""
    held = _leases.get(cluster)
    if held is None:
        held = _leases[cluster] = set()

        async def give_back() -> None:
            leases = list(held)
            held.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CLOSE_RELEASE_TIMEOUT):
                    await asyncio.gather(*(lease.give_back_on_close() for lease in leases))

        cluster.on_close(give_back)
    return held


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

    def __init__(self, cluster: Cluster, kind: str, name: str) -> None:
        self.cluster = cluster
        self.kind = kind
        self.name = name
        self._store_cache: MapStore | None = None
        self.fence_key = cluster.codec.encode_key(("fence", kind, name))

    @property
    def store(self) -> MapStore:
        """The lease map; raises ClusterClosedError once the Cluster is closing."""
        self.cluster.check_open()
        return self.raw_store

    @property
    def raw_store(self) -> MapStore:
        """The lease map without the open check: for giving leases back while closing."""
        if self._store_cache is None:
            self._store_cache = self.cluster.backend.map(LEASE_MAP)
        return self._store_cache

    def lease_key(self, slot: int = 0) -> bytes:
        return self.cluster.codec.encode_key(("lease", self.kind, self.name, slot))

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

    async def try_take(self, owner: object, lease: float, slot: int = 0) -> Lease | None:
        """Take ``slot``'s lease for ``owner`` if it is free; None if it is held.

        Not started: call :meth:`Lease.start_renewing` once the caller keeps it. If the
        caller is cancelled mid-way, the half-taken record is removed before the
        cancellation goes on.
        """
        for _ in range(_TAKE_ATTEMPTS):
            counter = await self.store.get(self.fence_key)
            token = 1 if counter is None else int(self.cluster.codec.decode(counter)) + 1
            info = LeaseInfo(uuid.uuid4().hex, token, describe_owner(owner), time.time(), lease)
            record = self.cluster.codec.encode(
                (info.owner, info.token, info.holder, info.acquired_at, info.lease)
            )
            key = self.lease_key(slot)
            started = time.monotonic()
            try:
                if await self.store.put_if_absent(key, record, ttl=math.ceil(lease)) is not None:
                    return None
                if await self._advance(counter, token) and await self.store.get(key) == record:
                    return Lease(self, slot, info, record, started)
                # The counter moved under us: give the record back and try again.
                await self.store.remove_if_same(key, record)
            except BaseException:
                # Cancelled or failed with the record possibly stored: remove it (only if
                # it is still this exact record) before going on.
                undo = self.raw_store.remove_if_same(key, record)
                await run_cleanup(self.cluster, undo, name="undo lease take")
                raise
        return None

    async def _advance(self, counter: bytes | None, token: int) -> bool:
        new = self.cluster.codec.encode(token)
        if counter is None:
            return await self.store.put_if_absent(self.fence_key, new) is None
        return await self.store.replace_if_same(self.fence_key, counter, new)


class Lease:
    """A lease this process holds: renewed in the background until released or lost.

    ``held`` is True while the holder is sure no one else can hold it: the record was
    ours at the last renewal and the lease cannot have lapsed since, by the local
    monotonic clock. When a renewal finds another record, the lease is *lost* for good
    and :meth:`release` raises LeaseExpiredError. A renewal that fails for a network
    reason is retried; if the lease outlives the outage, it is held again.
    """

    def __init__(
        self, table: LeaseTable, slot: int, info: LeaseInfo, record: bytes, started: float
    ) -> None:
        self.table = table
        self.slot = slot
        self.info = info
        self._record = record
        self._key = table.lease_key(slot)
        self._ttl = math.ceil(info.lease)
        self._valid_until = started + self._ttl - TTL_MARGIN
        self._lost = False
        self._released = False
        self._renewer: asyncio.Task[None] | None = None

    @property
    def token(self) -> int:
        return self.info.token

    @property
    def lost(self) -> bool:
        """True once a renewal or release found that another holder took over."""
        return self._lost

    @property
    def held(self) -> bool:
        return not (self._lost or self._released) and time.monotonic() < self._valid_until

    @property
    def expires_in(self) -> float:
        """Seconds until the lease lapses unless renewed (0 if it may have lapsed)."""
        return max(0.0, self._valid_until - time.monotonic()) if self.held else 0.0

    async def keep(self, owner: object) -> None:
        """Renew the lease in the background while ``owner`` is alive, and give it back
        if the Cluster closes first.

        Awaits nothing unless the Cluster is already closing (then the lease is given
        back and ClusterClosedError raised), so a cancellation cannot drop a lease
        that is being kept.
        """
        name = f"renew {self.table.kind} {self.table.name!r}"
        try:
            self._renewer = self.table.cluster.spawn(self._renew_forever(owner), name=name)
        except ClusterClosedError:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CLOSE_RELEASE_TIMEOUT):
                    await self.give_back_on_close()
            raise
        _held_by(self.table.cluster).add(self)

    async def renew(self) -> bool:
        """Extend the lease by one period now; False (and lost) if it is no longer ours."""
        started = time.monotonic()
        store = self.table.store
        await store.set_ttl(self._key, self._ttl)
        if await store.get(self._key) != self._record:
            self._lost = True
            return False
        self._valid_until = started + self._ttl - TTL_MARGIN
        return True

    def _renewal_delay(self) -> float:
        """Renew once a third of the valid window has passed since the last renewal
        began; after a failed renewal (less than two thirds left), retry soon."""
        window = self._ttl - TTL_MARGIN
        delay = self._valid_until - time.monotonic() - window * 2 / 3
        return delay if delay > 0 else min(window / 6, 0.5)

    async def _renew_forever(self, keep: object) -> None:
        while not self._released:
            await asyncio.sleep(self._renewal_delay())
            if not owner_alive(keep):
                logger.warning("%s ended while holding %s; letting it lapse", keep, self)
                _held_by(self.table.cluster).discard(self)
                return
            try:
                if not await self.renew():
                    logger.warning("%s was lost: another holder took it", self)
                    _held_by(self.table.cluster).discard(self)
                    return
            except HazelkitError:
                logger.warning("could not renew %s; retrying", self, exc_info=True)

    async def give_back_on_close(self) -> None:
        """Release at once while the Cluster closes (its backend is still connected)."""
        if self._released:
            return
        self._released = True
        await self._stop_renewing()
        with contextlib.suppress(Exception):
            await self.table.raw_store.remove_if_same(self._key, self._record)

    async def _stop_renewing(self) -> None:
        renewer, self._renewer = self._renewer, None
        if renewer is not None and not renewer.done():
            renewer.cancel()
            await asyncio.wait({renewer})  # a cancellation of the caller still goes on

    def abandon(self) -> None:
        """Stop renewing without releasing, as if the holder had died (for tests)."""
        if self._renewer is not None:
            self._renewer.cancel()

    async def release(self) -> None:
        """Give the lease back; runs to its end even if the caller is cancelled meanwhile.

        Raises LeaseExpiredError if the lease had lapsed and another holder may have
        taken it. Releasing twice is a no-op, and so is releasing while the Cluster
        closes (closing gives held leases back). If the grid cannot be reached, the
        error is raised and the lease lapses within one period.
        """
        if self._released:
            return
        try:
            await finish(self.table.cluster, self._give_back(), name=f"release {self}")
        except ClusterClosedError:
            return

    async def _give_back(self) -> None:
        await self._stop_renewing()
        self._released = True
        _held_by(self.table.cluster).discard(self)
        if not await self.table.raw_store.remove_if_same(self._key, self._record):
            self._lost = True
            raise LeaseExpiredError(
                f"the lease on {self.table.kind} {self.table.name!r} (token {self.token}) "
                "lapsed before it was released; another holder may have held it"
            )

    def __repr__(self) -> str:
        return f"<Lease {self.table.kind} {self.table.name!r} slot {self.slot} token {self.token}>"
