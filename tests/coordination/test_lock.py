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
    ConfigurationError,
    LeaseExpiredError,
    LockError,
    NotLockOwnerError,
    OperationTimeoutError,
    lowlevel,
)
from hazelkit._coordination._lease import LeaseTable
from hazelkit._coordination._lock import Lock, LockStatistics
from hazelkit._coordination._waiting import KeyWatch

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


async def test_dead_holder_lease_lapses(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    lock = cluster.lock(name, lease=LEASE)
    token = await lock.acquire()
    lease = lock._holding_of(asyncio.current_task())
    assert lease is not None
    lease.abandon()  # the holder "dies": no more renewals
    started = time.monotonic()
    token2 = await cluster2.lock(name, lease=LEASE).acquire(timeout=LEASE + 5)
    assert time.monotonic() - started < LEASE + 1.5
    assert token2 > token
    assert not lock.held
    with pytest.raises(LeaseExpiredError):
        await lock.release()
    stats = await cluster2.lock(name).statistics()
    assert stats.token == token2
    assert stats.held_here
    await cluster2.lock(name).release()


async def test_renewal_notices_a_lost_lease(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    lock = cluster.lock(name, lease=LEASE)
    await lock.acquire()
    lease = lock._holding_of(asyncio.current_task())
    assert lease is not None
    lease.abandon()
    other = cluster2.lock(name, lease=LEASE)
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
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    lock = cluster.lock(name, lease=LEASE)

    async def forgetful() -> None:
        await lock.acquire()

    async with anyio.create_task_group() as tg:
        tg.start_soon(forgetful)
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
    await anyio.sleep(0.3)
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
        await asyncio.sleep(0.2)  # waiting now, listener registered
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


async def test_closing_gives_back_every_held_lock_at_once(
    url: str, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with hazelkit.connect(url) as other:
        node = await hazelkit.connect(url)
        names = [f"{name}-{i}" for i in range(10)]
        for lock_name in names:
            await node.lock(lock_name).acquire()
        store_class = type(lowlevel.backend(node).map("hazelkit.leases"))
        remove = store_class.remove_if_same

        async def slow_remove(self: object, key: bytes, value: bytes) -> bool:
            await asyncio.sleep(0.5)  # a slow member
            return await remove(self, key, value)  # type: ignore[arg-type]

        monkeypatch.setattr(store_class, "remove_if_same", slow_remove)
        started = time.monotonic()
        await node.close()
        assert time.monotonic() - started < 4  # not 10 x 0.5 s one after another
        monkeypatch.undo()
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
        await asyncio.sleep(0.3)
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
    cluster: hazelkit.Cluster,
    cluster2: hazelkit.Cluster,
    name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await cluster.lock(name).acquire()

    async def no_listener(self: KeyWatch) -> None:
        raise AssertionError("timeout=0 must not register a listener")

    monkeypatch.setattr(KeyWatch, "start", no_listener)
    with pytest.raises(OperationTimeoutError, match="within 0 s"):
        await cluster2.lock(name).acquire(timeout=0)
    assert (await cluster.lock(name).statistics()).waiters == 0
    await cluster.lock(name).release()


async def test_a_hanging_grid_call_is_cut_off_at_the_timeout(
    cluster: hazelkit.Cluster, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def hang(self: LeaseTable, *args: object) -> None:
        await asyncio.sleep(60)  # a member failing over: the call takes its whole timeout

    monkeypatch.setattr(LeaseTable, "try_take", hang)
    started = time.monotonic()
    with pytest.raises(OperationTimeoutError, match=r"within 0\.5 s"):
        await cluster.lock(name).acquire(timeout=0.5)
    assert time.monotonic() - started < 3
    monkeypatch.undo()
    assert not await cluster.lock(name).locked()


async def test_transient_errors_are_retried_until_the_timeout(
    cluster: hazelkit.Cluster, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = LeaseTable.try_take
    failures = [hazelkit.ClusterUnavailableError("failing over"), OperationTimeoutError("slow")]

    async def flaky(self: LeaseTable, *args: object) -> object:
        if failures:
            raise failures.pop(0)
        return await original(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(LeaseTable, "try_take", flaky)
    token = await cluster.lock(name).acquire(timeout=20)
    assert failures == []
    assert token >= 1
    await cluster.lock(name).release()
    failures.extend([hazelkit.ClusterUnavailableError("down")] * 1000)
    with pytest.raises(OperationTimeoutError) as caught:
        await cluster.lock(name).acquire(timeout=0.5)
    assert isinstance(caught.value.__cause__, hazelkit.ClusterUnavailableError)


async def test_cancelled_while_giving_back_a_raced_take_leaves_nothing(
    cluster: hazelkit.Cluster, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fencing counter moved under a take: its record is given back. A cancellation
    # during that must not leave the record behind for a whole lease.
    table_advance = LeaseTable._advance
    entered = asyncio.Event()

    async def raced(self: LeaseTable, counter: bytes | None, token: int) -> bool:
        assert await table_advance(self, counter, token)
        store = self.store
        remove = store.remove_if_same

        async def stall_once(key: bytes, value: bytes) -> bool:
            monkeypatch.setattr(store, "remove_if_same", remove)  # the undo goes through
            entered.set()
            await asyncio.sleep(60)
            return True

        monkeypatch.setattr(store, "remove_if_same", stall_once, raising=False)
        return False  # as if another taker advanced the counter first

    monkeypatch.setattr(LeaseTable, "_advance", raced)
    lock = cluster.lock(name)
    task = acquiring(lock, 10)
    with anyio.fail_after(10):
        await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    monkeypatch.undo()
    assert not await lock.locked()
