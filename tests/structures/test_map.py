"""Map: the typed API, compare-and-set with value semantics, compute, events, on both backends."""

from __future__ import annotations

import datetime
import decimal
import time

import anyio
import pytest
from structure_helpers import wait_for

import hazelkit
from hazelkit import Map
from hazelkit._core._events import EntryEvent, EntryEventType
from timing import GridTime


async def test_values_keep_their_types(cluster: hazelkit.Cluster, name: str) -> None:
    users = cluster.map(name)
    record = {"born": datetime.date(1815, 12, 10), "langs": ("x",), "pay": decimal.Decimal("1.5")}
    assert await users.put(("ada", 1), record) is None
    assert await users.get(("ada", 1)) == record
    assert await users.get(["ada", 1]) is None  # a list is another key than a tuple
    assert await users.get("missing", "fallback") == "fallback"
    assert await users.keys() == [("ada", 1)]
    assert await users.items() == [(("ada", 1), record)]
    assert await users.pop(("ada", 1)) == record
    with pytest.raises(KeyError):
        await users.pop(("ada", 1))
    assert await users.pop("nope", 7) == 7


async def test_batch_and_bulk_reads(cluster: hazelkit.Cluster, name: str) -> None:
    m = cluster.map(name)
    await m.put_all({i: str(i) for i in range(20)})
    assert await m.size() == 20
    assert await m.get_all([1, 5, 99]) == {1: "1", 5: "5"}
    assert sorted(await m.values()) == sorted(str(i) for i in range(20))
    await m.clear()
    assert await m.size() == 0


async def test_ttl_and_max_idle(cluster: hazelkit.Cluster, grid_time: GridTime, name: str) -> None:
    # Hazelcast counts both in whole seconds: an entry may expire up to 1 s early.
    m = cluster.map(name)
    written = time.monotonic()
    await m.put("ttl", 1, ttl=1)
    await m.set("idle", 2, max_idle=2)
    await m.set("forever", 3)
    await grid_time.expire(0.5)
    idle = await m.get("idle")
    if grid_time.clock is not None or time.monotonic() - written < 1.0:  # surely not idle yet
        assert idle == 2

    await grid_time.expire(3.0)  # (a condition polled with reads would keep "idle" alive)
    assert await m.get("ttl") is None
    assert await m.get("idle") is None
    assert await m.get("forever") == 3


async def test_bad_ttls_are_refused_and_store_nothing(
    cluster: hazelkit.Cluster, grid_time: GridTime, name: str
) -> None:
    m = cluster.map(name)
    await m.set("k", "before", ttl=60)
    for bad in (-5, -0.5, float("inf"), float("nan"), 1e16, True, "1"):
        for option in ("ttl", "max_idle"):
            for write in (m.put, m.set, m.put_if_absent):
                for key in ("new", "k"):
                    with pytest.raises(hazelkit.ConfigurationError, match=option):
                        await write(key, "v", **{option: bad})
        with pytest.raises(hazelkit.ConfigurationError, match="ttl"):
            await m.set_ttl("k", bad)  # type: ignore[arg-type]
    await grid_time.expire(1.5)  # a negative TTL was not taken as "expire at once" either
    assert await m.items() == [("k", "before")]


async def test_zero_and_none_mean_never(
    cluster: hazelkit.Cluster, grid_time: GridTime, name: str
) -> None:
    m = cluster.map(name)
    await m.set("zero", 1, ttl=0, max_idle=0)
    await m.set("none", 2, ttl=None, max_idle=None)
    await m.set("cleared", 3, ttl=1)
    await m.set_ttl("cleared", 0)
    await grid_time.expire(2.5)
    assert sorted(await m.values()) == [1, 2, 3]


async def test_put_if_absent_and_replace(cluster: hazelkit.Cluster, name: str) -> None:
    m = cluster.map(name)
    assert await m.put_if_absent("k", 1) is None
    assert await m.put_if_absent("k", 2) == 1
    assert await m.replace("k", 3) == 1
    assert await m.replace("missing", 3) is None
    assert not await m.contains("missing")


