"""Queue on both backends: FIFO, bounds, waiting with timeouts, events, errors."""

from __future__ import annotations

import time

import anyio
import pytest

import hazelkit
from hazelkit._core._events import ItemEventType


async def test_fifo_between_nodes(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    producer, consumer = cluster.queue(name), cluster2.queue(name)
    for job in ({"id": 1}, {"id": 2}, None, ("t", 3)):
        await producer.put(job)
    assert await consumer.size() == 4
    assert await consumer.peek() == {"id": 1}
    assert await consumer.get() == {"id": 1}
    assert await consumer.poll() == {"id": 2}
    assert await consumer.poll(default="empty") is None  # None is an item too
    assert await consumer.items() == [("t", 3)]
    assert await consumer.drain() == [("t", 3)]
    assert await consumer.poll(default="empty") == "empty"
    assert await consumer.peek("nothing") == "nothing"


async def test_get_waits_for_an_item_from_another_node(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    async def produce_later() -> None:
        await anyio.sleep(0.3)
        await cluster2.queue(name).put("job")

    async with anyio.create_task_group() as tg:
        tg.start_soon(produce_later)
        assert await cluster.queue(name).get(timeout=20) == "job"


async def test_waits_time_out(cluster: hazelkit.Cluster, name: str) -> None:
    q = cluster.queue(name, capacity=1)
    started = time.monotonic()
    with pytest.raises(hazelkit.OperationTimeoutError, match="empty"):
        await q.get(timeout=0.5)
    assert await q.poll(timeout=0.3) is None
    assert 0.7 <= time.monotonic() - started < 10
    await q.put("a")
    started = time.monotonic()
    with pytest.raises(hazelkit.OperationTimeoutError, match="full"):
        await q.put("b", timeout=0.5)
    assert not await q.offer("b", timeout=0.3)
    assert 0.7 <= time.monotonic() - started < 10
    assert await q.items() == ["a"]


async def test_bounded_queue(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    q = cluster.queue(name, capacity=2)
    assert q.capacity == 2
    assert await q.remaining_capacity() == 2
    await q.put_nowait(1)
    assert await q.offer(2)
    assert await q.remaining_capacity() == 0
    with pytest.raises(hazelkit.CapacityError, match="full"):
        await q.put_nowait(3)
    assert not await q.offer(3)

    async def take_later() -> None:
        await anyio.sleep(0.3)
        assert await cluster2.queue(name).get() == 1

    async with anyio.create_task_group() as tg:
        tg.start_soon(take_later)
        await q.put(3, timeout=20)  # waits until the other node takes one
    assert await q.items() == [2, 3]


async def test_capacity_is_fixed_at_first_use(cluster: hazelkit.Cluster, name: str) -> None:
    await cluster.queue(name, capacity=3).put("x")
    with pytest.raises(hazelkit.ConfigurationError, match=name):
        await cluster.queue(name, capacity=5).put("y")
    assert await cluster.queue(name).items() == ["x"]


@pytest.mark.parametrize("capacity", [0, -1, "3", 2.5, True])
async def test_bad_capacity(cluster: hazelkit.Cluster, name: str, capacity: object) -> None:
    with pytest.raises(hazelkit.ConfigurationError, match="capacity"):
        cluster.queue(name, capacity=capacity)  # type: ignore[arg-type]


async def test_drain_remove_contains(encrypted: hazelkit.Cluster, name: str) -> None:
    q = encrypted.queue(name)
    for item in range(6):
        await q.put({"n": item, "pad": "x" * 100})
    assert await q.contains({"pad": "x" * 100, "n": 3})
    assert await q.remove({"n": 3, "pad": "x" * 100})
    assert not await q.remove({"n": 3, "pad": "x" * 100})
    assert [i["n"] for i in await q.drain(2)] == [0, 1]
    assert await q.drain(0) == []
    with pytest.raises(hazelkit.ConfigurationError, match="max_items"):
        await q.drain(-1)
    assert [i["n"] for i in await q.drain()] == [2, 4, 5]
    await q.put(1)
    await q.clear()
    assert await q.size() == 0


async def test_item_events(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    async with cluster.queue(name).events() as events:
        await cluster2.queue(name).put("job")
        await cluster2.queue(name).get()
        added, removed = await events.get(timeout=10), await events.get(timeout=10)
    assert (added.type, added.item) == (ItemEventType.ADDED, "job")
    assert (removed.type, removed.item) == (ItemEventType.REMOVED, "job")


async def test_errors_change_nothing(url: str, name: str) -> None:
    async with hazelkit.connect(url) as node:
        q = node.queue(name)
        await q.put("kept")
        with pytest.raises(hazelkit.EncodeError):
            await q.put(object())
        with pytest.raises(hazelkit.ConfigurationError, match="timeout"):
            await q.get(timeout=-1)
        with pytest.raises(hazelkit.ConfigurationError, match="timeout"):
            await q.put(1, timeout="soon")  # type: ignore[arg-type]
        assert await q.items() == ["kept"]
    with pytest.raises(hazelkit.ClusterClosedError):
        await q.get(timeout=1)
    with pytest.raises(hazelkit.ClusterClosedError):
        await q.put("x")
