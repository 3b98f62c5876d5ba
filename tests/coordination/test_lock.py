"""Lock: exclusion, fencing, leases, ownership, reentrancy and cancellation, on both backends."""

from __future__ import annotations

import asyncio
import gc
import sys
import time
import warnings

import anyio
import pytest

import hazelkit
from hazelkit import (
    ClusterUnavailableError,
    ConfigurationError,
    LeaseExpiredError,
    LockError,
    NotLockOwnerError,
    OperationTimeoutError,
)
from hazelkit._coordination._lease import LEASE_MAP
from hazelkit._coordination._lock import Lock, LockStatistics
from hazelkit._coordination._waiting import WAITER_MAP
from hazelkit.testing import inject_faults
from timing import GridTime, eventually, wait_for_waiters

LEASE = 3.0  # the shortest lease: lapses within 3 s on both backends
HELD_LEASE = 5.0  # for tests that count on renewals: tolerates stalls of over 2 s
#: Where a cancellation lands after a release starts: loop turns (the embedded grid
#: grants within a few), then milliseconds (Hazelcast round trips).
CANCEL_POINTS = [(turns, 0.0) for turns in range(12)] + [(0, ms / 1000) for ms in range(1, 40, 3)]


def acquiring(lock: Lock, timeout: float | None = None) -> asyncio.Task[int]:
    """A task that waits for ``lock`` (and owns it once granted, until it is released)."""

    async def acquire() -> int:
        return await lock.acquire(timeout)

    return asyncio.ensure_future(acquire())


async def test_acquire_release_and_tokens_increase(cluster: hazelkit.Cluster, name: str) -> None:
    lock = cluster.lock(name)
    assert not await lock.locked()
    first = await lock.acquire()
    assert first >= 1
    assert await lock.locked()
    assert lock.held
    assert lock.token == first
    await lock.release()
    assert not await lock.locked()
    assert not lock.held
    assert lock.token is None
    async with lock as second:
        assert second > first
        assert lock.held
    async with cluster.lock(name) as third:  # another handle, same lock
        assert third > second


