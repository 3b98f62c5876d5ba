"""MultiMap on both backends."""

from __future__ import annotations

import pytest

import hazelkit
from hazelkit._core._events import EntryEventType


async def test_values_per_key_form_a_set(cluster: hazelkit.Cluster, name: str) -> None:
    tags = cluster.multimap(name)
    assert await tags.put("ada", "math")
    assert await tags.put("ada", ("notes", 1))
    assert not await tags.put("ada", "math")
    assert await tags.put("ada", 1)
    assert await tags.put("ada", 1.0)  # another value: types count
    assert await tags.put("grace", "math")
    assert sorted(map(repr, await tags.get("ada"))) == sorted(
        map(repr, ["math", ("notes", 1), 1, 1.0])
    )
    assert await tags.get("nobody") == []
    assert await tags.value_count("ada") == 4
    assert await tags.size() == 5
    assert sorted(await tags.keys()) == ["ada", "grace"]
    assert len(await tags.values()) == 5
    assert ("grace", "math") in await tags.items()


async def test_contains_and_removal(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    one, two = cluster.multimap(name), cluster2.multimap(name)
    await one.put({"id": 1}, {"b": 2, "a": 1})
    # Canonical encoding: equal dicts match whatever their insertion order.
    assert await two.contains_entry({"id": 1}, {"a": 1, "b": 2})
    assert await two.contains_key({"id": 1})
    assert await two.contains_value({"a": 1, "b": 2})
    assert not await two.contains_value("x")
    assert await two.remove({"id": 1}, {"a": 1, "b": 2})
    assert not await two.remove({"id": 1}, {"a": 1, "b": 2})
    await one.put("k", 1)
    await one.put("k", 2)
    assert sorted(await two.remove_all("k")) == [1, 2]
    assert await two.remove_all("k") == []
    await one.put("k", 3)
    await one.clear()
    assert await two.size() == 0


async def test_events(cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str) -> None:
    async with cluster.multimap(name).events(key="k") as events:
        other = cluster2.multimap(name)
        await other.put("other", 1)
        await other.put("k", (1, 2))
        await other.remove("k", (1, 2))
        first, second = await events.get(timeout=10), await events.get(timeout=10)
    assert (first.type, first.key, first.value) == (EntryEventType.ADDED, "k", (1, 2))
    assert (second.type, second.key) == (EntryEventType.REMOVED, "k")


async def test_bad_values_change_nothing(cluster: hazelkit.Cluster, name: str) -> None:
    tags = cluster.multimap(name)
    await tags.put("k", 1)
    with pytest.raises(hazelkit.EncodeError):
        await tags.put("k", object())
    with pytest.raises(hazelkit.ConfigurationError, match="name"):
        cluster.multimap("")
    assert await tags.items() == [("k", 1)]
