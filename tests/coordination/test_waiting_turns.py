"""Waiting tasks of one Cluster take turns: arrival order, one grid poller, on both backends."""

from __future__ import annotations

import asyncio

import pytest

import hazelkit
from hazelkit import OperationTimeoutError
from hazelkit._coordination import _grant
from hazelkit._coordination._lease import LEASE_MAP
from hazelkit._coordination._lock import Lock
from hazelkit._coordination._waiting import WAITER_MAP
from hazelkit.testing import inject_faults
from timing import eventually, wait_for_waiters

LEASE = 5.0


def acquiring(lock: Lock, timeout: float | None = None) -> asyncio.Task[int]:
    """A task that waits for ``lock`` and owns it once granted."""

    async def acquire() -> int:
        return await lock.acquire(timeout)

    return asyncio.ensure_future(acquire())


async def test_waiting_tasks_of_one_cluster_are_served_in_arrival_order(
    cluster: hazelkit.Cluster, name: str
) -> None:
    holder = cluster.lock(name, lease=LEASE)
    await holder.acquire()
    order: list[int] = []

    async def take_turn(number: int) -> None:
        lock = cluster.lock(name, lease=LEASE)
        async with lock:
            order.append(number)

    tasks = []
    for number in range(6):
        tasks.append(asyncio.ensure_future(take_turn(number)))
        await wait_for_waiters(holder, number + 1)  # a clear arrival order
    await wait_for_waiters(holder, 6)  # every waiter is still announced to other nodes
    await holder.release()
    async with asyncio.timeout(20):
        await asyncio.gather(*tasks)
    assert order == list(range(6))
    assert not await holder.locked()


async def test_a_long_wait_keeps_its_place_in_the_queue(
    cluster: hazelkit.Cluster, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Waiters refresh their announcement every WAITER_TTL / 3 while queued: shortened
    # here, so each waits through several refreshes and must keep its place anyway.
    monkeypatch.setattr(_grant, "WAITER_TTL", 0.6)
    faults = inject_faults(cluster)

    def refreshes() -> int:
        return faults.calls("map.set_ttl", name=WAITER_MAP)

    holder = cluster.lock(name, lease=LEASE)
    await holder.acquire()
    order: list[int] = []

    async def take_turn(number: int) -> None:
        async with cluster.lock(name, lease=LEASE):
            order.append(number)

    tasks = []
    for number in range(3):
        tasks.append(asyncio.ensure_future(take_turn(number)))
        await wait_for_waiters(holder, number + 1)
        # The next arrives after the earlier ones refreshed, as many times as they are.
        wanted = refreshes() + number + 1
        await eventually(lambda: refreshes() >= wanted)  # noqa: B023 - awaited at once
    await holder.release()
    async with asyncio.timeout(20):
        await asyncio.gather(*tasks)
    assert order == [0, 1, 2]


async def test_many_waiting_tasks_cost_the_grid_one_poller(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    faults = inject_faults(cluster2)

    def takes() -> int:  # every take of a lease tries to put its record: one call each
        return faults.calls("map.put_if_absent", name=LEASE_MAP)

    holder = cluster.lock(name, lease=LEASE)
    await holder.acquire()

    async def take_and_release() -> int:
        async with cluster2.lock(name, lease=LEASE) as token:
            return token

    waiting = [asyncio.ensure_future(take_and_release()) for _ in range(10)]
    await asyncio.sleep(3.0)  # a window of about 3 polls (every lease / 6 s, at most 1 s)
    polled = takes()
    # One task polls; the others queued behind it without trying (the first try of the
    # tasks arriving together included). Ten tasks polling on their own would make 40.
    assert 1 <= polled <= 10 + 6, polled
    await holder.release()
    async with asyncio.timeout(30):
        tokens = await asyncio.gather(*waiting)
    assert sorted(tokens) == list(range(2, 12))  # each granted once, in turn
    assert not await holder.locked()
    # Handing the lock from task to task takes one grid try each, not one per waiter.
    assert takes() - polled <= 2 * len(waiting), takes()


async def test_a_queued_task_times_out_and_the_queue_goes_on(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    holder = cluster.lock(name, lease=LEASE)
    await holder.acquire()
    first = acquiring(cluster2.lock(name, lease=LEASE))
    await wait_for_waiters(holder)  # first has the turn
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(OperationTimeoutError):
        await cluster2.lock(name, lease=LEASE).acquire(timeout=0.5)
    # Bounded while queued, not by the turn (which never comes while the holder holds).
    assert loop.time() - started < 0.5 + 2.5
    third = acquiring(cluster2.lock(name, lease=LEASE))
    await wait_for_waiters(holder, 2)
    await holder.release()
    async with asyncio.timeout(20):
        first_token = await first
        await cluster2.lock(name)._release(first)
        third_token = await third
        await cluster2.lock(name)._release(third)
    assert third_token > first_token
    assert not await holder.locked()


async def test_a_cancelled_turn_holder_passes_the_turn_on(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    holder = cluster.lock(name, lease=LEASE)
    await holder.acquire()
    first = acquiring(cluster2.lock(name, lease=LEASE))
    await wait_for_waiters(holder)
    second = acquiring(cluster2.lock(name, lease=LEASE))
    await wait_for_waiters(holder, 2)
    first.cancel()  # had the turn, polling the grid
    with pytest.raises(asyncio.CancelledError):
        await first
    await holder.release()
    async with asyncio.timeout(20):
        token = await second
    assert token == 2  # nothing was granted to the cancelled waiter
    await cluster2.lock(name)._release(second)
    # A granted waiter withdraws its announcement in the background (nothing awaits
    # after a grant), so the count reaches zero soon after, not at once.
    async with asyncio.timeout(10):
        while (await holder.statistics()).waiters != 0:
            await asyncio.sleep(0.05)


async def test_a_single_try_does_not_queue(cluster: hazelkit.Cluster, name: str) -> None:
    # timeout=0 is one try at the grid, whether tasks queue or not.
    lock = cluster.lock(name, lease=LEASE)
    token = await lock.acquire(timeout=0)
    queued = acquiring(cluster.lock(name, lease=LEASE))
    await wait_for_waiters(lock)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(OperationTimeoutError):
        await acquiring(cluster.lock(name), 0)
    assert loop.time() - started < 1.0
    await lock.release()
    async with asyncio.timeout(20):
        assert await queued > token
    await cluster.lock(name)._release(queued)


async def test_semaphore_waiters_of_one_cluster_take_turns(
    cluster: hazelkit.Cluster, name: str
) -> None:
    semaphore = cluster.semaphore(name, 2, lease=LEASE)
    held = [await semaphore.acquire(), await semaphore.acquire()]
    order: list[int] = []

    async def take(number: int) -> None:
        async with cluster.semaphore(name, 2, lease=LEASE):
            order.append(number)
            await asyncio.sleep(0.05)

    tasks = []
    for number in range(5):
        tasks.append(asyncio.ensure_future(take(number)))
        await wait_for_waiters(semaphore, number + 1)  # a clear arrival order
    for permit in held:
        await permit.release()
    async with asyncio.timeout(20):
        await asyncio.gather(*tasks)
    assert order == list(range(5))
    assert (await semaphore.statistics()).available == 2