async def test_conditional_writes_compare_values_not_encodings(
    cluster: hazelkit.Cluster, name: str
) -> None:
    m = cluster.map(name)
    # Sets and dicts encode in iteration order; equal values may differ in bytes.
    await m.set("s", {"b": 2, "a": 1, "tags": {3, 1, 2}})
    assert await m.replace_if_same("s", {"a": 1, "tags": {1, 2, 3}, "b": 2}, "new")
    assert await m.get("s") == "new"
    assert not await m.replace_if_same("s", "old", "newer")
    assert not await m.replace_if_same("s", 1, "x")
    await m.set("n", 1)
    assert not await m.replace_if_same("n", 1.0, "x")  # 1.0 is not 1: types count
    assert not await m.remove_if_same("n", True)
    assert await m.remove_if_same("n", 1)
    assert not await m.contains("n")
    assert not await m.replace_if_same("n", 1, 2)


async def test_conditional_writes_work_with_encryption_and_compression(
    encrypted: hazelkit.Cluster, name: str
) -> None:
    m = encrypted.map(name)
    big = "x" * 5000
    await m.set(("key", 1), big)
    assert await m.keys() == [("key", 1)]
    assert await m.replace_if_same(("key", 1), big, "small")
    assert await m.remove_if_same(("key", 1), "small")
    assert await m.size() == 0


