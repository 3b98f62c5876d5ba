"""List on both backends."""

from __future__ import annotations

import pytest

import hazelkit
from hazelkit._core._events import ItemEventType


async def test_python_list_operations(cluster: hazelkit.Cluster, name: str) -> None:
    lst = cluster.list(name)
    await lst.append("a")
    await lst.extend(["b", "c"])
    await lst.extend([])
    await lst.insert(0, "start")
    await lst.insert(100, "end")  # past the end: appended, as list.insert does
    await lst.insert(-1, "before-end")
    await lst.insert(-100, "first")
    expected = ["first", "start", "a", "b", "c", "before-end", "end"]
    assert await lst.items() == expected
    assert await lst.size() == len(expected)
    assert await lst.get(0) == "first"
    assert await lst.get(-1) == "end"
    assert await lst.set(-2, "BE") == "before-end"
    expected[-2] = "BE"
    assert await lst.pop() == "end"
    assert await lst.pop(0) == "first"
    assert await lst.items() == expected[1:-1]


@pytest.mark.parametrize(
    ("start", "stop"), [(None, None), (1, 3), (-2, None), (None, -1), (5, 100), (3, 1), (-100, 2)]
)
async def test_slices_follow_python_rules(
    cluster: hazelkit.Cluster, name: str, start: int | None, stop: int | None
) -> None:
    lst = cluster.list(name)
    items = [0, 1, 2, 3, 4, 5]
    await lst.extend(items)
    assert await lst.slice(start, stop) == items[start:stop]


async def test_search_by_value(encrypted: hazelkit.Cluster, name: str) -> None:
    # Items are values (encrypted here, so equal items have different bytes).
    lst = encrypted.list(name)
    await lst.extend([{"a": 1, "b": 2}, 1, "x" * 500, 1.0, 1])
    assert await lst.contains({"b": 2, "a": 1})
    assert await lst.index(1.0) == 3
    assert await lst.index(1) == 1
    with pytest.raises(ValueError, match="not in list"):
        await lst.index(2)
    # Bounds as in list.index; equality as everywhere else (1, 1.0, True differ).
    assert await lst.index(1, 2) == 4
    assert await lst.index(1, -1) == 4
    assert await lst.index(1, 0, 2) == 1
    for start, stop in ((0, 0), (2, 4), (5, None), (-1, -1)):
        with pytest.raises(ValueError, match="not in list"):
            await lst.index(1, start, stop)
    with pytest.raises(hazelkit.ArgumentError):
        await lst.index(1, "0")  # type: ignore[arg-type]
    assert (await lst.count(1), await lst.count(1.0), await lst.count(True)) == (2, 1, 0)
    assert await lst.count({"b": 2, "a": 1}) == 1
    assert await lst.remove(1)
    assert await lst.remove("x" * 500)
    assert not await lst.remove("nope")
    assert await lst.items() == [{"a": 1, "b": 2}, 1.0, 1]


async def test_index_errors(cluster: hazelkit.Cluster, name: str) -> None:
    lst = cluster.list(name)
    await lst.extend(["a", "b"])
    for index in (2, -3):
        with pytest.raises(IndexError):
            await lst.get(index)
        with pytest.raises(IndexError):
            await lst.set(index, "x")
        with pytest.raises(IndexError):
            await lst.pop(index)
    with pytest.raises(hazelkit.ArgumentError, match="integers"):
        await lst.get("0")  # type: ignore[arg-type]
    with pytest.raises(IndexError):
        await cluster.list(f"{name}-empty").pop()
    assert await lst.items() == ["a", "b"]


async def test_events_and_bad_items(cluster: hazelkit.Cluster, name: str) -> None:
    lst = cluster.list(name)
    async with lst.events() as events:
        await lst.append((1, 2))
        await lst.remove((1, 2))
        await lst.append(3)
        await lst.pop()
        seen = [await events.get(timeout=10) for _ in range(4)]
    assert [(e.type, e.item) for e in seen[:3]] == [
        (ItemEventType.ADDED, (1, 2)),
        (ItemEventType.REMOVED, (1, 2)),
        (ItemEventType.ADDED, 3),
    ]
    # Hazelcast reports an item removed by position without the item.
    assert seen[3].type is ItemEventType.REMOVED
    assert seen[3].item in (3, None)
    with pytest.raises(hazelkit.EncodeError):
        await lst.extend([1, object()])
    with pytest.raises(hazelkit.EncodeError):
        await lst.append(object())
    assert await lst.items() == []
