"""Semaphore: a fixed number of cluster-wide permits, each one a lease."""

from __future__ import annotations

import random
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING

from hazelkit._coordination._grant import wait_for_grant
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
from hazelkit._core._exceptions import ConfigurationError, NotLockOwnerError
from hazelkit._core._handle import check_name
from hazelkit._core._local import ClusterLocal

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = ["Permit", "PermitInfo", "Semaphore", "SemaphoreStatistics"]

#: The most permits one semaphore may have (each is a lease record).
MAX_PERMITS = 10_000


@dataclass(frozen=True, slots=True)
class PermitInfo:
    """One taken permit: its slot, fencing token and holder (``host:pid:task``)."""

    slot: int
    token: int
    holder: str


@dataclass(frozen=True, slots=True)
class SemaphoreStatistics:
    """A snapshot of a :class:`Semaphore`, as seen from this Cluster."""

    name: str
    permits: int
    available: int
    #: Every taken permit, by slot.
    holders: tuple[PermitInfo, ...]
    #: The highest fencing token granted so far (0 if never acquired).
    last_token: int
    #: Tasks waiting for a permit on every node (informational, may lag a few seconds).
    waiters: int
    lease: float
    #: How many permits tasks of this Cluster hold.
    held_here: int


class Permit:
    """One permit of a :class:`Semaphore`, held until released or its lease is lost.

    ``async with`` it (or call :meth:`release`) to give it back. :attr:`token` is its
    fencing token; :attr:`held` is False once the lease may have lapsed.
    """

    def __init__(self, semaphore: Semaphore, owner: object, lease: Lease) -> None:
        self._semaphore = semaphore
        self._owner = owner
        self._lease = lease

    @property
    def token(self) -> int:
        """The permit's fencing token: unique, higher than that of every permit of
        this semaphore granted or released before this one's acquire began, and than
        every earlier holder's of its slot (permits taken at the same moment may be
        granted in the opposite order of their tokens). Hand it to resources so they
        can refuse a stale holder."""
        return self._lease.token

    @property
    def slot(self) -> int:
        """Which of the semaphore's permits this is (0 to permits - 1)."""
        return self._lease.slot

    @property
    def held(self) -> bool:
        """Whether the permit's lease is still valid as far as this node knows."""
        return self._lease.held

    async def release(self) -> None:
        """Give the permit back (idempotent). Raises LeaseExpiredError if its lease had
        lapsed, so that another task may have held the permit meanwhile."""
        self._semaphore._forget(self._owner, self)
        await self._lease.release()

    async def __aenter__(self) -> Permit:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.release()

    def __repr__(self) -> str:
        state = "held" if self.held else "not held"
        return f"<Permit {self._semaphore.name!r} slot {self.slot} token {self.token} {state}>"


#: Per Cluster: the permits its tasks and threads hold.
_held: ClusterLocal[Holdings[Permit]] = ClusterLocal(Holdings)


