"""Locks across real OS processes on real Hazelcast members: a SIGKILLed holder, and
many processes contending for one lock around an unprotected read-modify-write."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
import uuid
from collections.abc import Iterator

import pytest

import hazelkit
from hazelkit._coordination._lock import LockStatistics
from hazelkit.testing import LocalCluster
from member_helpers import start_members

pytestmark = [pytest.mark.slow, pytest.mark.hazelcast_only]

LEASE = 3  # the shortest lease

HOLDER = """
import asyncio, sys
import hazelkit

async def main(url, name, lease):
    async with hazelkit.connect(url) as cluster:
        token = await cluster.lock(name, lease=float(lease)).acquire(timeout=60)
        print(token, flush=True)
        await asyncio.sleep(3600)

asyncio.run(main(*sys.argv[1:]))
"""

INCREMENTER = """
import asyncio, sys
import hazelkit

async def main(url, name, rounds):
    async with hazelkit.connect(url) as cluster:
        lock, counter = cluster.lock(name, lease=5.0), cluster.map(name)
        tokens = []
        for _ in range(int(rounds)):
            async with lock as token:
                value = await counter.get("n", 0)
                await asyncio.sleep(0.001)  # widen the race window
                await counter.put("n", value + 1)
                tokens.append(token)
        print(" ".join(map(str, tokens)), flush=True)

asyncio.run(main(*sys.argv[1:]))
"""


@pytest.fixture(scope="module")
def members() -> Iterator[LocalCluster]:
    local = LocalCluster(1)
    start_members(local)
    try:
        yield local
    finally:
        local.stop()


async def python(script: str, *args: object) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, *map(str, args), stdout=asyncio.subprocess.PIPE
    )


@pytest.mark.timeout(120)
async def test_killed_holder_process_loses_the_lock_within_its_lease(
    members: LocalCluster,
) -> None:
    name = f"fault-{uuid.uuid4().hex[:8]}"
    holder = await python(HOLDER, members.url, name, LEASE)
    try:
        assert holder.stdout is not None
        line = await asyncio.wait_for(holder.stdout.readline(), 60)
        token = int(line)
        async with hazelkit.connect(members.url) as cluster:
            lock = cluster.lock(name, lease=LEASE)
            await asyncio.sleep(LEASE * 2)  # the holder keeps renewing meanwhile
            with pytest.raises(hazelkit.OperationTimeoutError):
                await lock.acquire(timeout=0)
            killed = 0.0

            async def take_over() -> tuple[int, float, LockStatistics]:
                new_token = await lock.acquire(timeout=30)
                took = time.monotonic() - killed
                stats = await lock.statistics()
                await lock.release()
                return new_token, took, stats

            waiter = asyncio.ensure_future(take_over())
            await asyncio.sleep(0.5)
            assert not waiter.done()
            holder.send_signal(signal.SIGKILL)
            killed = time.monotonic()
            new_token, took, stats = await waiter
            print(f"lock taken over {took:.2f} s after the holder was killed (lease {LEASE} s)")
            assert new_token > token
            assert took < LEASE + 1, f"took {took:.2f} s after the kill"
            assert stats.held_here
            assert stats.token == new_token
    finally:
        if holder.returncode is None:
            holder.kill()
        await holder.wait()


@pytest.mark.timeout(240)
async def test_processes_contending_for_a_lock_never_lose_an_update(
    members: LocalCluster,
) -> None:
    name = f"contended-{uuid.uuid4().hex[:8]}"
    processes, rounds = 4, 50
    workers = [await python(INCREMENTER, members.url, name, rounds) for _ in range(processes)]
    try:
        outputs = await asyncio.wait_for(
            asyncio.gather(*(worker.communicate() for worker in workers)), 200
        )
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.kill()
                await worker.wait()
    assert [worker.returncode for worker in workers] == [0] * processes
    tokens = [int(t) for stdout, _ in outputs for t in stdout.split()]
    assert len(tokens) == len(set(tokens)) == processes * rounds  # each grant is unique
    async with hazelkit.connect(members.url) as cluster:
        assert await cluster.map(name).get("n") == processes * rounds
        assert (await cluster.lock(name).statistics()).last_token == max(tokens)
