"""Semaphore: permit counting, fencing, leases, ownership and cancellation, on both backends."""

from __future__ import annotations

import asyncio
import time

import anyio
import pytest

import hazelkit
from hazelkit import (
    ConfigurationError,
    LeaseExpiredError,
    LockError,
    NotLockOwnerError,
    OperationTimeoutError,
)
from hazelkit._coordination import _waiting
from hazelkit._coordination._lease import LEASE_MAP
from hazelkit._coordination._semaphore import Permit, Semaphore
from hazelkit.testing import inject_faults
from timing import GridTime, wait_for_waiters

LEASE = 3.0  # the shortest lease
HELD_LEASE = 5.0  # for tests that count on renewals
CANCEL_POINTS = [(turns, 0.0) for turns in range(12)] + [(0, ms / 1000) for ms in range(1, 40, 3)]


def acquiring(sem: Semaphore, timeout: float | None = None) -> asyncio.Task[Permit]:
    """A task that waits for a permit of ``sem``."""

    async def acquire() -> Permit:
        return await sem.acquire(timeout)

    return asyncio.ensure_future(acquire())


async def test_at_most_permits_holders(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    inside = 0
    most = 0
    tokens: list[int] = []

    async def worker(node: hazelkit.Cluster) -> None:
        nonlocal inside, most
        for _ in range(3):
            async with node.semaphore(name, 2) as permit:
                inside += 1
                most = max(most, inside)
                tokens.append(permit.token)
                await anyio.sleep(0.02)
                inside -= 1

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            for node in (cluster, cluster2, cluster, cluster2):
                tg.start_soon(worker, node)
    assert most == 2
    assert len(set(tokens)) == len(tokens) == 12
    assert await cluster.semaphore(name, 2).available() == 2


async def test_acquire_release_and_statistics(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    sem = cluster.semaphore(name, 2)
    first = await sem.acquire()
    second = await sem.acquire()  # a task may hold several permits
    assert second.token > first.token
    assert {first.slot, second.slot} == {0, 1}
    assert first.held
    assert await sem.available() == 0
    with pytest.raises(OperationTimeoutError):
        await cluster2.semaphore(name, 2).acquire(timeout=0.3)
    stats = await cluster2.semaphore(name, 2).statistics()
    assert stats.available == 0
    assert stats.held_here == 0
    assert sorted(h.token for h in stats.holders) == [first.token, second.token]
    assert stats.last_token == second.token
    assert (await sem.statistics()).held_here == 2
    await sem.release()  # the most recent permit
    assert not second.held
    assert first.held
    third = await cluster2.semaphore(name, 2).acquire(timeout=5)
    assert third.token > second.token
    await third.release()
    await first.release()
    await first.release()  # idempotent
    assert await sem.available() == 2
    with pytest.raises(NotLockOwnerError):
        await sem.release()


async def test_waiter_gets_a_released_permit(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    sem = cluster.semaphore(name, 1)
    permit = await sem.acquire()

    async def release_later() -> None:
        await anyio.sleep(0.5)
        await permit.release()

    started = time.monotonic()
    async with anyio.create_task_group() as tg:
        tg.start_soon(release_later)
        async with cluster2.semaphore(name, 1) as other:
            assert other.token > permit.token
    assert time.monotonic() - started < 5


async def test_dead_holders_permits_come_back(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, grid_time: GridTime, name: str
) -> None:
    sem = cluster.semaphore(name, 2, lease=LEASE)
    permits = [await sem.acquire(), await sem.acquire()]
    for permit in permits:
        permit._lease.abandon()  # the holder "dies"
    started = time.monotonic()
    other = cluster2.semaphore(name, 2, lease=LEASE)

    async def lapse_when_waited_for() -> None:
        if grid_time.clock is not None:  # on Hazelcast the members' clocks do it
            await wait_for_waiters(sem)
            grid_time.clock.advance(LEASE)  # leases nobody renews lapse

    async with anyio.create_task_group() as tg:
        tg.start_soon(lapse_when_waited_for)
        again = [await other.acquire(timeout=LEASE + 5), await other.acquire(timeout=LEASE + 5)]
    assert time.monotonic() - started < LEASE + 2
    assert min(p.token for p in again) > max(p.token for p in permits)
    with pytest.raises(LeaseExpiredError):
        await permits[0].release()
    for permit in again:
        await permit.release()


async def test_permits_are_renewed_while_held(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    permit = await cluster.semaphore(name, 1, lease=HELD_LEASE).acquire()
    await anyio.sleep(HELD_LEASE + 1)
    assert permit.held
    with pytest.raises(OperationTimeoutError):
        await cluster2.semaphore(name, 1, lease=HELD_LEASE).acquire(timeout=0)
    await permit.release()


async def test_cancelled_waiter_takes_no_permit(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    sem = cluster.semaphore(name, 1)
    permit = await sem.acquire()
    waiting = acquiring(cluster2.semaphore(name, 1))
    await wait_for_waiters(sem)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    with anyio.move_on_after(0.3):
        await cluster2.semaphore(name, 1).acquire()
    await permit.release()
    assert await sem.available() == 1
    stats = await sem.statistics()
    assert stats.waiters == 0
    assert stats.holders == ()
    for delay in [0, 0.001, 0.002, 0.004, 0.008]:
        task = acquiring(sem)
        await asyncio.sleep(delay)
        task.cancel()
        try:
            taken = await task
        except asyncio.CancelledError:
            assert await sem.available() == 1
        else:
            await taken.release()
    assert await sem.available() == 1


async def test_cancelling_a_waiter_as_it_is_granted_takes_no_permit(
    cluster: hazelkit.Cluster, name: str
) -> None:
    outcomes: list[str] = []
    for turns, delay in CANCEL_POINTS:
        sem = cluster.semaphore(f"{name}-{turns}-{delay}", 1)
        permit = await sem.acquire()
        task = acquiring(sem, 30)
        await wait_for_waiters(sem)  # waiting now, listener registered
        await asyncio.sleep(0.02)  # (and polling: any point is right, this is the usual)
        releasing = asyncio.ensure_future(permit.release())
        for _ in range(turns):
            await asyncio.sleep(0)
        await asyncio.sleep(delay)
        task.cancel()
        await releasing
        try:
            taken = await task
        except asyncio.CancelledError:
            outcomes.append("cancelled")
            assert await sem.available() == 1, f"cancelled after {turns} turns, yet taken"
        else:
            outcomes.append("acquired")
            assert taken.held
            await taken.release()
            assert await sem.available() == 1
    assert "cancelled" in outcomes


async def test_permit_count_is_fixed_by_the_first_user(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    await (await cluster.semaphore(name, 3).acquire()).release()
    with pytest.raises(ConfigurationError, match="has 3 permits, not 4"):
        await cluster2.semaphore(name, 4).acquire()
    with pytest.raises(ConfigurationError, match="has 3 permits, not 4"):
        await cluster2.semaphore(name, 4).available()
    with pytest.raises(ConfigurationError, match="has 3 permits, not 2"):
        await cluster2.semaphore(name, 2).statistics()
    assert await cluster2.semaphore(name, 3).available() == 3


async def test_bad_arguments(cluster: hazelkit.Cluster, name: str) -> None:
    for bad in (0, -1, 2.5, True, 10**6):
        with pytest.raises(ConfigurationError, match="permits"):
            cluster.semaphore(name, bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="lease"):
        cluster.semaphore(name, 1, lease=1)
    with pytest.raises(ConfigurationError, match="timeout"):
        await cluster.semaphore(name, 1).acquire(timeout=-0.5)


async def test_acquire_run_as_a_task_of_its_own_is_refused(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    sem = cluster.semaphore(name, 1, lease=HELD_LEASE)
    with pytest.raises(LockError, match="task of its own"):
        await asyncio.create_task(sem.acquire())
    with pytest.raises(LockError, match="task of its own"):
        await asyncio.gather(sem.__aenter__())
    assert await sem.available() == 1
    async with asyncio.timeout(10):
        permit = await sem.acquire()
    await asyncio.sleep(HELD_LEASE + 1)  # past the lease: the caller's task renews it
    assert permit.held
    with pytest.raises(OperationTimeoutError):
        await cluster2.semaphore(name, 1).acquire(timeout=0)
    await permit.release()


async def test_waiters_on_one_cluster_share_one_listener(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    faults = inject_faults(cluster2)
    sem = cluster.semaphore(name, 2)
    permit = await sem.acquire()
    second = await sem.acquire()
    waiting = [acquiring(cluster2.semaphore(name, 2), 30) for _ in range(6)]
    await wait_for_waiters(sem, 6)
    assert faults.calls("map.listen", name=LEASE_MAP) == 1  # not one per waiting task
    await permit.release()
    await second.release()
    with anyio.fail_after(20):
        while sum(task.done() for task in waiting) < 2:
            await asyncio.sleep(0.02)
    for task in waiting:
        task.cancel()
    results = await asyncio.gather(*waiting, return_exceptions=True)
    for result in results:
        if isinstance(result, Permit):
            await result.release()
    with anyio.fail_after(10):  # the last waiter to leave removed the shared listener
        while _waiting._shared.get(cluster2):
            await asyncio.sleep(0.05)
    assert faults.calls("map.listen", name=LEASE_MAP) == 1
    assert await sem.available() == 2
