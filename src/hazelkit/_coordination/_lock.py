"""Lock: a cluster-wide mutual-exclusion lease with fencing tokens."""

from __future__ import annotations

import time
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING

from hazelkit._coordination._grant import wait_for_grant
from hazelkit._coordination._handoff import HANDOFF_TOKENS, LocalHandoff
from hazelkit._coordination._holdings import Holdings
from hazelkit._coordination._lease import Lease, LeaseTable, check_lease, poll_interval
from hazelkit._coordination._waiting import (
    KeyWatch,
    WaiterRegistry,
    acquires_for_caller,
    acquiring_owner,
    check_timeout,
    current_owner,
)
from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._exceptions import (
    LockError,
    NotLockOwnerError,
)
from hazelkit._core._handle import check_name
from hazelkit._core._local import ClusterLocal
from hazelkit._observe import _metrics as metrics

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = ["Lock", "LockStatistics"]


@dataclass(frozen=True, slots=True)
class LockStatistics:
    """A snapshot of a :class:`Lock`, as seen from this Cluster."""

    name: str
    #: Whether any node holds the lock.
    locked: bool
    #: ``host:pid:task`` of the holder, or None when free.
    holder: str | None
    #: The holder's fencing token, or None when free.
    token: int | None
    #: The highest fencing token granted so far (0 if never locked).
    last_token: int
    #: Tasks waiting for the lock on every node (informational, may lag a few seconds).
    waiters: int
    #: The lease period of this handle, in seconds.
    lease: float
    #: Seconds until the lease lapses unless renewed; known only when this Cluster holds
    #: the lock (the member enforces it; other nodes cannot see renewals).
    lease_expires_in: float | None
    #: Whether a task of this Cluster holds the lock.
    held_here: bool


#: The leases held through each Cluster, by lock name and owner, shared by every handle.
#: Per Cluster: the lock leases its tasks and threads hold.
_held: ClusterLocal[Holdings[Lease]] = ClusterLocal(Holdings)


