"""CountDownLatch: counting, waiting, rounds, timeouts and cancellation, on both backends."""

from __future__ import annotations

import asyncio
import time

import anyio
import pytest

import hazelkit
from hazelkit import ConfigurationError, OperationTimeoutError
from hazelkit._coordination._latch import LATCH_MAP
from hazelkit.testing import Faults, inject_faults
from timing import eventually


async def waiting_in_its_round(faults: Faults) -> None:
    """Wait until a waiter (on the Cluster of ``faults``) read the latch's round and
    listens for changes: it registers its listener only after that first read."""
    await eventually(lambda: faults.calls("map.listen", name=LATCH_MAP) >= 1)


async def test_count_down_to_zero_releases_waiters_on_every_node(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    latch = cluster.latch(name)
    assert await latch.count() == 0
    await latch.wait(timeout=0)  # a latch never set is open
    assert await latch.try_set_count(3)
    assert not await cluster2.latch(name).try_set_count(5)  # only when zero
    assert await latch.count() == 3
    released: list[float] = []

    async def waiter(node: hazelkit.Cluster) -> None:
        await node.latch(name).wait(timeout=20)
        released.append(time.monotonic())

    async with anyio.create_task_group() as tg:
        tg.start_soon(waiter, cluster)
        tg.start_soon(waiter, cluster2)
        await cluster2.latch(name).count_down()
        await latch.count_down()
        await anyio.sleep(0.3)
        assert released == []
        assert await latch.count() == 1
        opened = time.monotonic()
        await cluster2.latch(name).count_down()
    assert len(released) == 2
    assert max(released) - opened < 5
    assert await latch.count() == 0
    await latch.count_down()  # no effect at zero
    assert await latch.count() == 0
    assert await latch.try_set_count(1)


async def test_concurrent_count_downs_each_count_once(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    latch = cluster.latch(name)
    assert await latch.try_set_count(40)

    async def count(node: hazelkit.Cluster) -> None:
        for _ in range(10):
            await node.latch(name).count_down()

    async with anyio.create_task_group() as tg:
        for node in (cluster, cluster2, cluster, cluster2):
            tg.start_soon(count, node)
    assert await latch.count() == 0
    await latch.wait(timeout=0)


async def test_wait_times_out(cluster: hazelkit.Cluster, name: str) -> None:
    latch = cluster.latch(name)
    assert await latch.try_set_count(1)
    started = time.monotonic()
    with pytest.raises(OperationTimeoutError, match="still counts 1"):
        await latch.wait(timeout=0.5)
    assert 0.4 < time.monotonic() - started < 3
    with pytest.raises(OperationTimeoutError):
        await latch.wait(timeout=0)
    assert await latch.count() == 1


async def test_waiter_of_an_earlier_round_is_released(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    faults = inject_faults(cluster2)
    latch = cluster.latch(name)
    assert await latch.try_set_count(1)
    waiting = asyncio.ensure_future(cluster2.latch(name).wait(timeout=20))
    await waiting_in_its_round(faults)
    # reach zero and re-arm before the waiter can look
    await latch.count_down()
    assert await latch.try_set_count(1)
    await asyncio.wait_for(waiting, 10)
    assert await latch.count() == 1


async def test_waiter_is_released_when_the_latch_is_destroyed_and_armed_again(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    faults = inject_faults(cluster2)
    latch = cluster.latch(name)
    assert await latch.try_set_count(1)
    waiting = asyncio.ensure_future(cluster2.latch(name).wait(timeout=20))
    await waiting_in_its_round(faults)
    await latch.destroy()  # reads as zero: the waiter is due to be released...
    assert await latch.try_set_count(1)  # ...even if armed again before it looked
    await asyncio.wait_for(waiting, 10)
    assert await latch.count() == 1


async def test_cancelled_wait_changes_nothing(cluster: hazelkit.Cluster, name: str) -> None:
    latch = cluster.latch(name)
    assert await latch.try_set_count(2)
    with anyio.move_on_after(0.3) as scope:
        await latch.wait()
    assert scope.cancelled_caught
    assert await latch.count() == 2
    await latch.count_down()
    await latch.count_down()
    await latch.wait(timeout=1)


async def test_bad_arguments_and_destroy(cluster: hazelkit.Cluster, name: str) -> None:
    latch = cluster.latch(name)
    for bad in (0, -1, 1.5, True, "3"):
        with pytest.raises(ConfigurationError, match="count"):
            await latch.try_set_count(bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="timeout"):
        await latch.wait(timeout=-1)
    with pytest.raises(ConfigurationError, match="name"):
        cluster.latch("")
    assert await latch.try_set_count(2)
    await latch.destroy()
    assert await latch.count() == 0
    await latch.wait(timeout=0)
