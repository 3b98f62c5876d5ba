"""Handing a lock's lease from a releasing task to the next waiting task of one Cluster.

Under contention within one process, giving the lease back to the grid and taking it
again costs three or four grid calls per holder, while the next holder is already waiting in
this process. So a take made while tasks of the Cluster wait reserves
:data:`HANDOFF_TOKENS` fencing tokens at once (:meth:`LeaseTable.try_take
<hazelkit._coordination._lease.LeaseTable.try_take>`), and a release with a local waiter
*offers* the lease instead of removing its record: the record stays on the grid and is
still renewed, and the first waiter to try claims it with the next reserved token
(:meth:`Lease.hand_on <hazelkit._coordination._lease_holding.Lease.hand_on>`), with no
grid call. Why fencing still holds is in :mod:`hazelkit._coordination._lease`.

A chain ends, and the lease goes back to the grid where any node may take it, when its
reserved tokens are used up, when the lease may have lapsed, when the last local waiter
gives up, or when nobody claims an offer within :data:`OFFER_TIMEOUT` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from hazelkit._coordination._lease_holding import Lease
from hazelkit._coordination._waiting import describe_owner, local_waiters, wake_local_waiters
from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._exceptions import ClusterClosedError, LeaseExpiredError
from hazelkit._core._local import ClusterLocal

if TYPE_CHECKING:
    from hazelkit._coordination._lease import LeaseTable
    from hazelkit._core._cluster import Cluster

__all__ = ["HANDOFF_TOKENS", "OFFER_TIMEOUT", "LocalHandoff"]

#: How many fencing tokens a take reserves when tasks of this Cluster already wait for
#: the lock: the lease then goes from holder to holder here, up to that many holders in a
#: row, with no grid call (after that it is given back, and any node may take it).
HANDOFF_TOKENS = 16
#: How long a lease kept for a local waiter waits to be claimed before it is given back.
OFFER_TIMEOUT = 0.5

#: Per Cluster, by lock name: a lease its holder released while tasks of this Cluster
#: waited, kept (and renewed) for the next of them to claim.
_offers: ClusterLocal[dict[str, Lease]] = ClusterLocal(dict)


class LocalHandoff:
    """The hand-offs of one lock on one Cluster (every handle of the name shares them)."""

    def __init__(self, cluster: Cluster, name: str, table: LeaseTable) -> None:
        self._cluster = cluster
        self._name = name
        self._table = table

    def _waiting(self) -> int:
        return local_waiters(self._cluster, self._table.raw_store, self._table.lease_key())

    def offer(self, lease: Lease) -> bool:
        """Keep the released ``lease`` for the next local waiter, if one waits and it can
        be handed on, and wake the waiters; True if it was kept (synchronous)."""
        offers = _offers.get(self._cluster)
        if self._name in offers or not lease.can_hand_on() or not self._waiting():
            return False
        lease.offer()
        offers[self._name] = lease
        asyncio.get_running_loop().call_later(OFFER_TIMEOUT, self._withdraw, lease)
        wake_local_waiters(self._cluster, self._table.raw_store, self._table.lease_key())
        return True

    def claim(self, owner: object) -> Lease | None:
        """The offered lease, now ``owner``'s (not started: :meth:`Lease.keep` it); None
        if none is offered, or it can no longer be handed on (it is then given back)."""
        offered = _offers.get(self._cluster).pop(self._name, None)
        if offered is None:
            return None
        successor = offered.hand_on(describe_owner(owner))
        if successor is None:
            self._give_back(offered)
        return successor

    def withdraw_unless_awaited(self) -> None:
        """Give back at once a lease kept for local waiters if none waits any more."""
        offered = _offers.get(self._cluster).get(self._name)
        if offered is not None and not self._waiting():
            self._withdraw(offered)

    def _withdraw(self, lease: Lease) -> None:
        offers = _offers.get(self._cluster)
        if offers.get(self._name) is lease:
            del offers[self._name]
            self._give_back(lease)

    def _give_back(self, lease: Lease) -> None:
        with contextlib.suppress(ClusterClosedError):  # closing gives held leases back
            lowlevel.spawn(self._cluster, _release_quietly(lease), name=f"give back {lease}")


async def _release_quietly(lease: Lease) -> None:
    with contextlib.suppress(LeaseExpiredError):  # lapsed: nothing left to give back
        await lease.release()