async def test_other_node_waits_and_gets_a_higher_token(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    a, b = cluster.lock(name), cluster2.lock(name)
    acquired = anyio.Event()
    tokens: list[int] = []

    async def hold_briefly() -> None:
        async with a as token:
            tokens.append(token)
            acquired.set()
            await anyio.sleep(1.0)

    async with anyio.create_task_group() as tg:
        tg.start_soon(hold_briefly)
        await acquired.wait()
        with pytest.raises(OperationTimeoutError):
            await b.acquire(timeout=0.3)
        with pytest.raises(OperationTimeoutError):
            await b.acquire(timeout=0)
        started = time.monotonic()
        token_b = await b.acquire(timeout=10)
        waited = time.monotonic() - started
    assert token_b > tokens[0]
    assert waited < 5  # woken by the release, not much later
    await b.release()


async def test_mutual_exclusion_under_contention(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    inside = 0
    most = 0
    tokens: list[int] = []

    async def worker(node: hazelkit.Cluster) -> None:
        nonlocal inside, most
        lock = node.lock(name, lease=5)
        for _ in range(4):
            async with lock as token:
                inside += 1
                most = max(most, inside)
                tokens.append(token)
                await anyio.sleep(0.01)
                inside -= 1

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            for node in (cluster, cluster2, cluster, cluster2):
                tg.start_soon(worker, node)
    assert most == 1
    assert tokens == sorted(tokens)
    assert len(set(tokens)) == len(tokens) == 16


async def test_not_reentrant(cluster: hazelkit.Cluster, name: str) -> None:
    lock = cluster.lock(name)
    async with lock:
        with pytest.raises(LockError, match="not reentrant"):
            await lock.acquire()
        with pytest.raises(LockError, match="not reentrant"):
            await cluster.lock(name).acquire(timeout=0)
        assert lock.held  # the failed re-acquire changed nothing
    assert not await lock.locked()


async def test_release_by_non_holder_raises(cluster: hazelkit.Cluster, name: str) -> None:
    lock = cluster.lock(name)
    with pytest.raises(NotLockOwnerError):
        await lock.release()
    await lock.acquire()

    async def other_task() -> None:
        with pytest.raises(NotLockOwnerError):
            await lock.release()
        assert not lock.held

    async with anyio.create_task_group() as tg:
        tg.start_soon(other_task)
    assert await lock.locked()
    await lock.release()
    with pytest.raises(NotLockOwnerError):
        await lock.release()


async def test_same_process_tasks_exclude_each_other(cluster: hazelkit.Cluster, name: str) -> None:
    lock = cluster.lock(name)
    order: list[str] = []
    done = anyio.Event()

    async def second() -> None:
        async with lock:
            order.append("second")
        done.set()

    async with anyio.create_task_group() as tg:
        async with lock:
            tg.start_soon(second)
            await anyio.sleep(0.3)
            order.append("first")
        with anyio.fail_after(10):
            await done.wait()
    assert order == ["first", "second"]


async def test_lease_is_renewed_while_held(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    lock = cluster.lock(name, lease=HELD_LEASE)
    token = await lock.acquire()
    await anyio.sleep(HELD_LEASE + 1)
    assert lock.held
    with pytest.raises(OperationTimeoutError):
        await cluster2.lock(name, lease=HELD_LEASE).acquire(timeout=0)
    stats = await lock.statistics()
    assert stats.held_here
    assert stats.token == token
    assert stats.lease_expires_in is not None
    assert 0 < stats.lease_expires_in <= HELD_LEASE
    await lock.release()


async def lapse_when_waited_for(grid_time: GridTime, lock: Lock, seconds: float) -> None:
    """On the embedded grid, move the clock ``seconds`` on once someone waits for
    ``lock``: a lease nobody renews lapses then. On Hazelcast the members' clocks do it."""
    if grid_time.clock is None:
        return

    async def waited_for() -> bool:
        return (await lock.statistics()).waiters >= 1

    await eventually(waited_for)
    grid_time.clock.advance(seconds)


async def test_dead_holder_lease_lapses(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, grid_time: GridTime, name: str
) -> None:
    lock = cluster.lock(name, lease=LEASE)
    token = await lock.acquire()
    lease = lock._holding_of(asyncio.current_task())
    assert lease is not None
    lease.abandon()  # the holder "dies": no more renewals
    started = time.monotonic()
    async with anyio.create_task_group() as tg:
        tg.start_soon(lapse_when_waited_for, grid_time, lock, LEASE)
        token2 = await cluster2.lock(name, lease=LEASE).acquire(timeout=LEASE + 5)
    assert time.monotonic() - started < LEASE + 1.5
    assert token2 > token
    # The holder's own clock ends its lease a second before the grid could lapse it (on
    # the embedded grid the grid's clock jumped ahead of it: that takes a little longer).
    await eventually(lambda: not lock.held, timeout=LEASE)
    with pytest.raises(LeaseExpiredError):
        await lock.release()
    stats = await cluster2.lock(name).statistics()
    assert stats.token == token2
    assert stats.held_here
    await cluster2.lock(name).release()


async def test_renewal_notices_a_lost_lease(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, grid_time: GridTime, name: str
) -> None:
    lock = cluster.lock(name, lease=LEASE)
    await lock.acquire()
    lease = lock._holding_of(asyncio.current_task())
    assert lease is not None
    lease.abandon()
    other = cluster2.lock(name, lease=LEASE)
    async with anyio.create_task_group() as tg:
        tg.start_soon(lapse_when_waited_for, grid_time, lock, LEASE)
        await other.acquire(timeout=LEASE + 5)
    assert not await lease.renew()  # someone else's record now
    assert lease.lost
    assert not lock.held
    with pytest.raises(LockError, match="lost its lease and was not released"):
        await lock.acquire(timeout=0)
    with pytest.raises(LeaseExpiredError):
        await lock.release()
    assert await other.locked()  # the failed release did not remove the new holder's lease
    await other.release()


async def test_task_ending_without_release_lets_the_lease_lapse(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, grid_time: GridTime, name: str
) -> None:
    lock = cluster.lock(name, lease=LEASE)

    async def forgetful() -> None:
        await lock.acquire()

    async with anyio.create_task_group() as tg:
        tg.start_soon(forgetful)
    async with anyio.create_task_group() as tg:
        tg.start_soon(lapse_when_waited_for, grid_time, lock, LEASE)
        await cluster2.lock(name, lease=LEASE).acquire(timeout=LEASE * 3)
    await cluster2.lock(name).release()


async def test_statistics(cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str) -> None:
    lock = cluster.lock(name)
    empty = await lock.statistics()
    assert empty == LockStatistics(name, False, None, None, 0, 0, 30.0, None, False)
    token = await lock.acquire()
    waiting = acquiring(cluster2.lock(name), 30)
    remote = cluster2.lock(name)
    deadline = time.monotonic() + 10
    while (stats := await remote.statistics()).waiters != 1:
        assert time.monotonic() < deadline, stats
        await anyio.sleep(0.05)
    assert stats.locked
    assert stats.token == token == stats.last_token
    assert stats.holder is not None
    assert stats.holder.endswith(asyncio.current_task().get_name())
    assert not stats.held_here
    assert stats.lease_expires_in is None
    assert (await lock.statistics()).held_here
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert (await remote.statistics()).waiters == 0
    await lock.release()


async def test_cancelled_waiter_leaves_nothing_taken(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    holder = cluster.lock(name)
    await holder.acquire()
    with anyio.move_on_after(0.5):
        await cluster2.lock(name).acquire()
    waiting = acquiring(cluster2.lock(name))
    await wait_for_waiters(holder)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await holder.release()
    assert not await holder.locked()
    assert (await holder.statistics()).waiters == 0
    async with cluster.lock(name) as token:
        assert token == 2  # no token was granted to the cancelled waiters


async def test_cancellation_at_any_point_leaves_the_lock_free(
    cluster: hazelkit.Cluster, name: str
) -> None:
    lock = cluster.lock(name)
    for delay in [0, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016]:
        task = acquiring(lock)
        await asyncio.sleep(delay)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            assert not await lock.locked()
        else:  # acquired before the cancellation arrived: it must be releasable
            assert await lock.locked()
            await lock._release(task)  # on behalf of the task that acquired it
    assert not await lock.locked()


async def test_cancelling_a_waiter_as_it_is_granted_leaves_nothing_taken(
    cluster: hazelkit.Cluster, name: str
) -> None:
    # The holder starts releasing; the waiter is cancelled 0..N loop turns later, so the
    # cancellation lands before, during and after the grant (and its cleanup).
    outcomes: list[str] = []
    for turns, delay in CANCEL_POINTS:
        lock_name = f"{name}-{turns}-{delay}"
        holder = cluster.lock(lock_name)
        await holder.acquire()
        waiter = cluster.lock(lock_name)
        task = acquiring(waiter, 30)
        await wait_for_waiters(holder)  # waiting now, listener registered
        await asyncio.sleep(0.02)  # (and polling: any point is right, this is the usual)
        releasing = asyncio.ensure_future(holder._release(asyncio.current_task()))
        for _ in range(turns):
            await asyncio.sleep(0)
        await asyncio.sleep(delay)
        task.cancel()
        await releasing
        try:
            await task
        except asyncio.CancelledError:
            outcomes.append("cancelled")
            assert not await holder.locked(), f"cancelled after {turns} turns, yet locked"
        else:  # granted before the cancellation arrived: held, renewed, releasable
            outcomes.append("acquired")
            assert await waiter.locked()
            await waiter._release(task)
            assert not await holder.locked()
    assert "cancelled" in outcomes


async def test_closing_the_cluster_releases_its_locks(url: str, name: str) -> None:
    async with hazelkit.connect(url) as other:
        async with hazelkit.connect(url) as node:
            await node.lock(name).acquire()
        started = time.monotonic()
        await other.lock(name).acquire(timeout=20)
        assert time.monotonic() - started < 5
        await other.lock(name).release()


async def test_closing_gives_back_every_held_lock_at_once(url: str, name: str) -> None:
    async with hazelkit.connect(url) as other:
        node = await hazelkit.connect(url)
        faults = inject_faults(node)
        names = [f"{name}-{i}" for i in range(10)]
        for lock_name in names:
            await node.lock(lock_name).acquire()
        faults.delay("map.remove_if_same", 0.5, name=LEASE_MAP, times=10)  # a slow member
        started = time.monotonic()
        await node.close()
        assert time.monotonic() - started < 4  # not 10 x 0.5 s one after another
        assert faults.calls("map.remove_if_same", name=LEASE_MAP) == 10  # each given back
        for lock_name in names:
            assert not await other.lock(lock_name).locked()


async def test_bad_arguments(cluster: hazelkit.Cluster, name: str) -> None:
    for lease in (0.5, 2):
        with pytest.raises(ConfigurationError, match="at least 3"):
            cluster.lock(name, lease=lease)
    with pytest.raises(ConfigurationError, match="lease"):
        cluster.lock(name, lease=float("nan"))
    with pytest.raises(ConfigurationError, match="name"):
        Lock(cluster, "")
    with pytest.raises(ConfigurationError, match="timeout"):
        await cluster.lock(name).acquire(timeout=-1)
    assert not await cluster.lock(name).locked()


async def test_closed_cluster(url: str, name: str) -> None:
    async with hazelkit.connect(url) as node:
        lock = node.lock(name)
    with pytest.raises(hazelkit.ClusterClosedError):
        await lock.acquire()


async def test_closing_the_cluster_under_a_waiter_ends_it_cleanly(url: str, name: str) -> None:
    async with hazelkit.connect(url) as holder:
        await holder.lock(name).acquire()
        node = await hazelkit.connect(url)
        waiting = acquiring(node.lock(name), 30)
        await wait_for_waiters(holder.lock(name))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            await node.close()
            with pytest.raises(hazelkit.ClusterClosedError):
                await asyncio.wait_for(waiting, 10)
            gc.collect()
        assert [str(w.message) for w in caught if "never awaited" in str(w.message)] == []
        await holder.lock(name).release()


async def test_acquire_run_as_a_task_of_its_own_is_refused(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    lock = cluster.lock(name, lease=3)
    # That task would own the lock and end at once: its lease would lapse.
    with pytest.raises(LockError, match="task of its own"):
        await asyncio.create_task(lock.acquire())
    with pytest.raises(LockError, match="task of its own"):
        await asyncio.gather(lock.__aenter__())
    if sys.version_info < (3, 12):  # wait_for wraps the coroutine in a task
        with pytest.raises(LockError, match="task of its own"):
            await asyncio.wait_for(lock.acquire(), 5)
    else:  # wait_for runs it in the caller's task
        await asyncio.wait_for(lock.acquire(), 5)
        await lock.release()
    assert not await lock.locked()
    assert (await lock.statistics()).last_token <= 1


async def test_a_wait_bounded_by_asyncio_timeout_keeps_the_lock(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    lock = cluster.lock(name, lease=HELD_LEASE)
    async with asyncio.timeout(10):
        token = await lock.acquire()
    await asyncio.sleep(HELD_LEASE + 1)  # past the lease: the caller's task renews it
    assert lock.held
    assert lock.token == token
    with pytest.raises(OperationTimeoutError):
        await cluster2.lock(name).acquire(timeout=0)
    await lock.release()


async def test_a_single_try_registers_no_listener_and_announces_no_waiter(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    faults = inject_faults(cluster2)
    await cluster.lock(name).acquire()
    with pytest.raises(OperationTimeoutError, match="within 0 s"):
        await cluster2.lock(name).acquire(timeout=0)
    assert faults.calls("map.listen") == 0  # timeout=0 registers no listener
    assert faults.calls("map.set", name=WAITER_MAP) == 0  # nor announces a waiter
    assert faults.calls("map.put_if_absent", name=LEASE_MAP) == 1  # one try, that is all
    assert (await cluster.lock(name).statistics()).waiters == 0
    await cluster.lock(name).release()


async def test_a_hanging_grid_call_is_cut_off_at_the_timeout(
    cluster: hazelkit.Cluster, name: str
) -> None:
    faults = inject_faults(cluster)
    # A member failing over: every take hangs (for the client's whole operation timeout).
    faults.hang("map.put_if_absent", name=LEASE_MAP, times=1000)
    started = time.monotonic()
    with pytest.raises(OperationTimeoutError, match=r"within 0\.5 s"):
        await cluster.lock(name).acquire(timeout=0.5)
    assert time.monotonic() - started < 3
    assert faults.calls("map.put_if_absent", name=LEASE_MAP) >= 1
    faults.release()
    assert not await cluster.lock(name).locked()


async def test_transient_errors_are_retried_until_the_timeout(
    cluster: hazelkit.Cluster, name: str
) -> None:
    faults = inject_faults(cluster)
    faults.fail("map.put_if_absent", name=LEASE_MAP, error=ClusterUnavailableError("failing over"))
    faults.fail("map.put_if_absent", name=LEASE_MAP, error=OperationTimeoutError("slow"))
    token = await cluster.lock(name).acquire(timeout=20)
    assert faults.calls("map.put_if_absent", name=LEASE_MAP) >= 3  # two failed, then it took
    assert token >= 1
    await cluster.lock(name).release()
    faults.fail("map.put_if_absent", name=LEASE_MAP, times=1000)  # down: unavailable
    with pytest.raises(OperationTimeoutError) as caught:
        await cluster.lock(name).acquire(timeout=0.5)
    assert isinstance(caught.value.__cause__, ClusterUnavailableError)
    faults.clear()


async def test_cancelled_while_giving_back_a_raced_take_leaves_nothing(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    # The fencing counter moved under a take: its record is given back. A cancellation
    # during that must not leave the record behind for a whole lease.
    faults = inject_faults(cluster)
    faults.hang("map.put_if_absent", name=LEASE_MAP)  # the take read the counter, then hangs
    lock = cluster.lock(name)
    task = acquiring(lock, 10)
    await eventually(lambda: faults.calls("map.put_if_absent", name=LEASE_MAP) == 1)
    # Meanwhile another node takes and gives back the lock: the counter moves on.
    async with cluster2.lock(name):
        pass
    faults.release()  # the take stores its record, fails to advance the counter...
    faults.hang("map.remove_if_same", name=LEASE_MAP)  # ...and stalls giving it back
    await eventually(lambda: faults.calls("map.remove_if_same", name=LEASE_MAP) == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The undo of the cancelled take went through (the hang was for one call only).
    assert faults.calls("map.remove_if_same", name=LEASE_MAP) == 2
    assert not await lock.locked()
    faults.release()