class Lock:
    """A distributed lock (``cluster.lock(name)``): one holder at a time across every node.

    Use it as ``async with lock:`` (waits as long as needed) or with
    :meth:`acquire` and :meth:`release`. Handles are cheap; all handles of one name on
    one Cluster share their state.

    Guarantees:

    - *Mutual exclusion* while the holder renews its lease. The lease is renewed in the
      background three times per ``ceil(lease) - 1`` seconds (the time the holder can
      count on, since members count TTLs in whole seconds); if the holder's process
      dies (or its task ends without releasing), renewals stop and the lock becomes
      free within ``lease`` seconds, as enforced by the member holding the record. A
      holder whose event loop stalls for longer than about two thirds of
      ``ceil(lease) - 1`` seconds may lose it: choose the lease with your longest
      stalls in mind. No CP subsystem is needed.
    - *Fencing*: each acquisition gets a token that is strictly higher than every token
      granted before it, even after the lock was unused for a long time. Pass it to the
      resources you write to, and have them refuse lower tokens than they have seen: a
      holder that stalled past its lease is then harmless. The counter behind the
      tokens is an entry of the map ``hazelkit.leases``: a restart of the whole
      cluster, or a member configuration that expires or evicts entries of that map
      (a TTL or eviction on the ``default`` map, say), starts tokens at 1 again.
    - *Lost leases are visible*: :attr:`held` becomes False when the lease may have
      lapsed, and :meth:`release` raises LeaseExpiredError if another holder may have
      taken the lock meanwhile.
    - *Ownership* is per asyncio task: the task that acquired must release, and the
      lease is renewed only while that task runs (a task that ends without releasing
      lets it lapse within ``lease`` seconds). So await :meth:`acquire` in the task that
      uses the lock; ``acquire()`` handed to ``create_task``, ``gather`` or (on Python
      3.11) ``asyncio.wait_for`` runs as a task of its own and is refused with
      LockError. The lock is **not reentrant**: acquiring it again from the task that
      holds it raises LockError.
    - Waiters are woken by entry events when the lock is released (at once, without
      the event, when a task of the same Cluster released it) and re-check at least
      every ``min(lease / 6, 1)`` seconds, so a lost event costs latency only.
    - *Order*: the waiting tasks of one Cluster queue locally and are served in arrival
      order, one of them at a time polling the grid, so many waiting tasks cost the
      grid no more than one. Between nodes the lock is not fair: any node's first
      waiter may win.
    - *Local hand-off*: when a task releases the lock while tasks of the same Cluster
      wait, the lease goes straight to the first of them, without a grid call: the
      lease record stays on the grid (no other node can take it in between), and the
      new holder gets the next of the tokens its chain reserved when it took the lease
      (the counter moved past all of them then, so fencing holds as above; an unused
      reserved token is skipped). A chain ends after ``HANDOFF_TOKENS`` (16) holders,
      when the lease may have lapsed, or when no local waiter claims it within
      half a second; the lease is then given back to the grid (see ``_handoff``). While a chain
      runs, :attr:`LockStatistics.last_token` counts its reserved tokens as granted.
    - A waiter that is cancelled, or times out, leaves nothing taken.

    When a Hazelcast member fails, the lease record survives on its backup. Closing the
    Cluster releases the locks held through it.
    """

    def __init__(self, cluster: Cluster, name: str, *, lease: float = 30.0) -> None:
        check_name(name, "lock")
        self._cluster = cluster
        self.name = name
        self.lease = check_lease(lease)
        self._table = LeaseTable(cluster, "lock", name, guess_counter=True)
        self._waiters = WaiterRegistry(cluster, "lock", name)
        self._handoff = LocalHandoff(cluster, name, self._table)

    def _holding_of(self, owner: object) -> Lease | None:
        return _held.get(self._cluster).first(self.name, owner)

    @acquires_for_caller
    async def acquire(self, timeout: float | None = None) -> int:
        """Wait until this task holds the lock; return its fencing token.

        ``timeout``: seconds to wait (None: as long as it takes; 0: one try). Raises
        OperationTimeoutError when it runs out (nothing is then held), LockError if this
        task holds the lock already, ClusterClosedError after the Cluster closed.

        The lock belongs to the calling task, so await ``acquire`` in the task that
        uses the lock: to bound the wait, pass ``timeout`` or wrap it in
        ``async with asyncio.timeout(...)``. Run as a task of its own (``create_task``,
        ``gather``, or ``asyncio.wait_for`` on Python 3.11, which wraps it in a task) it
        raises LockError at once and takes nothing: that task would end right away and
        the lease lapse while the caller uses the lock.
        """
        return await self._acquire(acquiring_owner(f"lock {self.name!r}"), timeout)

    async def _acquire(self, owner: object, timeout: float | None) -> int:
        timeout = check_timeout(timeout)
        lowlevel.check_open(self._cluster)
        _held.get(self._cluster).forget_dead_owners(self.name)
        if (holding := self._holding_of(owner)) is not None:
            state = "is already held by this task" if holding.held else "lost its lease"
            raise LockError(
                f"lock {self.name!r} {state} and was not released: call release() first"
                " (hazelkit locks are not reentrant)"
            )

        store = self._table.store
        watch = KeyWatch(self._cluster, store, [self._table.lease_key()])

        async def attempt() -> Lease | None:
            if (claimed := self._handoff.claim(owner)) is not None or self._held_here():
                return claimed  # a local holder hands the lease on, or wakes us
            reserve = HANDOFF_TOKENS if watch.queued() else 1
            return await self._table.try_take(owner, self.lease, reserve=reserve)

        started = time.perf_counter()
        try:
            lease = await wait_for_grant(
                self._cluster,
                attempt,
                watch=watch,
                waiters=self._waiters,
                owner=owner,
                timeout=timeout,
                poll=poll_interval(self.lease),
                what=f"lock {self.name!r}",
            )
        except BaseException as error:
            metrics.lock_waited(started, error)
            self._handoff.withdraw_unless_awaited()  # the last local waiter gave up
            raise
        metrics.lock_waited(started, None)
        await lease.keep(owner)  # awaits only if the Cluster is closing
        _held.get(self._cluster).add(self.name, owner, lease)
        return lease.token

    async def release(self) -> None:
        """Release the lock held by this task.

        Raises NotLockOwnerError if this task does not hold it, and LeaseExpiredError if
        the lease had lapsed (the lock is then released as far as this task is
        concerned, and another holder may have held it meanwhile). Completes even if
        the caller is cancelled during it.
        """
        await self._release(current_owner())

    async def _release(self, owner: object) -> None:
        lease = self._holding_of(owner)
        if lease is None:
            raise NotLockOwnerError(f"lock {self.name!r} is not held by this task")
        _held.get(self._cluster).remove(self.name, owner, lease)
        metrics.lock_held(lease.granted_at)
        if not self._handoff.offer(lease):
            await lease.release()

    def _held_here(self) -> bool:
        """Whether a task of this Cluster holds the lock (then a grid try must fail)."""
        return any(lease.held for lease in _held.get(self._cluster).all_of(self.name))

    async def locked(self) -> bool:
        """Whether any node holds the lock now (a snapshot)."""
        return await self._table.read() is not None

    @property
    def held(self) -> bool:
        """Whether the calling task holds the lock and its lease cannot have lapsed."""
        lease = self._holding_of(current_owner())
        return lease is not None and lease.held

    @property
    def token(self) -> int | None:
        """The calling task's fencing token, or None if it does not hold the lock."""
        lease = self._holding_of(current_owner())
        return None if lease is None else lease.token

    async def statistics(self) -> LockStatistics:
        """Holder, token, waiters and lease of the lock (a snapshot; see LockStatistics)."""
        info = await self._table.read()
        mine = None
        if info is not None:
            leases = _held.get(self._cluster).all_of(self.name)
            mine = next((lease for lease in leases if lease.info.owner == info.owner), None)
        if mine is not None:  # after a local hand-off the record names the chain's first
            info = mine.info
        return LockStatistics(
            name=self.name,
            locked=info is not None,
            holder=None if info is None else info.holder,
            token=None if info is None else info.token,
            last_token=await self._table.last_token(),
            waiters=await self._waiters.count(),
            lease=self.lease,
            lease_expires_in=None if mine is None else mine.expires_in,
            held_here=mine is not None,
        )

    @acquires_for_caller
    async def __aenter__(self) -> int:
        return await self.acquire()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.release()

    def __repr__(self) -> str:
        return f"<Lock {self.name!r} of {self._cluster.url}>"