class Semaphore:
    """A distributed semaphore (``cluster.semaphore(name, permits)``) of leased permits.

    At most ``permits`` permits are taken at once across every node. Each permit is a
    lease with the same rules as :class:`~hazelkit.Lock`: renewed in the background
    while held; when its holder dies (or its task ends without releasing) it comes back
    within ``lease`` seconds. Each permit gets a unique fencing token, higher than the
    token of every permit granted or released before its acquire began (see
    :attr:`Permit.token`: unlike a lock's, two permits acquired at the same moment may
    be granted in the opposite order of their tokens); a full cluster restart, or a
    member configuration expiring entries of the map ``hazelkit.leases``, starts tokens
    at 1 again. A permit belongs to the task that acquired it (:meth:`release` gives
    back the caller's most recent one, or release a :class:`Permit` itself); a task
    may hold several.

    The number of permits is fixed by the first node that uses the name; a handle with
    another number raises ConfigurationError on first use. Waiters are woken by entry
    events and re-check every ``min(lease / 6, 1)`` seconds (each check reads every
    slot). The waiting tasks of one Cluster are served in arrival order, one of them at
    a time polling the grid; between nodes the semaphore is not fair. The waiters of
    one semaphore on one Cluster share one listener, on the whole lease map (filtered
    here): while any of them waits, the Cluster receives every lease change of the
    grid. A waiter that is cancelled, or times out, leaves no permit taken.
    """

    def __init__(self, cluster: Cluster, name: str, permits: int, *, lease: float = 30.0) -> None:
        check_name(name, "semaphore")
        if isinstance(permits, bool) or not isinstance(permits, int):
            raise ConfigurationError(f"permits must be an int, not {permits!r}")
        if not 1 <= permits <= MAX_PERMITS:
            raise ConfigurationError(f"permits must be between 1 and {MAX_PERMITS}, not {permits}")
        self._cluster = cluster
        self.name = name
        self.permits = permits
        self.lease = check_lease(lease)
        self._table = LeaseTable(cluster, "semaphore", name)
        self._waiters = WaiterRegistry(cluster, "semaphore", name)
        self._checked = False

    def _forget(self, owner: object, permit: Permit) -> None:
        _held.get(self._cluster).remove(self.name, owner, permit)

    async def _check_permits(self) -> None:
        if self._checked:
            return
        store, codec = self._table.store, self._cluster.codec
        key = codec.encode_key(("config", "semaphore", self.name))
        existing = await store.put_if_absent(key, codec.encode(self.permits))
        if existing is not None and codec.decode(existing) != self.permits:
            raise ConfigurationError(
                f"semaphore {self.name!r} has {codec.decode(existing)} permits, not {self.permits}"
            )
        self._checked = True

    @acquires_for_caller
    async def acquire(self, timeout: float | None = None) -> Permit:
        """Wait until a permit is free and take it for this task.

        ``timeout``: seconds to wait (None: as long as it takes; 0: one try). Raises
        OperationTimeoutError when it runs out (nothing is then taken). As with
        :meth:`Lock.acquire <hazelkit.Lock.acquire>`, await it in the task that uses
        the permit: run as a task of its own it raises LockError and takes nothing.
        """
        return await self._acquire(acquiring_owner(f"semaphore {self.name!r}"), timeout)

    async def _acquire(self, owner: object, timeout: float | None) -> Permit:
        timeout = check_timeout(timeout)
        lowlevel.check_open(self._cluster)
        _held.get(self._cluster).forget_dead_owners(self.name)
        await self._check_permits()

        async def attempt() -> Lease | None:
            taken = await self._table.read_slots(self.permits)
            free = [slot for slot in range(self.permits) if slot not in taken]
            random.shuffle(free)  # spread contenders over the free slots
            for slot in free:
                lease = await self._table.try_take(owner, self.lease, slot)
                if lease is not None:
                    return lease
            return None

        keys = [self._table.lease_key(slot) for slot in range(self.permits)]
        lease = await wait_for_grant(
            self._cluster,
            attempt,
            watch=KeyWatch(self._cluster, self._table.store, keys),
            waiters=self._waiters,
            owner=owner,
            timeout=timeout,
            poll=poll_interval(self.lease),
            what=f"a permit of semaphore {self.name!r}",
        )
        await lease.keep(owner)  # awaits only if the Cluster is closing
        permit = Permit(self, owner, lease)
        _held.get(self._cluster).add(self.name, owner, permit)
        return permit

    async def release(self) -> None:
        """Give back the most recent permit this task acquired and still holds.

        Raises NotLockOwnerError if it holds none, LeaseExpiredError if that permit's
        lease had lapsed.
        """
        await self._release(current_owner())

    async def _release(self, owner: object) -> None:
        permits = _held.get(self._cluster).of(self.name, owner)
        if not permits:
            raise NotLockOwnerError(f"this task holds no permit of semaphore {self.name!r}")
        await permits[-1].release()

    async def available(self) -> int:
        """How many permits are free now (a snapshot). Raises ConfigurationError if
        the semaphore has another number of permits than this handle."""
        await self._check_permits()
        return self.permits - len(await self._table.read_slots(self.permits))

    async def statistics(self) -> SemaphoreStatistics:
        """Permits, holders with their tokens, and waiters (a snapshot). Raises
        ConfigurationError if the semaphore has another number of permits."""
        await self._check_permits()
        taken = await self._table.read_slots(self.permits)
        mine = len(_held.get(self._cluster).all_of(self.name))
        return SemaphoreStatistics(
            name=self.name,
            permits=self.permits,
            available=self.permits - len(taken),
            holders=tuple(
                PermitInfo(slot, info.token, info.holder) for slot, info in sorted(taken.items())
            ),
            last_token=await self._table.last_token(),
            waiters=await self._waiters.count(),
            lease=self.lease,
            held_here=mine,
        )

    @acquires_for_caller
    async def __aenter__(self) -> Permit:
        return await self.acquire()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.release()

    def __repr__(self) -> str:
        return f"<Semaphore {self.name!r} ({self.permits} permits) of {self._cluster.url}>"