async def test_compute_updates_atomically(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    one, two = cluster.map(name), cluster2.map(name)

    async def bump(m: Map[str, int], times: int) -> None:
        for _ in range(times):
            await m.compute("n", lambda v: (v or 0) + 1)

    async with anyio.create_task_group() as tg:
        for m in (one, two, one, two):
            tg.start_soon(bump, m, 25)
    assert await one.get("n") == 100


async def test_compute_default_delete_and_result(cluster: hazelkit.Cluster, name: str) -> None:
    m = cluster.map(name)
    assert await m.compute("list", lambda v: [*v, "a"], default=[]) == ["a"]
    assert await m.compute("list", lambda v: [*v, "b"], default=[]) == ["a", "b"]
    assert await m.compute("list", lambda v: Map.DELETE) is None
    assert not await m.contains("list")
    assert await m.compute("absent", lambda v: Map.DELETE) is None
    assert await m.size() == 0


async def test_compute_failures_change_nothing(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    m = cluster.map(name)
    await m.set("k", 1)

    def boom(value: int | None) -> int:
        raise RuntimeError("no")

    with pytest.raises(RuntimeError, match="no"):
        await m.compute("k", boom)

    async def coroutine_fn(value: int | None) -> int:
        return 5

    with pytest.raises(hazelkit.ArgumentError, match="plain function"):
        await m.compute("k", coroutine_fn)  # type: ignore[arg-type]
    with pytest.raises(hazelkit.ArgumentError, match="needs a function"):
        await m.compute("k", 5)  # type: ignore[arg-type]
    with pytest.raises(hazelkit.EncodeError):
        await m.compute("k", lambda v: object())
    with pytest.raises(hazelkit.ConfigurationError, match="max_attempts"):
        await m.compute("k", lambda v: 2, max_attempts=0)
    assert await m.get("k") == 1

    calls = 0
    other = cluster2.map(name)

    def interfering(value: int | None) -> int:
        nonlocal calls
        calls += 1
        return 100

    # Another node writes between our read and our write: with one attempt, we give up.
    original_get = m._store.get

    async def get_then_interfere(key: bytes) -> bytes | None:
        data = await original_get(key)
        await other.compute("k", lambda v: v + 1)
        return data

    m._store.get = get_then_interfere  # type: ignore[method-assign]
    with pytest.raises(hazelkit.ConflictError, match="lost 1 races"):
        await m.compute("k", interfering, max_attempts=1)
    assert calls == 1
    assert await other.get("k") == 2  # only the other node's write landed


async def test_entry_events_of_every_kind(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, grid_time: GridTime, name: str
) -> None:
    writer = cluster2.map(name)
    async with cluster.map(name).events() as events:
        await writer.put("k", {"v": 1})
        await writer.put("k", {"v": 2})
        await writer.remove("k")
        await writer.set("deleted", 3)
        await writer.delete("deleted")
        await writer.set("short", 1, ttl=1)
        if grid_time.clock is not None:  # Hazelcast's expiry task reports it in a while
            grid_time.clock.advance(1)
        seen = [await events.get(timeout=30) for _ in range(7)]
    # In order per key: Hazelcast orders events per partition only, not across keys.
    kinds: dict[str, list[tuple[str, object, object]]] = {}
    for event in seen:
        kinds.setdefault(event.key, []).append((event.type.value, event.value, event.old_value))
    # delete's event need not carry the old value (Hazelcast's does not): not compared.
    assert kinds["deleted"].pop()[:2] == ("removed", None)
    assert kinds == {
        "k": [
            ("added", {"v": 1}, None),
            ("updated", {"v": 2}, {"v": 1}),
            ("removed", None, {"v": 2}),
        ],
        "deleted": [("added", 3, None)],
        "short": [("added", 1, None), ("expired", None, 1)],
    }
    assert isinstance(seen[0], EntryEvent)
    assert events.closed


async def test_events_filtered_by_key_without_values(cluster: hazelkit.Cluster, name: str) -> None:
    m = cluster.map(name)
    events = await m.events(("watched", 1), include_values=False)
    await m.set("other", 1)
    await m.set(("watched", 1), 1)
    event = await events.get(timeout=10)
    assert (event.type, event.key, event.value) == (
        EntryEventType.ADDED,
        ("watched", 1),
        None,
    )
    await events.aclose()
    await m.set(("watched", 1), 2)
    with pytest.raises(StopAsyncIteration):
        await events.get(timeout=1)


async def test_event_streams_end_when_the_cluster_closes(url: str, name: str) -> None:
    async with hazelkit.connect(url) as node:
        events = await node.map(name).events()
        await node.map(name).set("k", 1)
        await wait_for(lambda: events.statistics().buffered == 1)
    assert [e.key async for e in events] == ["k"]


async def test_event_stream_options_are_checked(cluster: hazelkit.Cluster, name: str) -> None:
    m = cluster.map(name)
    with pytest.raises(hazelkit.ConfigurationError, match="BLOCK"):
        m.events(overflow=hazelkit.Overflow.BLOCK)
    with pytest.raises(hazelkit.ConfigurationError, match="capacity"):
        m.events(capacity=0)
    stream = m.events()
    async with stream:
        pass
    with pytest.raises(hazelkit.HazelkitError, match="already opened"):
        await stream


async def test_bad_values_and_closed_cluster_change_nothing(url: str, name: str) -> None:
    async with hazelkit.connect(url) as node:
        m = node.map(name)
        await m.set("k", "v")
        with pytest.raises(hazelkit.EncodeError):
            await m.set("k", object())
        with pytest.raises(hazelkit.EncodeError):
            await m.set(object(), 1)
        with pytest.raises(hazelkit.EncodeError):
            await m.put_all({"k": "new", "bad": object()})
        assert await m.items() == [("k", "v")]
    with pytest.raises(hazelkit.ClusterClosedError):
        await m.set("k", "w")
    with pytest.raises(hazelkit.ClusterClosedError):
        m.events()
    async with hazelkit.connect(url) as again:
        if url.startswith("hazelcast"):
            assert await again.map(name).get("k") == "v"


async def test_per_key_locks(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    one, two = cluster.map(name), cluster2.map(name)
    async with one.locked(("k", 1), lease=5) as first_token:
        with pytest.raises(hazelkit.OperationTimeoutError):
            await two.locked(("k", 1)).acquire(timeout=0.3)
        async with two.locked(("k", 2)):  # another key, another lock
            pass
        await one.set(("k", 1), "written under the lock")
    async with two.locked(("k", 1), lease=5) as second_token:
        assert second_token > first_token
        assert await two.get(("k", 1)) == "written under the lock"
