"""Local hand-off: a lock released while tasks of the same Cluster wait goes to the next of
them without a grid call, and fencing still holds (on both backends)."""

from __future__ import annotations

import asyncio

import anyio

import hazelkit
from hazelkit._coordination._handoff import HANDOFF_TOKENS, OFFER_TIMEOUT
from hazelkit._coordination._lease import LEASE_MAP
from hazelkit.testing import inject_faults
from timing import wait_for_waiters

LEASE = 5.0
TASKS = 16
ROUNDS = 4


async def test_sixteen_tasks_hand_the_lock_on_with_increasing_tokens(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    faults = inject_faults(cluster)  # counts grid calls; injects nothing
    inside = 0
    most = 0
    held: list[int] = []  # tokens in the order their holders held the lock

    async def worker() -> None:
        nonlocal inside, most
        lock = cluster.lock(name, lease=LEASE)
        for _ in range(ROUNDS):
            async with lock as token:
                inside += 1
                most = max(most, inside)
                held.append(token)
                await asyncio.sleep(0)
                inside -= 1

    with anyio.fail_after(120):
        async with anyio.create_task_group() as tg:
            for _ in range(TASKS):
                tg.start_soon(worker)
    assert most == 1
    assert len(held) == TASKS * ROUNDS
    assert held == sorted(held)
    assert len(set(held)) == len(held)  # each token granted once
    takes = faults.calls("map.put_if_absent", name=LEASE_MAP)
    # Without hand-offs every acquisition puts a record (and polling tries add more);
    # with them a chain of up to HANDOFF_TOKENS holders costs one take.
    assert takes < len(held) // 2, takes
    # Another node, after the chain: a higher token than any the chain granted.
    other = cluster2.lock(name, lease=LEASE)
    with anyio.fail_after(30):
        token = await other.acquire(timeout=20)
    assert token > held[-1]
    assert (await other.statistics()).last_token >= token
    await other.release()


async def test_a_chain_ends_after_its_reserved_tokens(cluster: hazelkit.Cluster, name: str) -> None:
    faults = inject_faults(cluster)
    lock = cluster.lock(name, lease=LEASE)
    holders = HANDOFF_TOKENS * 2 + 2
    tokens: list[int] = []

    async def hold_once() -> None:
        async with lock as token:
            tokens.append(token)
            await asyncio.sleep(0.001)

    first = await lock.acquire()
    waiting = [asyncio.ensure_future(hold_once()) for _ in range(holders)]
    await wait_for_waiters(lock, 1)
    await lock.release()
    with anyio.fail_after(60):
        await asyncio.gather(*waiting)
    assert tokens == sorted(tokens)
    assert len(set(tokens)) == holders
    assert tokens[0] > first
    # Each chain of at most HANDOFF_TOKENS holders began with a take of its own.
    assert faults.calls("map.put_if_absent", name=LEASE_MAP) >= 1 + holders // HANDOFF_TOKENS


async def test_an_unclaimed_hand_off_is_given_back(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    lease = 10.0  # lapses 9 s or more after the last renewal: far beyond the offer
    lock = cluster.lock(name, lease=lease)
    await lock.acquire()  # taken alone: no tokens reserved, so released to the grid
    may_release = asyncio.Event()

    async def waiter() -> int:
        return await cluster.lock(name, lease=lease).acquire()

    async def hand_off_to_a_cancelled_waiter() -> int:
        mine = cluster.lock(name, lease=lease)
        token = await mine.acquire()  # taken while another waits: tokens reserved
        await may_release.wait()
        await mine.release()  # kept for the waiter (no await in between) ...
        second.cancel()  # ... which is cancelled before it runs to claim it
        return token

    first = asyncio.ensure_future(hand_off_to_a_cancelled_waiter())
    await wait_for_waiters(lock, 1)
    second = asyncio.ensure_future(waiter())
    await wait_for_waiters(lock, 2)
    await lock.release()
    with anyio.fail_after(30):
        while not first.done() and not await _held_by_first(cluster, name):
            await asyncio.sleep(0.01)
    may_release.set()
    with anyio.fail_after(30):
        chain_token = await first
        await asyncio.gather(second, return_exceptions=True)
    assert second.cancelled()
    other = cluster2.lock(name, lease=lease)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with anyio.fail_after(30):
        token = await other.acquire(timeout=20)
    assert token >= chain_token + HANDOFF_TOKENS  # the chain had reserved its tokens
    # Given back once the offer timed out (then found by an event or a poll within 1 s),
    # not when the lease lapsed.
    assert loop.time() - started < OFFER_TIMEOUT + 5, loop.time() - started
    await other.release()
    assert not await lock.locked()


async def _held_by_first(cluster: hazelkit.Cluster, name: str) -> bool:
    stats = await cluster.lock(name).statistics()
    return stats.held_here and stats.waiters == 1
