"""Set on both backends."""

from __future__ import annotations

import anyio
import pytest

import hazelkit
from hazelkit._core._events import ItemEventType


async def test_membership(cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str) -> None:
    s, other = cluster.set(name), cluster2.set(name)
    assert await s.add("a")
    assert not await other.add("a")
    assert await s.add(["unhashable", 1])
    assert await s.add_all([1, 1.0, True])  # three members: types count
    assert not await s.add_all([1, "a"])
    assert not await s.add_all([])
    assert await other.size() == 5
    assert await other.contains(["unhashable", 1])
    assert not await other.contains(("unhashable", 1))
    assert await other.remove(1.0)
    assert not await other.remove(1.0)
    await other.discard("missing")
    await other.discard("a")
    assert sorted(map(repr, await s.items())) == sorted(map(repr, [["unhashable", 1], 1, True]))
    await s.clear()
    assert await other.size() == 0


async def test_pop_hands_each_member_to_one_caller(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    await cluster.set(name).add_all(range(30))
    taken: list[int] = []

    async def popper(s: hazelkit.Cluster) -> None:
        handle = s.set(name)
        while True:
            try:
                taken.append(await handle.pop())
            except KeyError:
                return

    async with anyio.create_task_group() as tg:
        for node in (cluster, cluster2, cluster, cluster2):
            tg.start_soon(popper, node)
    assert sorted(taken) == list(range(30))
    with pytest.raises(KeyError, match="empty"):
        await cluster.set(name).pop()


async def test_events(cluster: hazelkit.Cluster, name: str) -> None:
    s = cluster.set(name)
    async with s.events() as events:
        await s.add({"x": 1})
        await s.remove({"x": 1})
        added, removed = await events.get(timeout=10), await events.get(timeout=10)
    assert (added.type, added.item) == (ItemEventType.ADDED, {"x": 1})
    assert (removed.type, removed.item) == (ItemEventType.REMOVED, {"x": 1})


async def test_bad_items_change_nothing(cluster: hazelkit.Cluster, name: str) -> None:
    s = cluster.set(name)
    await s.add(1)
    with pytest.raises(hazelkit.EncodeError):
        await s.add_all([2, object()])
    assert await s.items() == [1]
