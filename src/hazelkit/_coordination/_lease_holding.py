"""A lease this process holds: renewed in the background, given back on release or close.

How a lease is taken, and why its tokens fence, is :mod:`hazelkit._coordination._lease`. Renewal is
``set_ttl`` followed by a read that must return our record (see there); closing a
Cluster gives back every lease held through it, all at once. The first renewal is a
loop timer that starts the renewing task only when it is due (a third of the way through
the lease), so a lease held briefly, as most locks are, costs no task to start and to
cancel and its release sends its one call at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
import time
from typing import TYPE_CHECKING

from hazelkit._backends.protocol import MapStore
from hazelkit._coordination._waiting import owner_alive, wake_local_waiters
from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._cleanup import finish
from hazelkit._core._exceptions import (
    ClusterClosedError,
    HazelkitError,
    IndeterminateOperationError,
    LeaseExpiredError,
)
from hazelkit._core._local import ClusterLocal

if TYPE_CHECKING:
    from hazelkit._coordination._lease import LeaseInfo, LeaseTable

__all__ = ["CLOSE_RELEASE_TIMEOUT", "TTL_MARGIN", "Lease"]

logger = logging.getLogger("hazelkit")

#: How early a lease may lapse on a member compared with the holder's clock.
TTL_MARGIN = 1.0
#: How long closing a Cluster waits for its held leases to be given back (all at once;
#: those not given back by then lapse within their lease).
CLOSE_RELEASE_TIMEOUT = 2.0


async def _give_back(held: set[Lease]) -> None:
    """Give back every lease still held as the Cluster closes (all at once, bounded)."""
    leases = list(held)
    held.clear()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(CLOSE_RELEASE_TIMEOUT):
            await asyncio.gather(*(lease.give_back_on_close() for lease in leases))


#: The keeper of an offered lease (released by its holder, not yet claimed): always alive.
_OFFERED = object()

#: Per Cluster: the leases held through it, given back when it closes.
_held_by: ClusterLocal[set[Lease]] = ClusterLocal(set, close=_give_back)


class Lease:
    """A lease this process holds: renewed in the background until released or lost.

    ``held`` is True while the holder is sure no one else can hold it: the record was
    ours at the last renewal and the lease cannot have lapsed since, by the local
    monotonic clock. When a renewal finds another record, the lease is *lost* for good
    and :meth:`release` raises LeaseExpiredError. A renewal that fails for a network
    reason is retried; if the lease outlives the outage, it is held again.
    """

    def __init__(
        self,
        table: LeaseTable,
        slot: int,
        info: LeaseInfo,
        record: bytes,
        started: float,
        *,
        reserved_through: int | None = None,
    ) -> None:
        self.table = table
        self.slot = slot
        self.info = info
        #: The last fencing token reserved for this record's holders (see :meth:`hand_on`).
        self.reserved_through = info.token if reserved_through is None else reserved_through
        #: Whose life keeps the renewals going: the holder, or _OFFERED while offered.
        self._keeper: object = None
        self._record = record
        self._key = table.lease_key(slot)
        self._ttl = math.ceil(info.lease)
        self._valid_until = started + self._ttl - TTL_MARGIN
        self._lost = False
        self._released = False
        #: The first renewal, due a third of the way through the lease: a timer, so that
        #: a lock held briefly costs no task; it starts :attr:`_renewer`.
        self._renewal_due: asyncio.TimerHandle | None = None
        self._renewer: asyncio.Task[None] | None = None
        #: When this process was granted it (monotonic), for the hold-time metric.
        self.granted_at = time.monotonic()

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
        self._keeper = owner
        try:
            lowlevel.check_open(self.table.cluster)
        except ClusterClosedError:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CLOSE_RELEASE_TIMEOUT):
                    await self.give_back_on_close()
            raise
        loop = asyncio.get_running_loop()
        self._renewal_due = loop.call_later(self._renewal_delay(), self._start_renewing)
        _held_by.get(self.table.cluster).add(self)

    def _start_renewing(self) -> None:
        self._renewal_due = None
        name = f"renew {self.table.kind} {self.table.name!r}"
        with contextlib.suppress(ClusterClosedError):  # closing gives held leases back
            self._renewer = lowlevel.spawn(self.table.cluster, self._renew_forever(), name=name)

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

    async def _renew_forever(self) -> None:
        """Renew now, then whenever :meth:`_renewal_delay` says, until released or lost."""
        while not self._released:
            if not owner_alive(keeper := self._keeper):
                logger.warning("%s ended while holding %s; letting it lapse", keeper, self)
                _held_by.get(self.table.cluster).discard(self)
                return
            try:
                if not await self.renew():
                    logger.warning("%s was lost: another holder took it", self)
                    _held_by.get(self.table.cluster).discard(self)
                    return
            except HazelkitError:
                logger.warning("could not renew %s; retrying", self, exc_info=True)
            await asyncio.sleep(self._renewal_delay())

    def can_hand_on(self) -> bool:
        """Whether :meth:`hand_on` would succeed now: held, with a reserved token left."""
        return self.held and self.token < self.reserved_through

    def offer(self) -> None:
        """Keep renewing after the holder released it, for the next local holder (whoever
        claims it with :meth:`hand_on`; the caller gives it back if nobody does)."""
        self._keeper = _OFFERED

    def hand_on(self, holder: str) -> Lease | None:
        """The lease for the next holder in this process (``holder``: how others see it),
        without a grid call: the same record, which never left the grid, and the next
        reserved token. This lease is then released (not renewed any more). None, and
        nothing changed, unless :meth:`can_hand_on`.

        The successor inherits the validity this lease had (the record's TTL did not
        change) and is not started: call :meth:`keep` at once, as after a take.
        """
        if not self.can_hand_on():
            return None
        info = dataclasses.replace(self.info, token=self.token + 1, holder=holder)
        successor = Lease(
            self.table, self.slot, info, self._record, 0.0, reserved_through=self.reserved_through
        )
        successor._valid_until = self._valid_until
        self._released = True
        self._cancel_renewals()  # the successor renews the same record from now on
        _held_by.get(self.table.cluster).discard(self)
        return successor

    async def give_back_on_close(self) -> None:
        """Release at once while the Cluster closes (its backend is still connected)."""
        if self._released:
            return
        self._released = True
        await self._stop_renewing()
        with contextlib.suppress(Exception):
            await self.table.raw_store.remove_if_same(self._key, self._record)

    def _cancel_renewals(self) -> asyncio.Task[None] | None:
        """Renew no more (synchronous); the renewal task under way, if any, cancelled."""
        if self._renewal_due is not None:
            self._renewal_due.cancel()
            self._renewal_due = None
        renewer, self._renewer = self._renewer, None
        if renewer is not None and not renewer.done():
            renewer.cancel()
            return renewer
        return None

    async def _stop_renewing(self) -> None:
        if (renewer := self._cancel_renewals()) is not None:
            await asyncio.wait({renewer})  # a cancellation of the caller still goes on

    def abandon(self) -> None:
        """Stop renewing without releasing, as if the holder had died (for tests)."""
        self._cancel_renewals()

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
        _held_by.get(self.table.cluster).discard(self)
        store = self.table.raw_store
        if await self._remove(store):
            wake_local_waiters(self.table.cluster, store, self._key)
        else:
            self._lost = True
            raise LeaseExpiredError(
                f"the lease on {self.table.kind} {self.table.name!r} (token {self.token}) "
                "lapsed before it was released; another holder may have held it"
            )

    async def _remove(self, store: MapStore) -> bool:
        """Remove our record; True if we removed it. A lost reply is resolved by reading
        back: our record gone while the lease was still valid means we removed it."""
        while True:
            try:
                return await store.remove_if_same(self._key, self._record)
            except IndeterminateOperationError:
                if await store.get(self._key) == self._record:
                    continue  # not removed: try again
                return time.monotonic() < self._valid_until

    def __repr__(self) -> str:
        return f"<Lease {self.table.kind} {self.table.name!r} slot {self.slot} token {self.token}>"
