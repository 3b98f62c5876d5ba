"""Counter and IdGenerator on both backends."""

from __future__ import annotations

import anyio
import pytest

import hazelkit


async def test_counter_arithmetic(cluster: hazelkit.Cluster, name: str) -> None:
    counter = cluster.counter(name)
    assert await counter.get() == 0
    assert await counter.increment() == 1
    assert await counter.add(10) == 11
    assert await counter.get_and_add(-5) == 11
    assert await counter.decrement() == 5
    assert await counter.add(2**70) == 2**70 + 5  # ints of any size
    await counter.set(3)
    assert not await counter.compare_and_set(4, 9)
    assert await counter.compare_and_set(3, 9)
    assert await counter.get() == 9
    await counter.destroy()
    assert await counter.get() == 0
    assert await counter.compare_and_set(0, 1)


async def test_concurrent_adds_are_exact(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    counters = [cluster.counter(name), cluster2.counter(name)]

    async def add(index: int) -> None:
        for _ in range(25):
            await counters[index % 2].add(2)

    async with anyio.create_task_group() as tg:
        for index in range(4):
            tg.start_soon(add, index)
    assert await counters[1].get() == 200


async def test_wrong_types_change_nothing(cluster: hazelkit.Cluster, name: str) -> None:
    counter = cluster.counter(name)
    await counter.set(5)
    for bad in ("1", 1.5, True, None):
        with pytest.raises(hazelkit.ValidationError, match="must be an int"):
            await counter.add(bad)  # type: ignore[arg-type]
        with pytest.raises(hazelkit.ValidationError, match="must be an int"):
            await counter.set(bad)  # type: ignore[arg-type]
    assert await counter.get() == 5
    with pytest.raises(hazelkit.ConfigurationError, match="name"):
        cluster.counter(None)  # type: ignore[arg-type]


async def test_ids_are_unique_across_nodes(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    one, two = cluster.ids(name), cluster2.ids(name)
    ids = [await (one if i % 2 else two).new_id() for i in range(200)]
    assert len(set(ids)) == 200
    assert all(0 <= i < 2**63 for i in ids)
    mine = [await one.new_id() for _ in range(50)]
    assert mine == sorted(mine)
